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
    // Deleting frees space at once, and a second handle sharing the figure agrees.
    let usage = std::sync::Arc::new(hatchery_wings::files::DiskUsage::default());
    let first = ServerFiles::open_shared(&s.root, 1, usage.clone()).unwrap();
    let second = ServerFiles::open_shared(&s.root, 1, usage).unwrap();
    first.delete("/big.bin").unwrap();
    second
        .write("/after-delete.bin", &vec![5u8; 900 * 1024])
        .unwrap();
    assert!(
        first
            .write("/one-more.bin", &vec![6u8; 200 * 1024])
            .is_err(),
        "the shared figure counts the other handle's write"
    );
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

mod archives {
    use std::io::Write;

    use super::{entries, setup};
    use hatchery_wings::files::ServerFiles;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// A tar.gz whose entry names are written raw, so hostile names survive.
    fn tar_gz_with(entries: &[(&str, &[u8], tar::EntryType, &str)]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&tar_with(entries)).unwrap();
        encoder.finish().unwrap()
    }

    fn tar_zst_with(entries: &[(&str, &[u8], tar::EntryType, &str)]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(
            &tar_with(entries)[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        )
    }

    /// A 7z archive; an entry with a link target becomes a Unix symlink (p7zip's way:
    /// the mode in the attributes' high half).
    fn seven_zip_with(entries: &[(&str, &[u8], &str)]) -> Vec<u8> {
        let mut writer =
            sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
        for (name, data, link) in entries {
            let mut entry = sevenz_rust2::ArchiveEntry::new_file(name);
            let data: &[u8] = if link.is_empty() {
                data
            } else {
                entry.has_windows_attributes = true;
                entry.windows_attributes = 0x8000 | (0o120777 << 16);
                link.as_bytes()
            };
            writer.push_archive_entry(entry, Some(data)).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn tar_with(entries: &[(&str, &[u8], tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data, kind, link) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if !link.is_empty() {
                header.as_gnu_mut().unwrap().linkname[..link.len()]
                    .copy_from_slice(link.as_bytes());
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn compress_and_extract_round_trip() {
        let s = setup();
        std::fs::create_dir_all(s.root.join("world/region")).unwrap();
        std::fs::write(s.root.join("world/region/r.0.0.mca"), vec![7u8; 10_000]).unwrap();
        std::os::unix::fs::symlink("region/r.0.0.mca", s.root.join("world/latest")).unwrap();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        let archive = files
            .compress("/", &["world".into(), "server.properties".into()])
            .unwrap();
        assert!(
            archive.starts_with("/archive-") && archive.ends_with(".tar.gz"),
            "{archive}"
        );

        files.create_dir("/restore").unwrap();
        files.decompress("/restore", &archive).unwrap();
        assert_eq!(
            std::fs::read(s.root.join("restore/world/region/r.0.0.mca")).unwrap(),
            vec![7u8; 10_000]
        );
        assert_eq!(
            std::fs::read_to_string(s.root.join("restore/server.properties")).unwrap(),
            "motd=hi\n"
        );
        assert_eq!(
            std::fs::read_link(s.root.join("restore/world/latest"))
                .unwrap()
                .to_str(),
            Some("region/r.0.0.mca")
        );
        assert!(
            !entries(&s.root.join("restore"))
                .iter()
                .any(|n| n.starts_with(".wings")),
            "no staging left"
        );

        // Extracting again merges and replaces.
        std::fs::write(s.root.join("restore/server.properties"), "changed").unwrap();
        files.decompress("/restore", &archive).unwrap();
        assert_eq!(
            std::fs::read_to_string(s.root.join("restore/server.properties")).unwrap(),
            "motd=hi\n"
        );

        std::fs::write(
            s.root.join("plugins.zip"),
            zip_with(&[("plugins/a.jar", b"jar"), ("plugins/b/config.yml", b"x: 1")]),
        )
        .unwrap();
        files.decompress("/", "/plugins.zip").unwrap();
        assert_eq!(
            std::fs::read(s.root.join("plugins/b/config.yml")).unwrap(),
            b"x: 1"
        );
    }

    #[test]
    fn hostile_archives_extract_nothing() {
        let s = setup();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        files.create_dir("/target").unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "slip.zip",
                zip_with(&[("ok.txt", b"fine"), ("../../outside/evil.txt", b"evil")]),
                "unsafe entry",
            ),
            (
                "abs.zip",
                zip_with(&[("ok.txt", b"fine"), ("/tmp/evil.txt", b"evil")]),
                "unsafe entry",
            ),
            (
                "slip.tar.gz",
                tar_gz_with(&[
                    ("ok.txt", b"fine", tar::EntryType::Regular, ""),
                    ("../evil.txt", b"evil", tar::EntryType::Regular, ""),
                ]),
                "unsafe entry",
            ),
            (
                "link.tar.gz",
                tar_gz_with(&[
                    ("ok.txt", b"fine", tar::EntryType::Regular, ""),
                    ("sneaky", b"", tar::EntryType::Symlink, "../../outside"),
                ]),
                "pointing outside",
            ),
            (
                "abslink.tar.gz",
                tar_gz_with(&[("sneaky", b"", tar::EntryType::Symlink, "/etc")]),
                "pointing outside",
            ),
            (
                "device.tar.gz",
                tar_gz_with(&[("dev", b"", tar::EntryType::Char, "")]),
                "special file",
            ),
            ("notes.txt", b"not an archive".to_vec(), "not an archive"),
            (
                "broken.zip",
                b"PK\x03\x04 broken".to_vec(),
                "not a valid zip",
            ),
        ];
        for (name, bytes, expected) in cases {
            std::fs::write(s.root.join(name), bytes).unwrap();
            let err = files.decompress("/target", name).unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: `{err}` lacks `{expected}`");
            assert!(
                entries(&s.root.join("target")).is_empty(),
                "{name}: something was extracted"
            );
        }
        assert_eq!(entries(&s.outside), ["secret.txt"]);
    }

    #[test]
    fn every_format_is_browsed_read_and_extracted_in_part() {
        let s = setup();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        let regular = tar::EntryType::Regular;
        let contents: [(&str, &[u8]); 3] = [
            ("config/server.properties", b"motd=packed\n"),
            ("config/ops.json", b"[]"),
            ("world/level.dat", &[0, 1, 2, 3]),
        ];
        let tar_entries: Vec<_> = contents
            .iter()
            .map(|(name, data)| (*name, *data, regular, ""))
            .collect();
        let seven: Vec<_> = contents
            .iter()
            .map(|(name, data)| (*name, *data, ""))
            .collect();
        for (name, bytes) in [
            ("a.zip", zip_with(&contents)),
            ("a.jar", zip_with(&contents)),
            ("a.tar", tar_with(&tar_entries)),
            ("a.tar.gz", tar_gz_with(&tar_entries)),
            ("a.tar.zst", tar_zst_with(&tar_entries)),
            ("a.7z", seven_zip_with(&seven)),
        ] {
            std::fs::write(s.root.join(name), bytes).unwrap();
            let listed = files.archive_entries(name).unwrap();
            let names: Vec<_> = listed.iter().map(|entry| entry.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "config/server.properties",
                    "config/ops.json",
                    "world/level.dat"
                ],
                "{name}"
            );
            assert_eq!(listed[2].size, 4, "{name}");
            assert_eq!(
                files
                    .archive_entry(name, "config/server.properties", 1024)
                    .unwrap(),
                b"motd=packed\n",
                "{name}"
            );
            let missing = files.archive_entry(name, "nope.txt", 1024).unwrap_err();
            assert!(
                missing.to_string().contains("has no entry"),
                "{name}: {missing}"
            );
            let small = files.archive_entry(name, "config/server.properties", 4);
            assert!(small.is_err(), "{name}: read past its limit");

            // One file lands under its own name; a folder with what it holds.
            let out = format!("/out-{name}");
            files.create_dir(&out).unwrap();
            files
                .extract(&out, name, &["config/ops.json".into()])
                .unwrap();
            let landed = s.root.join(&out[1..]);
            assert_eq!(entries(&landed), ["ops.json"], "{name}");
            files.extract(&out, name, &["config".into()]).unwrap();
            assert_eq!(
                std::fs::read(landed.join("config/server.properties")).unwrap(),
                b"motd=packed\n",
                "{name}"
            );
            assert_eq!(entries(&landed), ["config", "ops.json"], "{name}");
        }
    }

    #[test]
    fn hostile_entries_in_any_format_refuse_the_whole_extraction() {
        let s = setup();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        files.create_dir("/target").unwrap();
        let regular = tar::EntryType::Regular;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "slip.tar.zst",
                tar_zst_with(&[
                    ("ok.txt", b"fine", regular, ""),
                    ("a/../../evil.txt", b"evil", regular, ""),
                ]),
                "unsafe entry",
            ),
            (
                "link.7z",
                seven_zip_with(&[("ok.txt", b"fine", ""), ("sneaky", b"", "../../outside")]),
                "pointing outside",
            ),
            (
                "slip.7z",
                seven_zip_with(&[("ok.txt", b"fine", ""), ("../evil.txt", b"evil", "")]),
                "unsafe entry",
            ),
        ];
        for (name, bytes, expected) in cases {
            std::fs::write(s.root.join(name), bytes).unwrap();
            // Choosing only the harmless entry does not get the archive past the checks.
            for only in [vec![], vec!["ok.txt".to_string()]] {
                let err = files
                    .extract("/target", name, &only)
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(expected), "{name}: `{err}` lacks `{expected}`");
                assert!(entries(&s.root.join("target")).is_empty(), "{name}");
            }
        }
        assert_eq!(entries(&s.outside), ["secret.txt"]);
    }

    #[test]
    fn archives_with_too_many_entries_are_not_opened() {
        let s = setup();
        let many: Vec<(String, &[u8])> = (0..=hatchery_wings::files::archives::MAX_ENTRIES)
            .map(|n| (format!("f{n}"), &b""[..]))
            .collect();
        let named: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        std::fs::write(s.root.join("many.zip"), zip_with(&named)).unwrap();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        let err = files.archive_entries("many.zip").unwrap_err().to_string();
        assert!(err.contains("more than 100000 entries"), "{err}");
        assert!(files.decompress("/", "many.zip").is_err());
        assert!(!s.root.join("f0").exists());
    }

    #[test]
    fn zip_bombs_are_stopped_by_ratio_and_quota() {
        let s = setup();
        // 40 MiB of zeros compresses to a few tens of KiB: far beyond 200x its size.
        std::fs::write(
            s.root.join("bomb.zip"),
            zip_with(&[("zeros.bin", &vec![0u8; 40 * 1024 * 1024])]),
        )
        .unwrap();
        let files = ServerFiles::open(&s.root, 0).unwrap();
        let err = files.decompress("/", "bomb.zip").unwrap_err().to_string();
        assert!(err.contains("expands to more than"), "{err}");
        assert!(!s.root.join("zeros.bin").exists());
        // Reading the entry to view it is refused the same way.
        let err = files
            .archive_entry("bomb.zip", "zeros.bin", u64::MAX / 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expands to more than"), "{err}");

        // Within the ratio but over the quota.
        std::fs::write(
            s.root.join("big.tar.gz"),
            tar_gz_with(&[(
                "data.bin",
                &vec![9u8; 3 * 1024 * 1024],
                tar::EntryType::Regular,
                "",
            )]),
        )
        .unwrap();
        let limited = ServerFiles::open(&s.root, 2).unwrap();
        let err = limited
            .decompress("/", "big.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expands to more than"), "{err}");
        assert!(!s.root.join("data.bin").exists());
    }
}

