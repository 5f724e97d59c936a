//! The test harness: real `hatchery` processes on real databases, driven over HTTP and
//! the CLI exactly as a user would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The plugins `cargo xtask build` assembled and packaged.
pub struct Artifacts {
    pub plugins: PathBuf,
    pub packages: PathBuf,
    pub signing_key: PathBuf,
}

pub fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Artifacts> = OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        // Relative paths are taken from the workspace root, where xtask runs.
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let root = std::env::var_os("PLUGIN_ARTIFACTS_DIR")
            .map(|dir| workspace.join(dir))
            .unwrap_or_else(|| workspace.join("target/hatchery"));
        let artifacts = Artifacts {
            plugins: root.join("plugins"),
            packages: root.join("packages"),
            signing_key: root.join("dev-signing.key"),
        };
        assert!(
            artifacts.plugins.join("hello-wasm").is_dir() && artifacts.packages.join("hello-wasm.hpkg").is_file(),
            "plugin artifacts are missing from {}: run the tests with `cargo xtask test` (or `cargo xtask build` first)",
            root.display()
        );
        artifacts
    })
}

/// The public key matching the packages' signing key.
pub fn dev_public_key() -> String {
    let secret = std::fs::read_to_string(&artifacts().signing_key).expect("signing key");
    let key = hatchery_host::plugins::package::parse_signing_key(&secret).expect("valid key");
    hatchery_host::plugins::package::public_key_of(&key)
}

pub fn hatchery_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hatchery"))
}

pub fn uuid() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub const DIALECTS: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];

/// A fresh database: a SQLite file in the panel's data directory, or a new PostgreSQL
/// database dropped again when the test ends.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
}

/// The PostgreSQL server tests use (its `postgres` database, for creating others).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub fn new(dialect: Dialect, data_dir: &Path) -> TestDatabase {
        match dialect {
            Dialect::Sqlite => TestDatabase {
                url: format!("sqlite://{}", data_dir.join("panel.db").display()),
                postgres_name: None,
            },
            Dialect::Postgres => {
                let name = format!("hatchery_test_{}", uuid());
                postgres_admin(&format!("CREATE DATABASE {name}"));
                let admin = postgres_admin_url();
                let base = admin
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    postgres_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            // Plugin roles belong to the server, not the database: drop them too.
            let roles = postgres_plugin_roles(&self.url);
            postgres_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            for role in roles {
                postgres_admin(&format!("DROP ROLE IF EXISTS \"{role}\""));
            }
        }
    }
}

/// Runs `work` on its own thread and runtime, so it works from `Drop` and from async
/// tests alike.
pub fn off_thread<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
    .join()
    .expect("PostgreSQL helper")
}

/// The plugin roles a test panel made in its database `url`.
fn postgres_plugin_roles(url: &str) -> Vec<String> {
    let url = url.to_string();
    off_thread(async move {
        use sqlx::Connection;
        let Ok(mut connection) = sqlx::PgConnection::connect(&url).await else {
            return Vec::new();
        };
        sqlx::query_scalar("SELECT role_name FROM plugin_databases")
            .fetch_all(&mut connection)
            .await
            .unwrap_or_default()
    })
}

/// Runs one statement on the PostgreSQL server.
fn postgres_admin(statement: &str) {
    let statement = statement.to_string();
    off_thread(async move {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "PostgreSQL must be running at {} for the tests: {err}",
                    postgres_admin_url()
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
            .unwrap();
    });
}

pub struct PanelBuilder {
    dialect: Dialect,
    plugins: Vec<PathBuf>,
    env: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
    /// The host name browsers use (`public_url`); the panel still listens on 127.0.0.1.
    public_host: String,
}

impl PanelBuilder {
    /// Places an assembled plugin in the plugins directory before start, as an
    /// operator would.
    pub fn plugin(mut self, id: &str) -> Self {
        self.plugins.push(artifacts().plugins.join(id));
        self
    }

    /// Like [`PanelBuilder::plugin`], from any directory (named as the plugin's id).
    pub fn plugin_from(mut self, dir: &Path) -> Self {
        self.plugins.push(dir.to_path_buf());
        self
    }

