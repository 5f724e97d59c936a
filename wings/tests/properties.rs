//! Property tests for what reaches wings from outside: its configuration file, console
//! and transfer tokens, and client paths. Each property runs `PROPTEST_CASES` cases
//! (proptest's default, 256, in every test run); `cargo xtask fuzz` runs them long.

use hatchery_wings::config::WingsConfig;
use hatchery_wings::files::ServerFiles;
use hatchery_wings::token::{self, ConsoleClaims};
use proptest::prelude::*;

const CONFIG: &str = r#"
uuid: 5f4d6f0a-3a5e-4a07-9f48-0d1c2b3a4e5f
token_id: Ab12Cd34Ef56Gh78
token: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
api:
  host: 0.0.0.0
  port: 8080
  upload_limit: 100
  trusted_proxies: [10.0.0.1]
system:
  root_directory: /var/lib/pterodactyl
  data: /var/lib/pterodactyl/volumes
  sftp:
    bind_port: 2022
docker:
  container_pid_limit: 512
  tmpfs_size: 100
remote: https://panel.example.com
allowed_origins: []
"#;

const NODE_TOKEN: &str = "node-token-secret-for-properties";

fn claims() -> impl Strategy<Value = ConsoleClaims> {
    (
        "[a-f0-9-]{1,36}",
        "[a-f0-9-]{0,36}",
        prop::collection::vec("[a-z.*-]{1,24}", 0..6),
        1_000i64..4_000_000_000,
        "[A-Za-z0-9]{0,16}",
    )
        .prop_map(
            |(server_uuid, user_uuid, permissions, exp, jti)| ConsoleClaims {
                server_uuid,
                user_uuid,
                permissions,
                exp,
                iat: 0,
                nbf: 0,
                jti,
            },
        )
}

/// Path pieces that hostile clients combine.
fn hostile_path() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "..",
        ".",
        "",
        "a",
        "b",
        "world",
        "escape",
        "secret-link",
        "inside-link",
        "/",
        "//",
        "\0",
        "x\0y",
        "~",
        "%2e%2e",
        "..\\..",
        "\u{202e}",
        "con",
        "a b",
    ]);
    (any::<bool>(), prop::collection::vec(piece, 1..8)).prop_map(|(absolute, pieces)| {
        let joined = pieces.join("/");
        if absolute {
            format!("/{joined}")
        } else {
            joined
        }
    })
}

proptest! {
    #[test]
    fn the_sample_config_parses(_unit in Just(())) {
        let config = WingsConfig::parse(CONFIG).unwrap();
        prop_assert_eq!(config.api.trusted_proxies.len(), 1);
        prop_assert_eq!(config.docker.tmpfs_size, 100);
    }

    #[test]
    fn configs_never_panic(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut text = CONFIG.as_bytes().to_vec();
        let at = at.index(text.len());
        if cut { text.truncate(at) } else { text[at] = byte }
        let _ = WingsConfig::parse(&String::from_utf8_lossy(&text));
    }

    #[test]
    fn any_text_is_not_a_panic(text in "\\PC{0,200}") {
        let _ = WingsConfig::parse(&text);
        let _ = token::verify::<ConsoleClaims>(&text, NODE_TOKEN, "server", 0);
    }

    /// A signed token verifies to exactly its claims, only for its server, only before
    /// it expires.
    #[test]
    fn tokens_round_trip(claims in claims(), now in 0i64..5_000_000_000) {
        let signed = token::sign(&claims, NODE_TOKEN);
        let verified = token::verify::<ConsoleClaims>(&signed, NODE_TOKEN, &claims.server_uuid, now);
        if now < claims.exp {
            let verified = verified.unwrap();
            prop_assert_eq!(&verified.permissions, &claims.permissions);
            prop_assert_eq!(&verified.user_uuid, &claims.user_uuid);
        } else {
            prop_assert!(verified.is_err());
        }
        prop_assert!(token::verify::<ConsoleClaims>(&signed, NODE_TOKEN, "another-server", 0).is_err());
        prop_assert!(token::verify::<ConsoleClaims>(&signed, "another-node-token", &claims.server_uuid, 0).is_err());
    }

    /// Changing any character of a signed token makes it invalid (or leaves it meaning
    /// exactly the same, where base64 padding bits are ignored).
    #[test]
    fn tampered_tokens_are_refused(claims in claims(), at in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.-]") {
        let signed = token::sign(&claims, NODE_TOKEN);
        let at = at.index(signed.len());
        let mut tampered = signed.clone();
        tampered.replace_range(at..at + 1, &replacement);
        if let Ok(verified) = token::verify::<ConsoleClaims>(&tampered, NODE_TOKEN, &claims.server_uuid, 0) {
            prop_assert_eq!(verified.permissions, claims.permissions);
            prop_assert_eq!(verified.user_uuid, claims.user_uuid);
            prop_assert_eq!(verified.exp, claims.exp);
        }
    }

    /// Whatever path a client sends, wings reads and writes only inside the server's
    /// directory: the secret beside it is never read, and nothing appears outside.
    #[test]
    fn paths_never_leave_the_server(path in hostile_path(), contents in prop::collection::vec(any::<u8>(), 0..16)) {
        let dirs = tempfile::tempdir().unwrap();
        let root = dirs.path().join("server");
        let outside = dirs.path().join("outside");
        std::fs::create_dir_all(root.join("world")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "host secret").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("secret-link")).unwrap();
        std::os::unix::fs::symlink("world", root.join("inside-link")).unwrap();
        let files = ServerFiles::open(&root, 0).unwrap();

        if let Ok(read) = files.read(&path, 1024) {
            prop_assert_ne!(read, b"host secret".to_vec());
        }
        let _ = files.write(&path, &contents);
        let _ = files.create_dir(&format!("{path}/made"));
        let _ = files.rename(&path, "renamed");
        let _ = files.copy(&path);
        let _ = files.chmod(&path, 0o777);
        let _ = files.delete(&path);
        let mut outside_now: Vec<_> = std::fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        outside_now.sort();
        prop_assert_eq!(outside_now, vec!["secret".to_string()]);
        prop_assert_eq!(std::fs::read_to_string(outside.join("secret")).unwrap(), "host secret");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(outside.join("secret")).unwrap().permissions(),
        );
        prop_assert_ne!(mode & 0o777, 0o777);
        prop_assert!(dirs.path().join("server").exists());
    }
}
