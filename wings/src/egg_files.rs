//! Egg configuration files: before each start, wings edits the files an egg lists
//! (`config.files`) so the game server listens where the panel allocated it.
//!
//! Every parser eggs use is here — `properties`, `ini`, `yaml`/`yml`, `json`, `xml` and
//! `file` — with the same key syntax as Pterodactyl: dotted paths, `[n]` indexes and
//! `*` wildcards for structured files, `~1` for a literal dot in a key, `[section].key`
//! for INI sections with dots, and values that are either text with `{{placeholders}}`
//! or a map of conditions (`"regex:<pattern>"` or an exact old value) to replacements.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::files::ServerFiles;

/// One file of an egg's `config.files`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfigFile {
    pub parser: Parser,
    #[serde(default)]
    pub find: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parser {
    Properties,
    Ini,
    #[serde(alias = "yml")]
    Yaml,
    Json,
    Xml,
    File,
}

/// Parses an egg's `config.files`, which eggs store either as an object or as a string
/// holding JSON.
pub fn parse_config_files(raw: &Value) -> Result<BTreeMap<String, ConfigFile>, String> {
    let value = match raw {
        Value::String(text) if text.trim().is_empty() => return Ok(BTreeMap::new()),
        Value::String(text) => {
            serde_json::from_str(text).map_err(|err| format!("config.files is not JSON: {err}"))?
        }
        Value::Null => return Ok(BTreeMap::new()),
        other => other.clone(),
    };
    serde_json::from_value(value).map_err(|err| format!("config.files: {err}"))
}

/// The values `{{…}}` placeholders resolve against: `server.build.*` (limits, default
/// allocation, environment), `env.*` (the environment again) and `config.*` (this node's
/// configuration, with `config.docker.interface` as Pterodactyl has it).
#[derive(Debug, Clone)]
pub struct Placeholders {
    tree: Value,
}

/// What placeholders know about a server.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    pub default_ip: String,
    pub default_port: u16,
    pub memory_mb: u64,
    pub swap_mb: i64,
    pub disk_mb: u64,
    pub cpu_percent: u64,
    pub io_weight: u16,
    pub env: BTreeMap<String, String>,
}

impl Placeholders {
    pub fn new(server: &ServerFacts, docker_interface: &str) -> Placeholders {
        let env: Map<String, Value> = server
            .env
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect();
        let tree = serde_json::json!({
            "server": {
                "build": {
                    "default": { "ip": server.default_ip, "port": server.default_port },
                    "env": env,
                    "memory": server.memory_mb,
                    "swap": server.swap_mb,
                    "disk": server.disk_mb,
                    "cpu": server.cpu_percent,
                    "io": server.io_weight,
                }
            },
            "env": env,
            "config": {
                "docker": {
                    "interface": docker_interface,
                    "network": { "interface": docker_interface },
                }
            }
        });
        Placeholders { tree }
    }

    /// Replaces every `{{ path }}`; unknown paths become empty, as in Pterodactyl.
    pub fn render(&self, text: &str) -> String {
        placeholder_pattern()
            .replace_all(text, |captures: &regex::Captures<'_>| {
                let mut node = &self.tree;
                for part in captures[1].split('.') {
                    match node.get(part) {
                        Some(next) => node = next,
                        None => return String::new(),
                    }
                }
                match node {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }
            })
            .into_owned()
    }
}

fn placeholder_pattern() -> &'static Regex {
    static PATTERN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}").expect("valid pattern"))
}

/// What to put at one key.
enum Replacement {
    /// Always write this (rendered) text.
    Text(String),
    /// Write only where the current value matches, replacing per condition.
    Conditional(Vec<(Condition, String)>),
}

enum Condition {
    Regex(Regex),
    Equals(String),
}

