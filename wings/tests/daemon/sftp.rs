//! SFTP and the SSH console, driven by OpenSSH's own `sftp` and `ssh` clients; the
//! stand-in panel answers the login checks.

use std::time::Duration;

use serde_json::json;

use crate::support::{
    OpenSsh, PanelStandIn, Secret, SftpUser, Wings, line_reader, server_uuid, wait_for_line,
};

fn user(password: &str, permissions: &[&str]) -> SftpUser {
    SftpUser {
        password: password.into(),
        public_key: None,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        user_uuid: format!("user-{password}"),
    }
}

fn password(text: &str) -> Secret {
    Secret::Password(text.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn sftp_serves_files_with_each_users_permissions() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 3).await;
    let short = &uuid[..8];
    let volume = wings.dir.path().join("volumes").join(&uuid);
    let ssh = OpenSsh::new(wings.sftp_port);
    let (key, public_key) = ssh.keygen("owner_key");
    panel.add_sftp_user(
        &format!("owner.{short}"),
        SftpUser {
            public_key: Some(public_key),
            ..user(
                "owner-secret",
                &[
                    "file.sftp",
                    "file.read",
                    "file.read-content",
                    "file.create",
                    "file.update",
                    "file.delete",
                ],
            )
        },
    );
    panel.add_sftp_user(
        &format!("reader.{short}"),
        user(
            "reader-secret",
            &["file.sftp", "file.read", "file.read-content"],
        ),
    );
    panel.add_sftp_user(
        &format!("nosftp.{short}"),
        user("nosftp-secret", &["file.read", "file.read-content"]),
    );
    let owner = format!("owner.{short}");

    // A file written through the API is read back over SFTP.
    let written = wings
        .call_raw(
            "POST",
            &format!("/api/servers/{uuid}/files/write?file=notes/todo.txt"),
            true,
            b"back up the world".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(written.status, 204);
    std::fs::write(ssh.path("upload.txt"), "uploaded over sftp").unwrap();
    let (ok, out) = tokio::task::block_in_place(|| {
        ssh.sftp(
            &owner,
            &password("owner-secret"),
            "get notes/todo.txt fetched.txt\nmkdir plugins\nput upload.txt plugins/upload.txt\nrename plugins/upload.txt plugins/renamed.txt\nls -l plugins\nrm notes/todo.txt\nchmod 600 plugins/renamed.txt\n",
        )
    });
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read_to_string(ssh.path("fetched.txt"))
            .unwrap_or_else(|err| panic!("{err}: {out}")),
        "back up the world"
    );
    assert_eq!(
        std::fs::read_to_string(volume.join("plugins/renamed.txt")).unwrap(),
        "uploaded over sftp"
    );
    assert!(out.contains("renamed.txt"), "{out}");
    assert!(!volume.join("notes/todo.txt").exists());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(volume.join("plugins/renamed.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // The same user with a key instead of a password.
    let (ok, out) =
        tokio::task::block_in_place(|| ssh.sftp(&owner, &Secret::Key(key.clone()), "ls plugins\n"));
    assert!(ok && out.contains("renamed.txt"), "{out}");

    // A wrong password, an unknown server and a user without file.sftp get nothing.
    let (ok, out) = tokio::task::block_in_place(|| ssh.sftp(&owner, &password("wrong"), "ls\n"));
    assert!(!ok, "{out}");
    let (ok, out) = tokio::task::block_in_place(|| {
        ssh.sftp("owner.00000000", &password("owner-secret"), "ls\n")
    });
    assert!(!ok, "{out}");
    let (ok, out) = tokio::task::block_in_place(|| {
        ssh.sftp(
            &format!("nosftp.{short}"),
            &password("nosftp-secret"),
            "ls\n",
        )
    });
    assert!(!ok, "{out}");

    // A read-only subuser reads but cannot change anything.
    std::fs::write(ssh.path("intruder.txt"), "should not land").unwrap();
    let (_, out) = tokio::task::block_in_place(|| {
        ssh.sftp(
            &format!("reader.{short}"),
            &password("reader-secret"),
            "get plugins/renamed.txt read-back.txt\nput intruder.txt intruder.txt\nrm plugins/renamed.txt\nmkdir evil\n",
        )
    });
    assert_eq!(
        std::fs::read_to_string(ssh.path("read-back.txt")).unwrap(),
        "uploaded over sftp",
        "{out}"
    );
    assert!(out.contains("ermission denied"), "{out}");
    assert!(!volume.join("intruder.txt").exists(), "{out}");
    assert!(volume.join("plugins/renamed.txt").exists(), "{out}");
    assert!(!volume.join("evil").exists(), "{out}");

    // Paths never leave the server's directory, and the quota holds.
    std::os::unix::fs::symlink("/etc", volume.join("etc-link")).unwrap();
    std::fs::write(ssh.path("big.bin"), vec![7u8; 4 * 1024 * 1024]).unwrap();
    let (_, out) = tokio::task::block_in_place(|| {
        ssh.sftp(&owner, &password("owner-secret"), "get ../../../etc/hostname escaped1\nget etc-link/hostname escaped2\ncd ../..\npwd\nput big.bin big.bin\n")
    });
    assert!(
        !ssh.path("escaped1").exists() && !ssh.path("escaped2").exists(),
        "{out}"
    );
    assert!(
        out.contains("Remote working directory: /\n")
            || out.contains("Remote working directory: /\r\n"),
        "{out}"
    );
    let landed = std::fs::metadata(volume.join("big.bin"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        landed < 3 * 1024 * 1024,
        "the quota let {landed} bytes in: {out}"
    );

    // What the owner did reaches the panel's activity log.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let activity = panel.activity();
        let events: Vec<&str> = activity
            .iter()
            .filter_map(|a| a["event"].as_str())
            .collect();
        if [
            "server:sftp.write",
            "server:sftp.rename",
            "server:sftp.delete",
            "server:sftp.create-directory",
        ]
        .iter()
        .all(|wanted| events.contains(wanted))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_attaches_to_the_console() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 64).await;
    let short = &uuid[..8];
    panel.add_sftp_user(&format!("admin.{short}"), user("admin-secret", &["*"]));
    panel.add_sftp_user(
        &format!("watcher.{short}"),
        user("watcher-secret", &["websocket.connect"]),
    );
    let started = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "start" })),
        )
        .await;
    assert_eq!(started.status, 202);
    let ssh = OpenSsh::new(wings.sftp_port);

    let mut admin = ssh.ssh(&format!("admin.{short}"), &password("admin-secret"));
    let lines = line_reader(&mut admin);
    let mut stdin = admin.stdin.take().unwrap();
    tokio::task::block_in_place(|| {
        wait_for_line(&lines, "Done (0.1s)!", Duration::from_secs(60))
            .unwrap_or_else(|seen| panic!("no startup line: {seen:?}\n{}", wings.log()));
        use std::io::Write;
        stdin.write_all(b"ping\n").unwrap();
        stdin.flush().unwrap();
        wait_for_line(&lines, "pong", Duration::from_secs(10))
            .unwrap_or_else(|seen| panic!("no pong: {seen:?}"));
    });
    let _ = admin.kill();

    // Someone who may only watch sees output but cannot type commands.
    let mut watcher = ssh.ssh(&format!("watcher.{short}"), &password("watcher-secret"));
    let lines = line_reader(&mut watcher);
    let mut stdin = watcher.stdin.take().unwrap();
    tokio::task::block_in_place(|| {
        wait_for_line(&lines, "attached to the console", Duration::from_secs(20))
            .unwrap_or_else(|seen| panic!("{seen:?}"));
        use std::io::Write;
        stdin.write_all(b"stop\n").unwrap();
        stdin.flush().unwrap();
        wait_for_line(
            &lines,
            "control.console permission",
            Duration::from_secs(10),
        )
        .unwrap_or_else(|seen| panic!("{seen:?}"));
    });
    let _ = watcher.kill();
    assert_eq!(
        wings
            .call("GET", &format!("/api/servers/{uuid}"), None)
            .await
            .json()["state"],
        "running"
    );
    let stopped = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "stop" })),
        )
        .await;
    assert_eq!(stopped.status, 202);
}

