//! An operator's bad day, against real wings on podman: the panel killed at each step
//! of every server change (fault points), wings killed during an installation and
//! while a server runs, the panel killed during an installation, and the panel
//! answering 503 for a while. After each, nothing is lost or half-made, and every
//! state the panel shows is what wings knows.

use std::time::Duration;

use serde_json::{Value, json};

use crate::local_node::{
    LocalNode, add_ports, create_server, free_allocations, import_fixture_egg, panel_servers,
    panel_status, server_request, wait_installed,
};
use crate::support::{Dialect, Panel, eventually, off_thread, panel};

/// What a panel and its node look like once a test has set them up.
struct Cluster {
    panel: Panel,
    node: LocalNode,
    admin: String,
    owner: String,
    /// What wings reaches the panel through, when the test puts a front before it.
    front: Option<FlakyFront>,
}

/// A panel with node `local` running wings, the fixture egg as `Fixture Game` and a
/// slow-installing variant as `Slow Game`, user `owner`, and free ports. With `front`,
/// wings reaches the panel through a [`FlakyFront`].
fn cluster(dialect: Dialect, front: bool) -> Cluster {
    let panel = panel(dialect).start();
    let admin = panel.admin_key();
    let owner = panel.user_key("owner");
    let front = front.then(|| FlakyFront::start(&panel.url));
    let remote = front.as_ref().map(FlakyFront::url);
    let mut node = LocalNode::register(&panel, "local", remote.as_deref());
    node.start_wings();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    import_fixture_egg(&panel, "Slow Game", |script| {
        script.replace(
            "echo \"install finished\"",
            "sleep 8\necho \"install finished\"",
        )
    });
    add_ports(&panel, &admin, "local", 12);
    Cluster {
        panel,
        node,
        admin,
        owner,
        front,
    }
}

impl Cluster {
    /// A body for `POST /api/admin/servers` on a port no server holds (claims made
    /// through the API take free ports too).
    fn server_body(&mut self, name: &str, egg: &str) -> Value {
        let free = free_allocations(&self.panel, "local");
        let port = free[0]["port"].as_u64().expect("a free port");
        let mut body = server_request(name, egg, port);
        body["allocation_limit"] = json!(3);
        body
    }

    /// Creates a server and waits until it is installed; returns its uuid.
    fn installed_server(&mut self, name: &str) -> String {
        let body = self.server_body(name, "Fixture Game");
        let uuid = create_server(&self.panel, &self.admin, body);
        self.wait_for_status(&uuid, Some("installed"));
        uuid
    }

    /// Waits until the panel shows the server as `wanted` (`None`: gone).
    fn wait_for_status(&self, uuid: &str, wanted: Option<&str>) {
        eventually(
            Duration::from_secs(90),
            &format!("server {uuid} to be {wanted:?} in the panel"),
            || {
                let status = panel_status(&self.panel, uuid);
                if status.as_deref() == Some("install_failed") && wanted != Some("install_failed") {
                    panic!("the install failed:\n{}", self.node.log());
                }
                (status.as_deref() == wanted).then_some(())
            },
        );
    }

    fn power(&self, uuid: &str, signal: &str) {
        let sent = self.panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/power"),
            &self.owner,
            Some(json!({ "signal": signal })),
        );
        assert_eq!(sent.status, 204, "{signal}: {sent:?}");
    }

    /// Arms fault point `point`, runs `action` (which must find the panel dead), and
    /// starts the panel again, unarmed, on the same data.
    fn crash_at(
        &mut self,
        point: &str,
        action: impl FnOnce(&Panel) -> Result<crate::support::Answer, ureq::Error>,
    ) {
        self.panel.set_env("HATCHERY_FAULT_POINT", Some(point));
        self.panel.restart();
        let outcome = action(&self.panel);
        assert!(
            outcome.is_err(),
            "the panel answered instead of dying at {point}: {outcome:?}"
        );
        eventually(Duration::from_secs(10), "the panel to be dead", || {
            self.panel.exited().then_some(())
        });
        assert!(
            self.panel
                .log()
                .contains(&format!("fault point {point} reached")),
            "{}",
            self.panel.log()
        );
        self.panel.set_env("HATCHERY_FAULT_POINT", None);
        self.panel.restart();
    }

    /// The panel and wings agree (`hatchery doctor` finds nothing, once whatever the
    /// panel completes after a crash is done), and the database holds nothing
    /// half-made.
    fn assert_consistent(&self) {
        eventually(
            Duration::from_secs(60),
            "the panel and wings to agree",
            || {
                let doctor = self.panel.cli(&["doctor"]);
                doctor.status.success().then_some(())
            },
        );
        let violations = half_made_records(self.panel.database_url());
        assert!(violations.is_empty(), "{violations:#?}");
        let in_panel: Vec<String> = panel_servers(&self.panel)
            .iter()
            .map(|server| server["uuid"].as_str().unwrap().to_string())
            .collect();
        let mut in_panel = in_panel;
        in_panel.sort();
        assert_eq!(self.node.servers_on_wings(), in_panel);
    }

    fn allocations(&self, uuid: &str) -> Vec<Value> {
        let listed = self.panel.get_as(
            &format!("/api/client/servers/{uuid}/network/allocations"),
            &self.owner,
        );
        assert_eq!(listed.status, 200, "{listed:?}");
        listed.body["data"].as_array().unwrap().clone()
    }
}

