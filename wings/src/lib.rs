//! Hatchery wings: the node daemon that runs game servers in containers for the panel.

pub mod config;
pub mod console;
pub mod console_token;
pub mod docker;
pub mod egg_files;
pub mod error;
pub mod executor;
pub mod files;
pub mod server;

pub use error::{Error, Result};
