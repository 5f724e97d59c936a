//! Eggs: Pterodactyl's `PTDL_v1`/`PTDL_v2` JSON and Pelican's `PLCN_*` YAML (or JSON),
//! read unchanged into one [`Egg`], checked, and written back in either family's form.
//!
//! What is checked on import: the name, at least one docker image, the startup
//! command, every variable's environment name (unique, not one wings sets itself) and
//! its Laravel rules, and the JSON held in `config.files`/`config.startup`/`config.logs`
//! (eggs store those as strings). Anything else is kept as it came.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::rules::Rules;

/// Variables wings sets on every server; an egg may not define them.
pub const RESERVED_VARIABLES: &[&str] = &[
    "SERVER_MEMORY",
    "SERVER_IP",
    "SERVER_PORT",
    "ENV",
    "HOME",
    "USER",
    "STARTUP",
    "SERVER_UUID",
    "UUID",
    "P_SERVER_UUID",
    "TZ",
];

/// An egg, whichever format it came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Egg {
    /// Pelican eggs carry one; Pterodactyl's do not.
    pub uuid: Option<String>,
    pub name: String,
    pub author: String,
    pub description: String,
    pub features: Vec<String>,
    /// Pelican's tags; Pterodactyl groups eggs in nests instead.
    pub tags: Vec<String>,
    /// Display name → image, in the egg's order; the first is the default.
    pub docker_images: Vec<(String, String)>,
    pub file_denylist: Vec<String>,
    pub startup: String,
    /// `config.files` as an object (file → {parser, find}).
    pub config_files: Value,
    /// `config.startup` as an object ({done: …}).
    pub config_startup: Value,
    pub config_logs: Value,
    /// `config.stop`: a console command, or `^C`, `^^C`, `^X`.
    pub config_stop: String,
    pub install_script: String,
    pub install_container: String,
    pub install_entrypoint: String,
    pub variables: Vec<EggVariable>,
    pub update_url: Option<String>,
    /// The format it was imported from, e.g. `PTDL_v2`.
    pub source_format: String,
    /// What the import fixed up, for the importer to see.
    #[serde(skip, default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EggVariable {
    pub name: String,
    pub description: String,
    pub env_variable: String,
    pub default_value: String,
    pub user_viewable: bool,
    pub user_editable: bool,
    /// Laravel rules in `a|b:1` form.
    pub rules: String,
    pub field_type: String,
}

impl EggVariable {
    pub fn rules(&self) -> Rules {
        Rules::parse(&self.rules)
    }
}

/// Which family of format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Pterodactyl's current JSON (`PTDL_v2`).
    Pterodactyl,
    /// Pelican's YAML (`PLCN_v1`).
    Pelican,
}

impl Egg {
    /// Reads an egg file's text. `name` (the file name) only improves messages.
    pub fn parse(text: &str) -> Result<Egg, String> {
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        let value: Value = if trimmed.starts_with('{') {
            serde_json::from_str(trimmed).map_err(|err| format!("not valid JSON: {err}"))?
        } else {
            serde_yaml_ng::from_str(trimmed).map_err(|err| format!("not valid YAML: {err}"))?
        };
        let object = value
            .as_object()
            .ok_or("an egg is a JSON or YAML object at the top level")?;
        let version = object
            .get("meta")
            .and_then(|meta| meta.get("version"))
            .and_then(Value::as_str)
            .ok_or(
                "meta.version is missing: this is not an exported egg (PTDL_v1, PTDL_v2 or PLCN_*)",
            )?;
        let egg = match version {
            "PTDL_v1" | "PTDL_v2" => read(object, version, false)?,
            version if version.starts_with("PLCN_") => read(object, version, true)?,
            other => {
                return Err(format!(
                    "meta.version `{other}` is not a format Hatchery reads (PTDL_v1, PTDL_v2, PLCN_*)"
                ));
            }
        };
        let mut egg = egg;
        egg.drop_duplicate_variables();
        egg.validate()?;
        egg.note_unchecked_rules();
        Ok(egg)
    }

    /// Community eggs sometimes define a variable twice; Pterodactyl stores both and
    /// the server sees one. The first definition is kept, and the importer told.
    fn drop_duplicate_variables(&mut self) {
        let mut seen = std::collections::BTreeSet::new();
        let mut kept = Vec::new();
        for (index, variable) in std::mem::take(&mut self.variables).into_iter().enumerate() {
            if seen.insert(variable.env_variable.clone()) {
                kept.push(variable);
            } else {
                self.warnings.push(format!(
                    "variables[{index}] ({}): defined twice; the first definition is kept",
                    variable.env_variable
                ));
            }
        }
        self.variables = kept;
    }

