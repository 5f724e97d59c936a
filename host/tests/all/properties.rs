//! Property tests: parsers that read what strangers send (eggs, Laravel rules, plugin
//! manifests and packages, plugin SQL) never panic, whatever the input, and keep
//! their promises on generated valid input. Each property runs `PROPTEST_CASES` cases
//! (proptest's default, 256, in every test run); `cargo xtask fuzz` runs them long.

use std::collections::BTreeMap;

use hatchery_host::db::{Dialect, sql_guard};
use hatchery_host::domain::eggs::{Egg, ExportFormat};
use hatchery_host::domain::rules::Rules;
use hatchery_host::plugins::manifest::Manifest;
use hatchery_host::plugins::package::{self, PackageSigner, ReadLimits};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The keys eggs use, so generated objects reach deep into the reader.
const EGG_KEYS: &[&str] = &[
    "name",
    "author",
    "description",
    "features",
    "tags",
    "docker_images",
    "images",
    "image",
    "file_denylist",
    "startup",
    "startup_commands",
    "config",
    "scripts",
    "variables",
    "uuid",
];
const VARIABLE_KEYS: &[&str] = &[
    "name",
    "description",
    "env_variable",
    "default_value",
    "user_viewable",
    "user_editable",
    "rules",
    "field_type",
];

