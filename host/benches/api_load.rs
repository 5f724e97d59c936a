//! Load on the panel's busiest endpoints with `wrk` on loopback (the endpoints
//! Calagopus publishes figures for), on SQLite and on PostgreSQL: the public settings,
//! the account (API key and session), the server list (25 and 100 rows of 100
//! servers; owner and admin views) and one server, at the default log level as users
//! run the panel — and the public settings once more from a quiet panel
//! (`HATCHERY_LOG=warn`), to show what logging costs. Prints requests/s, p50 and p99
//! latency, and the panel's memory idle and under load.
//!
//! Servers are created through the real API; their node's wings is a stand-in that
//! accepts every call, because the figures are about the panel, not containers.
//!
//! `cargo bench -p hatchery --bench api_load` (needs `wrk`; PostgreSQL from
//! TEST_POSTGRES_URL or 127.0.0.1:5432 with trust authentication). BENCH_SECONDS
//! changes the 10 s per run.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SERVERS: usize = 100;

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (apt-get install wrk); the API load benchmark is skipped");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stand_in_port = runtime.block_on(start_wings_stand_in());
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let postgres_admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());

    let mut results = Vec::new();
    for dialect in ["sqlite", "postgres"] {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match dialect {
            "sqlite" => format!("sqlite://{}/hatchery.db", dir.path().display()),
            _ => runtime.block_on(fresh_postgres(&postgres_admin)),
        };
        let panel = Panel::start(dir.path(), &database_url, None);
        let fixture = panel.populate(stand_in_port);
        let idle_rss = panel.rss_kib();
        println!(
            "\n{dialect}: {SERVERS} servers; panel RSS idle {:.1} MiB",
            idle_rss as f64 / 1024.0
        );
        let owner = format!("Authorization: Bearer {}", fixture.owner_key);
        let admin = format!("Authorization: Bearer {}", fixture.admin_key);
        let cookie = format!("Cookie: {}", fixture.admin_cookie);
        let server = format!("/api/client/servers/{}", fixture.short_id);
        let runs: Vec<(&str, String, Option<&str>)> = vec![
            ("settings (public)", "/api/settings".into(), None),
            (
                "account (API key)",
                "/api/client/account".into(),
                Some(&owner),
            ),
            (
                "account (session)",
                "/api/client/account".into(),
                Some(&cookie),
            ),
            (
                "servers, 25 rows (owner)",
                "/api/client/servers?per_page=25".into(),
                Some(&owner),
            ),
            (
                "servers, 100 rows (owner)",
                "/api/client/servers?per_page=100".into(),
                Some(&owner),
            ),
            (
                "servers, 25 rows (admin)",
                "/api/client/servers?per_page=25&type=admin".into(),
                Some(&admin),
            ),
            (
                "servers, 100 rows (admin)",
                "/api/client/servers?per_page=100&type=admin".into(),
                Some(&admin),
            ),
            ("one server (owner)", server, Some(&owner)),
        ];
        for (name, path, header) in runs {
            let url = format!("{}{path}", panel.url);
            wrk(&url, header, 2); // warm-up
            let figures = wrk(&url, header, seconds);
            println!(
                "  {name:<28} {:>9.0} req/s   p50 {:>8}   p99 {:>8}   non-2xx {}",
                figures.requests_per_second, figures.p50, figures.p99, figures.errors
            );
            results.push((dialect, name, figures));
        }
        println!(
            "  panel RSS after the load {:.1} MiB, peak {:.1} MiB",
            panel.rss_kib() as f64 / 1024.0,
            panel.peak_rss_kib() as f64 / 1024.0
        );
        drop(panel);
        // What the default log level costs: the same endpoint from a quiet panel.
        let default = results
            .iter()
            .find(|(at, name, _)| *at == dialect && *name == "settings (public)")
            .map(|(_, _, figures)| figures.requests_per_second)
            .unwrap_or_default();
        let quiet_panel = Panel::start(dir.path(), &database_url, Some("warn"));
        let url = format!("{}/api/settings", quiet_panel.url);
        wrk(&url, None, 2);
        let quiet = wrk(&url, None, seconds);
        println!(
            "  settings (public), HATCHERY_LOG=warn {:>9.0} req/s: the default log level serves {:.1}% of that",
            quiet.requests_per_second,
            100.0 * default / quiet.requests_per_second.max(1.0)
        );
        drop(quiet_panel);
        if dialect == "postgres" {
            runtime.block_on(drop_postgres(&postgres_admin));
        }
    }
    let failed = results
        .iter()
        .filter(|(_, _, figures)| figures.errors > 0)
        .count();
    if failed > 0 {
        eprintln!("{failed} run(s) had error answers; the figures above are not comparable");
        std::process::exit(1);
    }
}

struct Figures {
    requests_per_second: f64,
    p50: String,
    p99: String,
    errors: u64,
}

