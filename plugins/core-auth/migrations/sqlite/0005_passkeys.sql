-- Passkeys and security keys (WebAuthn): the credential as webauthn-rs keeps it.
CREATE TABLE core_auth__passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);

-- A WebAuthn ceremony in progress: its state stays here, the browser holds a token.
CREATE TABLE core_auth__ceremonies (
    token_sha256 TEXT PRIMARY KEY,
    user_id INTEGER,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
