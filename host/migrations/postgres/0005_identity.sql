-- Roles: named sets of admin permissions (`nodes.read`, `servers.update`, …).
CREATE TABLE roles (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- argon2id for passwords set here, bcrypt (`$2y$`) for ones imported from Pterodactyl.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE users ADD COLUMN role_id BIGINT REFERENCES roles (id) ON DELETE SET NULL;

CREATE TABLE user_ssh_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, fingerprint)
);

-- Only a hash of the cookie is stored; `impersonator_id` marks an admin acting as the user.
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    impersonator_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    ip TEXT,
    user_agent TEXT,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- The one-time link printed on first start.
CREATE TABLE setup_tokens (
    token_sha256 TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE subusers (
    id BIGSERIAL PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (server_id, user_id)
);

CREATE INDEX subusers_by_user ON subusers (user_id);

-- Users are referenced by id and also copied by name, so the log survives deletions.
CREATE TABLE activity_logs (
    id BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT,
    impersonator_id BIGINT,
    ip TEXT,
    server_id BIGINT,
    subject_type TEXT,
    subject_id TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX activity_by_server ON activity_logs (server_id, id);
CREATE INDEX activity_by_actor ON activity_logs (actor_id, id);
CREATE INDEX activity_by_event ON activity_logs (event, id);