/// What no crash may leave in the database: an allocation claimed by no server, a
/// server without its variables or its primary allocation, a change left pending.
fn half_made_records(database_url: &str) -> Vec<String> {
    const CHECKS: &[(&str, &str)] = &[
        (
            "allocations claimed by no server",
            "SELECT COUNT(*) FROM allocations a WHERE a.server_id IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM servers s WHERE s.id = a.server_id)",
        ),
        (
            "servers without their variables",
            "SELECT COUNT(*) FROM servers s WHERE NOT EXISTS \
             (SELECT 1 FROM server_variables v WHERE v.server_id = s.id)",
        ),
        (
            "servers not holding their primary allocation",
            "SELECT COUNT(*) FROM servers s JOIN allocations a ON a.id = s.allocation_id \
             WHERE a.server_id IS NULL OR a.server_id <> s.id",
        ),
        (
            "server changes still pending",
            "SELECT COUNT(*) FROM server_intents",
        ),
        (
            "servers shown as being deleted",
            "SELECT COUNT(*) FROM servers WHERE status = 'deleting'",
        ),
    ];
    CHECKS
        .iter()
        .filter_map(|(what, query)| {
            let count: i64 = scalar(database_url, query);
            (count != 0).then(|| format!("{count} {what}"))
        })
        .collect()
}