    /// Browsers reach the panel as `http://<host>:<port>` (WebAuthn needs a name, not
    /// an address): its `public_url`, and the origin of [`Panel::public_url`].
    pub fn public_host(mut self, host: &str) -> Self {
        self.public_host = host.to_string();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Places a file in the data directory before start (`app.key`, shared by panels
    /// on one database).
    pub fn file(mut self, name: &str, contents: &[u8]) -> Self {
        self.files.push((name.to_string(), contents.to_vec()));
        self
    }

    pub fn start(self) -> Panel {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugins_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins_dir).unwrap();
        for dir in &self.plugins {
            copy_dir(dir, &plugins_dir.join(dir.file_name().unwrap()));
        }
        for (name, contents) in &self.files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let database = TestDatabase::new(self.dialect, dir.path());
        let port = free_port();
        let mut env = vec![
            (
                "HATCHERY_DATA_DIR".to_string(),
                dir.path().display().to_string(),
            ),
            ("HATCHERY_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("HATCHERY_DATABASE_URL".to_string(), database.url.clone()),
            (
                "HATCHERY_LOG".to_string(),
                "info,hatchery_host=debug".to_string(),
            ),
            (
                "HATCHERY_PUBLIC_URL".to_string(),
                format!("http://{}:{port}", self.public_host),
            ),
        ];
        env.extend(self.env);
        let mut panel = Panel {
            url: format!("http://127.0.0.1:{port}"),
            public_url: format!("http://{}:{port}", self.public_host),
            plugins_dir,
            env,
            child: None,
            database,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .new_agent(),
            admin_key: OnceLock::new(),
            dir,
        };
        panel.spawn();
        panel
    }
}

pub struct Panel {
    /// Where the tests connect.
    pub url: String,
    /// The panel's `public_url`: what browsers send as `Origin`.
    pub public_url: String,
    pub plugins_dir: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    database: TestDatabase,
    agent: ureq::Agent,
    admin_key: OnceLock<String>,
    // Dropped last: the panel's files.
    dir: tempfile::TempDir,
}

pub fn panel(dialect: Dialect) -> PanelBuilder {
    PanelBuilder {
        dialect,
        plugins: Vec::new(),
        env: Vec::new(),
        files: Vec::new(),
        public_host: "127.0.0.1".into(),
    }
}

/// An HTTP answer: status and the body parsed as JSON (or as a JSON string).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
    pub raw: Vec<u8>,
}

/// The session cookie an answer sets (`name=value`), checked to be HttpOnly and
/// SameSite=Strict.
pub fn session_cookie(answer: &Answer) -> String {
    let set = answer
        .header("set-cookie")
        .unwrap_or_else(|| panic!("a session cookie is set: {answer:?}"));
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

impl Answer {
    /// The body as text, for checks on what it must never contain.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Panel {
    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("panel.log")).unwrap();
        let mut command = Command::new(hatchery_bin());
        command
            .arg("serve")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .current_dir(self.dir.path());
        self.apply_env(&mut command);
        let mut child = command.spawn().expect("hatchery starts");
        // Each probe has its own short timeout, so one stuck connection cannot use up
        // the whole start-up window; a failure says how long the panel took and why.
        let probe = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(3)))
            .build()
            .new_agent();
        let spawned_at = chrono::Utc::now();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("hatchery serve exited with {status}:\n{}", self.log());
            }
            let last_probe = match probe.get(format!("{}/api/health", self.url)).call() {
                Ok(_) => break,
                Err(err) => err.to_string(),
            };
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "hatchery, spawned at {spawned_at}, did not answer /api/health within 90 s \
                 (last probe: {last_probe}):\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    fn apply_env(&self, command: &mut Command) {
        for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("HATCHERY_")) {
            command.env_remove(key);
        }
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Stops and starts the panel process on the same data.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Sets an environment variable (or removes it, with `None`) for the next start.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(existing, _)| existing != key);
        if let Some(value) = value {
            self.env.push((key.to_string(), value.to_string()));
        }
    }

    /// Whether the panel process has ended by itself.
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|child| child.try_wait().ok().flatten().is_some())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("panel.log")).unwrap_or_default()
    }

    /// Runs `hatchery <args>` against this panel's configuration.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, "")
    }

    /// Like [`Panel::cli`], with `stdin` as standard input.
    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut command = Command::new(hatchery_bin());
        command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.apply_env(&mut command);
        let mut child = command.spawn().expect("hatchery runs");
        // A command that never reads its input closes the pipe; that is fine.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().expect("hatchery runs")
    }

    /// Like [`Panel::cli`], but the command must succeed; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "hatchery {args:?} failed with {}:\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// An administrator's API key (created on first use).
    pub fn admin_key(&self) -> String {
        self.admin_key
            .get_or_init(|| {
                self.cli_ok(&[
                    "user",
                    "create",
                    "--username",
                    "root",
                    "--email",
                    "root@example.com",
                    "--admin",
                ]);
                self.cli_ok(&["user", "api-key", "root"]).trim().to_string()
            })
            .clone()
    }

    /// A new non-admin user with a password, and their API key.
    pub fn user_with_password(&self, username: &str, password: &str) -> String {
        self.create_with_password(username, password, false)
    }

    /// A new root administrator with a password, and their API key.
    pub fn admin_with_password(&self, username: &str, password: &str) -> String {
        self.create_with_password(username, password, true)
    }

    /// The password goes in on standard input, as people are told to give it.
    fn create_with_password(&self, username: &str, password: &str, admin: bool) -> String {
        let email = format!("{username}@example.com");
        let mut args = vec![
            "user",
            "create",
            "--username",
            username,
            "--email",
            &email,
            "--password",
            "-",
        ];
        if admin {
            args.push("--admin");
        }
        let created = self.cli_with_stdin(&args, &format!("{password}\n"));
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        self.cli_ok(&["user", "api-key", username])
            .trim()
            .to_string()
    }

    /// A new non-admin user's API key.
    pub fn user_key(&self, username: &str) -> String {
        self.cli_ok(&[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &format!("{username}@example.com"),
        ]);
        self.cli_ok(&["user", "api-key", username])
            .trim()
            .to_string()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Answer {
        self.try_request(method, path, key, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.log()))
    }

    /// Like [`Panel::request`], but a transport failure is returned, not a panic: a
    /// server that refuses a body early may close the connection while it is sent.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ureq::Error> {
        let authorization = key.map(|key| format!("Bearer {key}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("Authorization", value))
            .into_iter()
            .collect();
        self.try_request_with(method, path, &headers, body)
    }

    /// A JSON request with any headers (a session cookie, an Origin, …).
    pub fn json_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut headers = headers.to_vec();
        let body = body.map(|body| {
            headers.push(("Content-Type", "application/json"));
            serde_json::to_vec(&body).unwrap()
        });
        self.try_request_with(method, path, &headers, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.log()))
    }

    /// Like [`Panel::json`], but a transport failure (a panel that died) is returned.
    pub fn try_json(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> Result<Answer, ureq::Error> {
        let authorization = format!("Bearer {key}");
        let mut headers = vec![("Authorization", authorization.as_str())];
        let body = body.map(|body| {
            headers.push(("Content-Type", "application/json"));
            serde_json::to_vec(&body).unwrap()
        });
        self.try_request_with(method, path, &headers, body)
    }

    /// A JSON request with an API key.
    pub fn json(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> Answer {
        let authorization = format!("Bearer {key}");
        self.json_with(
            method,
            path,
            &[("Authorization", authorization.as_str())],
            body,
        )
    }

    pub fn try_request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ureq::Error> {
        let url = format!("{}{path}", self.url);
        let send = || {
            let mut builder = ureq::http::Request::builder().method(method).uri(&url);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            match body.clone() {
                Some(body) => self.agent.run(builder.body(body).unwrap()),
                None => self.agent.run(builder.body(()).unwrap()),
            }
        };
        // Like browsers, retry a GET once when a kept-alive connection turns out to be
        // closed (the panel closes connections whose body it refused).
        let result = match send() {
            Err(ureq::Error::Io(_)) if method == "GET" => send(),
            other => other,
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let raw = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap();
        let body = serde_json::from_slice(&raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
        Ok(Answer {
            status,
            body,
            headers,
            raw,
        })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, None, None)
    }

    pub fn get_as(&self, path: &str, key: &str) -> Answer {
        self.request("GET", path, Some(key), None)
    }

    pub fn post_json(&self, path: &str, key: Option<&str>, body: Value) -> Answer {
        match key {
            Some(key) => self.json("POST", path, key, Some(body)),
            None => self.json_with("POST", path, &[], Some(body)),
        }
    }

    pub fn health(&self) -> Value {
        let answer = self.get("/api/health");
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body
    }

    /// The health entry of one plugin.
    pub fn plugin_health(&self, id: &str) -> Option<Value> {
        self.health()["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("--- panel log ---\n{}", self.log());
        }
    }
}

/// Polls `check` until it returns `Some`, or fails after `limit` with `what`.
pub fn eventually<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|err| panic!("{}: {err}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn package_bytes(id: &str) -> Vec<u8> {
    std::fs::read(artifacts().packages.join(format!("{id}.hpkg"))).unwrap()
}

/// Runs `sql` straight on a stopped SQLite panel's database, as a tool (an importer)
/// would.
pub fn execute_sql(panel: &Panel, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = hatchery_host::db::Database::connect(panel.database_url())
            .await
            .unwrap();
        let hatchery_host::db::Database::Sqlite(pool) = db else {
            unreachable!("a SQLite panel")
        };
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
            .unwrap();
    });
}
