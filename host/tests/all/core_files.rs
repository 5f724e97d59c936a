//! core-files against a real wings on podman: Pterodactyl's file API served by the
//! plugin with each subuser permission enforced, a folder of 20,000 entries listed
//! whole, and the edit history — saves through the API and over OpenSSH `sftp`
//! become revisions, diffs name the changed lines, and a restore gives back exactly
//! the old bytes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::local_node::{Sftp, installed_server};
use crate::support::{DIALECTS, Dialect, Panel, eventually, panel};

pub struct Files<'a> {
    panel: &'a Panel,
    base: String,
}

impl<'a> Files<'a> {
    pub fn new(panel: &'a Panel, short_id: &str) -> Self {
        Files {
            panel,
            base: format!("/api/client/servers/{short_id}/files"),
        }
    }

    pub fn get(&self, path: &str, key: &str) -> crate::support::Answer {
        self.panel.get_as(&format!("{}{path}", self.base), key)
    }

    fn send(&self, method: &str, path: &str, key: &str, body: Value) -> crate::support::Answer {
        self.panel
            .json(method, &format!("{}{path}", self.base), key, Some(body))
    }

    pub fn write(&self, file: &str, key: &str, bytes: &[u8]) -> crate::support::Answer {
        self.panel.request(
            "POST",
            &format!("{}/write?file={file}", self.base),
            Some(key),
            Some(bytes.to_vec()),
        )
    }

