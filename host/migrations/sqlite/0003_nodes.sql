CREATE TABLE nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    fqdn TEXT NOT NULL,
    scheme TEXT NOT NULL,
    behind_proxy BOOLEAN NOT NULL DEFAULT FALSE,
    daemon_port INTEGER NOT NULL,
    sftp_port INTEGER NOT NULL,
    data_dir TEXT NOT NULL,
    memory_mb BIGINT NOT NULL,
    memory_overallocate INTEGER NOT NULL DEFAULT 0,
    disk_mb BIGINT NOT NULL,
    disk_overallocate INTEGER NOT NULL DEFAULT 0,
    upload_size_mb INTEGER NOT NULL DEFAULT 100,
    maintenance BOOLEAN NOT NULL DEFAULT FALSE,
    public BOOLEAN NOT NULL DEFAULT TRUE,
    token_id TEXT NOT NULL UNIQUE,
    token_sealed TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- server_id gains its foreign key with the servers table.
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    alias TEXT,
    port INTEGER NOT NULL,
    server_id BIGINT,
    notes TEXT,
    UNIQUE (node_id, ip, port)
);

CREATE INDEX allocations_by_node_and_server ON allocations (node_id, server_id);
