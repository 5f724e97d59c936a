-- Server changes that need the node's wings and are not confirmed yet. Written in the
-- same transaction as the database side of the change and removed when wings has
-- done its part, so a panel that dies half-way leaves a row that the next panel to
-- claim it completes (see actions::intents).
CREATE TABLE server_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server_uuid TEXT NOT NULL UNIQUE,
    node_id INTEGER NOT NULL,
    -- create or delete
    action TEXT NOT NULL,
    start_after BOOLEAN NOT NULL DEFAULT FALSE,
    -- delete: go on without wings when it cannot be reached
    force BOOLEAN NOT NULL DEFAULT FALSE,
    -- delete: the status to restore when wings refuses
    previous_status TEXT,
    -- host:boot:pid:start of the process working on it, if any
    holder TEXT,
    -- unix milliseconds before which nobody else takes it up
    due_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX server_intents_by_node ON server_intents (node_id);
