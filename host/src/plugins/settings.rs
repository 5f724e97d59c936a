//! Plugin settings (contract 1.1): the package's JSON Schema (any draft `boon`
//! knows, 4 to 2020-12) describes a settings object; an administrator's values are
//! checked against it before they are stored, and top-level properties marked
//! `writeOnly` are sealed and never shown again. The schema may not load anything
//! from outside the package.

use serde_json::{Map, Value};

use crate::db::Database;
use crate::db::plugin_settings::{self, StoredSettings};
use crate::error::Result;
use crate::secrets::SecretBox;

/// Largest settings schema a package may carry.
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// Largest settings object an administrator may store.
pub const MAX_SETTINGS_BYTES: usize = 256 * 1024;
const SCHEMA_URL: &str = "urn:hatchery:plugin-settings";

/// A compiled settings schema.
pub struct SettingsSchema {
    document: Value,
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

/// Refuses every `$ref` that leaves the schema: no files, no network.
struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(
            format!("settings schemas cannot load {url}; keep every definition in the one file")
                .into(),
        )
    }
}

/// One value the schema refused: where (a JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// What plugin `id` reads as its settings, on the panel or a node: every stored value,
/// sealed ones opened, with `schema`'s defaults filled in, as a JSON object.
pub async fn effective(
    db: &Database,
    secrets: &SecretBox,
    id: &str,
    schema: Option<&SettingsSchema>,
) -> Result<String> {
    let stored = plugin_settings::get(db, secrets, id).await?.merged();
    let values = match schema {
        Some(schema) => schema.with_defaults(&stored),
        None => stored,
    };
    Ok(Value::Object(values).to_string())
}

impl SettingsSchema {
    pub fn parse(bytes: &[u8]) -> Result<SettingsSchema, String> {
        if bytes.len() > MAX_SCHEMA_BYTES {
            return Err(format!(
                "the settings schema is larger than {} KiB",
                MAX_SCHEMA_BYTES / 1024
            ));
        }
        let document: Value = serde_json::from_slice(bytes)
            .map_err(|err| format!("the settings schema is not JSON: {err}"))?;
        if document.get("type").and_then(Value::as_str) != Some("object") {
            return Err(
                "the settings schema must describe an object (`\"type\": \"object\"`)".into(),
            );
        }
        let mut compiler = boon::Compiler::new();
        compiler.use_loader(Box::new(NoLoader));
        compiler.enable_format_assertions();
        compiler
            .add_resource(SCHEMA_URL, document.clone())
            .map_err(|err| format!("the settings schema is not valid: {err}"))?;
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(SCHEMA_URL, &mut schemas)
            .map_err(|err| format!("the settings schema is not valid: {err:#}"))?;
        Ok(SettingsSchema {
            document,
            schemas,
            index,
        })
    }