/// The first column of the first row `query` returns, on either database.
pub fn scalar<T>(database_url: &str, query: &'static str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Unpin
        + 'static,
{
    let url = database_url.to_string();
    off_thread(async move {
        let db = hatchery_host::db::Database::connect(&url).await.unwrap();
        let value: T = match &db {
            hatchery_host::db::Database::Sqlite(pool) => {
                sqlx::query_scalar(query).fetch_one(pool).await.unwrap()
            }
            hatchery_host::db::Database::Postgres(pool) => {
                sqlx::query_scalar(query).fetch_one(pool).await.unwrap()
            }
        };
        db.close().await;
        value
    })
}

fn walk_every_fault_point(dialect: Dialect) {
    let mut cluster = cluster(dialect, false);
    let admin = cluster.admin.clone();
    let owner = cluster.owner.clone();

    // Creation: killed after the record or after wings accepted it, the panel that
    // comes back completes the creation, and wings installs the server.
    for point in ["server.create.recorded", "server.create.told_wings"] {
        let name = format!("created at {point}");
        let body = cluster.server_body(&name, "Fixture Game");
        cluster.crash_at(point, |panel| {
            panel.try_json("POST", "/api/admin/servers", &admin, Some(body))
        });
        let uuid = eventually(Duration::from_secs(30), "the server record", || {
            panel_servers(&cluster.panel)
                .into_iter()
                .find(|server| server["name"] == name.as_str())
                .map(|server| server["uuid"].as_str().unwrap().to_string())
        });
        cluster.wait_for_status(&uuid, Some("installed"));
        cluster.assert_consistent();
    }

    // Reinstall killed before wings heard of it: the old state (installed) stays.
    let uuid = cluster.installed_server("reinstalled");
    cluster.crash_at("server.reinstall.recorded", |panel| {
        panel.try_json(
            "POST",
            &format!("/api/admin/servers/{uuid}/reinstall"),
            &admin,
            None,
        )
    });
    cluster.wait_for_status(&uuid, Some("installed"));
    cluster.assert_consistent();

    // A variable saved but never synced: the next start takes it from the panel.
    cluster.crash_at("server.update.recorded", |panel| {
        panel.try_json(
            "PUT",
            &format!("/api/client/servers/{uuid}/startup/variable"),
            &owner,
            Some(json!({ "key": "GREETING", "value": "after-crash" })),
        )
    });
    cluster.power(&uuid, "start");
    cluster.node.wait_for_state(&uuid, "running");
    let logs = cluster
        .node
        .wings_get(&format!("/api/servers/{uuid}/logs"))
        .unwrap();
    assert!(
        logs.to_string()
            .contains("Starting with greeting after-crash"),
        "{logs}"
    );
    cluster.power(&uuid, "kill");
    cluster.node.wait_for_state(&uuid, "offline");
    cluster.assert_consistent();

    // Allocations: a claim, a new primary and a release, each saved but not synced.
    let network = format!("/api/client/servers/{uuid}/network/allocations");
    cluster.crash_at("allocation.claim.recorded", |panel| {
        panel.try_json("POST", &network, &owner, None)
    });
    let held = cluster.allocations(&uuid);
    assert_eq!(held.len(), 2, "{held:?}");
    let (old_primary, extra) = (held[0].clone(), held[1].clone());
    cluster.assert_consistent();
    cluster.crash_at("allocation.primary.recorded", |panel| {
        panel.try_json(
            "POST",
            &format!("{network}/{}/primary", extra["id"]),
            &owner,
            None,
        )
    });
    // The game binds the new primary port on its next start.
    cluster.power(&uuid, "start");
    cluster.node.wait_for_state(&uuid, "running");
    let properties =
        std::fs::read_to_string(cluster.node.volumes.join(&uuid).join("server.properties"))
            .unwrap();
    assert_eq!(properties.trim(), format!("server-port={}", extra["port"]));
    cluster.power(&uuid, "kill");
    cluster.node.wait_for_state(&uuid, "offline");
    cluster.crash_at("allocation.release.recorded", |panel| {
        panel.try_json(
            "DELETE",
            &format!("{network}/{}", old_primary["id"]),
            &owner,
            None,
        )
    });
    let held = cluster.allocations(&uuid);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["id"], extra["id"]);
    cluster.assert_consistent();

    // Deletion: killed after the record or after wings deleted the server, the panel
    // that comes back finishes it; the files and allocations go too.
    for point in ["server.delete.recorded", "server.delete.told_wings"] {
        let uuid = cluster.installed_server(&format!("deleted at {point}"));
        cluster.crash_at(point, |panel| {
            panel.try_json(
                "DELETE",
                &format!("/api/admin/servers/{uuid}"),
                &admin,
                None,
            )
        });
        cluster.wait_for_status(&uuid, None);
        assert!(!cluster.node.volumes.join(&uuid).exists());
        cluster.assert_consistent();
    }
    // Of the 12 ports, the two created servers hold one each and the reinstalled one
    // its new primary: every other one is free again.
    let free = free_allocations(&cluster.panel, "local");
    if free.len() != 12 - 3 {
        // Say who holds what, so a failure here names the step that leaked.
        let all = cluster
            .panel
            .cli_ok(&["node", "allocations", "local", "--json"]);
        let servers: Vec<(String, String, String)> = panel_servers(&cluster.panel)
            .iter()
            .map(|server| {
                (
                    server["id"].to_string(),
                    server["name"].as_str().unwrap_or_default().to_string(),
                    server["status"].to_string(),
                )
            })
            .collect();
        panic!(
            "{} ports free, expected 9\nallocations: {all}\nservers (id, name, status): {servers:?}\n{}",
            free.len(),
            cluster.panel.log()
        );
    }
}

#[test]
fn the_panel_killed_at_every_step_of_a_server_change_on_sqlite() {
    walk_every_fault_point(Dialect::Sqlite);
}

#[test]
fn the_panel_killed_at_every_step_of_a_server_change_on_postgres() {
    walk_every_fault_point(Dialect::Postgres);
}

#[test]
fn every_fault_point_is_walked() {
    let walked = include_str!("crashes.rs");
    for point in hatchery_host::faults::POINTS {
        assert!(
            walked.contains(&format!("\"{point}\"")),
            "no test arms fault point {point}"
        );
    }
}

