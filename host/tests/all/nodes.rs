//! `hatchery node …`: nodes with encrypted tokens, the wings configuration they print
//! (read back with wings' own parser), and allocations, on both databases.

use crate::support::{Dialect, panel};

#[test]
fn nodes_print_a_wings_configuration_wings_accepts() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = panel(dialect)
            .env("HATCHERY_PUBLIC_URL", "https://panel.example.com/")
            .start();
        let created = panel.cli_ok(&[
            "node",
            "create",
            "--name",
            "alpha",
            "--fqdn",
            "node1.example.com",
            "--scheme",
            "https",
            "--memory",
            "8192",
            "--disk",
            "65536",
            "--port",
            "8443",
            "--sftp-port",
            "2222",
        ]);
        assert!(created.starts_with("created node alpha"), "{created}");
        let again = panel.cli(&[
            "node",
            "create",
            "--name",
            "alpha",
            "--fqdn",
            "x.example.com",
            "--memory",
            "1",
            "--disk",
            "1",
        ]);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

        let yaml = panel.cli_ok(&["node", "config", "alpha"]);
        let config = hatchery_wings::config::WingsConfig::parse(&yaml)
            .unwrap_or_else(|err| panic!("{err}\n{yaml}"));
        assert_eq!(config.remote, "https://panel.example.com");
        assert_eq!(config.api.port, 8443);
        assert!(config.api.ssl.enabled);
        assert_eq!(
            config.api.ssl.cert,
            "/etc/letsencrypt/live/node1.example.com/fullchain.pem"
        );
        assert_eq!(config.system.sftp.bind_port, 2222);
        assert_eq!(config.token_id.len(), 16);
        assert_eq!(config.token.len(), 64);
        // The token is stored encrypted: the database never holds it in clear.
        let listed: serde_json::Value =
            serde_json::from_str(&panel.cli_ok(&["node", "list", "--json"])).unwrap();
        assert_eq!(listed[0]["token_id"], config.token_id.as_str());
        assert!(!listed.to_string().contains(&config.token));
        if dialect == Dialect::Sqlite {
            let path = panel
                .database_url()
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_string();
            for file in [path.clone(), format!("{path}-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                assert!(
                    !bytes
                        .windows(config.token.len())
                        .any(|w| w == config.token.as_bytes()),
                    "{file}"
                );
            }
            assert!(std::fs::metadata(&path).is_ok(), "{path}");
        }

        // A reset token replaces the old one.
        panel.cli_ok(&["node", "reset-token", "alpha"]);
        let renewed =
            hatchery_wings::config::WingsConfig::parse(&panel.cli_ok(&["node", "config", "alpha"]))
                .unwrap();
        assert_ne!(renewed.token, config.token);
        assert_ne!(renewed.token_id, config.token_id);
    }
}

#[test]
fn allocations_are_added_listed_and_removed() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = panel(dialect).start();
        panel.cli_ok(&[
            "node", "create", "--name", "beta", "--fqdn", "10.0.0.5", "--memory", "4096", "--disk",
            "10240",
        ]);
        let added = panel.cli_ok(&[
            "node",
            "allocate",
            "beta",
            "--ip",
            "10.0.0.5",
            "--ports",
            "25565-25567,27015",
            "--alias",
            "play.example.com",
        ]);
        assert!(added.starts_with("added 4 allocation(s)"), "{added}");
        let again = panel.cli_ok(&[
            "node",
            "allocate",
            "beta",
            "--ip",
            "10.0.0.5",
            "--ports",
            "25565-25568",
        ]);
        assert!(
            again.starts_with("added 1 allocation(s) on beta; 3 already existed"),
            "{again}"
        );
        let listed: serde_json::Value = serde_json::from_str(&panel.cli_ok(&[
            "node",
            "allocations",
            "beta",
            "--free",
            "--json",
        ]))
        .unwrap();
        let ports: Vec<i64> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["port"].as_i64().unwrap())
            .collect();
        assert_eq!(ports, vec![25565, 25566, 25567, 25568, 27015]);
        assert_eq!(listed[0]["alias"], "play.example.com");
        let removed = panel.cli_ok(&[
            "node",
            "deallocate",
            "beta",
            "--ip",
            "10.0.0.5",
            "--ports",
            "27015",
        ]);
        assert!(removed.starts_with("removed 1"), "{removed}");

        for (args, expected) in [
            (vec!["--ip", "10.0.0.5", "--ports", "80"], "1024 to 65535"),
            (
                vec!["--ip", "10.0.0.5", "--ports", "20000-40000"],
                "more than 1000",
            ),
            (
                vec!["--ip", "not-an-ip", "--ports", "30000"],
                "not an IP address",
            ),
        ] {
            let mut command = vec!["node", "allocate", "beta"];
            command.extend(args);
            let output = panel.cli(&command);
            assert!(!output.status.success());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(expected), "{stderr}");
        }
        let missing = panel.cli(&["node", "config", "nope"]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("hatchery node list"));
    }
}
