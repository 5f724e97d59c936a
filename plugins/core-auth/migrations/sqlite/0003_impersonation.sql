-- An administrator acting as a user: the session that does it, and the
-- administrator's own session to go back to.
CREATE TABLE core_auth__impersonations (
    session_id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    admin_id INTEGER NOT NULL,
    admin_session_id INTEGER NOT NULL,
    started_at INTEGER NOT NULL
);