/// A FIFO, a socket or a device node made inside the server's directory (by a process
/// in the container) is never opened: every path that opens files refuses it at once
/// instead of blocking a worker thread forever.
#[test]
fn special_files_are_refused_without_blocking() {
    let s = setup();
    let fifo = s.root.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let socket = std::os::unix::net::UnixListener::bind(s.root.join("sock")).unwrap();
    std::fs::write(s.root.join("pipe-name.txt"), "x").unwrap();
    let files = ServerFiles::open(&s.root, 0).unwrap();

    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let not_regular = |result: Result<(), String>| {
            let err = result.expect_err("a special file must be refused");
            assert!(
                err.contains("not a regular file") || err.contains("only files can be copied"),
                "{err}"
            );
        };
        for path in ["/pipe", "/sock"] {
            not_regular(files.read(path, 1024).map(drop).map_err(|e| e.to_string()));
            not_regular(files.open_read(path).map(drop).map_err(|e| e.to_string()));
            not_regular(
                files
                    .open_write(path, false, false, false)
                    .map(drop)
                    .map_err(|e| e.to_string()),
            );
            not_regular(files.copy(path).map(drop).map_err(|e| e.to_string()));
        }
        // An archive of the folder leaves special files out rather than hanging.
        let archive = files
            .compress("/", &["pipe".into(), "pipe-name.txt".into()])
            .unwrap();
        assert!(files.entry(&archive, false).is_ok());
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("wings blocked on a special file");
    drop(socket);
}