    /// Pterodactyl accepts any rule text; rules Hatchery cannot check are imported
    /// and named in a warning.
    fn note_unchecked_rules(&mut self) {
        for (index, variable) in self.variables.iter().enumerate() {
            for reason in Rules::parse(&variable.rules).unchecked() {
                self.warnings.push(format!(
                    "variables[{index}] ({}): rules: {reason}",
                    variable.env_variable
                ));
            }
        }
    }

    /// Every problem that stops the egg from running, named by field.
    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name: must not be empty".into());
        }
        if self.docker_images.is_empty() {
            return Err("docker_images: the egg lists no image to run".into());
        }
        if self.startup.trim().is_empty() {
            return Err("startup: the egg has no startup command".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, variable) in self.variables.iter().enumerate() {
            let at = format!("variables[{index}] ({})", variable.env_variable);
            let env = &variable.env_variable;
            if env.is_empty()
                || !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || env.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(format!(
                    "{at}: env_variable must be letters, digits and underscores"
                ));
            }
            if RESERVED_VARIABLES.contains(&env.to_ascii_uppercase().as_str()) {
                return Err(format!(
                    "{at}: {env} is set by wings itself and cannot be a variable"
                ));
            }
            if !seen.insert(env.clone()) {
                return Err(format!("{at}: {env} is defined twice"));
            }
        }
        Ok(())
    }

    /// The egg in Pterodactyl's or Pelican's export format.
    pub fn export(&self, format: ExportFormat) -> String {
        let images: Map<String, Value> = self
            .docker_images
            .iter()
            .map(|(name, image)| (name.clone(), Value::String(image.clone())))
            .collect();
        let exported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match format {
            ExportFormat::Pterodactyl => {
                let variables: Vec<Value> = self
                    .variables
                    .iter()
                    .map(|v| {
                        json!({
                            "name": v.name, "description": v.description, "env_variable": v.env_variable,
                            "default_value": v.default_value, "user_viewable": v.user_viewable,
                            "user_editable": v.user_editable, "rules": v.rules, "field_type": v.field_type,
                        })
                    })
                    .collect();
                let egg = json!({
                    "_comment": "DO NOT EDIT: FILE GENERATED AUTOMATICALLY BY HATCHERY",
                    "meta": { "version": "PTDL_v2", "update_url": self.update_url },
                    "exported_at": exported_at,
                    "name": self.name,
                    "author": self.author,
                    "description": self.description,
                    "features": self.features,
                    "docker_images": images,
                    "file_denylist": self.file_denylist,
                    "startup": self.startup,
                    "config": {
                        "files": pretty(&self.config_files),
                        "startup": pretty(&self.config_startup),
                        "logs": pretty(&self.config_logs),
                        "stop": self.config_stop,
                    },
                    "scripts": { "installation": {
                        "script": self.install_script,
                        "container": self.install_container,
                        "entrypoint": self.install_entrypoint,
                    } },
                    "variables": variables,
                });
                serde_json::to_string_pretty(&egg).expect("JSON encodes")
            }
            ExportFormat::Pelican => {
                let variables: Vec<Value> = self
                    .variables
                    .iter()
                    .enumerate()
                    .map(|(index, v)| {
                        let rules: Vec<String> = super::rules::split_rules(&v.rules)
                            .into_iter()
                            .filter(|rule| !rule.trim().is_empty())
                            .collect();
                        json!({
                            "name": v.name, "description": v.description, "env_variable": v.env_variable,
                            "default_value": v.default_value, "user_viewable": v.user_viewable,
                            "user_editable": v.user_editable, "rules": rules, "sort": index + 1,
                        })
                    })
                    .collect();
                let egg = json!({
                    "_comment": "DO NOT EDIT: FILE GENERATED AUTOMATICALLY BY HATCHERY",
                    "meta": { "version": "PLCN_v1", "update_url": self.update_url },
                    "exported_at": exported_at,
                    "name": self.name,
                    "author": self.author,
                    "uuid": self.uuid,
                    "description": self.description,
                    "tags": self.tags,
                    "features": self.features,
                    "docker_images": images,
                    "file_denylist": self.file_denylist,
                    "startup": self.startup,
                    "config": {
                        "files": self.config_files,
                        "startup": self.config_startup,
                        "logs": self.config_logs,
                        "stop": self.config_stop,
                    },
                    "scripts": { "installation": {
                        "script": self.install_script,
                        "container": self.install_container,
                        "entrypoint": self.install_entrypoint,
                    } },
                    "variables": variables,
                });
                serde_yaml_ng::to_string(&egg).expect("YAML encodes")
            }
        }
    }
}

