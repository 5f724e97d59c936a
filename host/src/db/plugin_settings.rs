//! The settings an administrator gave a plugin: a JSON object, and the values its
//! schema marks `writeOnly` (passwords, keys) sealed with the panel's key. Both are
//! written in one statement, so a change is never half-stored.

use serde_json::{Map, Value};

use super::{Database, on_pool};
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

/// A plugin's stored settings: the plain values and the sealed ones, apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredSettings {
    pub plain: Map<String, Value>,
    pub sealed: Map<String, Value>,
}

impl StoredSettings {
    /// Every value, sealed ones included (for the plugin itself).
    pub fn merged(&self) -> Map<String, Value> {
        let mut all = self.plain.clone();
        all.extend(self.sealed.clone());
        all
    }
}

pub async fn get(db: &Database, secrets: &SecretBox, plugin_id: &str) -> Result<StoredSettings> {
    let row: Option<(String, String)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT settings, sealed FROM plugin_settings WHERE plugin_id = $1")
            .bind(plugin_id)
            .fetch_optional(pool)
            .await?
    });
    let Some((plain, sealed)) = row else {
        return Ok(StoredSettings::default());
    };
    let object = |text: &str, what: &str| -> Result<Map<String, Value>> {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Error::PluginLoad(format!(
                "the stored {what} settings of plugin {plugin_id} are unreadable"
            ))),
        }
    };
    let sealed = match sealed.is_empty() {
        true => Map::new(),
        false => object(&secrets.open(&sealed)?, "sealed")?,
    };
    Ok(StoredSettings {
        plain: object(&plain, "plain")?,
        sealed,
    })
}

pub async fn set(
    db: &Database,
    secrets: &SecretBox,
    plugin_id: &str,
    settings: &StoredSettings,
) -> Result<()> {
    let plain = Value::Object(settings.plain.clone()).to_string();
    let sealed = match settings.sealed.is_empty() {
        true => String::new(),
        false => secrets.seal(&Value::Object(settings.sealed.clone()).to_string()),
    };
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO plugin_settings (plugin_id, settings, sealed, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin_id) DO UPDATE SET settings = excluded.settings, sealed = excluded.sealed, \
             updated_at = excluded.updated_at",
        )
        .bind(plugin_id)
        .bind(&plain)
        .bind(&sealed)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(pool)
        .await?;
    });
    Ok(())
}