/// The panel's revocation ends a live OpenSSH `sftp` session and a live `ssh` console
/// at once, not at the client's next command.
#[tokio::test(flavor = "multi_thread")]
async fn revocation_ends_live_sessions_at_once() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 64).await;
    let short = &uuid[..8];
    let member = user(
        "member-secret",
        &["file.sftp", "file.read", "websocket.connect"],
    );
    let member_uuid = member.user_uuid.clone();
    panel.add_sftp_user(&format!("member.{short}"), member);
    let ssh = OpenSsh::new(wings.sftp_port);

    let mut sftp = ssh.sftp_session(&format!("member.{short}"), &password("member-secret"));
    let lines = line_reader(&mut sftp);
    let mut stdin = sftp.stdin.take().unwrap();
    let mut console = ssh.ssh(&format!("member.{short}"), &password("member-secret"));
    let console_lines = line_reader(&mut console);
    tokio::task::block_in_place(|| {
        use std::io::Write;
        stdin.write_all(b"pwd\n").unwrap();
        stdin.flush().unwrap();
        wait_for_line(&lines, "Remote working directory", Duration::from_secs(20))
            .unwrap_or_else(|seen| panic!("the session did not start: {seen:?}"));
        wait_for_line(
            &console_lines,
            "attached to the console",
            Duration::from_secs(20),
        )
        .unwrap_or_else(|seen| panic!("{seen:?}"));
    });

    let revoked = wings
        .call(
            "POST",
            "/api/deauthorize-user",
            Some(json!({ "user": member_uuid, "servers": [uuid] })),
        )
        .await;
    assert_eq!(revoked.status, 204);
    // Both connections end without the clients sending anything more: `ssh` exits, and
    // the `ssh` process that `sftp` runs for its connection exits while `sftp` itself
    // still waits for the next command at its prompt.
    let sftp_pid = sftp.id();
    let connection_gone = move || {
        std::fs::read_to_string(format!("/proc/{sftp_pid}/task/{sftp_pid}/children"))
            .map(|children| children.trim().is_empty())
            .unwrap_or(true)
    };
    let ended = tokio::task::block_in_place(|| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut console_done = false;
        while std::time::Instant::now() < deadline {
            console_done = console_done || console.try_wait().unwrap().is_some();
            if console_done && connection_gone() {
                return (true, true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (console_done, connection_gone())
    });
    let _ = console.kill();
    let _ = sftp.kill();
    assert_eq!(
        ended,
        (true, true),
        "(ssh console ended, sftp connection ended) after the revocation"
    );
    drop(stdin);
}

/// A handle opened for writing does not grant reading: `file.update` is not
/// `file.read-content`. Driven with another SFTP implementation (russh's client),
/// since OpenSSH's `sftp` never reads through a write handle.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_handle_does_not_read() {
    use russh_sftp::protocol::OpenFlags;
    use tokio::io::AsyncReadExt;

    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 3).await;
    let short = &uuid[..8];
    let written = wings
        .call_raw(
            "POST",
            &format!("/api/servers/{uuid}/files/write?file=secret.txt"),
            true,
            b"rcon password".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(written.status, 204);
    panel.add_sftp_user(
        &format!("editor.{short}"),
        user("editor-secret", &["file.sftp", "file.read", "file.update"]),
    );

    let sftp = crate::support::russh_sftp_session(
        wings.sftp_port,
        &format!("editor.{short}"),
        "editor-secret",
    )
    .await;
    let mut file = sftp
        .open_with_flags("secret.txt", OpenFlags::READ | OpenFlags::WRITE)
        .await
        .expect("file.update may open an existing file for writing");
    let mut contents = Vec::new();
    let read = file.read_to_end(&mut contents).await;
    assert!(read.is_err(), "read {contents:?} through a write handle");
    assert!(contents.is_empty());
    // Creating a new file needs file.create, which the editor lacks.
    assert!(
        sftp.open_with_flags("new.txt", OpenFlags::CREATE | OpenFlags::WRITE)
            .await
            .is_err()
    );
}
