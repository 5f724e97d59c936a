//! `cargo bench -p wings --bench files`: the file manager's heavy operations on the
//! node, in-process (no HTTP): searching a 1 GB tree of mixed files by name, glob and
//! content, and listing a folder of 20,000 entries. Prints the time of each and the
//! peak memory the search added (VmHWM, reset before each run).
//!
//! `HATCHERY_BENCH_TREE_MB` changes the tree's size (default 1024).

use std::io::Write;
use std::time::Instant;

use hatchery_wings::files::ServerFiles;
use hatchery_wings::files::search::SearchQuery;

fn main() {
    let megabytes: u64 = std::env::var("HATCHERY_BENCH_TREE_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let started = Instant::now();
    let (files, bytes) = build_tree(&root, megabytes * 1024 * 1024);
    println!(
        "tree: {files} files, {:.0} MiB, built in {:.1} s",
        bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    let server = ServerFiles::open(&root, 0).unwrap();

    let query = |edit: &dyn Fn(&mut SearchQuery)| {
        let mut query = SearchQuery {
            limit: Some(5000),
            ..SearchQuery::default()
        };
        edit(&mut query);
        query
    };
    let cases = [
        ("name `config`", query(&|q| q.name = Some("config".into()))),
        (
            "glob `plugins/**/*.yml`",
            query(&|q| q.glob = Some("plugins/**/*.yml".into())),
        ),
        (
            "content `needle-42`",
            query(&|q| q.content = Some("needle-42".into())),
        ),
        (
            "content `spawn-protection` in *.properties",
            query(&|q| {
                q.content = Some("spawn-protection".into());
                q.glob = Some("*.properties".into());
            }),
        ),
    ];
    for (name, query) in cases {
        // Twice: the first from disk (when this process may drop the page cache),
        // the second from the page cache.
        for pass in ["cold", "warm"] {
            let pass = match pass == "cold" && !drop_page_cache() {
                true => "page cache warm: not allowed to drop it",
                false => pass,
            };
            reset_peak_memory();
            let base = memory_kib("VmRSS");
            let started = Instant::now();
            let mut hits = 0;
            let summary = server
                .search("/", &query, true, &mut |_| {
                    hits += 1;
                    true
                })
                .unwrap();
            let elapsed = started.elapsed();
            let peak = memory_kib("VmHWM").saturating_sub(base);
            println!(
                "search {name} ({pass}): {hits} hits of {} entries in {:.0} ms, peak +{:.1} MiB",
                summary.scanned,
                elapsed.as_secs_f64() * 1000.0,
                peak as f64 / 1024.0
            );
        }
    }

    let crowd = root.join("crowd");
    std::fs::create_dir_all(&crowd).unwrap();
    for n in 0..20_000 {
        std::fs::write(crowd.join(format!("file-{n:05}.txt")), "x").unwrap();
    }
    let mut timings = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let entries = server.list("/crowd").unwrap();
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(entries.len(), 20_000);
    }
    timings.sort_by(f64::total_cmp);
    println!(
        "list 20,000 entries (wings' filesystem layer): median {:.1} ms, best {:.1} ms",
        timings[timings.len() / 2],
        timings[0]
    );
}

/// A game server's kind of tree: many small configs and logs, plugin folders, some
/// large binary region files; about `target` bytes in all.
fn build_tree(root: &std::path::Path, target: u64) -> (u64, u64) {
    let mut written = 0u64;
    let mut files = 0u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut n = 0u64;
    while written < target {
        n += 1;
        let (path, bytes): (String, Vec<u8>) = match n % 10 {
            // Region files: 2–6 MiB of binary.
            0 => {
                let size = (2 + random() % 5) * 1024 * 1024;
                let mut data = vec![0u8; size as usize];
                for chunk in data.chunks_mut(8) {
                    chunk.copy_from_slice(&random().to_le_bytes()[..chunk.len()]);
                }
                (format!("world/region/r.{n}.mca"), data)
            }
            // Plugin configs.
            1..=4 => {
                let mut text = String::new();
                for line in 0..(20 + random() % 200) {
                    text.push_str(&format!("key-{line}: value {}\n", random() % 100_000));
                }
                if n.is_multiple_of(997) {
                    text.push_str("secret: needle-42\n");
                }
                (
                    format!("plugins/plugin-{}/config-{n}.yml", n % 300),
                    text.into_bytes(),
                )
            }
            5 => (
                format!("configs/server-{n}.properties"),
                format!(
                    "spawn-protection={}\nmotd=hello {n}\nmax-players=20\n",
                    n % 16
                )
                .into_bytes(),
            ),
            // Logs: 16–256 KiB of text.
            _ => {
                let mut text = String::new();
                let target = (16 + random() % 240) * 1024;
                while (text.len() as u64) < target {
                    text.push_str(&format!(
                        "[12:00:{:02}] [Server thread/INFO]: player{} joined the game\n",
                        random() % 60,
                        random() % 1000
                    ));
                }
                (format!("logs/{}/log-{n}.log", n % 50), text.into_bytes())
            }
        };
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        written += bytes.len() as u64;
        files += 1;
    }
    (files, written)
}

/// Writes dirty pages out and drops the page cache (needs root).
fn drop_page_cache() -> bool {
    let _ = std::process::Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn reset_peak_memory() {
    // Linux: "5" resets the peak resident set size (VmHWM) to the current one.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
