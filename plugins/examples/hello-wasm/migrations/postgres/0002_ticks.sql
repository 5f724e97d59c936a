-- One row per firing of the `heartbeat` timer.
CREATE TABLE hello_wasm__ticks (
    id BIGSERIAL PRIMARY KEY,
    due TEXT NOT NULL
);
