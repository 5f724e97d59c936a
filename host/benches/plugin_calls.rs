//! `cargo xtask bench`: what a plugin call costs.
//!
//! Reports, in-process through the real router: per-call latency of a plain axum JSON
//! handler, of the same answer from a Wasm plugin and from a native plugin (p50/p99,
//! so the difference is the plugin overhead); the per-call store + instance set-up;
//! a Wasm plugin's cold load with and without the compiled-component cache; and the
//! idle RSS of a `hatchery serve` process with the example plugins loaded; and the
//! round trip of one `servers.get` host call from each runtime (a route making that
//! call against the same route making none).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use hatchery_host::config::Config;
use hatchery_host::db::{Database, migrate};
use hatchery_host::http::{AppState, router};
use hatchery_host::plugins::{PluginCode, PluginHost};
use tower::ServiceExt;

const CALLS: usize = 20_000;
const WARMUP: usize = 2_000;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let artifacts = std::env::var_os("PLUGIN_ARTIFACTS_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target/hatchery"));
    let plugins = artifacts.join("plugins");
    assert!(
        plugins.join("hostile-wasm").is_dir(),
        "run `cargo xtask build` first"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        for id in [
            "hostile-wasm",
            "hostile-native",
            "hello-wasm",
            "hello-native",
            "bench-wasm",
            "bench-native",
        ] {
            copy_dir(&plugins.join(id), &dir.path().join("plugins").join(id));
        }
        use_optimised_native_code(&workspace, &dir.path().join("plugins"));
        let env: BTreeMap<String, String> = [(
            "HATCHERY_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        )]
        .into();
        let config = Config::from_sources(None, &env).unwrap();
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let db = Database::connect(&config.database_url).await.unwrap();
        migrate::apply_core(&db).await.unwrap();
        let host = PluginHost::start(config.clone(), db.clone(), Default::default(), None)
            .await
            .unwrap();
        let secrets =
            Arc::new(hatchery_host::secrets::SecretBox::load_or_create(&config.data_dir).unwrap());
        let app = router(AppState::new(
            config.clone(),
            db.clone(),
            host.clone(),
            secrets,
            Default::default(),
        ))
        .route(
            "/plain",
            axum::routing::get(|| async { axum::Json(serde_json::json!({ "ok": true })) }),
        );

        // BENCH_ONLY=wasm|native runs just that route, for profiling.
        if let Ok(only) = std::env::var("BENCH_ONLY") {
            let path = format!("/api/plugins/hostile-{only}/ok");
            report(&path, &latency(&app, &path).await, None);
            return;
        }
        println!("per-call latency through the router ({CALLS} calls after {WARMUP} warm-up):");
        let plain = latency(&app, "/plain").await;
        let wasm = latency(&app, "/api/plugins/hostile-wasm/ok").await;
        let native = latency(&app, "/api/plugins/hostile-native/ok").await;
        report("plain axum handler", &plain, None);
        report("Wasm plugin route", &wasm, Some(&plain));
        report("native plugin route", &native, Some(&plain));

        // One `servers.get` on top of the same route: the host call's round trip.
        let server = bench_server(&db, &config).await;
        for runtime in ["wasm", "native"] {
            let bare = latency(&app, &format!("/api/plugins/bench-{runtime}/ok")).await;
            let path = format!("/api/plugins/bench-{runtime}/server/{server}");
            let with_call = latency(&app, &path).await;
            report(
                &format!("{runtime} route + one servers.get"),
                &with_call,
                Some(&bare),
            );
        }

        let registry = host.registry();
        let plugin = registry.enabled("hostile-wasm").unwrap().clone();
        drop(registry);
        if let PluginCode::Wasm(wasm) = &plugin.code {
            let mut samples = Vec::with_capacity(CALLS);
            for index in 0..CALLS + WARMUP {
                let started = Instant::now();
                wasm.instantiate_only().await.unwrap();
                if index >= WARMUP {
                    samples.push(started.elapsed());
                }
            }
            report("store + instance set-up", &summarise(samples), None);
        }

        let bytes = std::fs::read(plugins.join("hello-wasm/plugin.wasm")).unwrap();
        let runtime = host.wasm_runtime();
        let started = Instant::now();
        runtime.compile_uncached(&bytes).unwrap();
        let uncached = started.elapsed();
        runtime.compile(&bytes).unwrap();
        let started = Instant::now();
        runtime.compile(&bytes).unwrap();
        let cached = started.elapsed();
        println!(
            "cold load of hello-wasm ({} KiB): {:.1} ms compiling, {:.2} ms from the cache",
            bytes.len() / 1024,
            uncached.as_secs_f64() * 1e3,
            cached.as_secs_f64() * 1e3
        );
        db.close().await;
    });

    if std::env::var_os("BENCH_ONLY").is_none() {
        idle_rss(&plugins);
    }
}

