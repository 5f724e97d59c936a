//! The panel database: SQLite (embedded default) or PostgreSQL.
//!
//! sqlx's `Any` driver lacks the types we need and emits `?` placeholders, so each
//! repository function runs typed queries per dialect through [`on_pool!`]. Queries
//! written with `$1` placeholders and portable SQL are shared; the rest are per dialect.

pub mod activity;
pub mod eggs;
pub mod event_outbox;
pub mod migrate;
pub mod nodes;
pub mod plugin_secrets;
pub mod plugin_settings;
pub mod plugin_store;
pub mod plugin_timers;
pub mod plugins;
pub mod roles;
pub mod server_intents;
pub mod servers;
pub mod sessions;
pub mod sql_guard;
pub mod ssh_keys;
pub mod subusers;
pub mod users;
mod words;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::{Error, Result};

pub use hatchery_sdk::Dialect;

/// Which page of a list to return: 1-based, at most [`Page::MAX_PER_PAGE`] rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub per_page: i64,
}

impl Page {
    pub const MAX_PER_PAGE: i64 = 100;

    pub fn new(number: Option<i64>, per_page: Option<i64>) -> Page {
        Page {
            number: number.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(25).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn limit(&self) -> i64 {
        self.per_page
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1).saturating_mul(self.per_page)
    }

    pub fn last_page(&self, total: i64) -> i64 {
        ((total + self.per_page - 1) / self.per_page).max(1)
    }
}

#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool `db` holds; the expression is
/// compiled once per dialect, so it may use dialect-specific types.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => $body,
            $crate::db::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Database {
    /// Connects to `url` (`sqlite://file` or `postgres://…`), creating a SQLite file
    /// if it does not exist yet.
    pub async fn connect(url: &str) -> Result<Database> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|err| Error::Config(format!("database_url: {err}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|err| Error::Config(format!("database_url: cannot open {url}: {err}")))?;
            Ok(Database::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(|err| {
                    Error::Config(format!(
                        "database_url: cannot connect to PostgreSQL at {}: {err}",
                        redact_url(url)
                    ))
                })?;
            Ok(Database::Postgres(pool))
        }
    }

    /// How a transaction that will write begins: on SQLite `BEGIN IMMEDIATE`, which
    /// takes the write lock up front and waits for it (busy timeout). A deferred
    /// transaction that reads and then writes fails at once with "database is locked"
    /// when another connection, or another process, writes meanwhile.
    pub fn begin_write(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "BEGIN IMMEDIATE",
            Database::Postgres(_) => "BEGIN",
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    /// `sqlite` or `postgres`, as `/api/health` reports it.
    pub fn dialect_name(&self) -> &'static str {
        dialect_name(self.dialect())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
