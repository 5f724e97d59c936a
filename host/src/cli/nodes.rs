//! `hatchery node …`: nodes, their wings configuration and their allocations.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::db::Database;
use crate::db::nodes::{self, NewNode, Node};
use crate::domain::vocabulary::Scheme;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Add a node (a machine that runs wings)
    Create {
        #[arg(long)]
        name: String,
        /// The host name or IP address browsers and the panel reach wings at
        #[arg(long)]
        fqdn: String,
        #[arg(long, default_value = "")]
        description: String,
        /// How the panel and browsers talk to wings: http or https
        #[arg(long, default_value = "http")]
        scheme: Scheme,
        /// TLS ends in a proxy in front of wings (wings itself serves plain HTTP)
        #[arg(long)]
        behind_proxy: bool,
        /// wings' HTTP API port
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[arg(long, default_value_t = 2022)]
        sftp_port: u16,
        /// Where wings keeps server files on the node
        #[arg(long, default_value = "/var/lib/pterodactyl/volumes")]
        data_dir: String,
        /// Memory servers may use in total, MiB
        #[arg(long)]
        memory: u64,
        /// Disk servers may use in total, MiB
        #[arg(long)]
        disk: u64,
        /// Percent of memory that may be allocated beyond the total (-1: no limit)
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        memory_overallocate: i32,
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        disk_overallocate: i32,
        /// Largest upload through the file manager, MiB
        #[arg(long, default_value_t = 100)]
        upload_size: u32,
    },
    /// List the nodes
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the node's wings configuration file (it holds the node's token)
    Config {
        /// The node's id, uuid or name
        node: String,
    },
    /// Issue the node a new token; update its wings configuration afterwards
    ResetToken { node: String },
    /// Add allocations: IP and port pairs servers can listen on
    Allocate {
        node: String,
        #[arg(long)]
        ip: String,
        /// Ports: 25565, 25565-25570, or a comma-separated list of them
        #[arg(long)]
        ports: String,
        /// A name shown instead of the IP (for example a DNS name)
        #[arg(long)]
        alias: Option<String>,
    },
    /// Remove free allocations
    Deallocate {
        node: String,
        #[arg(long)]
        ip: String,
        #[arg(long)]
        ports: String,
    },
    /// List a node's allocations
    Allocations {
        node: String,
        /// Only those no server uses
        #[arg(long)]
        free: bool,
        #[arg(long)]
        json: bool,
    },
}

async fn node(db: &Database, key: &str) -> Result<Node> {
    nodes::find(db, key)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no node `{key}`; `hatchery node list` shows them")))
}

pub async fn run(config: &Config, db: &Database, command: NodeCommand) -> Result<ExitCode> {
    let secrets = SecretBox::load_or_create(&config.data_dir)?;
    match command {
        NodeCommand::Create {
            name,
            fqdn,
            description,
            scheme,
            behind_proxy,
            port,
            sftp_port,
            data_dir,
            memory,
            disk,
            memory_overallocate,
            disk_overallocate,
            upload_size,
        } => {
            let new = NewNode {
                name,
                description,
                fqdn,
                scheme,
                behind_proxy,
                daemon_port: port,
                sftp_port,
                data_dir,
                memory_mb: memory,
                memory_overallocate,
                disk_mb: disk,
                disk_overallocate,
                upload_size_mb: upload_size,
            };
            let node = nodes::create(db, &secrets, &new).await?;
            println!("created node {} ({})", node.name, node.uuid);
            eprintln!(
                "next: `hatchery node config {}` > /etc/hatchery/wings.yml on the node, then `hatchery node allocate {} --ip <ip> --ports <ports>`",
                node.name, node.name
            );
        }
        NodeCommand::List { json } => {
            let nodes = nodes::list(db).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&nodes).expect("JSON encodes")
                );
            } else if nodes.is_empty() {
                println!("no nodes yet; add one with `hatchery node create`");
            } else {
                for node in nodes {
                    println!(
                        "{:>4}  {:<20}  {}://{}:{}  sftp {}  {} MiB memory, {} MiB disk{}",
                        node.id,
                        node.name,
                        node.scheme,
                        node.fqdn,
                        node.daemon_port,
                        node.sftp_port,
                        node.memory_mb,
                        node.disk_mb,
                        if node.maintenance {
                            "  (maintenance)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        NodeCommand::Config { node: key } => {
            let node = node(db, &key).await?;
            let token = nodes::token(&secrets, &node)?;
            print!("{}", nodes::wings_config(&node, &token, &config.public_url));
        }
        NodeCommand::ResetToken { node: key } => {
            let node = nodes::reset_token(db, &secrets, &node(db, &key).await?).await?;
            println!(
                "node {} has a new token; write the new `hatchery node config {}` to the node and restart wings",
                node.name, node.name
            );
        }
        NodeCommand::Allocate {
            node: key,
            ip,
            ports,
            alias,
        } => {
            let node = node(db, &key).await?;
            let ports = nodes::parse_ports(&ports)?;
            let added = nodes::add_allocations(db, &node, &ip, &ports, alias.as_deref()).await?;
            println!(
                "added {added} allocation(s) on {}; {} already existed",
                node.name,
                ports.len() - added
            );
        }
        NodeCommand::Deallocate {
            node: key,
            ip,
            ports,
        } => {
            let node = node(db, &key).await?;
            let ports = nodes::parse_ports(&ports)?;
            let removed = nodes::remove_allocations(db, &node, &ip, &ports).await?;
            println!("removed {removed} allocation(s) from {}", node.name);
        }
        NodeCommand::Allocations {
            node: key,
            free,
            json,
        } => {
            let node = node(db, &key).await?;
            let allocations = nodes::allocations(db, &node, free).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&allocations).expect("JSON encodes")
                );
            } else if allocations.is_empty() {
                println!(
                    "no allocations; add some with `hatchery node allocate {} --ip <ip> --ports <ports>`",
                    node.name
                );
            } else {
                for allocation in allocations {
                    println!(
                        "{}:{}{}{}",
                        allocation.ip,
                        allocation.port,
                        allocation
                            .alias
                            .map(|a| format!("  ({a})"))
                            .unwrap_or_default(),
                        if allocation.server_id.is_some() {
                            "  assigned"
                        } else {
                            "  free"
                        }
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
