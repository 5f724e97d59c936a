-- How many allocations (the primary included) a server's users may hold; 0: only what
-- an administrator assigns.
ALTER TABLE servers ADD COLUMN allocation_limit INTEGER NOT NULL DEFAULT 0;
