-- SSH public keys for SFTP without a password; the panel hands over the ones it kept.
CREATE TABLE core_auth__ssh_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, fingerprint)
);
