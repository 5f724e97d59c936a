//! Hatchery wings: the node daemon that runs game servers in containers for the panel.

pub mod api;
pub mod backups;
pub mod config;
pub mod console;
pub mod docker;
pub mod egg_files;
pub mod error;
pub mod executor;
pub mod files;
pub mod manager;
pub mod plugins;
pub mod remote;
pub mod server;
pub mod ssh;
pub use hatchery_protocol::token;

pub use error::{Error, Result};
