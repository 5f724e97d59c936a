-- Authenticator apps: the secret itself is sealed by the host (secret `totp-<user id>`);
-- this row says whether it is confirmed and which step was used last (a code works once).
CREATE TABLE core_auth__totp (
    user_id BIGINT PRIMARY KEY,
    confirmed INTEGER NOT NULL,
    last_step BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Recovery codes, stored as SHA-256 hashes; each is deleted when used.
CREATE TABLE core_auth__recovery_codes (
    user_id BIGINT NOT NULL,
    code_sha256 TEXT NOT NULL,
    PRIMARY KEY (user_id, code_sha256)
);

-- A sign-in half done: the password was right, a second factor is owed.
CREATE TABLE core_auth__challenges (
    token_sha256 TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    redirect TEXT,
    ip TEXT,
    user_agent TEXT
);