/// Creates a `Slow Game` server and waits until wings runs its install script.
fn slow_install(cluster: &mut Cluster, name: &str) -> String {
    let body = cluster.server_body(name, "Slow Game");
    let uuid = create_server(&cluster.panel, &cluster.admin, body);
    eventually(Duration::from_secs(60), "the install script to run", || {
        let described = cluster.node.server_on_wings(&uuid)?;
        (described["install"]["install"] == "installing").then_some(())
    });
    // Into the script's sleep.
    std::thread::sleep(Duration::from_secs(2));
    uuid
}

fn console_log(cluster: &Cluster, uuid: &str) -> String {
    cluster
        .node
        .wings_get(&format!("/api/servers/{uuid}/logs"))
        .map(|logs| logs.to_string())
        .unwrap_or_default()
}

fn send_command(cluster: &Cluster, uuid: &str, command: &str) {
    let sent = cluster.panel.json(
        "POST",
        &format!("/api/client/servers/{uuid}/command"),
        &cluster.owner,
        Some(json!({ "command": command })),
    );
    assert_eq!(sent.status, 204, "{sent:?}");
}

#[test]
fn wings_killed_during_an_installation_and_while_a_server_runs() {
    let mut cluster = cluster(Dialect::Sqlite, false);
    // Killed in the middle of the install script: the panel keeps showing the server
    // as installing (it is not installed) and refuses to start it; the next wings
    // runs the installation again and the panel hears the outcome.
    let uuid = slow_install(&mut cluster, "slow");
    cluster.node.kill_wings();
    assert_eq!(
        panel_status(&cluster.panel, &uuid).as_deref(),
        Some("installing")
    );
    let refused = cluster.panel.json(
        "POST",
        &format!("/api/client/servers/{uuid}/power"),
        &cluster.owner,
        Some(json!({ "signal": "start" })),
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(
        refused.raw_text().contains("still installing"),
        "{refused:?}"
    );
    cluster.node.start_wings();
    cluster.wait_for_status(&uuid, Some("installed"));
    assert!(cluster.node.volumes.join(&uuid).join("server.sh").exists());

    // Killed while the server runs: the game keeps running, and the next wings
    // re-attaches to it with its console history.
    cluster.power(&uuid, "start");
    cluster.node.wait_for_state(&uuid, "running");
    send_command(&cluster, &uuid, "before");
    eventually(Duration::from_secs(20), "the game to answer", || {
        console_log(&cluster, &uuid)
            .contains("you said: before")
            .then_some(())
    });
    cluster.node.kill_wings();
    cluster.node.start_wings();
    cluster.node.wait_for_state(&uuid, "running");
    assert!(console_log(&cluster, &uuid).contains("you said: before"));
    send_command(&cluster, &uuid, "after");
    eventually(Duration::from_secs(20), "the game to answer again", || {
        console_log(&cluster, &uuid)
            .contains("you said: after")
            .then_some(())
    });
    cluster.power(&uuid, "kill");
    cluster.node.wait_for_state(&uuid, "offline");
    cluster.assert_consistent();
}

#[test]
fn the_panel_killed_during_an_installation_hears_the_outcome_when_back() {
    let mut cluster = cluster(Dialect::Postgres, false);
    let uuid = slow_install(&mut cluster, "slow");
    cluster.panel.stop();
    // wings finishes while the panel is away, keeps the outcome and delivers it.
    eventually(
        Duration::from_secs(60),
        "wings to finish the install",
        || {
            let described = cluster.node.server_on_wings(&uuid)?;
            (described["install"]["install"] == "installed").then_some(())
        },
    );
    cluster.panel.restart();
    cluster.wait_for_status(&uuid, Some("installed"));
    cluster.assert_consistent();
}

#[test]
fn a_panel_answering_503_for_a_while_delays_an_installation_but_loses_nothing() {
    let mut cluster = cluster(Dialect::Sqlite, true);
    let uuid = cluster.installed_server("behind a front");
    let front = cluster.front.take().unwrap();
    front.set_down(true);
    // A reinstall while wings cannot reach the panel: the install script waits, and
    // the server stays not startable, shown as installing.
    let reinstall = cluster.panel.json(
        "POST",
        &format!("/api/admin/servers/{uuid}/reinstall"),
        &cluster.admin,
        None,
    );
    assert!(reinstall.status < 300, "{reinstall:?}");
    eventually(
        Duration::from_secs(30),
        "wings to wait for the panel",
        || {
            let described = cluster.node.server_on_wings(&uuid)?;
            (described["install"]["install"] == "waiting").then_some(())
        },
    );
    assert_eq!(
        panel_status(&cluster.panel, &uuid).as_deref(),
        Some("installing")
    );
    // wings restarted meanwhile: it keeps the waiting installation and retries.
    cluster.node.kill_wings();
    cluster.node.start_wings();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        front.refused() > 0,
        "wings did not call the panel while it answered 503"
    );
    front.set_down(false);
    cluster.wait_for_status(&uuid, Some("installed"));
    let described = cluster.node.server_on_wings(&uuid).unwrap();
    assert_eq!(described["install"]["install"], "installed");
    cluster.front = Some(front);
    cluster.assert_consistent();
}

