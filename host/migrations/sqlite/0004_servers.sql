CREATE TABLE servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    short_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE RESTRICT,
    egg_id INTEGER NOT NULL REFERENCES eggs (id) ON DELETE RESTRICT,
    allocation_id INTEGER NOT NULL UNIQUE REFERENCES allocations (id) ON DELETE RESTRICT,
    image TEXT NOT NULL,
    startup TEXT NOT NULL,
    memory_mb BIGINT NOT NULL,
    swap_mb BIGINT NOT NULL DEFAULT 0,
    disk_mb BIGINT NOT NULL,
    io_weight INTEGER NOT NULL DEFAULT 500,
    cpu_percent BIGINT NOT NULL DEFAULT 0,
    threads TEXT,
    oom_disabled BOOLEAN NOT NULL DEFAULT TRUE,
    skip_scripts BOOLEAN NOT NULL DEFAULT FALSE,
    -- installing, install_failed, reinstall_failed, suspended; NULL when ready.
    status TEXT,
    installed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX servers_by_node ON servers (node_id);
CREATE INDEX servers_by_owner ON servers (owner_id);

CREATE TABLE server_variables (
    server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    env_variable TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (server_id, env_variable)
);