/// JSON text the way Pterodactyl stores config sections (`{}` when empty).
fn pretty(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".into(),
        other => serde_json::to_string_pretty(other).expect("JSON encodes"),
    }
}

/// Reads the fields both families share; `pelican` switches the few that differ.
fn read(object: &Map<String, Value>, version: &str, pelican: bool) -> Result<Egg, String> {
    let text = |key: &str| -> String {
        match object.get(key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        php_list(object.get(key))
            .ok_or_else(|| format!("{key}: must be a list"))?
            .into_iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{key}: every entry must be text"))
            })
            .collect()
    };
    let image_name = |name: &str, image: &Value| {
        image
            .as_str()
            .map(|image| (name.to_string(), image.to_string()))
            .ok_or_else(|| format!("docker_images.{name}: must be an image name"))
    };
    // A map of display names to images; older exports (and Pelican's `images`) give
    // a plain list, each image its own name.
    // Eggs from before `docker_images` name one `image`.
    let docker_images = match object
        .get("docker_images")
        .or_else(|| object.get("images"))
        .or_else(|| object.get("image"))
    {
        Some(Value::Object(images)) => images
            .iter()
            .map(|(name, image)| image_name(name, image))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(images)) => images
            .iter()
            .map(|image| {
                let name = image.as_str().unwrap_or_default();
                image_name(name, image)
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::String(image)) => vec![(image.clone(), image.clone())],
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("docker_images: must map display names to images".into()),
    };
    let startup = match (object.get("startup"), object.get("startup_commands")) {
        (Some(Value::String(startup)), _) => startup.clone(),
        (_, Some(Value::Object(commands))) => commands
            .values()
            .next()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let config = object
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let section = |key: &str| -> Result<Value, String> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(Value::Object(Map::new())),
            Some(Value::String(raw)) if raw.trim().is_empty() => Ok(Value::Object(Map::new())),
            Some(Value::String(raw)) => serde_json::from_str(raw)
                .map_err(|err| format!("config.{key}: the JSON inside is not valid: {err}")),
            Some(value @ (Value::Object(_) | Value::Array(_))) => Ok(value.clone()),
            Some(_) => Err(format!("config.{key}: must be JSON")),
        }
    };
    let config_files = section("files")?;
    if !config_files.is_object() && config_files != json!([]) {
        return Err("config.files: must map file names to {parser, find}".into());
    }
    let config_files = if config_files.is_object() {
        config_files
    } else {
        Value::Object(Map::new())
    };
    if let Value::Object(files) = &config_files {
        for (file, spec) in files {
            let parser = spec
                .get("parser")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !["properties", "ini", "yaml", "yml", "json", "xml", "file"].contains(&parser) {
                return Err(format!(
                    "config.files.{file}: parser `{parser}` is not one of properties, ini, yaml, json, xml, file"
                ));
            }
        }
    }
    let config_stop = match config.get("stop") {
        Some(Value::String(stop)) => stop.clone(),
        _ => String::new(),
    };
    let installation = object
        .get("scripts")
        .and_then(|scripts| scripts.get("installation"))
        .cloned()
        .unwrap_or(Value::Null);
    let install_text = |key: &str| {
        installation
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let variables = php_list(object.get("variables"))
        .ok_or("variables: must be a list")?
        .into_iter()
        .enumerate()
        .map(|(index, item)| read_variable(index, item, pelican))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Egg {
        uuid: object
            .get("uuid")
            .and_then(Value::as_str)
            .map(str::to_string),
        name: text("name"),
        author: text("author"),
        description: text("description"),
        features: strings("features")?,
        tags: strings("tags")?,
        docker_images,
        file_denylist: strings("file_denylist")?,
        startup,
        config_files,
        config_startup: section("startup")?,
        config_logs: section("logs")?,
        config_stop,
        install_script: install_text("script"),
        install_container: install_text("container"),
        install_entrypoint: install_text("entrypoint"),
        variables,
        update_url: object
            .get("meta")
            .and_then(|meta| meta.get("update_url"))
            .and_then(Value::as_str)
            .map(str::to_string),
        source_format: version.to_string(),
        warnings: Vec::new(),
    })
}

