//! `cargo xtask bench`: a 1 MiB file read through a plugin's `node-files` call (panel
//! route → plugin → host call → wings), from each runtime, against the same read
//! straight from wings with the node token. A real panel, a real wings on podman, the
//! `bench-wasm` and `bench-native` test plugins. Prints p50/p99 and throughput.
//!
//! Needs the release `wings` binary beside `hatchery` (`cargo xtask bench` builds it)
//! and a container engine (`DOCKER_HOST`, podman by default).

#[allow(dead_code)]
#[path = "../tests/all/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/all/local_node.rs"]
mod local_node;

use std::time::{Duration, Instant};

use local_node::installed_server;
use support::{Dialect, panel};

const FILE_BYTES: usize = 1024 * 1024;
const READS: usize = 300;
const WARMUP: usize = 30;

fn main() {
    let wings = support::hatchery_bin().with_file_name("wings");
    if !wings.exists() {
        eprintln!(
            "{} is missing (cargo build --release -p wings); the node-files benchmark is skipped",
            wings.display()
        );
        return;
    }
    let engine =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    if !std::path::Path::new(engine.trim_start_matches("unix://")).exists() {
        eprintln!("no container engine at {engine}; the node-files benchmark is skipped");
        return;
    }

    // The native plugin as `cargo xtask bench` builds it: optimised, like the host.
    let optimised = tempfile::tempdir().unwrap();
    let native = optimised.path().join("bench-native");
    std::fs::create_dir_all(&native).unwrap();
    let assembled = support::artifacts().plugins.join("bench-native");
    std::fs::copy(assembled.join("plugin.toml"), native.join("plugin.toml")).unwrap();
    let release = support::hatchery_bin().with_file_name(format!(
        "{}bench_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let library = match release.exists() {
        true => release,
        false => {
            eprintln!(
                "warning: {} is missing; bench-native runs its debug build",
                release.display()
            );
            assembled.join("plugin.so")
        }
    };
    std::fs::copy(library, native.join("plugin.so")).unwrap();
    let panel = panel(Dialect::Sqlite)
        .plugin("bench-wasm")
        .plugin("core-files")
        .plugin_from(&native)
        .env("HATCHERY_LOG", "warn")
        .start();
    let admin = panel.admin_key();
    panel.user_key("owner");
    let (mut node, uuid) = installed_server(&panel, &admin, "files");
    let contents: Vec<u8> = (0..FILE_BYTES).map(|i| (i * 7 % 251) as u8).collect();
    let written = panel.request(
        "POST",
        &format!("/api/client/servers/{uuid}/files/write?file=big.bin"),
        Some(&admin),
        Some(contents.clone()),
    );
    assert_eq!(written.status, 204, "{written:?}");

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = format!("Bearer {}", node.token());
    let direct = format!(
        "http://127.0.0.1:{}/api/servers/{uuid}/files/contents?file=big.bin",
        node.api_port
    );
    let read = |url: &str, authorization: Option<&str>| {
        let mut request = agent.get(url);
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request.call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let body = response
            .body_mut()
            .with_config()
            .limit(4 * FILE_BYTES as u64)
            .read_to_vec()
            .unwrap();
        assert_eq!(body.len(), FILE_BYTES, "{url}");
        body
    };
    assert_eq!(read(&direct, Some(&token)), contents);

    println!("a 1 MiB file read, {READS} times after {WARMUP} warm-up, one at a time:");
    let straight = measure(|| drop(read(&direct, Some(&token))));
    report("straight from wings", &straight, None);
    for runtime in ["wasm", "native"] {
        let url = format!(
            "{}/api/plugins/bench-{runtime}/server/{uuid}/files/big.bin",
            panel.url
        );
        assert_eq!(read(&url, None), contents);
        let through = measure(|| drop(read(&url, None)));
        report(
            &format!("through a {runtime} plugin"),
            &through,
            Some(&straight),
        );
    }
    node.kill_wings();
}

fn measure(mut read: impl FnMut()) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(READS);
    for index in 0..READS + WARMUP {
        let started = Instant::now();
        read();
        if index >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    samples
}

fn report(what: &str, sorted: &[Duration], baseline: Option<&[Duration]>) {
    let p50 = sorted[sorted.len() / 2];
    let p99 = sorted[sorted.len() * 99 / 100];
    let throughput = FILE_BYTES as f64 / (1024.0 * 1024.0) / p50.as_secs_f64();
    let extra = baseline
        .map(|base| {
            let base = base[base.len() / 2];
            format!(
                "  (+{:.2} ms at p50)",
                (p50.as_secs_f64() - base.as_secs_f64()) * 1e3
            )
        })
        .unwrap_or_default();
    println!(
        "  {what:<24} p50 {:>7.2} ms   p99 {:>7.2} ms   {throughput:>7.0} MiB/s{extra}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
