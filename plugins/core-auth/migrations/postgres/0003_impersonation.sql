-- An administrator acting as a user: the session that does it, and the
-- administrator's own session to go back to.
CREATE TABLE core_auth__impersonations (
    session_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    admin_id BIGINT NOT NULL,
    admin_session_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);