/// A list as PHP exports it: a JSON array, or an object when the array was empty
/// (`{}`) or had keys (`{"0": …, "1": …}`), whose values are taken in order. Missing
/// or null is empty; anything else is not a list.
fn php_list(value: Option<&Value>) -> Option<Vec<&Value>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.iter().collect()),
        Some(Value::Object(items)) => Some(items.values().collect()),
        Some(_) => None,
    }
}

fn read_variable(index: usize, item: &Value, pelican: bool) -> Result<EggVariable, String> {
    let at = |field: &str| format!("variables[{index}].{field}");
    let text = |key: &str| -> String {
        match item.get(key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    };
    let flag = |key: &str| -> Result<bool, String> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(Value::Number(n)) => Ok(n.as_i64() == Some(1)),
            // PHP exports sometimes stringify: "1", "0", "true", "false".
            Some(Value::String(text)) if ["1", "true"].contains(&text.trim()) => Ok(true),
            Some(Value::String(text)) if ["0", "false", ""].contains(&text.trim()) => Ok(false),
            Some(_) => Err(format!("{}: must be true or false", at(key))),
        }
    };
    let rules = match item.get("rules") {
        Some(Value::String(rules)) => rules.clone(),
        other => php_list(other)
            .ok_or_else(|| format!("{}: must be text or a list", at("rules")))?
            .into_iter()
            .map(|rule| {
                rule.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{}: every rule must be text", at("rules")))
            })
            .collect::<Result<Vec<_>, _>>()?
            .join("|"),
    };
    let _ = pelican;
    let field_type = match text("field_type") {
        field_type if field_type.is_empty() => "text".to_string(),
        field_type => field_type,
    };
    Ok(EggVariable {
        name: text("name"),
        description: text("description"),
        env_variable: text("env_variable"),
        default_value: text("default_value"),
        user_viewable: flag("user_viewable")?,
        user_editable: flag("user_editable")?,
        rules,
        field_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PTDL_V2: &str = r#"{
        "_comment": "DO NOT EDIT",
        "meta": { "version": "PTDL_v2", "update_url": null },
        "exported_at": "2024-01-01T00:00:00+00:00",
        "name": "Fixture Game",
        "author": "tests@hatchery.invalid",
        "description": "A shell-script game server",
        "features": ["eula"],
        "docker_images": { "Busybox": "localhost/hatchery-test/busybox:2" },
        "file_denylist": [],
        "startup": "sh ./server.sh",
        "config": {
            "files": "{\r\n  \"server.properties\": {\"parser\": \"properties\", \"find\": {\"server-port\": \"{{server.build.default.port}}\"}}\r\n}",
            "startup": "{\"done\": \"Done (\"}",
            "logs": "{}",
            "stop": "stop"
        },
        "scripts": { "installation": { "script": "echo hi", "container": "localhost/hatchery-test/busybox:2", "entrypoint": "sh" } },
        "variables": [{
            "name": "Greeting", "description": "Said at start", "env_variable": "GREETING",
            "default_value": "hello", "user_viewable": true, "user_editable": true,
            "rules": "required|string|max:20", "field_type": "text"
        }]
    }"#;

    #[test]
    fn a_pterodactyl_egg_round_trips_through_both_formats() {
        let egg = Egg::parse(PTDL_V2).unwrap();
        assert_eq!(egg.docker_images[0].1, "localhost/hatchery-test/busybox:2");
        assert_eq!(
            egg.config_files["server.properties"]["parser"],
            "properties"
        );
        assert_eq!(egg.config_startup["done"], "Done (");
        assert_eq!(
            egg.variables[0]
                .rules()
                .check("GREETING", &"x".repeat(21))
                .unwrap_err(),
            "GREETING may not be greater than 20 characters"
        );
        for format in [ExportFormat::Pterodactyl, ExportFormat::Pelican] {
            let again = Egg::parse(&egg.export(format)).unwrap();
            assert_eq!(again.name, egg.name);
            assert_eq!(again.docker_images, egg.docker_images);
            assert_eq!(again.config_files, egg.config_files);
            assert_eq!(again.config_startup, egg.config_startup);
            assert_eq!(again.variables, egg.variables);
            assert_eq!(again.install_script, egg.install_script);
        }
    }

    #[test]
    fn a_pelican_yaml_egg_imports() {
        let yaml = r#"
_comment: 'DO NOT EDIT: FILE GENERATED AUTOMATICALLY BY PANEL'
meta:
  version: PLCN_v1
  update_url: null
exported_at: '2024-06-01T00:00:00+00:00'
name: Pelican Fixture
author: tests@hatchery.invalid
uuid: 5a0c2f1e-0000-4000-8000-000000000001
description: From Pelican
tags: [survival, sandbox]
features: []
docker_images:
  'Java 21': 'ghcr.io/pelican-eggs/yolks:java_21'
file_denylist: []
startup: 'java -jar {{SERVER_JARFILE}}'
config:
  files:
    server.properties:
      parser: properties
      find:
        server-port: '{{server.build.default.port}}'
  startup:
    done: ')! For help, type '
  logs: {}
  stop: stop
scripts:
  installation:
    script: |
      echo installing
    container: 'ghcr.io/pelican-eggs/installers:debian'
    entrypoint: bash
variables:
  - name: Jar file
    description: The jar to run
    env_variable: SERVER_JARFILE
    default_value: server.jar
    user_viewable: true
    user_editable: true
    rules: [required, 'regex:/^([\w\d._-]+)(\.jar)$/']
    sort: 1
"#;
        let egg = Egg::parse(yaml).unwrap();
        assert_eq!(egg.source_format, "PLCN_v1");
        assert_eq!(egg.tags, vec!["survival", "sandbox"]);
        assert_eq!(
            egg.uuid.as_deref(),
            Some("5a0c2f1e-0000-4000-8000-000000000001")
        );
        assert!(
            egg.variables[0]
                .rules()
                .check("SERVER_JARFILE", "server.jar")
                .is_ok()
        );
        assert!(
            egg.variables[0]
                .rules()
                .check("SERVER_JARFILE", "server.zip")
                .is_err()
        );
        let again = Egg::parse(&egg.export(ExportFormat::Pelican)).unwrap();
        assert_eq!(again.tags, egg.tags);
        assert_eq!(again.variables, egg.variables);
    }

    /// One small egg per format class that Pterodactyl and Pelican accept and an
    /// earlier Hatchery refused.
    #[test]
    fn format_classes_of_public_eggs_import() {
        let empty = Egg::parse(include_str!(
            "../../tests/fixtures/egg-format-classes/php-empty-arrays.json"
        ))
        .unwrap();
        assert!(
            empty.features.is_empty() && empty.tags.is_empty() && empty.file_denylist.is_empty()
        );
        assert_eq!(empty.variables[0].rules, "");
        assert!(empty.variables[0].user_viewable && !empty.variables[0].user_editable);

        let listed = Egg::parse(include_str!(
            "../../tests/fixtures/egg-format-classes/docker-images-list.json"
        ))
        .unwrap();
        assert_eq!(listed.docker_images.len(), 2);
        assert_eq!(
            listed.docker_images[0].1,
            "localhost/hatchery-test/busybox:2"
        );

        let zoo = Egg::parse(include_str!(
            "../../tests/fixtures/egg-format-classes/laravel-rules.json"
        ))
        .unwrap();
        // Every default passes its own rules; the rule Hatchery cannot check is named.
        for variable in &zoo.variables {
            variable
                .rules()
                .check(&variable.env_variable, &variable.default_value)
                .unwrap();
        }
        assert_eq!(zoo.warnings.len(), 1, "{:?}", zoo.warnings);
        assert!(zoo.warnings[0].contains("RCON_PASSWORD") && zoo.warnings[0].contains("confirmed"));
        let jar = &zoo.variables[0];
        assert!(jar.rules().check("SERVER_JARFILE", "server.zip").is_err());
    }

    #[test]
    fn broken_eggs_name_the_field() {
        let broken = |from: &str, to: &str| Egg::parse(&PTDL_V2.replace(from, to)).unwrap_err();
        assert!(broken("\"PTDL_v2\"", "\"PTDL_v9\"").contains("PTDL_v9"));
        assert!(broken("\"GREETING\"", "\"SERVER_PORT\"").contains("set by wings"));
        assert!(broken("\\\"properties\\\"", "\\\"toml\\\"").contains("parser `toml`"));
        assert!(broken("{\\\"done\\\": \\\"Done (\\\"}", "{not json").contains("config.startup"));
        assert!(
            broken("\"Busybox\": \"localhost/hatchery-test/busybox:2\"", "").contains("no image")
        );
        assert!(
            Egg::parse("{\"name\": 1}")
                .unwrap_err()
                .contains("meta.version")
        );
        assert!(Egg::parse("{{{").unwrap_err().contains("JSON"));
    }
}
