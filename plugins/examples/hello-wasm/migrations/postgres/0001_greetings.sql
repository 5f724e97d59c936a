CREATE TABLE hello_wasm__greetings (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    greeted_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE hello_wasm__events_seen (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL
);
