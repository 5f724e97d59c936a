//! A server's whole life on a real engine: install from an egg script, start with
//! config files applied, "done" detection, console commands, stop the egg's way, crash
//! detection and restart, and re-attaching after wings restarts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hatchery_wings::config::DockerConfig;
use hatchery_wings::docker::DockerExecutor;
use hatchery_wings::egg_files::ConfigFile;
use hatchery_wings::executor::{Executor, PortBinding, ResourceLimits};
use hatchery_wings::server::{
    InstallScript, Node, PowerState, Server, ServerConfig, ServerEvent, StopAction,
};
use tokio::sync::broadcast;

mod common;

use common::{INSTALL_SCRIPT, TEST_IMAGE};

struct Fixture {
    _dirs: tempfile::TempDir,
    node: Arc<Node<DockerExecutor>>,
    config: ServerConfig,
}

async fn fixture(name: &str) -> Fixture {
    let executor = common::executor().await;
    let dirs = tempfile::tempdir().unwrap();
    let node = Arc::new(Node {
        executor: Arc::new(executor),
        data: dirs.path().join("volumes"),
        root: dirs.path().join("wings"),
        ulimits: DockerConfig::default().ulimits,
        pid_limit: 64,
        tmpfs_mb: 16,
        docker_interface: "172.18.0.1".into(),
        container_user: None,
        installer_limits: ResourceLimits {
            memory_mb: 128,
            ..ResourceLimits::default()
        },
        panel: None,
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let config_files: BTreeMap<String, ConfigFile> = serde_json::from_value(serde_json::json!({
        "server.properties": { "parser": "properties", "find": { "server-port": "{{server.build.default.port}}", "motd": "{{env.GREETING}}" } }
    }))
    .unwrap();
    let config = ServerConfig {
        uuid: format!("hatchery-test-{name}-{}-{nanos}", std::process::id()),
        image: TEST_IMAGE.into(),
        startup: "sh ./server.sh".into(),
        environment: BTreeMap::from([("GREETING".to_string(), "hello there".to_string())]),
        limits: ResourceLimits {
            memory_mb: 64,
            cpu_percent: 100,
            ..ResourceLimits::default()
        },
        disk_mb: 1024,
        default_allocation: PortBinding {
            ip: "127.0.0.1".into(),
            port,
        },
        extra_allocations: Vec::new(),
        done: vec!["regex:^Done \\(.*\\)!".into()],
        stop: StopAction::from_egg("stop"),
        config_files,
        stop_timeout: Duration::from_secs(10),
        auto_restart: false,
        suspended: false,
    };
    Fixture {
        _dirs: dirs,
        node,
        config,
    }
}

impl Fixture {
    async fn remove_container(&self) {
        self.node.executor.remove(&self.config.uuid).await.unwrap();
    }
}

async fn installed(fixture: &Fixture) -> Arc<Server<DockerExecutor>> {
    let server = Server::new(fixture.node.clone(), fixture.config.clone());
    let script = InstallScript {
        image: TEST_IMAGE.into(),
        entrypoint: "sh".into(),
        script: INSTALL_SCRIPT.into(),
    };
    assert!(
        server.install(&script).await.unwrap(),
        "{}",
        std::fs::read_to_string(server.install_log()).unwrap_or_default()
    );
    server
}

/// Waits for an event that `want` accepts, returning it.
async fn expect_event(
    events: &mut broadcast::Receiver<ServerEvent>,
    what: &str,
    want: impl Fn(&ServerEvent) -> bool,
) -> ServerEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if want(&event) => return event,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(err)) => panic!("events ended waiting for {what}: {err}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn console_line(text: &'static str) -> impl Fn(&ServerEvent) -> bool {
    move |event| matches!(event, ServerEvent::Console(line) if line.contains(text))
}

async fn wait_state(server: &Server<DockerExecutor>, state: PowerState) {
    let mut watch = server.watch_state();
    tokio::time::timeout(Duration::from_secs(30), watch.wait_for(|s| *s == state))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "timed out waiting for {state:?}; it is {:?}",
                server.state()
            )
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn install_start_console_and_stop() {
    let fixture = fixture("life").await;
    let server = Server::new(fixture.node.clone(), fixture.config.clone());
    let (_, mut events) = server.subscribe();
    let script = InstallScript {
        image: TEST_IMAGE.into(),
        entrypoint: "sh".into(),
        script: INSTALL_SCRIPT.into(),
    };
    assert!(server.install(&script).await.unwrap());
    expect_event(
        &mut events,
        "install output",
        |e| matches!(e, ServerEvent::InstallOutput(l) if l == "install finished"),
    )
    .await;
    expect_event(&mut events, "install completion", |e| {
        *e == ServerEvent::InstallCompleted { successful: true }
    })
    .await;
    assert!(
        std::fs::read_to_string(server.install_log())
            .unwrap()
            .contains("install finished")
    );
    assert!(server.volume().join("server.sh").exists());

    // Starting until the egg's done line, then running (the game may print it before
    // `start` returns, so the order of the events is what counts).
    server.start().await.unwrap();
    expect_event(&mut events, "starting", |e| {
        *e == ServerEvent::State(PowerState::Starting)
    })
    .await;
    expect_event(&mut events, "running", |e| {
        *e == ServerEvent::State(PowerState::Running)
    })
    .await;
    let (history, _) = server.subscribe();
    let port = fixture.config.default_allocation.port;
    assert!(
        history
            .iter()
            .any(|line| line
                == &format!("Starting game server on port {port}, greeting: hello there")),
        "{history:?}"
    );
    let properties = std::fs::read_to_string(server.volume().join("server.properties")).unwrap();
    assert_eq!(
        properties,
        format!("server-port={port}\nmotd=hello there\n")
    );

    server.send_command("ping").await.unwrap();
    expect_event(&mut events, "pong", console_line("pong")).await;

    let usage = server.utilization().await.unwrap();
    assert_eq!(usage.state, PowerState::Running);
    assert!(usage.memory_bytes > 0, "{usage:?}");
    assert_eq!(usage.memory_limit_bytes, 64 * 1024 * 1024);
    assert!(usage.disk_bytes > 0 && usage.uptime > 0, "{usage:?}");

    server.stop().await.unwrap();
    let stopped = server.utilization().await.unwrap();
    assert_eq!(
        (stopped.state, stopped.memory_bytes, stopped.uptime),
        (PowerState::Offline, 0, 0)
    );
    assert_eq!(server.state(), PowerState::Offline);
    expect_event(
        &mut events,
        "the save message",
        console_line("Saving and stopping"),
    )
    .await;
    assert_eq!(server.recorded_state(), Some(PowerState::Offline));
    assert!(
        server.send_command("ping").await.is_err(),
        "no console when offline"
    );
    fixture.remove_container().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_with_sigint_and_a_stuck_server_is_killed() {
    let mut fixture = fixture("signals").await;
    fixture.config.stop = StopAction::from_egg("^C");
    let server = installed(&fixture).await;
    let (_, mut events) = server.subscribe();
    server.start().await.unwrap();
    wait_state(&server, PowerState::Running).await;
    server.stop().await.unwrap();
    expect_event(
        &mut events,
        "the SIGINT handler",
        console_line("caught SIGINT, saving world"),
    )
    .await;
    assert_eq!(server.state(), PowerState::Offline);

    // A stop command the server ignores: wings kills it after the timeout.
    let mut stuck = fixture.config.clone();
    stuck.stop = StopAction::Command("ignore".into());
    stuck.stop_timeout = Duration::from_secs(2);
    server.update_config(stuck);
    server.start().await.unwrap();
    wait_state(&server, PowerState::Running).await;
    server.stop().await.unwrap();
    expect_event(&mut events, "the kill notice", |e| matches!(e, ServerEvent::DaemonMessage(m) if m.contains("did not stop within 2 seconds"))).await;
    assert_eq!(server.state(), PowerState::Offline);
    fixture.remove_container().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn crashes_are_detected_restarted_once_and_loops_stopped() {
    let mut fixture = fixture("crash").await;
    fixture.config.auto_restart = true;
    let server = installed(&fixture).await;
    let (_, mut events) = server.subscribe();
    server.start().await.unwrap();
    wait_state(&server, PowerState::Running).await;

    server.send_command("crash").await.unwrap();
    let crash = expect_event(&mut events, "a crash", |e| {
        matches!(e, ServerEvent::Crashed { .. })
    })
    .await;
    assert_eq!(
        crash,
        ServerEvent::Crashed {
            exit_code: 3,
            oom_killed: false
        }
    );
    expect_event(
        &mut events,
        "the restart notice",
        |e| matches!(e, ServerEvent::DaemonMessage(m) if m.contains("restarting after a crash")),
    )
    .await;
    wait_state(&server, PowerState::Running).await;

    server.send_command("crash").await.unwrap();
    expect_event(&mut events, "the crash-loop notice", |e| matches!(e, ServerEvent::DaemonMessage(m) if m.contains("crashed twice within a minute"))).await;
    wait_state(&server, PowerState::Offline).await;
    fixture.remove_container().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_wings_reattaches_to_a_running_server() {
    let fixture = fixture("reattach").await;
    let server = installed(&fixture).await;
    server.start().await.unwrap();
    wait_state(&server, PowerState::Running).await;
    drop(server);

    // A new wings process: same node, same configuration.
    let revived = Server::new(fixture.node.clone(), fixture.config.clone());
    assert_eq!(revived.recorded_state(), Some(PowerState::Running));
    revived.reattach().await.unwrap();
    assert_eq!(revived.state(), PowerState::Running);
    let (_, mut events) = revived.subscribe();
    revived.send_command("ping").await.unwrap();
    expect_event(&mut events, "pong after re-attaching", console_line("pong")).await;
    revived.stop().await.unwrap();
    assert_eq!(revived.state(), PowerState::Offline);
    fixture.remove_container().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_install_is_reported() {
    let fixture = fixture("badinstall").await;
    let server = Server::new(fixture.node.clone(), fixture.config.clone());
    let script = InstallScript {
        image: TEST_IMAGE.into(),
        entrypoint: "sh".into(),
        script: "echo downloading\nexit 7\n".into(),
    };
    assert!(!server.install(&script).await.unwrap());
    assert!(
        std::fs::read_to_string(server.install_log())
            .unwrap()
            .contains("downloading")
    );
    let missing = InstallScript {
        image: "localhost/hatchery-test/none:1".into(),
        ..script
    };
    let err = server.install(&missing).await.unwrap_err().to_string();
    assert!(err.contains("could not be pulled"), "{err}");
}
