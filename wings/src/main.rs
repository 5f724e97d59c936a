//! `wings`: the node daemon's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hatchery_wings::config::WingsConfig;
use hatchery_wings::docker::DockerExecutor;
use hatchery_wings::executor::Executor;

mod daemon;

#[derive(Debug, Parser)]
#[command(
    name = "wings",
    version,
    about = "Hatchery wings: runs game servers in containers for the panel",
    after_help = "The configuration is Pterodactyl's config.yml format; the panel prints it with `hatchery node config <node>`."
)]
struct Cli {
    /// Configuration file (default: /etc/hatchery/wings.yml, then /etc/pterodactyl/config.yml)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: the HTTP API, the console websocket and SFTP/SSH (the default)
    Run,
    /// Check the configuration and the container engine, and print what wings sees
    Diagnostics,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> hatchery_wings::Result<()> {
    let (config, path) = WingsConfig::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => daemon::run(config).await,
        Command::Diagnostics => {
            println!("configuration: {}", path.display());
            for key in config.unknown_keys() {
                println!("  note: `{key}` is not used by this wings");
            }
            println!("node: {}", config.uuid);
            println!("panel: {}", config.remote);
            println!(
                "api: {}:{} (tls {})",
                config.api.host,
                config.api.port,
                if config.api.ssl.enabled { "on" } else { "off" }
            );
            println!(
                "sftp: {}:{}",
                config.system.sftp.bind_address, config.system.sftp.bind_port
            );
            println!("server data: {}", config.system.data.display());
            let executor = DockerExecutor::connect(&config.docker.socket).await?;
            let engine = executor.engine_info().await?;
            println!(
                "container engine: {} {} (API {})",
                engine.name, engine.version, engine.api_version
            );
            Ok(())
        }
    }
}