impl Replacement {
    fn from_find(value: &Value, placeholders: &Placeholders) -> Result<Replacement, String> {
        match value {
            Value::Object(conditions) => conditions
                .iter()
                .map(|(condition, replacement)| {
                    let condition = match condition.strip_prefix("regex:") {
                        Some(pattern) => Condition::Regex(
                            Regex::new(pattern)
                                .map_err(|err| format!("bad pattern `{pattern}`: {err}"))?,
                        ),
                        None => Condition::Equals(condition.clone()),
                    };
                    Ok((condition, placeholders.render(&text_of(replacement))))
                })
                .collect::<Result<_, String>>()
                .map(Replacement::Conditional),
            other => Ok(Replacement::Text(placeholders.render(&text_of(other)))),
        }
    }

    /// The new value given the current one (`None` when the key is absent); `None`
    /// means leave it alone.
    fn apply(&self, current: Option<&str>) -> Option<String> {
        match self {
            Replacement::Text(text) => Some(text.clone()),
            Replacement::Conditional(conditions) => {
                let current = current?;
                conditions
                    .iter()
                    .find_map(|(condition, replacement)| match condition {
                        Condition::Equals(expected) => {
                            (expected == current).then(|| replacement.clone())
                        }
                        Condition::Regex(pattern) => pattern
                            .is_match(current)
                            .then(|| pattern.replace(current, replacement.as_str()).into_owned()),
                    })
            }
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Applies one egg file to its text (empty when the file does not exist yet) and
/// returns the new text.
pub fn apply_to_text(
    file: &ConfigFile,
    original: &str,
    placeholders: &Placeholders,
) -> Result<String, String> {
    let mut replacements = Vec::new();
    for (key, value) in &file.find {
        replacements.push((key.as_str(), Replacement::from_find(value, placeholders)?));
    }
    match file.parser {
        Parser::Properties => Ok(edit_properties(original, &replacements)),
        Parser::Ini => Ok(edit_ini(original, &replacements)),
        Parser::File => Ok(edit_lines(original, &replacements)),
        Parser::Json => {
            let mut document: Value = if original.trim().is_empty() {
                Value::Object(Map::new())
            } else {
                serde_json::from_str(original)
                    .map_err(|err| format!("the file is not valid JSON: {err}"))?
            };
            edit_tree(&mut document, &replacements);
            serde_json::to_string_pretty(&document)
                .map(|text| text + "\n")
                .map_err(|err| err.to_string())
        }
        Parser::Yaml => {
            let mut document: Value = if original.trim().is_empty() {
                Value::Object(Map::new())
            } else {
                serde_yaml_ng::from_str(original)
                    .map_err(|err| format!("the file is not valid YAML: {err}"))?
            };
            if document.is_null() {
                document = Value::Object(Map::new());
            }
            edit_tree(&mut document, &replacements);
            serde_yaml_ng::to_string(&document).map_err(|err| err.to_string())
        }
        Parser::Xml => edit_xml(original, &replacements),
    }
}

/// Largest configuration file wings edits.
const MAX_CONFIG_FILE: u64 = 16 * 1024 * 1024;

/// Reads, edits and rewrites one of the server's files (through [`ServerFiles`], so
/// the path cannot leave the server's directory and the write is atomic).
pub fn apply_to_file(
    files: &ServerFiles,
    relative: &str,
    file: &ConfigFile,
    placeholders: &Placeholders,
) -> Result<()> {
    let original = match files.read(relative, MAX_CONFIG_FILE) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(Error::NotFound(_)) if file.parser == Parser::File => return Ok(()),
        Err(Error::NotFound(_)) => String::new(),
        Err(err) => {
            return Err(Error::Config(format!(
                "egg configuration file {relative}: {err}"
            )));
        }
    };
    let updated = apply_to_text(file, &original, placeholders)
        .map_err(|err| Error::Config(format!("egg configuration file {relative}: {err}")))?;
    if updated == original {
        return Ok(());
    }
    files
        .write(relative, updated.as_bytes())
        .map_err(|err| Error::Config(format!("egg configuration file {relative}: {err}")))
}

/// `key=value` files: replaces the value of an existing key, or appends the key.
fn edit_properties(original: &str, replacements: &[(&str, Replacement)]) -> String {
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    for (key, replacement) in replacements {
        let existing = lines.iter().position(|line| {
            let trimmed = line.trim_start();
            !trimmed.starts_with('#')
                && !trimmed.starts_with('!')
                && property_key(trimmed) == Some(*key)
        });
        match existing {
            Some(index) => {
                let current = lines[index]
                    .split_once(['=', ':'])
                    .map(|(_, value)| value.trim());
                if let Some(value) = replacement.apply(current) {
                    lines[index] = format!("{key}={value}");
                }
            }
            None => {
                if let Some(value) = replacement.apply(None) {
                    lines.push(format!("{key}={value}"));
                }
            }
        }
    }
    finish_lines(lines)
}

fn property_key(line: &str) -> Option<&str> {
    line.split_once(['=', ':']).map(|(key, _)| key.trim())
}

/// INI files: `section.key`, `[section.with.dots].key`, or `key` before any section.
fn edit_ini(original: &str, replacements: &[(&str, Replacement)]) -> String {
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    for (path, replacement) in replacements {
        let (section, key) = split_ini_key(path);
        // The lines that belong to the section: after its header, before the next one.
        let (start, end) = match &section {
            None => (
                0,
                lines
                    .iter()
                    .position(|l| is_section_header(l))
                    .unwrap_or(lines.len()),
            ),
            Some(name) => match lines
                .iter()
                .position(|l| section_name(l) == Some(name.as_str()))
            {
                Some(header) => {
                    let end = lines[header + 1..]
                        .iter()
                        .position(|l| is_section_header(l))
                        .map_or(lines.len(), |offset| header + 1 + offset);
                    (header + 1, end)
                }
                None => {
                    if let Some(value) = replacement.apply(None) {
                        if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                            lines.push(String::new());
                        }
                        lines.push(format!("[{name}]"));
                        lines.push(format!("{key}={value}"));
                    }
                    continue;
                }
            },
        };
        let existing = (start..end).find(|&index| {
            let trimmed = lines[index].trim_start();
            !trimmed.starts_with(';')
                && !trimmed.starts_with('#')
                && property_key(trimmed) == Some(key)
        });
        match existing {
            Some(index) => {
                let (before, value) = lines[index].split_once('=').unwrap_or((&lines[index], ""));
                let before = before.to_string();
                if let Some(new_value) = replacement.apply(Some(value.trim())) {
                    let spacing = if before.ends_with(' ') { " " } else { "" };
                    lines[index] = format!("{before}={spacing}{new_value}");
                }
            }
            None => {
                if let Some(value) = replacement.apply(None) {
                    // Insert after the section's last non-blank line.
                    let mut at = end;
                    while at > start && lines[at - 1].trim().is_empty() {
                        at -= 1;
                    }
                    lines.insert(at, format!("{key}={value}"));
                }
            }
        }
    }
    finish_lines(lines)
}

fn split_ini_key(path: &str) -> (Option<String>, &str) {
    if let Some(rest) = path.strip_prefix('[')
        && let Some((section, key)) = rest.split_once("].")
    {
        return (Some(section.to_string()), key);
    }
    match path.split_once('.') {
        Some((section, key)) => (Some(section.to_string()), key),
        None => (None, path),
    }
}

fn is_section_header(line: &str) -> bool {
    section_name(line).is_some()
}

fn section_name(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
}

/// Plain text: every line that starts with the key is replaced by the value.
fn edit_lines(original: &str, replacements: &[(&str, Replacement)]) -> String {
    let lines = original
        .lines()
        .map(|line| {
            replacements
                .iter()
                .filter(|(key, _)| line.starts_with(key))
                .find_map(|(_, replacement)| replacement.apply(Some(line)))
                .unwrap_or_else(|| line.to_string())
        })
        .collect();
    finish_lines(lines)
}

fn finish_lines(lines: Vec<String>) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// One step of a structured path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Every,
}

fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let segment = segment.replace("~1", ".").replace("~0", "~");
        if segment == "*" {
            steps.push(Step::Every);
            continue;
        }
        let (name, mut rest) = match segment.find('[') {
            Some(bracket) => (segment[..bracket].to_string(), &segment[bracket..]),
            None => (segment.clone(), ""),
        };
        if !name.is_empty() {
            steps.push(Step::Key(name));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some((index, after)) = inner.split_once(']') else {
                break;
            };
            match index.parse() {
                Ok(index) => steps.push(Step::Index(index)),
                Err(_) => steps.push(Step::Key(index.to_string())),
            }
            rest = after;
        }
    }
    steps
}

fn edit_tree(document: &mut Value, replacements: &[(&str, Replacement)]) {
    for (path, replacement) in replacements {
        set_path(document, &parse_path(path), replacement);
    }
}

fn set_path(node: &mut Value, steps: &[Step], replacement: &Replacement) {
    let Some((step, rest)) = steps.split_first() else {
        let current = match &*node {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        };
        if let Some(value) = replacement.apply(current.as_deref()) {
            *node = typed(&value);
        }
        return;
    };
    match step {
        Step::Every => match node {
            Value::Object(map) => map
                .values_mut()
                .for_each(|child| set_path(child, rest, replacement)),
            Value::Array(items) => items
                .iter_mut()
                .for_each(|child| set_path(child, rest, replacement)),
            _ => {}
        },
        Step::Key(key) => {
            if !node.is_object() {
                if matches!(replacement, Replacement::Conditional(_)) {
                    return;
                }
                *node = Value::Object(Map::new());
            }
            let map = node.as_object_mut().expect("made an object");
            if !map.contains_key(key) && matches!(replacement, Replacement::Conditional(_)) {
                return;
            }
            set_path(
                map.entry(key.clone()).or_insert(Value::Null),
                rest,
                replacement,
            );
        }
        Step::Index(index) => {
            if !node.is_array() {
                if matches!(replacement, Replacement::Conditional(_)) {
                    return;
                }
                *node = Value::Array(Vec::new());
            }
            let items = node.as_array_mut().expect("made an array");
            if *index >= items.len() {
                if matches!(replacement, Replacement::Conditional(_)) {
                    return;
                }
                items.resize(index + 1, Value::Null);
            }
            set_path(&mut items[*index], rest, replacement);
        }
    }
}

