//! `wings run`: binds the API, loads the node's servers from the panel (retrying while
//! the panel is away), and serves until SIGINT/SIGTERM. Game servers keep running when
//! wings stops; the next start re-attaches to them.

use std::time::Duration;

use hatchery_wings::api;
use hatchery_wings::config::WingsConfig;
use hatchery_wings::docker::DockerExecutor;
use hatchery_wings::manager::Manager;
use hatchery_wings::ssh;
use hatchery_wings::{Error, Result};

/// How often wings asks the panel which plugins it should run, besides when the panel
/// says something changed.
const PLUGIN_SYNC: Duration = Duration::from_secs(60);

pub async fn run(config: WingsConfig) -> Result<()> {
    let executor = DockerExecutor::connect(&config.docker.socket).await?;
    let address = format!("{}:{}", config.api.host, config.api.port);
    let tls = match config.api.ssl.enabled {
        true => Some(std::sync::Arc::new(api::tls_config(
            config.api.ssl.cert.as_ref(),
            config.api.ssl.key.as_ref(),
        )?)),
        false => None,
    };
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|source| Error::Io {
            context: format!("cannot listen on {address} (api.host/api.port)"),
            source,
        })?;
    let sftp_address = format!(
        "{}:{}",
        config.system.sftp.bind_address, config.system.sftp.bind_port
    );
    let sftp_listener = tokio::net::TcpListener::bind(&sftp_address)
        .await
        .map_err(|source| Error::Io {
            context: format!(
                "cannot listen on {sftp_address} (system.sftp.bind_address/bind_port)"
            ),
            source,
        })?;
    let manager = Manager::new(config, executor);
    tracing::info!(
        "wings {} is listening on {}://{address}",
        env!("CARGO_PKG_VERSION"),
        if tls.is_some() { "https" } else { "http" }
    );
    tracing::info!("SFTP and SSH on {sftp_address}");
    let sftp_manager = manager.clone();
    tokio::spawn(async move {
        if let Err(err) = ssh::serve(sftp_manager, sftp_listener).await {
            tracing::error!("{err}");
        }
    });

    let plugins = manager.clone();
    tokio::spawn(async move {
        // What this node ran before comes back at once; the panel's list then decides.
        let kept = plugins.clone();
        let _ = tokio::task::spawn_blocking(move || kept.plugins.load_kept()).await;
        let mut ticker = tokio::time::interval(PLUGIN_SYNC);
        loop {
            ticker.tick().await;
            if let Err(err) = plugins.plugins.sync(&plugins.panel).await {
                tracing::warn!("cannot sync plugins with the panel: {err}");
            }
        }
    });

    let booting = manager.clone();
    tokio::spawn(async move {
        let mut delay = Duration::from_secs(2);
        loop {
            match booting.boot().await {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(
                        "cannot load servers from the panel yet ({err}); retrying in {}s",
                        delay.as_secs()
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            }
        }
    });

    let served = match tls {
        Some(tls) => api::serve_tls(listener, manager.clone(), tls, shutdown_signal()).await,
        None => api::serve(listener, manager.clone(), shutdown_signal()).await,
    };
    served.map_err(|source| Error::Io {
        context: "the API server failed".into(),
        source,
    })?;
    manager.flush_activity().await;
    tracing::info!("wings stopped; game servers keep running");
    Ok(())
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
