//! `hatchery …`: the command line. Core commands are declared here; every installed
//! plugin's commands are added from its manifest, so `hatchery --help` lists them
//! without loading any plugin code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

mod eggs;
mod nodes;
mod servers;

use crate::actions::Actor;
use crate::config::Config;
use crate::db::{Database, users};
use crate::error::{Error, Result};
use crate::events::EventBus;
use crate::panel::{init_logging, open_database};
use crate::plugins::manifest::{Capabilities, Manifest, Runtime};
use crate::plugins::package::{self, Package, ReadLimits};
use crate::plugins::{
    InstallOptions, PluginDetails, PluginHost, PluginState, PluginStatus, scan_manifests,
};

#[derive(Debug, Parser)]
#[command(
    name = "hatchery",
    version,
    about = "Hatchery: a game-server panel with sandboxed, runtime-installable plugins",
    after_help = "Configuration comes from hatchery.toml (or --config) and HATCHERY_* environment variables.\nStart with `hatchery serve`; see `hatchery <command> --help` for details."
)]
struct Cli {
    /// Configuration file (default: ./hatchery.toml when it exists)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: CoreCommand,
}

#[derive(Debug, Subcommand)]
enum CoreCommand {
    /// Run the panel: HTTP API, plugins and background work
    Serve,
    /// Install, list, enable, disable and remove plugins
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Manage users and their API keys
    #[command(subcommand)]
    User(UserCommand),
    /// Import, export and list eggs (Pterodactyl PTDL_v1/v2, Pelican PLCN)
    #[command(subcommand)]
    Egg(eggs::EggCommand),
    /// Add nodes, print their wings configuration, manage their allocations
    #[command(subcommand)]
    Node(nodes::NodeCommand),
    /// Create, list, power, suspend, reinstall and delete servers
    #[command(subcommand)]
    Server(servers::ServerCommand),
    /// Roles: named sets of admin permissions for staff who are not root admins
    #[command(subcommand)]
    Role(RoleCommand),
    /// Compare the panel with its nodes: servers one side lacks, install states that
    /// disagree, nodes that cannot be reached
    Doctor {
        /// Repair what was found: create missing servers on their node, delete servers
        /// the panel does not have from the node, record wings' install state
        #[arg(long)]
        fix: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Create a role; `hatchery role permissions` lists what it can hold
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// An admin permission such as `servers.read` (repeat the flag for more)
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// List the roles
    List,
    /// List the admin permissions a role can hold
    Permissions,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List installed plugins and their state
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Install a plugin package (.hpkg); it takes effect on a running panel within seconds
    Install {
        /// The package file
        file: PathBuf,
        /// Accept a package that no trusted key signed
        #[arg(long)]
        allow_unsigned: bool,
        /// Install without enabling
        #[arg(long)]
        disabled: bool,
        /// Grant only these capabilities (comma-separated: database,emit,storage,servers,server_control,activity,secrets,node_files,identity,subscribe:<event>,http:<host>)
        #[arg(long, value_name = "CAPABILITIES")]
        grant: Option<String>,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
    /// Enable an installed plugin
    Enable {
        id: String,
        /// Replace its grants (comma-separated: database,emit,storage,servers,server_control,activity,secrets,node_files,identity,subscribe:<event>,http:<host>)
        #[arg(long, value_name = "CAPABILITIES")]
        grant: Option<String>,
    },
    /// Grant a plugin more of what its manifest asks for, such as a host for an identity
    /// provider you configured (`http:sso.example.com`); takes effect at once
    Grant {
        id: String,
        /// Comma-separated, as for --grant: database,…,subscribe:<event>,http:<host>
        capabilities: String,
    },
    /// Take grants away from a plugin; takes effect at once
    Revoke {
        id: String,
        /// Comma-separated, as for --grant
        capabilities: String,
    },
    /// Disable a plugin (its data stays)
    Disable { id: String },
    /// Show a plugin's settings, or change them (checked against its settings schema)
    Settings {
        id: String,
        /// Set one setting: KEY=VALUE, where VALUE is JSON (`30`, `true`, `"text"`) or
        /// else taken as text; repeat for more
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Replace all settings with the JSON object in this file
        #[arg(long, value_name = "FILE", conflicts_with = "set")]
        file: Option<PathBuf>,
    },
    /// Remove a plugin
    Uninstall {
        id: String,
        /// Also drop its tables, migration history and private files
        #[arg(long)]
        purge: bool,
    },
    /// Build a package from a plugin directory (for plugin authors)
    Pack {
        /// Directory holding plugin.toml and the files it names
        dir: PathBuf,
        /// Signing key made by `hatchery plugin keygen`; unsigned without it
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Where to write the package
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
    /// Create an ed25519 signing key for packages and print its public key
    Keygen {
        /// Where to write the secret key (kept private)
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Make the user a root administrator (every permission)
        #[arg(long)]
        admin: bool,
        /// The user's password; with `-` it is read from standard input (first line).
        /// Without it the user cannot sign in with a password until one is set.
        #[arg(long)]
        password: Option<String>,
        /// Give the user this role (by name or id)
        #[arg(long)]
        role: Option<String>,
    },
    /// List users (root admins marked with *)
    List,
    /// Change a user's password (read from standard input with `-`)
    SetPassword {
        username: String,
        #[arg(long)]
        password: String,
    },
    /// Issue an API key for a user and print it once
    ApiKey {
        username: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Expire the key after this many days
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
}

/// Entry point of the `hatchery` binary.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let config_flag = config_flag(&args);
    // Plugin commands come from manifests; a broken configuration must not hide --help.
    let manifests = Config::load(config_flag.as_deref())
        .map(|config| scan_manifests(&config.plugins_dir))
        .unwrap_or_default();
    let matches = command_with_plugins(&manifests).get_matches_from(&args);

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
    let outcome = runtime.block_on(run(matches, &manifests));
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn config_flag(args: &[String]) -> Option<PathBuf> {
    args.iter().enumerate().find_map(|(index, arg)| {
        arg.strip_prefix("--config=")
            .map(PathBuf::from)
            .or_else(|| {
                (arg == "--config")
                    .then(|| args.get(index + 1).map(PathBuf::from))
                    .flatten()
            })
    })
}

/// The core CLI plus one subcommand per plugin that declares commands.
pub fn command_with_plugins(manifests: &[Manifest]) -> clap::Command {
    let mut command = Cli::command();
    for manifest in manifests.iter().filter(|m| !m.commands.is_empty()) {
        if command.find_subcommand(&manifest.id).is_some() {
            continue;
        }
        let about = if manifest.description.is_empty() {
            format!("{} (plugin)", manifest.name)
        } else {
            format!("{} (plugin)", manifest.description)
        };
        let mut plugin = clap::Command::new(manifest.id.clone())
            .about(about)
            .subcommand_required(true)
            .arg_required_else_help(true);
        for declared in &manifest.commands {
            let usage = if declared.usage.is_empty() {
                "ARGS".to_string()
            } else {
                declared.usage.clone()
            };
            plugin = plugin.subcommand(
                clap::Command::new(declared.name.clone())
                    .about(declared.about.clone())
                    .arg(
                        Arg::new("args")
                            .num_args(0..)
                            .trailing_var_arg(true)
                            .allow_hyphen_values(true)
                            .value_name(usage),
                    ),
            );
        }
        command = command.subcommand(plugin);
    }
    command
}

async fn run(matches: ArgMatches, manifests: &[Manifest]) -> Result<ExitCode> {
    // Core commands always win over a plugin that shares their name.
    if let Some((name, sub)) = matches.subcommand()
        && Cli::command().find_subcommand(name).is_none()
        && manifests.iter().any(|m| m.id == name)
    {
        let config = Config::load(matches.get_one::<PathBuf>("config").map(PathBuf::as_path))?;
        return run_plugin_command(config, name, sub).await;
    }
    let cli = Cli::from_arg_matches(&matches).map_err(|err| Error::bad_request(err.to_string()))?;
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        CoreCommand::Serve => crate::panel::serve(config)
            .await
            .map(|()| ExitCode::SUCCESS),
        CoreCommand::Plugin(command) => plugin_command(config, command).await,
        CoreCommand::User(command) => user_command(config, command).await,
        CoreCommand::Role(command) => role_command(config, command).await,
        CoreCommand::Doctor { fix } => doctor(config, fix).await,
        command @ (CoreCommand::Egg(_) | CoreCommand::Node(_) | CoreCommand::Server(_)) => {
            init_logging(&config.log, true);
            let db = open_database(&config).await?;
            let events = Arc::new(EventBus::relay());
            let result = match command {
                CoreCommand::Egg(command) => eggs::run(&db, command).await,
                CoreCommand::Node(command) => nodes::run(&config, &db, command).await,
                CoreCommand::Server(command) => {
                    servers::run(&config, &db, events.clone(), command).await
                }
                _ => unreachable!("matched above"),
            };
            finish(&db, &events).await;
            result
        }
    }
}

/// The plugin host of a CLI process: its events go to the running panel.
async fn start_host(config: &Config) -> Result<(Database, Arc<PluginHost>)> {
    init_logging(&config.log, true);
    let db = open_database(config).await?;
    let plugins = plugin_host_on(config, &db).await?;
    Ok((db, plugins))
}

/// [`start_host`] on a database this process has open already.
async fn plugin_host_on(config: &Config, db: &Database) -> Result<Arc<PluginHost>> {
    PluginHost::start(
        config.clone(),
        db.clone(),
        Arc::new(EventBus::relay()),
        None,
    )
    .await
}

/// Hands the events a CLI run raised to the running panel, then closes the database.
async fn finish(db: &Database, events: &EventBus) {
    if let Err(err) = crate::db::event_outbox::append(db, &events.take_relayed()).await {
        eprintln!("warning: the running panel will not hear of this change: {err}");
    }
    db.close().await;
}

async fn run_plugin_command(config: Config, id: &str, matches: &ArgMatches) -> Result<ExitCode> {
    let (db, plugins) = start_host(&config).await?;
    let mut args = Vec::new();
    if let Some((name, sub)) = matches.subcommand() {
        args.push(name.to_string());
        if let Some(values) = sub.get_many::<String>("args") {
            args.extend(values.cloned());
        }
    }
    let output = plugins.run_command(id, args).await;
    finish(&db, plugins.events()).await;
    let output = output?;
    print!("{}", output.stdout);
    eprint!("{}", output.stderr);
    std::io::stdout().flush().ok();
    Ok(ExitCode::from(
        u8::try_from(output.exit_code.clamp(0, 255)).unwrap_or(1),
    ))
}

async fn plugin_command(config: Config, command: PluginCommand) -> Result<ExitCode> {
    match command {
        PluginCommand::Pack { dir, key, output } => {
            let files = package::read_dir_files(&dir)?;
            let key = key
                .map(|path| {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|err| Error::io(format!("cannot read {}", path.display()), err))?;
                    package::parse_signing_key(&text)
                        .map_err(|err| Error::bad_request(format!("{}: {err}", path.display())))
                })
                .transpose()?;
            let bytes = crate::plugins::catalogue::pack(&files, key.as_ref())?;
            write_new_file(&output, &bytes)?;
            println!(
                "wrote {} ({} files, {}, {})",
                output.display(),
                files.len(),
                human_bytes(bytes.len() as u64),
                if key.is_some() { "signed" } else { "unsigned" }
            );
            return Ok(ExitCode::SUCCESS);
        }
        PluginCommand::Keygen { output } => {
            let secret = package::generate_signing_key();
            let key = package::parse_signing_key(&secret).map_err(Error::bad_request)?;
            write_new_file(&output, format!("{secret}\n").as_bytes())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&output, std::fs::Permissions::from_mode(0o600));
            }
            println!(
                "secret key written to {} (keep it private)",
                output.display()
            );
            println!("public key: {}", package::public_key_of(&key));
            println!(
                "panels trust it with: plugins.trusted_keys = [\"{}\"]",
                package::public_key_of(&key)
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }

    let (db, plugins) = start_host(&config).await?;
    let result = match command {
        PluginCommand::List { json } => {
            let details = plugins.registry().all_details();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&details).expect("plain data")
                );
            } else {
                print_plugin_table(&details);
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Install {
            file,
            allow_unsigned,
            disabled,
            grant,
            yes,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|err| Error::io(format!("cannot read {}", file.display()), err))?;
            let grants = grant
                .as_deref()
                .map(Capabilities::parse_list)
                .transpose()
                .map_err(Error::bad_request)?;
            let preview = crate::plugins::catalogue::read_package(
                &bytes,
                &config.plugins.trusted_keys,
                ReadLimits::for_package_limit(config.max_package_bytes),
            )?;
            if !yes && !confirm_install(&preview, grants.as_ref())? {
                println!("nothing installed");
                return Ok(ExitCode::FAILURE);
            }
            let details = plugins
                .install(
                    &bytes,
                    InstallOptions {
                        allow_unsigned,
                        enable: !disabled,
                        grants,
                    },
                    &Actor::cli(),
                )
                .await?;
            report(&details, "installed")
        }
        PluginCommand::Enable { id, grant } => {
            let grants = grant
                .as_deref()
                .map(Capabilities::parse_list)
                .transpose()
                .map_err(Error::bad_request)?;
            let details = plugins.enable(&id, grants, &Actor::cli()).await?;
            report(&details, "enabled")
        }
        PluginCommand::Grant { id, capabilities } => {
            let grant = Capabilities::parse_list(&capabilities).map_err(Error::bad_request)?;
            let details = plugins
                .change_grants(&id, &grant, &Capabilities::default(), &Actor::cli())
                .await?;
            report(&details, "given more grants")
        }
        PluginCommand::Revoke { id, capabilities } => {
            let revoke = Capabilities::parse_list(&capabilities).map_err(Error::bad_request)?;
            let details = plugins
                .change_grants(&id, &Capabilities::default(), &revoke, &Actor::cli())
                .await?;
            report(&details, "had grants taken away")
        }
        PluginCommand::Disable { id } => {
            let details = plugins.disable(&id, &Actor::cli()).await?;
            report(&details, "disabled")
        }
        PluginCommand::Settings { id, set, file } => {
            let current = plugins.settings(&id).await?;
            let changed = match (file, set.is_empty()) {
                (Some(file), _) => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|err| Error::io(format!("cannot read {}", file.display()), err))?;
                    let values = serde_json::from_str(&text).map_err(|err| {
                        Error::bad_request(format!("{} is not JSON: {err}", file.display()))
                    })?;
                    Some(
                        plugins
                            .set_settings(&id, values, &crate::actions::Actor::cli())
                            .await?,
                    )
                }
                (None, false) => {
                    let mut values = current.values.clone();
                    for assignment in &set {
                        let (key, value) = assignment.split_once('=').ok_or_else(|| {
                            Error::bad_request(format!("`{assignment}` is not KEY=VALUE"))
                        })?;
                        let value = serde_json::from_str(value)
                            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
                        values[key] = value;
                    }
                    Some(
                        plugins
                            .set_settings(&id, values, &crate::actions::Actor::cli())
                            .await?,
                    )
                }
                (None, true) => None,
            };
            let shown = changed.unwrap_or(current);
            println!(
                "{}",
                serde_json::to_string_pretty(&shown.values).expect("JSON encodes")
            );
            for name in &shown.sealed_set {
                println!("{name}: (sealed, set)");
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Uninstall { id, purge } => {
            plugins.uninstall(&id, purge, &Actor::cli()).await?;
            println!(
                "{id} uninstalled{}",
                if purge {
                    " and its data purged"
                } else {
                    "; its data was kept (use --purge to remove it)"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Pack { .. } | PluginCommand::Keygen { .. } => unreachable!("handled above"),
    };
    finish(&db, plugins.events()).await;
    result
}

fn report(details: &PluginDetails, action: &str) -> Result<ExitCode> {
    let PluginStatus {
        id,
        version,
        state,
        error,
        ..
    } = &details.status;
    if *state == PluginState::Failed {
        eprintln!(
            "{id} {version} was {action} but failed to load: {}",
            error.as_deref().unwrap_or("unknown error")
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("{id} {version} {action}; it is now {}", state.as_str());
    Ok(ExitCode::SUCCESS)
}

/// Shows what the package asks for, like a phone's permission screen.
fn confirm_install(package: &Package, grants: Option<&Capabilities>) -> Result<bool> {
    let manifest = &package.manifest;
    println!(
        "{} {} ({}, {})",
        manifest.name,
        manifest.version,
        manifest.id,
        manifest.runtime.as_str()
    );
    if !manifest.description.is_empty() {
        println!("  {}", manifest.description);
    }
    match &package.signer {
        package::PackageSigner::Trusted(key) => println!("  signed by trusted key {key}"),
        package::PackageSigner::Untrusted(key) => println!("  signed by UNTRUSTED key {key}"),
        package::PackageSigner::Unsigned => println!("  NOT SIGNED"),
    }
    if manifest.runtime == Runtime::Native {
        println!("  WARNING: native plugins run unsandboxed with the panel's full privileges.");
    }
    if manifest.runs_on_nodes() {
        println!(
            "  runs on every node too (it provides a backup driver), with the same grants and its settings, sealed values included"
        );
    }
    let granted = grants.unwrap_or(&manifest.capabilities).describe();
    if granted.is_empty() {
        println!("  asks for no capabilities");
    } else {
        println!("  will be granted:");
        for line in granted {
            println!("    - {line}");
        }
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::bad_request(
            "confirm with --yes when not running in a terminal",
        ));
    }
    print!("Install? [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|err| Error::io("cannot read the answer", err))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_plugin_table(details: &[PluginDetails]) {
    if details.is_empty() {
        println!("no plugins installed; add one with `hatchery plugin install <file.hpkg>`");
        return;
    }
    println!(
        "{:<24} {:<10} {:<7} {:<9} ERROR",
        "ID", "VERSION", "RUNTIME", "STATE"
    );
    for detail in details {
        let status = &detail.status;
        println!(
            "{:<24} {:<10} {:<7} {:<9} {}",
            status.id,
            status.version,
            status.runtime,
            status.state.as_str(),
            status.error.as_deref().unwrap_or("")
        );
    }
}

async fn user_command(config: Config, command: UserCommand) -> Result<ExitCode> {
    init_logging(&config.log, true);
    let db = open_database(&config).await?;
    let result = match command {
        UserCommand::Create {
            username,
            email,
            admin,
            password,
            role,
        } => {
            let password = password
                .map(|password| read_secret(&password))
                .transpose()?;
            let role_id = match role {
                Some(role) => Some(
                    crate::db::roles::find(&db, &role)
                        .await?
                        .ok_or_else(|| Error::NotFound(format!("no role `{role}`")))?
                        .id,
                ),
                None => None,
            };
            let new = users::NewUser {
                username,
                email,
                admin,
                language: None,
                role_id,
            };
            let user = match password {
                // The sign-in plugin keeps passwords: it runs in this process for it.
                Some(password) => {
                    let plugins = plugin_host_on(&config, &db).await?;
                    plugins.create_user(&new, Some(password)).await?
                }
                None => users::create(&db, &new).await?,
            };
            println!(
                "created {}user {} ({})",
                if user.admin { "admin " } else { "" },
                user.username,
                user.uuid
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let mut page = crate::db::Page::new(Some(1), Some(crate::db::Page::MAX_PER_PAGE));
            loop {
                let (rows, total) = users::page(&db, &page, None).await?;
                if total == 0 {
                    println!("no users yet; create one with `hatchery user create`");
                }
                for user in &rows {
                    let marker = if user.admin { "*" } else { " " };
                    println!(
                        "{:>5} {marker} {:<24} {}",
                        user.id, user.username, user.email
                    );
                }
                if page.number >= page.last_page(total) {
                    break;
                }
                page.number += 1;
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::SetPassword { username, password } => {
            let user = users::find_by_username(&db, &username)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no user `{username}`")))?;
            let password = read_secret(&password)?;
            let plugins = plugin_host_on(&config, &db).await?;
            plugins.change_password(&user, password).await?;
            // Their consoles and SFTP sessions on the nodes end too.
            plugins.core().end_sessions(&user.uuid, None).await;
            println!(
                "changed the password of {}; their sessions were signed out",
                user.username
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::ApiKey {
            username,
            description,
            expires_in_days,
        } => {
            let user = users::find_by_username(&db, &username)
                .await?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no user `{username}`; create one with `hatchery user create`"
                    ))
                })?;
            let expires = expires_in_days
                .map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            // The bootstrap key acts with all its owner's powers.
            let options = users::KeyOptions {
                description,
                expires_at: expires,
                admin_power: true,
                allowed_ips: Vec::new(),
                scope: Default::default(),
            };
            let key = users::issue_api_key(&db, user.id, &options).await?;
            println!("{}", key.token);
            eprintln!(
                "API key {} for {} — shown once; send it as `Authorization: Bearer <key>`",
                key.identifier, user.username
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    db.close().await;
    result
}

/// `hatchery doctor [--fix]`: exit code 0 when the panel and its nodes agree (or every
/// disagreement was repaired), 1 otherwise.
async fn doctor(config: Config, fix: bool) -> Result<ExitCode> {
    init_logging(&config.log, true);
    let db = open_database(&config).await?;
    let events = Arc::new(EventBus::relay());
    let core = crate::actions::Core {
        db: db.clone(),
        secrets: Arc::new(crate::secrets::SecretBox::load_or_create(&config.data_dir)?),
        events: events.clone(),
        observer: None,
    };
    let findings = crate::actions::reconcile::check(&core).await;
    let result = match findings {
        Err(err) => Err(err),
        Ok(findings) if findings.is_empty() => {
            println!("the panel and its nodes agree");
            Ok(ExitCode::SUCCESS)
        }
        Ok(findings) if !fix => {
            for finding in &findings {
                println!("{finding}");
            }
            println!(
                "{} problem(s); `hatchery doctor --fix` repairs them",
                findings.len()
            );
            Ok(ExitCode::from(1))
        }
        Ok(findings) => {
            let mut failed = 0;
            for (finding, outcome) in crate::actions::reconcile::fix(&core, findings).await {
                match outcome {
                    Ok(())
                        if matches!(
                            finding,
                            crate::actions::reconcile::Finding::NodeUnreachable { .. }
                        ) =>
                    {
                        failed += 1;
                        println!("cannot repair: {finding}");
                    }
                    Ok(()) => println!("repaired: {finding}"),
                    Err(err) => {
                        failed += 1;
                        println!("could not repair: {finding}: {err}");
                    }
                }
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    };
    finish(&db, &events).await;
    result
}

async fn role_command(config: Config, command: RoleCommand) -> Result<ExitCode> {
    init_logging(&config.log, true);
    let db = open_database(&config).await?;
    let result = match command {
        RoleCommand::Create {
            name,
            description,
            permissions,
        } => {
            let role = crate::db::roles::create(&db, &name, &description, &permissions).await?;
            println!(
                "created role {} (id {}) with {}",
                role.name,
                role.id,
                role.permissions.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        RoleCommand::List => {
            let roles = crate::db::roles::list(&db).await?;
            if roles.is_empty() {
                println!("no roles yet; create one with `hatchery role create`");
            }
            for role in roles {
                println!(
                    "{:>5}  {:<20}  {}",
                    role.id,
                    role.name,
                    role.permissions.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RoleCommand::Permissions => {
            for (name, description) in crate::policy::ADMIN_PERMISSIONS {
                println!("{name:<16} {description}");
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    db.close().await;
    result
}

/// `value`, or with `-` the first line of standard input (so secrets stay out of
/// shell history and process lists).
fn read_secret(value: &str) -> Result<String> {
    if value != "-" {
        return Ok(value.to_string());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|err| Error::io("cannot read the password from standard input", err))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|err| Error::io(format!("cannot create {}", parent.display()), err))?;
    }
    std::fs::write(path, bytes)
        .map_err(|err| Error::io(format!("cannot write {}", path.display()), err))
}

fn human_bytes(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