    /// The schema as the package holds it (for forms in the web panel).
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The top-level properties kept sealed.
    pub fn sealed_fields(&self) -> Vec<String> {
        self.properties()
            .filter(|(_, schema)| schema.get("writeOnly").and_then(Value::as_bool) == Some(true))
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn properties(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.document
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
    }

    /// `values` with the schema's top-level `default`s filled in where absent.
    pub fn with_defaults(&self, values: &Map<String, Value>) -> Map<String, Value> {
        let mut filled = values.clone();
        for (name, schema) in self.properties() {
            if let Some(default) = schema.get("default")
                && !filled.contains_key(name)
            {
                filled.insert(name.clone(), default.clone());
            }
        }
        filled
    }

    /// Checks a settings object; every problem is listed, each at its place.
    pub fn check(&self, values: &Value) -> Result<(), Vec<Problem>> {
        match self.schemas.validate(values, self.index) {
            Ok(()) => Ok(()),
            Err(error) => {
                let mut problems = Vec::new();
                leaves(&error, &mut problems);
                Err(problems)
            }
        }
    }

    /// Splits checked settings into what is stored plainly and what is sealed. A
    /// sealed field sent as `null` keeps its old value (forms never see it again).
    pub fn split(&self, values: Map<String, Value>, previous: &StoredSettings) -> StoredSettings {
        let sealed_fields = self.sealed_fields();
        let mut stored = StoredSettings::default();
        for (name, value) in values {
            match sealed_fields.contains(&name) {
                true => {
                    stored.sealed.insert(name, value);
                }
                false => {
                    stored.plain.insert(name, value);
                }
            }
        }
        for name in sealed_fields {
            if !stored.sealed.contains_key(&name)
                && let Some(old) = previous.sealed.get(&name)
            {
                stored.sealed.insert(name, old.clone());
            }
        }
        stored
    }

    /// What administrators see: plain values, and `true` for each sealed one that is set.
    pub fn shown(&self, stored: &StoredSettings) -> (Map<String, Value>, Vec<String>) {
        (
            stored.plain.clone(),
            stored.sealed.keys().cloned().collect(),
        )
    }
}

fn leaves(error: &boon::ValidationError, problems: &mut Vec<Problem>) {
    if error.causes.is_empty() {
        problems.push(Problem {
            pointer: error.instance_location.to_string(),
            message: error.kind.to_string(),
        });
    }
    for cause in &error.causes {
        leaves(cause, problems);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> SettingsSchema {
        SettingsSchema::parse(
            json!({
                "type": "object",
                "properties": {
                    "bucket": { "type": "string", "minLength": 3 },
                    "region": { "type": "string", "default": "eu-west-1" },
                    "retention_days": { "type": "integer", "minimum": 1, "maximum": 365 },
                    "endpoint": { "type": "string", "format": "uri" },
                    "secret_key": { "type": "string", "writeOnly": true }
                },
                "required": ["bucket"],
                "additionalProperties": false
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn values_are_checked_with_every_problem_at_its_place() {
        let schema = schema();
        assert!(schema.check(&json!({ "bucket": "games" })).is_ok());
        let problems = schema
            .check(
                &json!({ "bucket": "g", "retention_days": 0, "endpoint": "not a uri", "other": 1 }),
            )
            .unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        for expected in ["/bucket", "/retention_days", "/endpoint"] {
            assert!(pointers.contains(&expected), "{problems:?}");
        }
        assert!(
            problems.iter().any(|p| p.message.contains("other")),
            "{problems:?}"
        );
        assert!(schema.check(&json!({})).is_err(), "bucket is required");
    }

    #[test]
    fn defaults_fill_in_and_write_only_values_are_sealed_and_kept() {
        let schema = schema();
        let filled = schema.with_defaults(json!({ "bucket": "games" }).as_object().unwrap());
        assert_eq!(filled["region"], "eu-west-1");
        assert_eq!(schema.sealed_fields(), vec!["secret_key".to_string()]);
        let first = schema.split(
            json!({ "bucket": "games", "secret_key": "s3cr3t" })
                .as_object()
                .unwrap()
                .clone(),
            &StoredSettings::default(),
        );
        assert_eq!(first.sealed["secret_key"], "s3cr3t");
        assert!(!first.plain.contains_key("secret_key"));
        // Saved again without the secret (forms never see it): the old one stays.
        let second = schema.split(
            json!({ "bucket": "other" }).as_object().unwrap().clone(),
            &first,
        );
        assert_eq!(second.sealed["secret_key"], "s3cr3t");
        assert_eq!(second.merged()["bucket"], "other");
    }

    #[test]
    fn schemas_that_reach_outside_or_are_not_objects_are_refused() {
        let outside =
            json!({ "type": "object", "properties": { "a": { "$ref": "file:///etc/passwd" } } });
        assert!(SettingsSchema::parse(outside.to_string().as_bytes()).is_err());
        assert!(SettingsSchema::parse(b"[1, 2]").is_err());
        assert!(SettingsSchema::parse(br#"{"type": "string"}"#).is_err());
        assert!(SettingsSchema::parse(b"not json").is_err());
    }
}
