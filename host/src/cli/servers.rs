//! `hatchery server …`: create servers on a node (wings installs them), list them,
//! power them, delete them.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Subcommand;

use std::sync::Arc;

use crate::actions::{self, Actor, Core};
use crate::config::Config;
use crate::db::servers::{self, NewServer, Server};
use crate::db::{Database, eggs, nodes, users};
use crate::domain::vocabulary::PowerSignal;
use crate::error::{Error, Result};
use crate::events::EventBus;
use crate::secrets::SecretBox;

// Parsed once per process: the size of one variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Create a server; wings installs it with the egg's script
    Create {
        #[arg(long)]
        name: String,
        /// The owner's username
        #[arg(long)]
        owner: String,
        /// The node's id, uuid or name
        #[arg(long)]
        node: String,
        /// The egg's id, uuid or name
        #[arg(long)]
        egg: String,
        /// The default allocation, IP:PORT (see `hatchery node allocations`)
        #[arg(long)]
        allocation: String,
        /// More allocations, IP:PORT
        #[arg(long = "extra-allocation", value_name = "IP:PORT")]
        extra_allocations: Vec<String>,
        /// Memory, MiB (0: unlimited)
        #[arg(long)]
        memory: i64,
        /// Disk, MiB (0: unlimited)
        #[arg(long)]
        disk: i64,
        /// Swap, MiB (-1: unlimited)
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        swap: i64,
        /// CPU, percent of one core (0: unlimited)
        #[arg(long, default_value_t = 0)]
        cpu: i64,
        #[arg(long, default_value_t = 500)]
        io_weight: i32,
        /// The docker image (default: the egg's first)
        #[arg(long)]
        image: Option<String>,
        /// The startup command (default: the egg's)
        #[arg(long)]
        startup: Option<String>,
        /// A variable's value, KEY=VALUE (checked against the egg's rules)
        #[arg(long = "var", value_name = "KEY=VALUE")]
        variables: Vec<String>,
        /// Do not run the egg's install script
        #[arg(long)]
        skip_scripts: bool,
        /// How many allocations (the primary included) the server's users may take
        /// from the node's free ones
        #[arg(long, default_value_t = 0)]
        allocation_limit: i32,
        /// Start the server once it is installed
        #[arg(long)]
        start: bool,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List servers
    List {
        #[arg(long)]
        json: bool,
    },
    /// Start, stop, restart or kill a server
    Power {
        /// The server's id, uuid or short id
        server: String,
        /// start, stop, restart or kill
        action: PowerSignal,
    },
    /// Delete a server, its container and its files
    Delete {
        server: String,
        /// Delete the record even if the node's wings cannot be reached
        #[arg(long)]
        force: bool,
    },
    /// Suspend a server: wings stops it and its users cannot start it
    Suspend { server: String },
    /// Lift a suspension
    Unsuspend { server: String },
    /// Run the egg's install script again
    Reinstall { server: String },
}

async fn server(db: &Database, key: &str) -> Result<Server> {
    servers::find(db, key).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "no server `{key}`; `hatchery server list` shows them"
        ))
    })
}

/// `events` is the CLI's relay bus: the running panel's plugins hear of the actions.
pub async fn run(
    config: &Config,
    db: &Database,
    events: Arc<EventBus>,
    command: ServerCommand,
) -> Result<ExitCode> {
    let core = Core {
        db: db.clone(),
        secrets: Arc::new(SecretBox::load_or_create(&config.data_dir)?),
        events,
        observer: None,
    };
    let command_kind = match &command {
        ServerCommand::Suspend { .. } => "suspend",
        _ => "",
    };
    match command {
        ServerCommand::Create {
            name,
            owner,
            node,
            egg,
            allocation,
            extra_allocations,
            memory,
            disk,
            swap,
            cpu,
            io_weight,
            image,
            startup,
            variables,
            skip_scripts,
            allocation_limit,
            start,
            description,
        } => {
            let owner = users::find_by_username(db, &owner)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no user `{owner}`")))?;
            let node = nodes::find(db, &node).await?.ok_or_else(|| {
                Error::NotFound(format!("no node `{node}`; `hatchery node list` shows them"))
            })?;
            let egg = eggs::find(db, &egg).await?.ok_or_else(|| {
                Error::NotFound(format!("no egg `{egg}`; `hatchery egg list` shows them"))
            })?;
            let mut allocations = vec![nodes::find_allocation(db, &node, &allocation).await?];
            for extra in &extra_allocations {
                allocations.push(nodes::find_allocation(db, &node, extra).await?);
            }
            let mut values = BTreeMap::new();
            for pair in variables {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| Error::bad_field("var", format!("`{pair}` is not KEY=VALUE")))?;
                values.insert(key.to_string(), value.to_string());
            }
            let new = NewServer {
                name,
                description,
                owner_id: owner.id,
                node: node.clone(),
                egg,
                allocations,
                image,
                startup,
                memory_mb: memory,
                swap_mb: swap,
                disk_mb: disk,
                io_weight,
                cpu_percent: cpu,
                threads: None,
                oom_disabled: true,
                skip_scripts,
                allocation_limit,
                variables: values,
            };
            let server = actions::servers::create(&core, &Actor::cli(), &new, start).await?;
            println!(
                "created server {} ({}, short id {})",
                server.name, server.uuid, server.short_id
            );
            eprintln!(
                "wings on {} is installing it; `hatchery server list` shows when it is ready",
                node.name
            );
        }
        ServerCommand::List { json } => {
            let servers = servers::list(db).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&servers).expect("JSON encodes")
                );
            } else if servers.is_empty() {
                println!("no servers yet; create one with `hatchery server create`");
            } else {
                for server in servers {
                    println!(
                        "{}  {:<24}  {}",
                        server.short_id,
                        server.name,
                        server.status.map_or("ready", |status| status.as_str())
                    );
                }
            }
        }
        ServerCommand::Power {
            server: key,
            action,
        } => {
            let server = server(db, &key).await?;
            actions::servers::power(&core, &Actor::cli(), &server, action).await?;
            println!("sent {action} to {}", server.name);
        }
        ServerCommand::Suspend { server: key } | ServerCommand::Unsuspend { server: key } => {
            let suspend = matches!(command_kind, "suspend");
            let server = server(db, &key).await?;
            actions::servers::set_suspended(&core, &Actor::cli(), &server, suspend).await?;
            println!(
                "{} {}",
                if suspend { "suspended" } else { "unsuspended" },
                server.name
            );
        }
        ServerCommand::Reinstall { server: key } => {
            let server = server(db, &key).await?;
            actions::servers::reinstall(&core, &Actor::cli(), &server).await?;
            println!(
                "reinstalling {}; `hatchery server list` shows when it is done",
                server.name
            );
        }
        ServerCommand::Delete { server: key, force } => {
            let server = server(db, &key).await?;
            actions::servers::delete(&core, &Actor::cli(), &server, force).await?;
            println!("deleted server {}", server.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
