//! Startup configuration errors name the key and what is wrong.

use std::process::Command;

use crate::support::{Dialect, hatchery_bin, panel};

fn serve_with(env: &[(&str, &str)], config_file: Option<&str>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(hatchery_bin());
    command.arg("serve").current_dir(dir.path());
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("HATCHERY_")) {
        command.env_remove(key);
    }
    command.env("HATCHERY_DATA_DIR", dir.path().join("data"));
    if let Some(text) = config_file {
        let path = dir.path().join("custom.toml");
        std::fs::write(&path, text).unwrap();
        command.arg("--config").arg(&path);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn unknown_and_invalid_settings_stop_startup_with_the_key_named() {
    /// Environment, config file, and the message expected.
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str);
    let cases: [Case; 8] = [
        (
            &[("HATCHERY_LISEN", "127.0.0.1:1")],
            None,
            "unknown environment variable HATCHERY_LISEN",
        ),
        (
            &[("HATCHERY_LISTEN", "everywhere")],
            None,
            "listen: `everywhere` is not a socket address",
        ),
        (
            &[("HATCHERY_DATABASE_URL", "mysql://x")],
            None,
            "database_url: scheme `mysql` is not supported",
        ),
        (
            &[("HATCHERY_WASM_MEMORY_MB", "lots")],
            None,
            "wasm.memory_mb (from HATCHERY_WASM_MEMORY_MB): `lots` is not a whole number",
        ),
        (
            &[],
            Some("lisen = \"127.0.0.1:1\"\n"),
            "unknown field `lisen`",
        ),
        (
            &[],
            Some("[wasm]\ntimeout_ms = 0\n"),
            "wasm.timeout_ms: must be greater than zero",
        ),
        (
            &[],
            Some("[plugins]\ntrusted_keys = [\"nope\"]\n"),
            "plugins.trusted_keys: `nope` is not usable",
        ),
        (
            &[("HATCHERY_TRUSTED_PROXIES", "10.0.0.1, proxy.local")],
            None,
            "trusted_proxies: `proxy.local` is not an IP address",
        ),
    ];
    for (env, file, expected) in cases {
        let (ok, stderr) = serve_with(env, file);
        assert!(!ok, "{env:?} {file:?} should fail");
        assert!(
            stderr.contains(expected),
            "{env:?} {file:?}: `{stderr}` lacks `{expected}`"
        );
    }
}

#[test]
fn a_missing_config_file_is_an_error_but_no_file_at_all_is_fine() {
    let (ok, stderr) = serve_with(&[("HATCHERY_CONFIG", "/nonexistent/hatchery.toml")], None);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read /nonexistent/hatchery.toml"),
        "{stderr}"
    );
    // Defaults: a SQLite file inside the data directory.
    let panel = panel(Dialect::Sqlite).start();
    assert_eq!(panel.health()["database"], "sqlite");
}

#[test]
fn the_config_file_and_environment_combine() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hatchery.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:1\"\nlog = \"debug\"\n[wasm]\nmemory_mb = 16\n",
    )
    .unwrap();
    let env = [("HATCHERY_LISTEN".to_string(), "127.0.0.1:9999".to_string())]
        .into_iter()
        .collect();
    let config = hatchery_host::config::Config::from_sources(Some(&file), &env).unwrap();
    assert_eq!(
        config.listen.to_string(),
        "127.0.0.1:9999",
        "the environment wins"
    );
    assert_eq!(config.log, "debug");
    assert_eq!(config.wasm.memory_mb, 16);
    assert_eq!(config.wasm.timeout_ms, 5000);
    assert!(config.database_url.starts_with("sqlite://"));
    assert!(config.database_url.ends_with("data/hatchery.db"));
    assert_eq!(config.plugins_dir, std::path::PathBuf::from("data/plugins"));
}
