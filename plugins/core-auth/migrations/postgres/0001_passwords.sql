-- One password per user: an argon2id PHC string, or an imported bcrypt hash
-- (`$2y$…`, from Pterodactyl) until its owner next signs in.
CREATE TABLE core_auth__passwords (
    user_id BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);

-- Failed sign-ins counted per key (`account:<login>` or `address:<ip>`) in a window
-- that starts with the first failure.
CREATE TABLE core_auth__failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at BIGINT NOT NULL
);
