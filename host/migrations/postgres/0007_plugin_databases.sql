-- Each plugin's own schema and login role (see db::plugin_store); the role's password
-- is sealed with the panel's key.
CREATE TABLE plugin_databases (
    plugin_id TEXT PRIMARY KEY,
    schema_name TEXT NOT NULL,
    role_name TEXT NOT NULL,
    password TEXT NOT NULL
);
