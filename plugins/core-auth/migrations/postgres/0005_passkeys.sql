-- Passkeys and security keys (WebAuthn): the credential as webauthn-rs keeps it.
CREATE TABLE core_auth__passkeys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

-- A WebAuthn ceremony in progress: its state stays here, the browser holds a token.
CREATE TABLE core_auth__ceremonies (
    token_sha256 TEXT PRIMARY KEY,
    user_id BIGINT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
