//! `cargo xtask bench`: core-files through a real panel and a real wings on podman —
//! the edit history's storage and speed for 100 saves of a 1 MiB text file with small
//! edits, and a folder of 20,000 entries listed through the plugin.
//!
//! Runs the panel and wings binaries beside this benchmark (release under `cargo
//! xtask bench`) and the assembled core-files plugin.

#[allow(dead_code)]
#[path = "../tests/all/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/all/local_node.rs"]
mod local_node;

use std::time::{Duration, Instant};

use local_node::installed_server;
use support::{Dialect, panel};

const SAVES: usize = 100;

fn main() {
    let engine =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    if !std::path::Path::new(engine.trim_start_matches("unix://")).exists() {
        eprintln!("no container engine at {engine}; the core-files benchmark is skipped");
        return;
    }
    // The plugin as `cargo xtask bench` builds it: optimised, like the host.
    let optimised = tempfile::tempdir().unwrap();
    let plugin = optimised.path().join("core-files");
    support::copy_dir(&support::artifacts().plugins.join("core-files"), &plugin);
    let release = support::hatchery_bin().with_file_name(format!(
        "{}core_files{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    match release.exists() {
        true => drop(std::fs::copy(&release, plugin.join("plugin.so")).unwrap()),
        false => eprintln!(
            "warning: {} is missing; core-files runs its debug build",
            release.display()
        ),
    }
    let panel = panel(Dialect::Sqlite)
        .plugin_from(&plugin)
        .env("HATCHERY_LOG", "warn")
        .start();
    let admin = panel.admin_key();
    panel.user_key("owner");
    let (mut node, uuid) = installed_server(&panel, &admin, "files");
    let files = format!("/api/client/servers/{uuid}/files");

    // A 1 MiB config-like text, then 100 saves each changing one line.
    let mut lines: Vec<String> = (0..19_100)
        .map(|n| format!("setting-{n:05} = value {n:05}, as the file always had it\n"))
        .collect();
    let mut saves = Vec::with_capacity(SAVES);
    for save in 0..SAVES {
        let line = (save * 7919) % lines.len();
        lines[line] = format!("setting-{line:05} = changed in save {save}\n");
        let body: Vec<u8> = lines.concat().into_bytes();
        let started = Instant::now();
        let written = panel.request(
            "POST",
            &format!("{files}/write?file=big.cfg"),
            Some(&admin),
            Some(body),
        );
        saves.push(started.elapsed());
        assert_eq!(written.status, 204, "{written:?}");
    }
    let size = lines.concat().len();
    let usage = panel.get_as(&format!("{files}/history/usage"), &admin);
    let stored = usage.body["data"]["usage"]["stored_bytes"]
        .as_i64()
        .unwrap();
    let revisions = usage.body["data"]["usage"]["revisions"].as_i64().unwrap();
    println!(
        "history: {revisions} revisions of a {:.2} MiB file kept in {:.1} KiB ({:.2}% of {:.0} MiB saved; {:.1} KiB a revision)",
        size as f64 / 1048576.0,
        stored as f64 / 1024.0,
        stored as f64 * 100.0 / (size * SAVES) as f64,
        (size * SAVES) as f64 / 1048576.0,
        stored as f64 / 1024.0 / revisions as f64,
    );
    report("save through core-files (write + revision)", &mut saves);
    let mut reads = Vec::new();
    for revision in [1, 19, 20, 39, 50, 99, 100] {
        let started = Instant::now();
        let read = panel.get_as(
            &format!("{files}/history/contents?file=big.cfg&revision={revision}"),
            &admin,
        );
        reads.push(started.elapsed());
        assert_eq!(read.status, 200, "{read:?}");
    }
    report("rebuild a revision", &mut reads);
    let started = Instant::now();
    let diff = panel.get_as(
        &format!("{files}/history/diff?file=big.cfg&from=1&to=100"),
        &admin,
    );
    assert_eq!(diff.status, 200);
    println!(
        "diff between revisions 1 and 100: {} lines changed, {:.0} ms",
        diff.body["data"]["added"],
        started.elapsed().as_secs_f64() * 1000.0
    );

    let crowd = node.volumes.join(&uuid).join("crowd");
    std::fs::create_dir_all(&crowd).unwrap();
    for n in 0..20_000 {
        std::fs::write(crowd.join(format!("file-{n:05}.txt")), "x").unwrap();
    }
    let mut lists = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let listed = panel.get_as(&format!("{files}/list?directory=crowd"), &admin);
        lists.push(started.elapsed());
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 20_000);
    }
    report("list 20,000 entries through core-files", &mut lists);
    let direct = format!(
        "http://127.0.0.1:{}/api/servers/{uuid}/files/list-directory?directory=crowd",
        node.api_port
    );
    let token = format!("Bearer {}", node.token());
    let mut straight = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let body = ureq::get(&direct)
            .header("Authorization", &token)
            .call()
            .unwrap()
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        straight.push(started.elapsed());
        assert!(body.len() > 20_000);
    }
    report("list 20,000 entries straight from wings", &mut straight);
    node.kill_wings();
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "{what}: median {:.1} ms, p90 {:.1} ms, best {:.1} ms ({} runs)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
        ms(samples[0]),
        samples.len()
    );
}
