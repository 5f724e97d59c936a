-- Password reset links sent by e-mail: the token's hash, whose account, until when.
CREATE TABLE core_auth__resets (
    token_sha256 TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