/// A front for the panel that forwards each request (one per connection), or answers
/// 503 while it is down, as a panel behind a proxy does while it restarts.
struct FlakyFront {
    port: u16,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FlakyFront {
    fn start(panel_url: &str) -> FlakyFront {
        use std::sync::atomic::Ordering;
        let target = panel_url.trim_start_matches("http://").to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (is_down, count) = (down.clone(), refused.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (target, is_down, count) = (target.clone(), is_down.clone(), count.clone());
                std::thread::spawn(move || {
                    let down = is_down.load(Ordering::SeqCst);
                    if down {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = forward_one(client, &target, down);
                });
            }
        });
        FlakyFront {
            port,
            down,
            refused,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many requests were answered 503.
    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Reads one request from `client` and answers it: 503 when `down`, otherwise the
/// panel's answer (asked with `Connection: close`, so each request sees the mode).
fn forward_one(mut client: std::net::TcpStream, target: &str, down: bool) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    client.read_exact(&mut body)?;
    if down {
        let answer = "{\"error\":\"the panel is restarting\"}";
        write!(
            client,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        )?;
        return Ok(());
    }
    let mut upstream = std::net::TcpStream::connect(target)?;
    let mut lines = head.trim_end().lines();
    let request_line = lines.next().unwrap_or_default();
    write!(upstream, "{request_line}\r\n")?;
    for line in lines.filter(|line| !line.to_ascii_lowercase().starts_with("connection:")) {
        write!(upstream, "{line}\r\n")?;
    }
    write!(upstream, "Connection: close\r\n\r\n")?;
    upstream.write_all(&body)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    client.write_all(&answer)?;
    Ok(())
}

/// A PostgreSQL server of the test's own (the machine's is shared by every test), so
/// it can be restarted under load.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs under /usr/lib/postgresql")
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .find(|bin| bin.join("initdb").exists())
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().unwrap();
        // initdb refuses to run as root: the cluster belongs to `postgres`.
        let chown = std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        let data = dir.path().join("data");
        let port = crate::local_node::free_port();
        let server = PrivatePostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        server.pg(&["initdb", "-D", "{data}", "-A", "trust", "-U", "postgres"]);
        server.pg_ctl("start");
        server
    }

    /// Runs one of PostgreSQL's programs as `postgres`; `{data}` is the data directory.
    fn pg(&self, args: &[&str]) {
        let data = self.data.display().to_string();
        let program = self.bin.join(args[0]);
        let output = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args[1..].iter().map(|arg| arg.replace("{data}", &data)))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `pg_ctl start|restart|stop`; restarts and stops are immediate (a crash: the
    /// server recovers from its write-ahead log when it comes back).
    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        let log = self
            .data
            .with_file_name("postgres.log")
            .display()
            .to_string();
        self.pg(&[
            "pg_ctl",
            action,
            "-D",
            "{data}",
            "-m",
            "immediate",
            "-w",
            "-l",
            &log,
            "-o",
            &options,
        ]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["stop", "-D", &data, "-m", "immediate"])
            .output();
    }
}