/// 64 KiB at a time with a pause, so writes overlap.
struct SlowSource {
    left: usize,
    byte: u8,
}

impl std::io::Read for SlowSource {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let n = buffer.len().min(self.left).min(64 * 1024);
        buffer[..n].fill(self.byte);
        self.left -= n;
        Ok(n)
    }
}

/// Writes running at the same time cannot together pass the quota: each byte is
/// reserved before it is written.
#[test]
fn parallel_writes_cannot_pass_the_quota_together() {
    let s = setup();
    let usage = std::sync::Arc::new(hatchery_wings::files::DiskUsage::default());
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let files = ServerFiles::open_shared(&s.root, 2, usage.clone()).unwrap();
            std::thread::spawn(move || {
                let source = SlowSource {
                    left: 512 * 1024,
                    byte: n as u8,
                };
                files.write_from(&format!("/part{n}.bin"), source).is_ok()
            })
        })
        .collect();
    let succeeded = writers
        .into_iter()
        .map(|w| w.join().unwrap())
        .filter(|ok| *ok)
        .count();
    // Eight writes of 512 KiB into 2 MiB (a few bytes are already used): at most three fit.
    assert!((1..=3).contains(&succeeded), "{succeeded} writes succeeded");
    let total: u64 = std::fs::read_dir(&s.root)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert!(total <= 2 * 1024 * 1024, "{total} bytes on disk");
}