fn wrk(url: &str, header: Option<&str>, seconds: u64) -> Figures {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.trim().to_string())
            })
            .unwrap_or_else(|| panic!("wrk printed no `{prefix}`:\n{text}"))
    };
    let errors = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .map_or(0, |count| count.trim().parse().unwrap_or(0));
    Figures {
        requests_per_second: field("Requests/sec:").parse().unwrap(),
        p50: field("50%"),
        p99: field("99%"),
        errors,
    }
}

/// A stand-in for wings: accepts every call the panel makes while servers are created.
async fn start_wings_stand_in() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(|| async { axum::Json(json!({})) });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("hatchery_bench_{}", std::process::id());
    let mut connection = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("PostgreSQL answers");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut connection)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

async fn drop_postgres(admin_url: &str) {
    use sqlx::Connection;
    let name = format!("hatchery_bench_{}", std::process::id());
    let mut connection = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("PostgreSQL answers");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut connection)
    .await
    .unwrap();
}

struct Panel {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
    /// Where this panel logs (the setup link is read from it).
    log_path: std::path::PathBuf,
    database_url: String,
    agent: ureq::Agent,
}

struct Fixture {
    admin_key: String,
    admin_cookie: String,
    owner_key: String,
    short_id: String,
}

impl Panel {
    /// A panel at the log level users run it with, or at `log` (`warn`: quiet).
    fn start(dir: &Path, database_url: &str, log: Option<&str>) -> Panel {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log_path = dir.join(format!("panel-{port}.log"));
        let log_file = std::fs::File::create(&log_path).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_hatchery"));
        if let Some(level) = log {
            command.env("HATCHERY_LOG", level);
        }
        let mut panel = Panel {
            child: command
                .arg("serve")
                .envs(Panel::env(dir, database_url))
                .env("HATCHERY_LISTEN", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap(),
            url: format!("http://127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
            log_path,
            database_url: database_url.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while panel
            .agent
            .get(format!("{}/api/health", panel.url))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "the panel did not start");
            if let Ok(Some(status)) = panel.child.try_wait() {
                panic!("the panel exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panel
    }

    fn env(dir: &Path, database_url: &str) -> Vec<(String, String)> {
        vec![
            ("HATCHERY_DATA_DIR".into(), dir.display().to_string()),
            ("HATCHERY_DATABASE_URL".into(), database_url.into()),
        ]
    }

    fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_hatchery"))
            .args(args)
            .envs(Panel::env(&self.dir, &self.database_url))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn call(&self, method: &str, path: &str, key: &str, body: Value) -> Value {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap();
        let mut response = self.agent.run(request).unwrap();
        let status = response.status();
        let value: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// The first admin (through the setup link, which also gives a session), an owner
    /// with 100 servers on a node, and API keys for both.
    fn populate(&self, wings_port: u16) -> Fixture {
        let log = std::fs::read_to_string(&self.log_path).unwrap();
        let start =
            log.find("setup?token=").expect("the setup link is logged") + "setup?token=".len();
        let token: String = log[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/setup", self.url))
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&json!({ "token": token, "username": "root", "email": "root@example.com", "password": "bench password" })).unwrap())
            .unwrap();
        let response = self.agent.run(request).unwrap();
        assert_eq!(response.status(), 201);
        let admin_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let admin_key = self.cli(&["user", "api-key", "root"]);
        self.cli(&[
            "user",
            "create",
            "--username",
            "owner",
            "--email",
            "owner@example.com",
        ]);
        let owner_key = self.cli(&["user", "api-key", "owner"]);

        self.call("POST", "/api/admin/nodes", &admin_key, json!({ "name": "bench", "fqdn": "127.0.0.1", "daemon_port": wings_port, "memory_mb": 1_000_000, "disk_mb": 1_000_000 }));
        self.call(
            "POST",
            "/api/admin/nodes/bench/allocations",
            &admin_key,
            json!({ "ip": "127.0.0.1", "ports": format!("40000-{}", 40000 + SERVERS - 1) }),
        );
        let egg = include_str!("../tests/fixtures/fixture-egg.json");
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/admin/eggs?nest=Bench", self.url))
            .header("Authorization", format!("Bearer {admin_key}"))
            .body(egg.as_bytes().to_vec())
            .unwrap();
        assert_eq!(self.agent.run(request).unwrap().status(), 201);
        let mut short_id = String::new();
        for index in 0..SERVERS {
            let created = self.call(
                "POST",
                "/api/admin/servers",
                &admin_key,
                json!({
                    "name": format!("server {index:03}"), "owner": "owner", "node": "bench", "egg": "Fixture Game",
                    "allocation": format!("127.0.0.1:{}", 40000 + index), "memory_mb": 1024, "disk_mb": 2048,
                }),
            );
            short_id = created["data"]["short_id"].as_str().unwrap().to_string();
        }
        Fixture {
            admin_key,
            admin_cookie,
            owner_key,
            short_id,
        }
    }

    fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        self.status_field("VmRSS:")
    }

    fn peak_rss_kib(&self) -> u64 {
        self.status_field("VmHWM:")
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