#[test]
fn postgresql_restarted_under_load_loses_no_acknowledged_write_and_the_panel_reconnects() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let postgres = PrivatePostgres::start();
    let mut panel = panel(Dialect::Sqlite)
        .env("HATCHERY_DATABASE_URL", &postgres.url())
        .start();
    let admin = panel.admin_key();
    let done = AtomicBool::new(false);
    let (acknowledged, failures) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let (mut acknowledged, mut failures) = (Vec::new(), Vec::new());
            for index in 0.. {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let username = format!("load{index}");
                let answer = panel
                    .try_json(
                        "POST",
                        "/api/admin/users",
                        &admin,
                        Some(json!({ "username": username, "email": format!("{username}@example.com") })),
                    )
                    .unwrap_or_else(|err| panic!("the panel went away: {err}"));
                match answer.status {
                    201 => acknowledged.push(username),
                    status => failures.push((status, answer.raw_text())),
                }
            }
            (acknowledged, failures)
        });
        let reader = scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let answer = panel
                    .try_request("GET", "/api/admin/users", Some(&admin), None)
                    .unwrap_or_else(|err| panic!("the panel went away: {err}"));
                assert!(answer.status == 200 || answer.status >= 500, "{answer:?}");
            }
        });
        std::thread::sleep(Duration::from_secs(2));
        postgres.pg_ctl("restart");
        std::thread::sleep(Duration::from_secs(4));
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap();
        writer.join().unwrap()
    });
    // The panel stayed up and, with no restart of its own, works again.
    assert!(!panel.exited());
    eventually(Duration::from_secs(30), "the panel to reconnect", || {
        let answer = panel.post_json(
            "/api/admin/users",
            Some(&admin),
            json!({ "username": "after", "email": "after@example.com" }),
        );
        (answer.status == 201).then_some(())
    });
    // A failure during the restart said so, in JSON, and was a server-side error.
    for (status, body) in &failures {
        assert!(*status >= 500, "{status}: {body}");
        assert!(body.contains("\"error\""), "{status}: {body}");
    }
    // Every write the panel acknowledged is there.
    let listed = panel.cli_ok(&["user", "list"]);
    for username in &acknowledged {
        assert!(listed.contains(username.as_str()), "{username} was lost");
    }
    assert!(acknowledged.len() > 10, "too little load: {acknowledged:?}");
    panel.stop();
}

/// A small filesystem mounted over a directory, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount runs");
        assert!(
            mounted.success(),
            "cannot mount a tmpfs at {} (the tests run as root)",
            at.display()
        );
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_during_a_write_keeps_the_old_file_and_says_why() {
    let panel = panel(Dialect::Sqlite).plugin("core-files").start();
    let admin = panel.admin_key();
    let owner = panel.user_key("owner");
    let mut node = LocalNode::register(&panel, "local", None);
    let _disk = SmallDisk::mount(&node.volumes, 4);
    node.start_wings();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let port = add_ports(&panel, &admin, "local", 1)[0];
    let mut body = server_request("full", "Fixture Game", port.into());
    body["disk_mb"] = json!(1000);
    let uuid = create_server(&panel, &admin, body);
    wait_installed(&panel, &uuid);
    let write = |file: &str, contents: Vec<u8>| {
        panel.request(
            "POST",
            &format!("/api/client/servers/{uuid}/files/write?file={file}"),
            Some(&owner),
            Some(contents),
        )
    };
    let read = |file: &str| {
        panel
            .get_as(
                &format!("/api/client/servers/{uuid}/files/contents?file={file}"),
                &owner,
            )
            .raw
    };
    assert_eq!(write("config.txt", b"original".to_vec()).status, 204);
    let before: Vec<_> = dir_entries(&node.volumes.join(&uuid));

    // The quota (1000 MB) allows it; the disk (4 MB) does not.
    let refused = write("config.txt", vec![b'x'; 6 * 1024 * 1024]);
    assert!(refused.status >= 400, "{refused:?}");
    assert!(refused.raw_text().contains("No space left"), "{refused:?}");
    assert_eq!(read("config.txt"), b"original");
    let refused_new = write("new.txt", vec![b'x'; 6 * 1024 * 1024]);
    assert!(refused_new.status >= 400, "{refused_new:?}");
    // Nothing half-written is left behind, under any name.
    assert_eq!(dir_entries(&node.volumes.join(&uuid)), before);
    // The space came back: a write that fits works.
    assert_eq!(write("config.txt", b"changed".to_vec()).status, 204);
    assert_eq!(read("config.txt"), b"changed");
    node.kill_wings();
}

fn dir_entries(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                entry.metadata().unwrap().len(),
            )
        })
        .collect();
    entries.sort();
    entries
}
