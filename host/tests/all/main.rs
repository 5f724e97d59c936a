//! Integration tests: one binary, a module per topic (wasmtime's layout).

mod cli;
mod config;
mod database;
mod eggs;
mod hostile;
mod lifecycle;
mod nodes;
mod plugin_routes;
mod support;
