//! The composition root: the running panel assembled from its parts (configuration,
//! database, plugin host, actions and the HTTP API). `hatchery serve` calls [`serve`];
//! CLI commands open the database and logging through the same functions.

use std::sync::Arc;

use crate::config::Config;
use crate::db::{Database, migrate, users};
use crate::error::{Error, Result};
use crate::http::{self, AppState};
use crate::plugins::PluginHost;

/// Logs to stderr at `filter` (quietly, at `warn`, for CLI commands).
pub fn init_logging(filter: &str, to_stderr_quietly: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| {
        eprintln!("warning: log filter `{filter}` is invalid; using `info`");
        tracing_subscriber::EnvFilter::new("info")
    });
    let filter = if to_stderr_quietly {
        tracing_subscriber::EnvFilter::new("warn")
    } else {
        filter
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Opens the database (creating the data directory) and applies core migrations.
pub async fn open_database(config: &Config) -> Result<Database> {
    std::fs::create_dir_all(&config.data_dir).map_err(|err| {
        Error::io(
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            ),
            err,
        )
    })?;
    let db = Database::connect(&config.database_url).await?;
    migrate::apply_core(&db).await?;
    Ok(db)
}

/// Runs the panel until it is told to stop: binds first (so a port in use fails
/// fast), opens the database, starts the plugin host and its watcher, prints the
/// first-start link while nobody can sign in, resumes what an earlier process left
/// half-done, and serves the API.
pub async fn serve(config: Config) -> Result<()> {
    init_logging(&config.log, false);
    let listener = http::bind(&config).await?;
    let db = open_database(&config).await?;
    tracing::info!(database = db.dialect_name(), data_dir = %config.data_dir.display(), "database ready");
    // Changes plugins make reach the HTTP caches at once, like the panel's own.
    let caches = Arc::new(http::caches::Caches::default());
    let plugins = PluginHost::start(
        config.clone(),
        db.clone(),
        Arc::default(),
        Some(caches.clone()),
    )
    .await?;
    for status in plugins.registry().statuses() {
        if let Some(error) = &status.error {
            tracing::warn!(plugin = %status.id, "plugin failed: {error}");
        }
    }
    // Passwords the panel itself still holds go to the sign-in plugin.
    if let Err(err) = plugins.hand_over_password_hashes().await {
        tracing::warn!("stored passwords were not handed to the sign-in plugin: {err}");
    }
    if let Err(err) = plugins.hand_over_ssh_keys().await {
        tracing::warn!("stored SSH keys were not handed to the sign-in plugin: {err}");
    }
    let _watcher = plugins.spawn_watcher();
    let secrets = Arc::new(crate::secrets::SecretBox::load_or_create(&config.data_dir)?);
    if users::count(&db).await? == 0 {
        // Nobody can sign in yet: a one-time link creates the first administrator.
        // Panels starting together print one link between them.
        let window = chrono::Duration::seconds(60);
        match crate::db::sessions::issue_setup_token_once(&db, window).await? {
            Some(token) => tracing::warn!(
                "no users yet: open {}/setup?token={token} within 24 hours to create the first administrator \
                 (or run `hatchery user create --admin`)",
                config.public_url.trim_end_matches('/')
            ),
            None => tracing::warn!(
                "no users yet: another panel instance starting at the same time printed the setup link \
                 (or run `hatchery user create --admin`)"
            ),
        }
    }
    let state = AppState::new(config, db.clone(), plugins, secrets, caches);
    // Server changes a panel left half-done are completed, and servers left installing
    // while the panel was down take what their wings knows; then, for as long as the
    // panel serves, changes nobody completes are taken up.
    let core = state.core();
    tokio::spawn(async move {
        crate::actions::reconcile::on_panel_start(&core).await;
        crate::actions::intents::sweep_forever(core).await;
    });
    let served = http::serve(listener, state).await;
    db.close().await;
    served
}