/// Structured files get numbers and booleans where the text is one, as servers expect.
fn typed(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => {
            let integer = text == "0" || (!text.starts_with('0') && !text.starts_with("-0"));
            match text.parse::<i64>() {
                Ok(number) if integer => Value::from(number),
                _ => Value::String(text.to_string()),
            }
        }
    }
}

/// XML: dotted (or `/`) paths of element names below the root element; a last step
/// `@name` sets an attribute.
fn edit_xml(original: &str, replacements: &[(&str, Replacement)]) -> Result<String, String> {
    let mut root = if original.trim().is_empty() {
        xmltree::Element::new("configuration")
    } else {
        xmltree::Element::parse(original.as_bytes())
            .map_err(|err| format!("the file is not valid XML: {err}"))?
    };
    for (path, replacement) in replacements {
        let mut steps: Vec<&str> = path
            .split(['.', '/'])
            .filter(|step| !step.is_empty())
            .collect();
        if steps.first() == Some(&root.name.as_str()) {
            steps.remove(0);
        }
        let attribute = steps
            .last()
            .and_then(|step| step.strip_prefix('@'))
            .map(str::to_string);
        if attribute.is_some() {
            steps.pop();
        }
        let mut element = &mut root;
        let mut missing = false;
        for step in steps {
            if element.get_child(step).is_none() {
                if matches!(replacement, Replacement::Conditional(_)) {
                    missing = true;
                    break;
                }
                element
                    .children
                    .push(xmltree::XMLNode::Element(xmltree::Element::new(step)));
            }
            element = element.get_mut_child(step).expect("just ensured");
        }
        if missing {
            continue;
        }
        match attribute {
            Some(name) => {
                if let Some(value) =
                    replacement.apply(element.attributes.get(&name).map(String::as_str))
                {
                    element.attributes.insert(name, value);
                }
            }
            None => {
                let current = element.get_text().map(|text| text.into_owned());
                if let Some(value) = replacement.apply(current.as_deref()) {
                    element
                        .children
                        .retain(|child| !matches!(child, xmltree::XMLNode::Text(_)));
                    element.children.push(xmltree::XMLNode::Text(value));
                }
            }
        }
    }
    let mut out = Vec::new();
    let config = xmltree::EmitterConfig::new().perform_indent(true);
    root.write_with_config(&mut out, config)
        .map_err(|err| err.to_string())?;
    String::from_utf8(out)
        .map(|text| text + "\n")
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders() -> Placeholders {
        Placeholders::new(
            &ServerFacts {
                default_ip: "10.0.0.5".into(),
                default_port: 25565,
                memory_mb: 2048,
                env: BTreeMap::from([
                    ("MAX_PLAYERS".to_string(), "20".to_string()),
                    ("SERVER_NAME".to_string(), "Hatchery".to_string()),
                ]),
                ..ServerFacts::default()
            },
            "172.18.0.1",
        )
    }

    fn file(parser: &str, find: Value) -> ConfigFile {
        serde_json::from_value(serde_json::json!({ "parser": parser, "find": find })).unwrap()
    }

    #[test]
    fn placeholders_resolve_like_pterodactyl() {
        let p = placeholders();
        assert_eq!(p.render("{{server.build.default.port}}"), "25565");
        assert_eq!(
            p.render("{{ server.build.default.ip }}:{{server.build.env.MAX_PLAYERS}}"),
            "10.0.0.5:20"
        );
        assert_eq!(
            p.render("{{env.SERVER_NAME}} {{config.docker.interface}}"),
            "Hatchery 172.18.0.1"
        );
        assert_eq!(p.render("{{server.build.memory}}"), "2048");
        assert_eq!(p.render("x{{env.MISSING}}y"), "xy");
    }

    #[test]
    fn properties_replace_in_place_and_append() {
        let edited = apply_to_text(
            &file("properties", serde_json::json!({ "server-port": "{{server.build.default.port}}", "query.port": "{{server.build.default.port}}", "server-ip": "0.0.0.0" })),
            "#Minecraft server properties\nmotd=A server\nserver-port=1\nserver-ip=\n",
            &placeholders(),
        )
        .unwrap();
        assert_eq!(
            edited,
            "#Minecraft server properties\nmotd=A server\nserver-port=25565\nserver-ip=0.0.0.0\nquery.port=25565\n"
        );
    }

    #[test]
    fn ini_sections_including_bracketed_names_with_dots() {
        let original = "top=1\n\n[NETWORK]\nPort = 1\nName=x\n\n[/Script/Game.Subsystem]\nSeed=0\n";
        let edited = apply_to_text(
            &file(
                "ini",
                serde_json::json!({
                    "NETWORK.Port": "{{server.build.default.port}}",
                    "NETWORK.Max_Players": "{{server.build.env.MAX_PLAYERS}}",
                    "[/Script/Game.Subsystem].Seed": "42",
                    "top": "2",
                    "NEW.key": "v",
                }),
            ),
            original,
            &placeholders(),
        )
        .unwrap();
        assert_eq!(
            edited,
            "top=2\n\n[NETWORK]\nPort = 25565\nName=x\nMax_Players=20\n\n[/Script/Game.Subsystem]\nSeed=42\n\n[NEW]\nkey=v\n"
        );
    }

    #[test]
    fn yaml_paths_indexes_wildcards_and_conditions() {
        let original = "listeners:\n- host: 0.0.0.0:1\n  query_port: 1\nservers:\n  lobby:\n    address: localhost:25566\n  remote:\n    address: 8.8.8.8:25565\n";
        let edited = apply_to_text(
            &file(
                "yaml",
                serde_json::json!({
                    "listeners[0].query_port": "{{server.build.default.port}}",
                    "listeners[0].host": "0.0.0.0:{{server.build.default.port}}",
                    "servers.*.address": { "regex:^(127\\.0\\.0\\.1|localhost)(:\\d{1,5})?$": "{{config.docker.interface}}$2" },
                }),
            ),
            original,
            &placeholders(),
        )
        .unwrap();
        let value: Value = serde_yaml_ng::from_str(&edited).unwrap();
        assert_eq!(value["listeners"][0]["query_port"], 25565);
        assert_eq!(value["listeners"][0]["host"], "0.0.0.0:25565");
        assert_eq!(value["servers"]["lobby"]["address"], "172.18.0.1:25566");
        assert_eq!(
            value["servers"]["remote"]["address"], "8.8.8.8:25565",
            "non-matching values stay"
        );
    }

    #[test]
    fn json_creates_paths_types_values_and_honours_escaped_dots() {
        let edited = apply_to_text(
            &file(
                "json",
                serde_json::json!({
                    "bindPort": "{{server.build.default.port}}",
                    "game.name": "{{env.SERVER_NAME}}",
                    "game.visible": "true",
                    "controller~1http_port": "8080",
                    "version": "007",
                }),
            ),
            "{\"bindAddress\": \"0.0.0.0\"}",
            &placeholders(),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&edited).unwrap();
        assert_eq!(value["bindAddress"], "0.0.0.0");
        assert_eq!(value["bindPort"], 25565);
        assert_eq!(value["game"]["name"], "Hatchery");
        assert_eq!(value["game"]["visible"], true);
        assert_eq!(value["controller.http_port"], 8080);
        assert_eq!(value["version"], "007", "leading zeros stay text");
    }

    #[test]
    fn plain_files_replace_matching_lines() {
        let edited = apply_to_text(
            &file("file", serde_json::json!({ "sv_port": "sv_port {{server.build.default.port}}", "bindaddr": "bindaddr 0.0.0.0" })),
            "sv_name x\nsv_port 8303\n",
            &placeholders(),
        )
        .unwrap();
        assert_eq!(edited, "sv_name x\nsv_port 25565\n");
    }

    #[test]
    fn xml_elements_and_attributes() {
        let edited = apply_to_text(
            &file("xml", serde_json::json!({ "server.port": "{{server.build.default.port}}", "server.@name": "{{env.SERVER_NAME}}", "server.limits.players": "{{env.MAX_PLAYERS}}" })),
            "<config><server><port>1</port></server></config>",
            &placeholders(),
        )
        .unwrap();
        let root = xmltree::Element::parse(edited.as_bytes()).unwrap();
        let server = root.get_child("server").unwrap();
        assert_eq!(
            server.get_child("port").unwrap().get_text().unwrap(),
            "25565"
        );
        assert_eq!(server.attributes["name"], "Hatchery");
        assert_eq!(
            server
                .get_child("limits")
                .unwrap()
                .get_child("players")
                .unwrap()
                .get_text()
                .unwrap(),
            "20"
        );
    }

    #[test]
    fn malformed_files_are_errors_not_overwrites() {
        let err = apply_to_text(
            &file("json", serde_json::json!({ "a": "b" })),
            "{ not json",
            &placeholders(),
        )
        .unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
        let err = apply_to_text(
            &file("yaml", serde_json::json!({ "a": "b" })),
            "a: [",
            &placeholders(),
        )
        .unwrap_err();
        assert!(err.contains("not valid YAML"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn files_outside_the_server_directory_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let files = ServerFiles::open(root.path(), 0).unwrap();
        let egg_file = file("properties", serde_json::json!({ "a": "b" }));
        for hostile in ["../escape.properties", "link/server.properties", "a\0b"] {
            let err = apply_to_file(&files, hostile, &egg_file, &placeholders()).unwrap_err();
            assert!(
                err.to_string().contains("egg configuration file"),
                "{hostile}: {err}"
            );
        }
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "nothing written outside"
        );
        apply_to_file(
            &files,
            "config/server.properties",
            &egg_file,
            &placeholders(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("config/server.properties")).unwrap(),
            "a=b\n"
        );
        // An absolute path is the server's top directory.
        apply_to_file(&files, "/etc/x.properties", &egg_file, &placeholders()).unwrap();
        assert!(root.path().join("etc/x.properties").exists());
    }
}
