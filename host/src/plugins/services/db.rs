//! Capability `database`: statements on the plugin's own store, behind the SQL guard.

use async_trait::async_trait;
use hatchery_runtime::services::Database;
use hatchery_sdk::{DbRows, DbValue, Dialect, HostError};

use super::HostServices;
use crate::db::plugin_store::PluginStore;
use crate::db::sql_guard;

/// Rows a single query may return; more is almost always a missing `LIMIT`.
pub const MAX_QUERY_ROWS: usize = 10_000;

impl HostServices {
    /// The plugin's store, once the statement passed the guard.
    fn checked_store(&self, sql: &str) -> Result<&PluginStore, HostError> {
        self.require(self.grants.database, "database")?;
        let store = self
            .store
            .as_deref()
            .ok_or_else(|| HostError::Unavailable("the plugin's database is not open".into()))?;
        sql_guard::check(self.core.db.dialect(), sql, &self.table_prefix, true)
            .map_err(HostError::Invalid)?;
        Ok(store)
    }
}

#[async_trait]
impl Database for HostServices {
    fn dialect(&self) -> Dialect {
        self.core.db.dialect()
    }

    async fn db_execute(&self, sql: &str, params: Vec<DbValue>) -> Result<u64, HostError> {
        self.checked_store(sql)?
            .execute(sql, params)
            .await
            .map_err(HostError::Invalid)
    }

    async fn db_query(&self, sql: &str, params: Vec<DbValue>) -> Result<DbRows, HostError> {
        self.checked_store(sql)?
            .query(sql, params, MAX_QUERY_ROWS)
            .await
            .map_err(HostError::Invalid)
    }
}
