//! `hatchery egg import/export/list` on both databases, and the egg corpus: every
//! egg in `../shared/fixtures/eggs` (Pterodactyl's official eggs and a sample of the
//! community's, read in place; `$SHARED_DIR/fixtures/eggs` elsewhere) must import.

use std::path::{Path, PathBuf};

use crate::support::{Dialect, panel};

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

fn corpus_size(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            if path.is_dir() {
                corpus_size(&path)
            } else {
                usize::from(path.extension().is_some_and(|e| e == "json"))
            }
        })
        .sum()
}

#[test]
fn every_corpus_egg_imports_on_both_databases() {
    let corpus = corpus_dir();
    let count = corpus_size(&corpus);
    assert!(count >= 80, "the corpus holds only {count} eggs");
    let corpus = corpus.to_str().unwrap();
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = panel(dialect).start();
        let checked = panel.cli_ok(&["egg", "import", "--dry-run", corpus]);
        assert!(
            checked.ends_with(&format!(
                "{count} imported, 0 failed (dry run: nothing was stored)\n"
            )),
            "{checked}"
        );
        assert!(panel.cli_ok(&["egg", "list"]).contains("no eggs yet"));

        let imported = panel.cli_ok(&["egg", "import", "--nest", "Community", corpus]);
        assert!(
            imported.ends_with(&format!("{count} imported, 0 failed\n")),
            "{imported}"
        );
        let listed: serde_json::Value =
            serde_json::from_str(&panel.cli_ok(&["egg", "list", "--json"])).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), count);
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .all(|egg| egg["nest"] == "Community")
        );
        // Importing again updates in place instead of duplicating.
        let again = panel.cli_ok(&["egg", "import", "--nest", "Community", corpus]);
        assert!(again.contains("updated"), "{again}");
        let listed: serde_json::Value =
            serde_json::from_str(&panel.cli_ok(&["egg", "list", "--json"])).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), count);
    }
}

#[test]
fn eggs_export_in_both_formats_and_import_again() {
    let panel = panel(Dialect::Sqlite).start();
    let source = panel.data_dir().join("fixture-egg.json");
    std::fs::write(&source, FIXTURE_EGG).unwrap();
    panel.cli_ok(&["egg", "import", source.to_str().unwrap()]);
    for format in ["pterodactyl", "pelican"] {
        let exported = panel.data_dir().join(format!("exported-{format}.txt"));
        panel.cli_ok(&[
            "egg",
            "export",
            "Fixture Game",
            "--format",
            format,
            "--output",
            exported.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&exported).unwrap();
        assert!(
            text.contains(if format == "pelican" {
                "PLCN_v1"
            } else {
                "PTDL_v2"
            }),
            "{text}"
        );
        let other = crate::support::panel(Dialect::Sqlite).start();
        let summary = other.cli_ok(&["egg", "import", exported.to_str().unwrap()]);
        assert!(summary.ends_with("1 imported, 0 failed\n"), "{summary}");
        let listed = other.cli_ok(&["egg", "list"]);
        assert!(listed.contains("Fixture Game"), "{listed}");
    }
}

#[test]
fn bad_eggs_are_named_with_the_reason_and_the_rest_still_import() {
    let panel = panel(Dialect::Sqlite).start();
    let dir = panel.data_dir().join("eggs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.json"), FIXTURE_EGG).unwrap();
    std::fs::write(
        dir.join("reserved.json"),
        FIXTURE_EGG
            .replace("\"GREETING\"", "\"SERVER_PORT\"")
            .replace("Fixture Game", "Other"),
    )
    .unwrap();
    std::fs::write(dir.join("broken.json"), "{ not json").unwrap();
    let mut twice: serde_json::Value = serde_json::from_str(FIXTURE_EGG).unwrap();
    twice["name"] = "Twice".into();
    let mut again = twice["variables"][0].clone();
    again["name"] = "Again".into();
    twice["variables"].as_array_mut().unwrap().insert(0, again);
    let twice = twice.to_string();
    std::fs::write(dir.join("twice.json"), twice).unwrap();
    std::fs::write(dir.join("notes.txt"), "not an egg, not looked at").unwrap();
    let output = panel.cli(&[
        "egg",
        "import",
        dir.to_str().unwrap(),
        "/does/not/exist.json",
    ]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.ends_with("2 imported, 3 failed\n"), "{stdout}");
    assert!(
        stderr.contains(
            "twice.json: variables[1] (GREETING): defined twice; the first definition is kept"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "reserved.json: variables[0] (SERVER_PORT): SERVER_PORT is set by wings itself"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("broken.json: not valid JSON"), "{stderr}");
    assert!(
        stderr.contains("/does/not/exist.json: cannot open it"),
        "{stderr}"
    );
    assert!(panel.cli_ok(&["egg", "list"]).contains("Fixture Game"));
}

/// The fixture game-server egg: its install script writes a shell-script server.
pub const FIXTURE_EGG: &str = include_str!("../fixtures/fixture-egg.json");
