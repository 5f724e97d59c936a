//! The Hatchery panel host: configuration, database, HTTP API, CLI, event bus and the
//! plugin runtimes. See ARCHITECTURE.md for the map.

pub mod actions;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod faults;
pub mod http;
pub mod mail;
pub mod node_tokens;
pub mod panel;
pub mod plugins;
pub mod policy;
pub mod secrets;
pub mod wings_client;

pub use error::{Error, Result};

#[cfg(test)]
mod layers;
