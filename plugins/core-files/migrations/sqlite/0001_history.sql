-- The edit history: revision `seq` (1, 2, …) of one file of one server. `snapshot` 1
-- holds the whole file, 0 a delta from revision `seq - 1`; `data` is deflated either
-- way, and `sha256` is the file's, checked whenever a revision is rebuilt.
CREATE TABLE core_files__revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server TEXT NOT NULL,
    path TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    user_id INTEGER,
    username TEXT,
    via TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    snapshot INTEGER NOT NULL,
    data BLOB NOT NULL,
    stored_bytes INTEGER NOT NULL,
    restored_from INTEGER,
    UNIQUE (server, path, seq)
);

CREATE INDEX core_files__revisions_by_age ON core_files__revisions (server, created_at);