fn egg_like() -> impl Strategy<Value = Value> {
    let version = prop::sample::select(vec!["PTDL_v1", "PTDL_v2", "PLCN_v1", "PLCN_v3", "nope"]);
    let fields = prop::collection::btree_map(prop::sample::select(EGG_KEYS), json_value(), 0..10);
    let variable =
        prop::collection::btree_map(prop::sample::select(VARIABLE_KEYS), json_value(), 0..8);
    (
        version,
        fields,
        prop::collection::vec(variable, 0..4),
        any::<bool>(),
    )
        .prop_map(|(version, fields, variables, with_variables)| {
            let mut egg: serde_json::Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            egg.insert("meta".into(), json!({ "version": version }));
            if with_variables {
                let variables: Vec<Value> = variables
                    .into_iter()
                    .map(|v| {
                        Value::Object(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    })
                    .collect();
                egg.insert("variables".into(), Value::Array(variables));
            }
            Value::Object(egg)
        })
}

const RULE_NAMES: &[&str] = &[
    "required",
    "nullable",
    "string",
    "integer",
    "int",
    "numeric",
    "boolean",
    "in",
    "not_in",
    "min",
    "max",
    "between",
    "size",
    "gt",
    "gte",
    "lt",
    "lte",
    "digits",
    "digits_between",
    "regex",
    "not_regex",
    "starts_with",
    "ends_with",
    "doesnt_start_with",
    "uuid",
    "ulid",
    "email",
    "json",
    "date",
    "date_format",
    "multiple_of",
    "decimal",
    "accepted",
    "prohibited",
    "confirmed",
    "ip",
    "ipv4",
    "url",
    "alpha_dash",
    "hex_color",
    "mac_address",
    "frobnicate",
];

fn rule_text() -> impl Strategy<Value = String> {
    let parameter = prop_oneof![
        Just(String::new()),
        "[0-9]{1,4}".prop_map(|n| format!(":{n}")),
        "[0-9]{1,3},[0-9]{1,3}".prop_map(|n| format!(":{n}")),
        "\\PC{0,10}".prop_map(|p| format!(":{p}")),
        "/[a-z|()\\[\\]^$*+?.]{0,8}/[imsxuD]{0,2}".prop_map(|p| format!(":{p}")),
    ];
    prop::collection::vec((prop::sample::select(RULE_NAMES), parameter), 0..6).prop_map(|rules| {
        rules
            .into_iter()
            .map(|(name, parameter)| format!("{name}{parameter}"))
            .collect::<Vec<_>>()
            .join("|")
    })
}

proptest! {
    #[test]
    fn eggs_never_panic_on_any_text(text in "\\PC{0,200}") {
        let _ = Egg::parse(&text);
    }

    #[test]
    fn eggs_never_panic_on_egg_shaped_json(egg in egg_like()) {
        let _ = Egg::parse(&egg.to_string());
    }

    /// A valid egg exported in either family's format reads back the same.
    #[test]
    fn valid_eggs_round_trip_through_both_formats(
        name in "[A-Za-z][A-Za-z0-9 ]{0,20}",
        images in prop::collection::btree_map("[A-Za-z][A-Za-z0-9 ]{0,10}", "[a-z0-9./:-]{1,30}", 1..4),
        startup in "[a-z][a-z0-9 ./{}_-]{0,40}",
        variables in prop::collection::btree_map("[A-Z][A-Z0-9_]{0,12}", (any::<bool>(), any::<bool>(), rule_text()), 0..5),
    ) {
        let variables: Vec<Value> = variables
            .into_iter()
            .filter(|(env, _)| !["STARTUP", "SERVER_MEMORY", "SERVER_IP", "SERVER_PORT", "P_SERVER_UUID", "TZ", "P_SERVER_LOCATION", "P_SERVER_ALLOCATION_LIMIT"].contains(&env.as_str()))
            .map(|(env, (viewable, editable, rules))| json!({
                "name": env, "description": "", "env_variable": env, "default_value": "",
                "user_viewable": viewable, "user_editable": editable, "rules": rules, "field_type": "text",
            }))
            .collect();
        let egg = json!({
            "meta": { "version": "PTDL_v2" }, "name": name, "author": "a@b.c",
            "docker_images": images, "startup": startup, "variables": variables,
            "config": { "files": "{}", "startup": "{}", "logs": "{}", "stop": "stop" },
        });
        let Ok(parsed) = Egg::parse(&egg.to_string()) else {
            // Only reserved or duplicate names may be refused; the generator avoids both.
            return Err(TestCaseError::fail(format!("refused: {:?}", Egg::parse(&egg.to_string()).err())));
        };
        for format in [ExportFormat::Pterodactyl, ExportFormat::Pelican] {
            let again = Egg::parse(&parsed.export(format)).unwrap();
            prop_assert_eq!(&again.name, &parsed.name);
            // Rules compare by meaning: Pelican writes them as a list, which has no
            // place for the empty segments of `a||b`.
            let meaning = |egg: &Egg| -> Vec<(String, bool, bool, String)> {
                egg.variables
                    .iter()
                    .map(|v| (v.env_variable.clone(), v.user_viewable, v.user_editable, format!("{:?}", v.rules())))
                    .collect()
            };
            prop_assert_eq!(meaning(&again), meaning(&parsed));
            prop_assert_eq!(&again.startup, &parsed.startup);
            prop_assert_eq!(
                again.docker_images.iter().cloned().collect::<BTreeMap<_, _>>(),
                parsed.docker_images.iter().cloned().collect::<BTreeMap<_, _>>()
            );
        }
    }

    #[test]
    fn rules_never_panic(rules in rule_text(), value in "\\PC{0,30}") {
        let parsed = Rules::parse(&rules);
        let _ = parsed.check("VALUE", &value);
        let _ = parsed.unchecked();
    }

    /// Size rules measure characters for strings and the value for numbers.
    #[test]
    fn max_means_characters_for_strings(limit in 0usize..40, value in "\\PC{0,60}") {
        let rules = Rules::parse(&format!("required|string|max:{limit}"));
        let fits = value.chars().count() <= limit;
        prop_assert_eq!(rules.check("V", &value).is_ok(), fits && !value.is_empty());
    }

    #[test]
    fn max_means_the_value_for_numbers(limit in -1000i64..1000, value in -2000i64..2000) {
        let rules = Rules::parse(&format!("required|integer|max:{limit}"));
        prop_assert_eq!(rules.check("V", &value.to_string()).is_ok(), value <= limit);
    }

    #[test]
    fn manifests_never_panic(text in "\\PC{0,300}") {
        let _ = Manifest::parse(&text, &hatchery_host::plugins::catalogue::Panel);
    }

    #[test]
    fn mutated_manifests_never_panic(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = VALID_MANIFEST.as_bytes().to_vec();
        let at = at.index(text.len());
        text[at] = byte;
        let _ = Manifest::parse(&String::from_utf8_lossy(&text), &hatchery_host::plugins::catalogue::Panel);
    }

    /// A signed package with any byte changed or cut short is refused, or (when the
    /// change hit bytes the zip format ignores) reads back exactly the same files.
    #[test]
    fn damaged_packages_are_refused_or_unchanged(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let (bytes, files, key) = signed_package();
        let mut damaged = bytes.clone();
        let at = at.index(damaged.len());
        if cut {
            damaged.truncate(at);
        } else {
            damaged[at] ^= byte.max(1);
        }
        let limits = ReadLimits { max_files: 64, max_total_bytes: 1 << 20 };
        // Damage may turn it into an unsigned package (a renamed SIGNATURE), which the
        // caller's policy refuses unless unsigned packages are allowed; but what
        // still claims the trusted signature is exactly what was signed.
        if let Ok(read) = hatchery_host::plugins::catalogue::read_package(&damaged, std::slice::from_ref(&key), limits)
            && read.signer == PackageSigner::Trusted(key.clone())
        {
            prop_assert_eq!(&read.files, &files);
        }
    }

    #[test]
    fn arbitrary_bytes_are_not_packages(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let limits = ReadLimits { max_files: 64, max_total_bytes: 1 << 20 };
        prop_assert!(hatchery_host::plugins::catalogue::read_package(&bytes, &[], limits).is_err());
    }

    #[test]
    fn the_sql_guard_never_panics(sql in "\\PC{0,120}") {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let _ = sql_guard::check(dialect, &sql, "demo__", false);
        }
    }

    /// Whatever names a statement uses, every table it is allowed to reach carries the
    /// plugin's prefix.
    #[test]
    fn allowed_statements_touch_only_prefixed_tables(
        table in prop::sample::select(vec!["demo__a", "users", "api_keys", "demo__", "other__a", "\"users\"", "main.users", "public.users"]),
        shape in prop::sample::select(vec![
            "SELECT * FROM {t}", "DELETE FROM {t}", "INSERT INTO {t} VALUES (1)",
            "UPDATE {t} SET a = 1", "WITH demo__c AS (SELECT 1) SELECT * FROM {t}",
            "SELECT * FROM demo__a WHERE id IN (SELECT id FROM {t})", "DROP TABLE {t}",
            "CREATE TABLE {t} (id INTEGER)", "ALTER TABLE demo__a RENAME TO {t}",
            "CREATE TABLE demo__b (id INTEGER REFERENCES {t} (id))",
            "SELECT 1 FROM demo__a UNION TABLE {t}",
        ]),
    ) {
        let sql = shape.replace("{t}", table);
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let allowed = sql_guard::check(dialect, &sql, "demo__", false).is_ok();
            let owned = table.starts_with("demo__") && table.len() > "demo__".len();
            prop_assert!(!allowed || owned, "{} allowed on {:?}", sql, dialect);
        }
    }
}

