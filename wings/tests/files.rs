//! The file API's filesystem layer against hostile paths: nothing outside the server's
//! directory can be read, written, listed, renamed, copied, chmod'ed or deleted, and a
//! refused write leaves everything as it was.

use hatchery_wings::files::ServerFiles;

struct Setup {
    _dirs: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn setup() -> Setup {
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("server");
    let outside = dirs.path().join("outside");
    std::fs::create_dir_all(root.join("world")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "host secret").unwrap();
    std::fs::write(root.join("server.properties"), "motd=hi\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("secret-link")).unwrap();
    std::os::unix::fs::symlink("world", root.join("inside-link")).unwrap();
    Setup {
        _dirs: dirs,
        root,
        outside,
    }
}

#[test]
fn everyday_operations_work() {
    let s = setup();
    let files = ServerFiles::open(&s.root, 0).unwrap();
    assert_eq!(
        files.read("/server.properties", 1024).unwrap(),
        b"motd=hi\n"
    );
    files.write("/config/ops.json", b"[]").unwrap();
    assert_eq!(
        std::fs::read(s.root.join("config/ops.json")).unwrap(),
        b"[]"
    );
    files.create_dir("/plugins/data").unwrap();
    files
        .rename("/config/ops.json", "/plugins/ops.json")
        .unwrap();
    assert!(s.root.join("plugins/ops.json").exists());
    assert_eq!(
        files.copy("/server.properties").unwrap(),
        "/server copy.properties"
    );
    assert_eq!(
        files.copy("/server.properties").unwrap(),
        "/server copy 2.properties"
    );
    files.chmod("/server.properties", 0o600).unwrap();
    let listing = files.list("/").unwrap();
    let names: Vec<&str> = listing.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names[..3],
        ["config", "plugins", "world"],
        "directories first: {names:?}"
    );
    let properties = listing
        .iter()
        .find(|e| e.name == "server.properties")
        .unwrap();
    assert_eq!(
        (properties.mode, properties.size, properties.file),
        (0o600, 8, true)
    );
    assert!(listing.iter().find(|e| e.name == "escape").unwrap().symlink);
    // Links that stay inside work.
    files.write("/inside-link/level.dat", b"x").unwrap();
    assert!(s.root.join("world/level.dat").exists());
    files.delete("/plugins").unwrap();
    assert!(!s.root.join("plugins").exists());
    assert!(
        files
            .rename("/server.properties", "/world/level.dat")
            .is_err(),
        "no silent overwrite"
    );
}

#[test]
fn hostile_paths_are_refused_and_touch_nothing_outside() {
    let s = setup();
    let files = ServerFiles::open(&s.root, 0).unwrap();
    let escapes = [
        "../outside/secret.txt",
        "/../outside/secret.txt",
        "world/../../outside/secret.txt",
        "escape/secret.txt",
        "secret-link",
    ];
    for path in escapes {
        let err = files.read(path, 1024).unwrap_err().to_string();
        assert!(
            err.contains("outside the server's directory"),
            "read {path}: {err}"
        );
        assert!(files.write(path, b"pwned").is_err(), "write {path}");
        assert!(files.chmod(path, 0o777).is_err(), "chmod {path}");
        assert!(files.copy(path).is_err(), "copy {path}");
    }
    assert!(files.list("escape").is_err());
    assert!(files.list("..").is_err());
    assert!(files.write("escape/new.txt", b"x").is_err());
    assert!(files.create_dir("escape/newdir").is_err());
    assert!(files.rename("server.properties", "escape/moved").is_err());
    assert!(files.rename("escape/secret.txt", "stolen.txt").is_err());
    assert!(files.delete("..").is_err());
    assert!(files.delete("/").is_err(), "the top directory stays");
    let nul = files
        .read("server\0.properties", 1024)
        .unwrap_err()
        .to_string();
    assert!(nul.contains("NUL"), "{nul}");

    // Deleting a link removes the link, never what it points at.
    files.delete("secret-link").unwrap();
    files.delete("escape").unwrap();
    let outside: Vec<_> = std::fs::read_dir(&s.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, ["secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(s.outside.join("secret.txt")).unwrap(),
        "host secret"
    );
    // An absolute path means the server's top directory, not the host's.
    assert!(
        files
            .read("/etc/passwd", 1024)
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
}

#[test]
fn quota_refuses_oversized_writes_and_keeps_the_old_file() {
    let s = setup();
    let files = ServerFiles::open(&s.root, 1).unwrap();
    files.write("/big.bin", &vec![1u8; 900 * 1024]).unwrap();
    let err = files
        .write("/more.bin", &vec![2u8; 200 * 1024])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not enough disk space"), "{err}");
    assert!(!s.root.join("more.bin").exists(), "nothing half-written");
    // Replacing a file counts only the growth.
    files.write("/big.bin", &vec![3u8; 950 * 1024]).unwrap();
    let err = files
        .write("/big.bin", &vec![4u8; 2 * 1024 * 1024])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not enough disk space"), "{err}");
    assert_eq!(
        std::fs::read(s.root.join("big.bin")).unwrap(),
        vec![3u8; 950 * 1024],
        "old contents kept"
    );
    assert!(files.copy("/big.bin").is_err());
    let leftovers: Vec<_> = std::fs::read_dir(&s.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("wings-upload"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn listings_have_no_entry_cap_and_reads_have_a_size_cap() {
    let s = setup();
    for index in 0..1_000 {
        std::fs::write(
            s.root.join("world").join(format!("chunk-{index}.dat")),
            b"c",
        )
        .unwrap();
    }
    let files = ServerFiles::open(&s.root, 0).unwrap();
    assert_eq!(files.list("/world").unwrap().len(), 1_000);
    let err = files.read("/server.properties", 4).unwrap_err().to_string();
    assert!(err.contains("download it instead"), "{err}");
    assert!(
        files
            .read("/world", 10)
            .unwrap_err()
            .to_string()
            .contains("is a directory")
    );
}
