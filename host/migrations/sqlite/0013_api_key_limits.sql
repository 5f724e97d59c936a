-- What an API key may do beyond acting as its owner: administrator powers (keys made
-- before this could, so they keep them), the addresses it works from, the servers
-- and the server permissions it is limited to (JSON arrays; NULL: no limit).
ALTER TABLE api_keys ADD COLUMN admin_power INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
ALTER TABLE api_keys ADD COLUMN servers TEXT;
ALTER TABLE api_keys ADD COLUMN permissions TEXT;