/// The number of files and folders one server may hold is bounded, for writes,
/// folders and archives alike.
#[test]
fn entries_are_bounded() {
    let s = setup();
    // What setup() made (all at the top; `world` is empty), plus room for six more.
    let existing = std::fs::read_dir(&s.root).unwrap().count() as u64;
    let files = ServerFiles::open(&s.root, 0)
        .unwrap()
        .with_max_entries(existing + 6);
    for n in 0..6 {
        files.write(&format!("/f{n}.txt"), b"x").unwrap();
    }
    let err = files
        .write("/one-too-many.txt", b"x")
        .unwrap_err()
        .to_string();
    assert!(err.contains("files and folders"), "{err}");
    assert!(files.create_dir("/another").is_err());
    // Changing an existing file needs no new entry.
    files.write("/f0.txt", b"changed").unwrap();

    // An archive with more entries than are left extracts nothing.
    let roomy = ServerFiles::open(&s.root, 0).unwrap();
    let archive = roomy
        .compress(
            "/",
            &(0..6).map(|n| format!("f{n}.txt")).collect::<Vec<_>>(),
        )
        .unwrap();
    roomy.delete("/f1.txt").unwrap();
    roomy.create_dir("/unpack").unwrap();
    // Now: existing + 5 files + the archive + `unpack`; the six entries would pass 3 more.
    let limited = ServerFiles::open(&s.root, 0)
        .unwrap()
        .with_max_entries(existing + 10);
    let err = limited
        .decompress("/unpack", &archive)
        .unwrap_err()
        .to_string();
    assert!(err.contains("more files than the server may have"), "{err}");
    assert_eq!(std::fs::read_dir(s.root.join("unpack")).unwrap().count(), 0);
}

