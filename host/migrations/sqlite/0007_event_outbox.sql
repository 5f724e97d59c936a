-- Events raised by short-lived processes (the CLI) for a running panel to deliver to
-- its plugins: the first panel to claim a row delivers it.
CREATE TABLE event_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    claimed_by TEXT
);
CREATE INDEX event_outbox_unclaimed ON event_outbox (id) WHERE claimed_by IS NULL;
