-- One row per firing of the `heartbeat` timer.
CREATE TABLE hello_wasm__ticks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    due TEXT NOT NULL
);