const VALID_MANIFEST: &str = r#"
id = "prop-test"
name = "Property test"
version = "0.1.0"
description = "generated"
host = ">=0.1, <1"
runtime = "wasm"
entry = "plugin.wasm"

[capabilities]
database = true
subscribe = ["plugin.*"]

[[permissions]]
name = "prop-test.use"
description = "use it"

[[routes]]
method = "GET"
path = "/items/{id}"
auth = "user"
permission = "prop-test.use"

[[commands]]
name = "sync"
about = "Sync things"
"#;

/// A small signed package, its files and the public key that signed it.
fn signed_package() -> (Vec<u8>, BTreeMap<String, Vec<u8>>, String) {
    let secret = package::generate_signing_key();
    let key = package::parse_signing_key(&secret).unwrap();
    let files = BTreeMap::from([
        (
            "plugin.toml".to_string(),
            VALID_MANIFEST.as_bytes().to_vec(),
        ),
        ("plugin.wasm".to_string(), b"\0asm not really".to_vec()),
        ("ui/widget.js".to_string(), b"export default 1;".to_vec()),
    ]);
    let bytes = hatchery_host::plugins::catalogue::pack(&files, Some(&key)).unwrap();
    let read = hatchery_host::plugins::catalogue::read_package(
        &bytes,
        &[package::public_key_of(&key)],
        ReadLimits {
            max_files: 64,
            max_total_bytes: 1 << 20,
        },
    )
    .unwrap();
    (bytes, read.files, package::public_key_of(&key))
}
