-- The edit history: revision `seq` (1, 2, …) of one file of one server. `snapshot` 1
-- holds the whole file, 0 a delta from revision `seq - 1`; `data` is deflated either
-- way, and `sha256` is the file's, checked whenever a revision is rebuilt.
CREATE TABLE core_files__revisions (
    id BIGSERIAL PRIMARY KEY,
    server TEXT NOT NULL,
    path TEXT NOT NULL,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    user_id BIGINT,
    username TEXT,
    via TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    snapshot BIGINT NOT NULL,
    data BYTEA NOT NULL,
    stored_bytes BIGINT NOT NULL,
    restored_from BIGINT,
    UNIQUE (server, path, seq)
);

CREATE INDEX core_files__revisions_by_age ON core_files__revisions (server, created_at);
