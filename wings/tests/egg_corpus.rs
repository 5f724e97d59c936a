//! Conformance: the configuration-file sections of real eggs (Pterodactyl's official
//! eggs and a sample of the community's), read in place from `../shared/fixtures/eggs`
//! (or `$SHARED_DIR/fixtures/eggs`), are applied with every parser they use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hatchery_wings::egg_files::{self, ConfigFile, Parser, Placeholders, ServerFacts};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    let shared = std::env::var_os("SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let eggs = shared.join("fixtures/eggs");
    assert!(
        eggs.is_dir(),
        "\n\n*** THE EGG CORPUS IS MISSING: {} does not exist. ***\n\
         Put the shared fixtures beside the checkout (../shared) or set SHARED_DIR.\n\n",
        eggs.display()
    );
    eggs
}

fn egg_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            egg_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            found.push(path);
        }
    }
}

/// A file of the parser's format in which every key of `find` already exists, as a
/// game server would have written it on first start.
fn existing_file(parser: Parser, file: &ConfigFile) -> String {
    match parser {
        Parser::File => file
            .find
            .keys()
            .map(|key| format!("{key} old-value\n"))
            .collect(),
        Parser::Properties => file.find.keys().map(|key| format!("{key}=old\n")).collect(),
        _ => String::new(),
    }
}

#[test]
fn every_egg_config_file_in_the_corpus_applies() {
    let mut eggs = Vec::new();
    egg_files(&corpus_dir(), &mut eggs);
    let (mut applied, mut eggs_with_files) = (0, 0);
    let mut by_parser: BTreeMap<String, usize> = BTreeMap::new();
    for egg_path in &eggs {
        let egg: Value = serde_json::from_str(&std::fs::read_to_string(egg_path).unwrap())
            .unwrap_or_else(|err| panic!("{}: {err}", egg_path.display()));
        let files = egg_files::parse_config_files(&egg["config"]["files"])
            .unwrap_or_else(|err| panic!("{}: {err}", egg_path.display()));
        if files.is_empty() {
            continue;
        }
        eggs_with_files += 1;
        let env: BTreeMap<String, String> = egg["variables"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|variable| {
                let name = variable["env_variable"].as_str()?;
                let value = variable["default_value"].as_str().unwrap_or("value");
                Some((name.to_string(), format!("{value}-set")))
            })
            .collect();
        let placeholders = Placeholders::new(
            &ServerFacts {
                default_ip: "10.1.2.3".into(),
                default_port: 27015,
                memory_mb: 4096,
                env,
                ..ServerFacts::default()
            },
            "172.18.0.1",
        );
        for (name, file) in &files {
            let original = existing_file(file.parser, file);
            let edited = egg_files::apply_to_text(file, &original, &placeholders)
                .unwrap_or_else(|err| panic!("{} {name}: {err}", egg_path.display()));
            let context = format!("{} {name}", egg_path.display());
            assert!(
                !edited.contains("{{"),
                "{context}: placeholders left in\n{edited}"
            );
            match file.parser {
                Parser::Json => {
                    serde_json::from_str::<Value>(&edited)
                        .unwrap_or_else(|err| panic!("{context}: {err}\n{edited}"));
                }
                Parser::Yaml => {
                    serde_yaml_ng::from_str::<Value>(&edited)
                        .unwrap_or_else(|err| panic!("{context}: {err}\n{edited}"));
                }
                Parser::Properties | Parser::Ini => {
                    for key in file.find.keys().filter(|key| !file.find[*key].is_object()) {
                        let bare = key.rsplit_once("].").map_or(key.as_str(), |(_, bare)| bare);
                        let bare = if file.parser == Parser::Ini && !key.starts_with('[') {
                            key.split_once('.').map_or(key.as_str(), |(_, bare)| bare)
                        } else {
                            bare
                        };
                        assert!(
                            edited
                                .lines()
                                .any(|line| line.starts_with(bare) && line.contains('=')),
                            "{context}: `{key}` not written\n{edited}"
                        );
                    }
                }
                Parser::File => {
                    assert!(
                        !edited.contains("old-value"),
                        "{context}: a line was not replaced\n{edited}"
                    );
                }
                Parser::Xml => {}
            }
            applied += 1;
            *by_parser.entry(format!("{:?}", file.parser)).or_default() += 1;
        }
    }
    eprintln!(
        "{} eggs read, {eggs_with_files} with config files, {applied} files applied: {by_parser:?}",
        eggs.len()
    );
    assert!(
        eggs.len() >= 80 && applied >= 40,
        "the corpus looks truncated: {} eggs, {applied} files",
        eggs.len()
    );
}