/// A server in the database (its node's wings is never called), for `servers.get`.
async fn bench_server(db: &Database, config: &Config) -> String {
    use hatchery_host::db::{eggs, nodes, servers, users};
    let secrets = hatchery_host::secrets::SecretBox::load_or_create(&config.data_dir).unwrap();
    let owner = users::create(
        db,
        &users::NewUser {
            username: "owner".into(),
            email: "owner@example.com".into(),
            admin: false,
            language: None,
            role_id: None,
        },
    )
    .await
    .unwrap();
    let node = nodes::create(
        db,
        &secrets,
        &nodes::NewNode {
            name: "bench".into(),
            description: String::new(),
            fqdn: "127.0.0.1".into(),
            scheme: hatchery_host::domain::vocabulary::Scheme::Http,
            behind_proxy: false,
            daemon_port: 9,
            sftp_port: 2022,
            data_dir: "/var/lib/pterodactyl/volumes".into(),
            memory_mb: 4096,
            memory_overallocate: 0,
            disk_mb: 4096,
            disk_overallocate: 0,
            upload_size_mb: 100,
        },
    )
    .await
    .unwrap();
    nodes::add_allocations(db, &node, "127.0.0.1", &[25565], None)
        .await
        .unwrap();
    let egg =
        hatchery_host::domain::eggs::Egg::parse(include_str!("../tests/fixtures/fixture-egg.json"))
            .unwrap();
    let (egg, _) = eggs::import(db, "Bench", &egg).await.unwrap();
    let server = servers::create(
        db,
        &servers::NewServer {
            name: "bench".into(),
            description: String::new(),
            owner_id: owner.id,
            allocations: nodes::allocations(db, &node, true).await.unwrap(),
            node,
            egg,
            image: None,
            startup: None,
            memory_mb: 512,
            swap_mb: 0,
            disk_mb: 1024,
            io_weight: 500,
            cpu_percent: 100,
            threads: None,
            oom_disabled: false,
            skip_scripts: true,
            allocation_limit: 1,
            variables: BTreeMap::new(),
        },
        false,
    )
    .await
    .unwrap();
    server.uuid
}

async fn latency(app: &axum::Router, path: &str) -> Summary {
    let mut samples = Vec::with_capacity(CALLS);
    for index in 0..CALLS + WARMUP {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(&body[..], br#"{"ok":true}"#, "{path}");
        if index >= WARMUP {
            samples.push(elapsed);
        }
    }
    summarise(samples)
}

struct Summary {
    p50: Duration,
    p99: Duration,
}

fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    Summary {
        p50: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
    }
}

fn report(what: &str, summary: &Summary, baseline: Option<&Summary>) {
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let overhead = baseline
        .map(|base| {
            format!(
                "  (overhead p50 {:+.1} µs)",
                micros(summary.p50) - micros(base.p50)
            )
        })
        .unwrap_or_default();
    println!(
        "  {what:<26} p50 {:>8.1} µs   p99 {:>8.1} µs{overhead}",
        micros(summary.p50),
        micros(summary.p99)
    );
}

/// Starts the real binary with the example plugins and reads its resident memory.
fn idle_rss(plugins: &Path) {
    let dir = tempfile::tempdir().unwrap();
    for id in ["hello-wasm", "hello-native"] {
        copy_dir(&plugins.join(id), &dir.path().join("plugins").join(id));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hatchery"))
        .arg("serve")
        .env("HATCHERY_DATA_DIR", dir.path())
        .env("HATCHERY_LISTEN", format!("127.0.0.1:{port}"))
        .env("HATCHERY_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "hatchery did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: unknown");
    println!(
        "idle `hatchery serve` with hello-wasm and hello-native: {}",
        rss.trim_start_matches("VmRSS:").trim()
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Native plugins are assembled from debug builds (fast to build for tests); the
/// benchmark runs the release builds `cargo xtask bench` makes, so the figures are
/// the host's overhead, not unoptimised plugin code.
fn use_optimised_native_code(workspace: &Path, plugins: &Path) {
    for (id, library) in [
        ("hostile-native", "hostile"),
        ("hello-native", "hello_native"),
    ] {
        let built = workspace.join("target/release").join(format!(
            "{}{library}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        let manifest = plugins.join(id).join("plugin.toml");
        if !manifest.exists() {
            continue;
        }
        if built.exists() {
            std::fs::copy(&built, plugins.join(id).join("plugin.so")).unwrap();
        } else {
            eprintln!(
                "warning: {} is missing, so {id} runs its debug build (run `cargo xtask bench`)",
                built.display()
            );
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
