//! The host's layers, as ARCHITECTURE.md states them, checked on the source: a module
//! that imports what its layer must not fails this test, naming the file and line.

use std::path::{Path, PathBuf};

/// (files under `src/` this rule is about, what they must not name, why).
const RULES: &[(&[&str], &[&str], &str)] = &[
    (
        &[""],
        &["axum", "crate::http"],
        "only the HTTP layer (`http/`) and the composition root (`panel.rs`) know HTTP serving",
    ),
    (
        &[""],
        &["sqlx"],
        "only the repositories (`db/`) speak SQL; `error.rs` only wraps sqlx's error",
    ),
    (
        &["domain/"],
        &[
            "crate::db",
            "crate::actions",
            "crate::plugins",
            "crate::wings_client",
            "tokio",
        ],
        "the game-server domain is plain data and rules",
    ),
    (
        &["policy.rs"],
        &[
            "crate::db",
            "crate::actions",
            "crate::plugins::services",
            "crate::wings_client",
            "tokio",
        ],
        "policy decides from what it is given; it fetches nothing",
    ),
];

/// Files a rule does not apply to (the layers that may).
const EXEMPT: &[(&str, &[&str])] = &[
    ("axum", &["http/", "panel.rs"]),
    ("crate::http", &["http/", "panel.rs"]),
    ("sqlx", &["db/", "error.rs"]),
];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// Whether `line` names `item` as a path (`axum::`, `use axum`, `crate::db::x`).
fn names(line: &str, item: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(item).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + item.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && matches!(
                after,
                Some(':') | Some(';') | Some(',') | Some('}') | Some(' ') | None
            )
    })
}

#[test]
fn no_module_imports_what_its_layer_must_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut broken = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if relative == "layers.rs" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (scopes, forbidden, why) in RULES {
            if !scopes.iter().any(|scope| relative.starts_with(scope)) {
                continue;
            }
            for item in *forbidden {
                let exempt = EXEMPT.iter().any(|(name, places)| {
                    name == item && places.iter().any(|place| relative.starts_with(place))
                });
                if exempt {
                    continue;
                }
                for (number, line) in text.lines().enumerate() {
                    if names(line, item) {
                        broken.push(format!(
                            "src/{relative}:{}: names `{item}`: {why}",
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_sees_imports_and_paths() {
    assert!(names("use axum::Json;", "axum"));
    assert!(names("    let x = sqlx::query(\"…\");", "sqlx"));
    assert!(names("use crate::http::caches::Caches;", "crate::http"));
    assert!(!names("use crate::plugins::services::http;", "crate::http"));
    assert!(!names("// axum is not named here", "axum"));
    assert!(!names("let axumish = 1;", "axum"));
}