    pub fn history(&self, file: &str, key: &str) -> Vec<Value> {
        let answer = self.get(&format!("/history?file={file}"), key);
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["data"].as_array().unwrap().clone()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn vias(revisions: &[Value]) -> Vec<String> {
    revisions
        .iter()
        .map(|revision| revision["via"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn files_are_managed_as_each_subuser_may_and_every_save_is_a_revision() {
    for dialect in DIALECTS {
        files_are_managed_on(dialect);
    }
}

/// The whole file manager on one panel database (the history lives in core-files'
/// own store: a SQLite file, or its own PostgreSQL schema).
fn files_are_managed_on(dialect: Dialect) {
    let panel = panel(dialect)
        .plugin("core-auth")
        .plugin("core-files")
        .start();
    let admin = panel.admin_key();
    let owner = panel.user_with_password("owner", "owner password");
    let work = tempfile::tempdir().unwrap();
    let (mut node, uuid) = installed_server(&panel, &admin, "files");
    let short_id = &uuid[..8];
    let volume = node.volumes.join(&uuid);
    let files = Files::new(&panel, short_id);

    // Saves through the API are revisions, numbered from 1, newest first.
    let first = b"motd=welcome\nmax-players=10\npvp=true\n";
    let second = b"motd=welcome\nmax-players=20\npvp=true\n";
    assert_eq!(files.write("server.cfg", &owner, first).status, 204);
    assert_eq!(files.write("server.cfg", &owner, second).status, 204);
    // A save that changes nothing adds no revision.
    assert_eq!(files.write("/server.cfg", &owner, second).status, 204);
    let revisions = files.history("server.cfg", &owner);
    assert_eq!(vias(&revisions), ["api", "api"], "{revisions:?}");
    assert_eq!(revisions[0]["revision"], 2);
    assert_eq!(revisions[0]["username"], "owner");
    assert_eq!(revisions[0]["size"], second.len());

    // A save over OpenSSH's sftp is heard from wings and kept too.
    let third = b"motd=edited over sftp\nmax-players=20\npvp=false\n";
    std::fs::write(work.path().join("server.cfg"), third).unwrap();
    let sftp = Sftp {
        port: node.sftp_port,
        dir: work.path().to_path_buf(),
    };
    let (ok, output) = sftp.run(
        &format!("owner.{short_id}"),
        "owner password",
        "put server.cfg server.cfg\n",
    );
    assert!(ok, "{output}\n{}", node.log());
    let revisions = eventually(Duration::from_secs(30), "the SFTP save's revision", || {
        let revisions = files.history("server.cfg", &owner);
        (revisions.len() == 3).then_some(revisions)
    });
    assert_eq!(vias(&revisions), ["sftp", "api", "api"]);
    assert_eq!(revisions[0]["username"], "owner");

    // The diff names the changed lines.
    let diff = files.get("/history/diff?file=server.cfg&from=1&to=3", &owner);
    assert_eq!(diff.status, 200, "{diff:?}");
    let unified = diff.body["data"]["unified"].as_str().unwrap();
    for line in [
        "-motd=welcome",
        "+motd=edited over sftp",
        "-max-players=10",
        "+pvp=false",
    ] {
        assert!(
            unified.lines().any(|seen| seen == line),
            "{line} in\n{unified}"
        );
    }
    assert_eq!(diff.body["data"]["added"], 3);

    // Restoring gives back exactly the old bytes, and is a revision itself.
    let restored = files.send(
        "POST",
        "/history/restore",
        &owner,
        json!({ "file": "server.cfg", "revision": 1 }),
    );
    assert_eq!(restored.status, 200, "{restored:?}");
    assert_eq!(restored.body["data"]["revision"], 4);
    assert_eq!(restored.body["data"]["via"], "restore");
    assert_eq!(restored.body["data"]["restored_from"], 1);
    assert_eq!(std::fs::read(volume.join("server.cfg")).unwrap(), first);
    let contents = files.get("/contents?file=server.cfg", &owner);
    assert_eq!(contents.raw, first);
    let old = files.get("/history/contents?file=server.cfg&revision=3", &owner);
    assert_eq!(old.raw, third);

    // A file first saved here after it was made elsewhere keeps how it was.
    std::fs::write(volume.join("made-by-the-game.txt"), "generated\n").unwrap();
    assert_eq!(
        files
            .write("made-by-the-game.txt", &owner, b"edited\n")
            .status,
        204
    );
    let revisions = files.history("made-by-the-game.txt", &owner);
    assert_eq!(vias(&revisions), ["api", "original"]);
    let original = files.get(
        "/history/contents?file=made-by-the-game.txt&revision=1",
        &owner,
    );
    assert_eq!(original.raw, b"generated\n");

    // A rename over SFTP carries the history to the new name.
    assert_eq!(files.write("notes.txt", &owner, b"notes\n").status, 204);
    let (ok, output) = sftp.run(
        &format!("owner.{short_id}"),
        "owner password",
        "rename notes.txt game-notes.txt\n",
    );
    assert!(ok, "{output}\n{}", node.log());
    let followed = eventually(Duration::from_secs(30), "the history to follow", || {
        let revisions = files.history("game-notes.txt", &owner);
        (revisions.len() == 1).then_some(revisions)
    });
    assert_eq!(followed[0]["size"], 6);
    assert!(files.history("notes.txt", &owner).is_empty());

    // Binary files are not kept.
    assert_eq!(
        files.write("world.dat", &owner, b"\0\x01binary").status,
        204
    );
    assert!(files.history("world.dat", &owner).is_empty());

    // History follows a rename and survives a delete (restore brings the file back).
    assert_eq!(
        files
            .send(
                "POST",
                "/create-folder",
                &owner,
                json!({ "root": "/", "name": "config" })
            )
            .status,
        204
    );
    let moved = files.send(
        "PUT",
        "/rename",
        &owner,
        json!({ "root": "/", "files": [{ "from": "server.cfg", "to": "config/server.cfg" }] }),
    );
    assert_eq!(moved.status, 204, "{moved:?}");
    assert_eq!(files.history("config/server.cfg", &owner).len(), 4);
    assert!(files.history("server.cfg", &owner).is_empty());
    let deleted = files.send(
        "POST",
        "/delete",
        &owner,
        json!({ "root": "/config", "files": ["server.cfg"] }),
    );
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert!(!volume.join("config/server.cfg").exists());
    let back = files.send(
        "POST",
        "/history/restore",
        &owner,
        json!({ "file": "/config/server.cfg", "revision": 3 }),
    );
    assert_eq!(back.status, 200, "{back:?}");
    assert_eq!(
        std::fs::read(volume.join("config/server.cfg")).unwrap(),
        third
    );

    // The rest of Pterodactyl's file API.
    let copied = files.send(
        "POST",
        "/copy",
        &owner,
        json!({ "location": "/config/server.cfg" }),
    );
    assert_eq!(copied.status, 204, "{copied:?}");
    let chmod = files.send(
        "POST",
        "/chmod",
        &owner,
        json!({ "root": "/config", "files": [{ "file": "server.cfg", "mode": 600 }] }),
    );
    assert_eq!(chmod.status, 204, "{chmod:?}");
    let listed = files.get("/list?directory=/config", &owner);
    assert_eq!(listed.status, 200, "{listed:?}");
    let entries = listed.body["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{listed:?}");
    let cfg = entries
        .iter()
        .find(|entry| entry["attributes"]["name"] == "server.cfg")
        .unwrap();
    assert_eq!(cfg["object"], "file_object");
    assert_eq!(cfg["attributes"]["mode"], "-rw-------");
    assert_eq!(cfg["attributes"]["mode_bits"], "600");
    assert_eq!(cfg["attributes"]["is_file"], true);
    let download = files.get("/download?file=config/server.cfg", &owner);
    assert_eq!(download.body["object"], "signed_url", "{download:?}");
    let url = download.body["attributes"]["url"].as_str().unwrap();
    let fetched = ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(fetched, third);
    let archive = files.send(
        "POST",
        "/compress",
        &owner,
        json!({ "root": "/config", "files": ["server.cfg"] }),
    );
    assert_eq!(archive.status, 200, "{archive:?}");
    assert!(
        archive.body["attributes"]["name"]
            .as_str()
            .unwrap()
            .ends_with(".tar.gz"),
        "{archive:?}"
    );
    let escape = files.get("/contents?file=../../etc/passwd", &owner);
    assert_eq!(escape.status, 400, "{escape:?}");

    // Checksums are computed on the node.
    let sha = files.get("/checksum?file=config/server.cfg&algorithm=sha256", &owner);
    assert_eq!(sha.status, 200, "{sha:?}");
    assert_eq!(sha.body["attributes"]["checksum"], sha256_hex(third));
    let crc = files.get("/checksum?file=config/server.cfg&algorithm=crc32", &owner);
    assert_eq!(
        crc.body["attributes"]["checksum"].as_str().unwrap().len(),
        8
    );
    let md5 = files.get("/checksum?file=config/server.cfg&algorithm=md5", &owner);
    assert_eq!(
        md5.body["attributes"]["checksum"].as_str().unwrap().len(),
        32
    );
    assert_eq!(
        files
            .get("/checksum?file=config/server.cfg&algorithm=sha1", &owner)
            .status,
        400
    );

    // Search runs on the node and streams its hits from a one-use URL.
    let search = |key: &str, query: &str| -> Vec<Value> {
        let signed = files.get(&format!("/search?{query}"), key);
        assert_eq!(signed.status, 200, "{signed:?}");
        let url = signed.body["attributes"]["url"]
            .as_str()
            .unwrap()
            .to_string();
        let text = ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        // Spent: the same URL does not search twice.
        let again = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        assert_eq!(again.status(), 403);
        lines
    };
    let found = search(&owner, "name=server&directory=/config");
    let paths: Vec<_> = found
        .iter()
        .filter_map(|hit| hit["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["/config/server copy.cfg", "/config/server.cfg"],
        "{found:?}"
    );
    assert_eq!(found.last().unwrap()["done"], true, "{found:?}");
    let by_content = search(&owner, "content=OVER+SFTP&glob=*.cfg");
    let hit = by_content
        .iter()
        .find(|hit| hit["path"] == "/config/server.cfg")
        .unwrap_or_else(|| panic!("{by_content:?}"));
    assert_eq!(hit["matches"][0]["line"], 1);
    assert_eq!(hit["matches"][0]["text"], "motd=edited over sftp");

    // Archives are browsed, read and extracted in part on the node.
    let zip = |entries: &[(&str, &[u8])]| {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    std::fs::write(
        volume.join("mods.zip"),
        zip(&[
            ("mods/a.jar", b"jar a"),
            ("config/a.toml", b"enabled = true\n"),
        ]),
    )
    .unwrap();
    let listed = files.get("/archive?file=mods.zip", &owner);
    assert_eq!(listed.status, 200, "{listed:?}");
    let names: Vec<_> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["attributes"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["mods/a.jar", "config/a.toml"]);
    let entry = files.get(
        "/archive/contents?file=mods.zip&entry=config/a.toml",
        &owner,
    );
    assert_eq!(entry.raw, b"enabled = true\n");
    let extracted = files.send(
        "POST",
        "/archive/extract",
        &owner,
        json!({ "file": "mods.zip", "entries": ["config/a.toml"], "root": "/config" }),
    );
    assert_eq!(extracted.status, 204, "{extracted:?}");
    assert_eq!(
        std::fs::read(volume.join("config/a.toml")).unwrap(),
        b"enabled = true\n"
    );
    assert!(!volume.join("config/mods").exists());

    // Hostile archives are refused whole, with a reason, and nothing is written.
    let before = std::fs::read_dir(&volume).unwrap().count();
    let mut link_tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    link_tar
        .append_link(&mut header, "escape", "../../../../etc")
        .unwrap();
    let hostile = [
        (
            "slip.zip",
            zip(&[("ok.txt", b"ok"), ("../../evil.txt", b"evil")]),
            "unsafe entry",
        ),
        (
            "link.tar",
            link_tar.into_inner().unwrap(),
            "pointing outside",
        ),
        (
            "bomb.zip",
            zip(&[("zeros.bin", &vec![0u8; 40 * 1024 * 1024])]),
            "expands to more than",
        ),
    ];
    for (name, bytes, reason) in hostile {
        std::fs::write(volume.join(name), bytes).unwrap();
        let refused = files.send("POST", "/archive/extract", &owner, json!({ "file": name }));
        assert!(matches!(refused.status, 400 | 413), "{name}: {refused:?}");
        assert!(refused.raw_text().contains(reason), "{name}: {refused:?}");
        let decompressed = files.send("POST", "/decompress", &owner, json!({ "file": name }));
        assert!(decompressed.status >= 400, "{name}: {decompressed:?}");
    }
    assert_eq!(std::fs::read_dir(&volume).unwrap().count(), before + 3);
    assert!(!volume.join("ok.txt").exists() && !volume.join("escape").exists());

    // Pulls: the node reaches only public addresses, so a URL on this machine fails
    // (the reason lands in the activity log, nothing is written); a host the
    // administrator does not list is refused at once.
    let pulled = files.send(
        "POST",
        "/pull",
        &owner,
        json!({ "url": "http://127.0.0.1:9/pack.zip", "directory": "/" }),
    );
    assert_eq!(pulled.status, 204, "{pulled:?}");
    let activity =
        format!("/api/client/servers/{short_id}/activity?search=server.file.pull-failed");
    let failure = eventually(Duration::from_secs(30), "the pull's outcome", || {
        let log = panel.get_as(&activity, &owner);
        log.body["data"]
            .as_array()
            .and_then(|rows| rows.first().cloned())
    });
    assert!(
        failure["properties"]["error"]
            .as_str()
            .is_some_and(|error| error.contains("not a public address")),
        "{failure:?}"
    );
    assert!(!volume.join("pack.zip").exists());
    let narrowed = panel.json(
        "PUT",
        "/api/admin/plugins/core-files/settings",
        &admin,
        Some(json!({ "pull_hosts": ["example.org"] })),
    );
    assert_eq!(narrowed.status, 200, "{narrowed:?}");
    let refused = files.send(
        "POST",
        "/pull",
        &owner,
        json!({ "url": "https://example.com/x.zip" }),
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.raw_text().contains("pull_hosts"), "{refused:?}");

    // Each operation checks the permission Pterodactyl uses for it.
    let lister = panel.user_key("lister");
    let writer = panel.user_key("writer");
    let users = format!("/api/client/servers/{short_id}/users");
    for (email, permissions) in [
        ("lister@example.com", json!(["file.read", "file.update"])),
        (
            "writer@example.com",
            json!(["file.read", "file.read-content", "file.update"]),
        ),
    ] {
        let added = panel.json(
            "POST",
            &users,
            &owner,
            Some(json!({ "email": email, "permissions": permissions })),
        );
        assert_eq!(added.status, 201, "{added:?}");
    }
    assert_eq!(files.get("/list", &lister).status, 200);
    assert_eq!(
        files
            .get("/contents?file=config/server.cfg", &lister)
            .status,
        403
    );
    assert_eq!(
        files
            .get("/download?file=config/server.cfg", &lister)
            .status,
        403
    );
    assert_eq!(
        files.get("/history?file=config/server.cfg", &lister).status,
        403
    );
    assert_eq!(files.write("new.txt", &writer, b"new").status, 403);
    assert!(!volume.join("new.txt").exists());
    let folder = files.send("POST", "/create-folder", &writer, json!({ "name": "nope" }));
    assert_eq!(folder.status, 403, "{folder:?}");
    assert_eq!(files.get("/upload", &writer).status, 403);
    let pull = files.send(
        "POST",
        "/pull",
        &writer,
        json!({ "url": "https://example.org/x" }),
    );
    assert_eq!(pull.status, 403, "{pull:?}");
    let removal = files.send(
        "POST",
        "/delete",
        &writer,
        json!({ "files": ["made-by-the-game.txt"] }),
    );
    assert_eq!(removal.status, 403, "{removal:?}");
    // file.update changes existing files, and its saves are the writer's revisions.
    assert_eq!(
        files
            .write("made-by-the-game.txt", &writer, b"by the writer\n")
            .status,
        204
    );
    let revisions = files.history("made-by-the-game.txt", &writer);
    assert_eq!(revisions[0]["username"], "writer");

    // A folder of 20,000 entries lists whole, or page by page.
    let crowd = volume.join("crowd");
    std::fs::create_dir(&crowd).unwrap();
    for n in 0..20_000 {
        std::fs::write(crowd.join(format!("file-{n:05}.txt")), "x").unwrap();
    }
    let listed = files.get("/list?directory=crowd", &owner);
    assert_eq!(listed.status, 200);
    let names: Vec<_> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["attributes"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 20_000);
    assert_eq!(names[19_999], "file-19999.txt");
    let page = files.get("/list?directory=crowd&per_page=5000&page=4", &owner);
    assert_eq!(page.body["data"].as_array().unwrap().len(), 5000);
    assert_eq!(page.body["data"][0]["attributes"]["name"], "file-15000.txt");
    assert_eq!(page.body["meta"]["pagination"]["total"], 20_000);
    assert_eq!(page.body["meta"]["pagination"]["total_pages"], 4);
    node.kill_wings();
}
