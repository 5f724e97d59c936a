-- What an API key may do beyond acting as its owner: administrator powers (keys made
-- before this could, so they keep them) and the addresses it works from (a JSON
-- array of addresses and networks; NULL: anywhere).
ALTER TABLE api_keys ADD COLUMN admin_power INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