/// Search walks the server's directory and nothing else: links are listed by name but
/// never followed, so a link to the host's files finds none of them.
#[test]
fn search_filters_and_never_follows_links() {
    use hatchery_wings::files::search::SearchQuery;
    let s = setup();
    std::fs::create_dir_all(s.root.join("plugins/essentials")).unwrap();
    std::fs::write(
        s.root.join("plugins/essentials/config.yml"),
        "motd: Secret Base\nspawn: 0\n",
    )
    .unwrap();
    std::fs::write(s.root.join("plugins/other.yml"), "x".repeat(5000)).unwrap();
    std::fs::write(
        s.root.join("world/level.dat"),
        [0u8, 1, 2, b's', b'e', b'c', b'r', b'e', b't'],
    )
    .unwrap();
    let files = ServerFiles::open(&s.root, 0).unwrap();
    let run = |query: SearchQuery,
               contents: bool|
     -> (Vec<String>, hatchery_wings::files::search::Summary) {
        let mut hits = Vec::new();
        let summary = files
            .search("/", &query, contents, &mut |hit| {
                hits.push(hit.path);
                true
            })
            .unwrap();
        (hits, summary)
    };
    let query = |edit: &dyn Fn(&mut SearchQuery)| {
        let mut query = SearchQuery::default();
        edit(&mut query);
        query
    };

    // By content, case-insensitively; binary files and the host's files are not hits.
    let (hits, summary) = run(query(&|q| q.content = Some("SECRET".into())), true);
    assert_eq!(hits, ["/plugins/essentials/config.yml"]);
    assert!(summary.done && !summary.truncated);
    // By glob, across folders (a folder's own entries come before its subfolders').
    let (hits, _) = run(query(&|q| q.glob = Some("plugins/**/*.yml".into())), false);
    assert_eq!(
        hits,
        ["/plugins/other.yml", "/plugins/essentials/config.yml"]
    );
    // By name, and by size.
    let (hits, _) = run(
        query(&|q| {
            q.name = Some(".yml".into());
            q.min_size = Some(1000);
        }),
        false,
    );
    assert_eq!(hits, ["/plugins/other.yml"]);
    // Links are found by name, not walked into.
    let (hits, _) = run(query(&|q| q.name = Some("secret".into())), false);
    assert_eq!(hits, ["/secret-link"]);
    // Dates: nothing was modified in the future.
    let future = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let (hits, _) = run(
        query(&|q| {
            q.name = Some("yml".into());
            q.modified_after = Some(future);
        }),
        false,
    );
    assert!(hits.is_empty());
    // The limit truncates, and says so.
    let (hits, summary) = run(
        query(&|q| {
            q.name = Some("e".into());
            q.limit = Some(2);
        }),
        false,
    );
    assert_eq!(hits.len(), 2);
    assert!(summary.truncated);

    // Without file.read-content, contents are not searched; hostile folders are refused.
    let refused = files.search(
        "/",
        &query(&|q| q.content = Some("motd".into())),
        false,
        &mut |_| true,
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("file.read-content")
    );
    for hostile in ["../outside", "/escape", "/../.."] {
        let result = files.search(
            hostile,
            &query(&|q| q.name = Some("secret".into())),
            true,
            &mut |_| true,
        );
        assert!(result.is_err(), "{hostile} was searched");
    }
    let empty = files.search("/", &SearchQuery::default(), true, &mut |_| true);
    assert!(
        empty
            .unwrap_err()
            .to_string()
            .contains("say what to look for")
    );
}

/// A tiny HTTP server on 127.0.0.1 answering every request with `body` (and a
/// `Content-Disposition` naming it `served.txt`); returns its address.
fn serve(body: &'static [u8], requests: usize) -> std::net::SocketAddr {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Disposition: attachment; filename=\"served.txt\"\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    address
}

/// Pulls reach only public addresses (unless the node allows private ones), stream
/// into place within a size limit, and leave nothing when refused or cut off.
#[test]
fn pulls_reach_only_public_addresses_and_stay_within_their_limit() {
    use hatchery_wings::files::pull::PullPolicy;
    let s = setup();
    let files = ServerFiles::open(&s.root, 0).unwrap();
    let open = PullPolicy {
        private_networks: true,
        max_bytes: 1024,
    };
    let address = serve(b"modpack contents", 4);
    let url = format!("http://{address}/downloads/pack%20v1.txt");
    assert_eq!(
        files.pull(&url, "/world", None, false, &open).unwrap(),
        "/world/pack v1.txt"
    );
    assert_eq!(
        std::fs::read(s.root.join("world/pack v1.txt")).unwrap(),
        b"modpack contents"
    );
    assert_eq!(
        files.pull(&url, "/", None, true, &open).unwrap(),
        "/served.txt"
    );
    assert_eq!(
        files
            .pull(&url, "/", Some("named.txt"), true, &open)
            .unwrap(),
        "/named.txt"
    );

    // The node's own network is off limits by default.
    let guarded = PullPolicy {
        private_networks: false,
        max_bytes: 1024,
    };
    let refused = files
        .pull(&url, "/", Some("never.txt"), false, &guarded)
        .unwrap_err();
    assert!(
        refused.to_string().contains("not a public address"),
        "{refused}"
    );
    assert!(!s.root.join("never.txt").exists());
    // Bigger than allowed: nothing is left.
    let big = serve(&[b'x'; 4096], 1);
    let cut = files
        .pull(&format!("http://{big}/big.bin"), "/", None, false, &open)
        .unwrap_err();
    assert!(!s.root.join("big.bin").exists(), "{cut}");
    for bad in ["ftp://example.com/x", "not a url", "file:///etc/passwd"] {
        assert!(files.pull(bad, "/", None, false, &open).is_err(), "{bad}");
    }
    let escape = files.pull(&url, "/../outside", Some("x.txt"), false, &open);
    assert!(escape.is_err());
    assert_eq!(entries(&s.outside), ["secret.txt"]);
}

/// The names in `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
