//! Integration tests: one binary, a module per topic (wasmtime's layout).

mod api;
mod browser;
mod cli;
mod config;
mod contract;
mod core_auth;
mod core_auth_oauth;
mod core_files;
mod crashes;
mod database;
mod e2e;
mod eggs;
mod hostile;
mod lifecycle;
mod local_node;
mod nodes;
mod panels;
mod plugin_routes;
mod properties;
mod support;
mod web;
