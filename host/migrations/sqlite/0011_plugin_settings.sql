-- Plugin settings (contract 1.1), checked against the schema in the plugin's package.
-- Values marked `writeOnly` in the schema are kept sealed with the panel's key.
CREATE TABLE plugin_settings (
    plugin_id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
