-- Identity providers an administrator configured; client secrets are sealed by the
-- host, not stored here.
CREATE TABLE core_auth__oauth_providers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    issuer TEXT,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    auto_provision INTEGER NOT NULL DEFAULT 0,
    role_claim TEXT,
    role_map TEXT NOT NULL DEFAULT '{}',
    default_role TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- An account at a provider, linked to one here: one per provider and account.
CREATE TABLE core_auth__oauth_links (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    email TEXT,
    linked_at INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (provider, subject)
);
CREATE UNIQUE INDEX core_auth__oauth_links_user ON core_auth__oauth_links (provider, user_id);

-- A sign-in at a provider in progress; the browser holds the state, this its secrets.
CREATE TABLE core_auth__oauth_flows (
    state_sha256 TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    user_id INTEGER,
    redirect TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
