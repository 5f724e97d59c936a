//! The Docker executor against a real engine (podman's Docker-compatible service in
//! CI, started by `cargo xtask test`), with a small shell-script "game server".

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use hatchery_wings::Error;
use hatchery_wings::config::DockerConfig;
use hatchery_wings::docker::DockerExecutor;
use hatchery_wings::executor::{
    BindMount, ContainerSpec, Executor, ImageSource, OutputChunk, PortBinding, ResourceLimits,
};
use tokio::io::AsyncWriteExt;

mod common;

use common::{TEST_IMAGE, executor};

/// A game server in a few lines of shell: prints a startup line, answers `ping`, stops
/// cleanly on `stop` or SIGINT.
const GAME_SERVER: &str = r#"
trap 'echo "caught SIGINT, saving world"; exit 0' INT
echo "Server marker: $SERVER_MARKER"
echo "Done (0.42s)! For help, type help"
while read -r line; do
  case "$line" in
    ping) echo pong ;;
    stop) echo "Stopping server"; exit 0 ;;
    crash) echo "oh no" >&2; exit 3 ;;
    *) echo "unknown command: $line" ;;
  esac
done
"#;

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("hatchery-test-{name}-{}-{nanos}", std::process::id())
}

fn game_server(name: &str, volume: &std::path::Path) -> ContainerSpec {
    ContainerSpec {
        name: name.to_string(),
        image: TEST_IMAGE.into(),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into(), GAME_SERVER.into()]),
        env: vec![("SERVER_MARKER".into(), "marker-42".into())],
        working_dir: Some("/home/container".into()),
        mounts: vec![BindMount {
            source: volume.to_path_buf(),
            target: "/home/container".into(),
            read_only: false,
        }],
        limits: ResourceLimits {
            memory_mb: 64,
            swap_mb: 0,
            cpu_percent: 50,
            pids: 64,
            io_weight: 500,
        },
        ulimits: DockerConfig::default().ulimits,
        labels: BTreeMap::from([("hatchery.test".to_string(), "true".to_string())]),
        ..ContainerSpec::default()
    }
}

/// Creates, attaches to (before starting, so no output is lost) and starts a container.
async fn started(
    executor: &DockerExecutor,
    spec: &ContainerSpec,
) -> hatchery_wings::executor::Attachment {
    executor.create(spec).await.unwrap();
    let attachment = executor.attach(&spec.name).await.unwrap();
    executor.start(&spec.name).await.unwrap();
    attachment
}

/// Reads output until `needle` appears; returns everything read.
async fn read_until(output: &mut hatchery_wings::executor::OutputStream, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, output.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {needle:?}; saw {seen:?}"))
            .unwrap_or_else(|| panic!("output ended before {needle:?}; saw {seen:?}"))
            .unwrap();
        match chunk {
            OutputChunk::Stdout(bytes) | OutputChunk::Stderr(bytes) => {
                seen.push_str(&String::from_utf8_lossy(&bytes))
            }
        }
    }
    seen
}

#[tokio::test]
async fn a_server_runs_answers_commands_and_stops_cleanly() {
    let executor = executor().await;
    assert_eq!(
        executor.ensure_image(TEST_IMAGE).await.unwrap(),
        ImageSource::Local
    );
    let volume = tempfile::tempdir().unwrap();
    let name = unique("lifecycle");
    let mut attachment = started(&executor, &game_server(&name, volume.path())).await;

    let startup = read_until(&mut attachment.output, "Done (").await;
    assert!(startup.contains("Server marker: marker-42"), "{startup}");
    assert!(executor.state(&name).await.unwrap().unwrap().running);

    attachment.input.write_all(b"ping\n").await.unwrap();
    read_until(&mut attachment.output, "pong").await;

    let usage = executor.usage(&name).await.unwrap();
    assert!(usage.memory_bytes > 0, "{usage:?}");
    assert_eq!(usage.memory_limit_bytes, 64 * 1024 * 1024, "{usage:?}");

    attachment.input.write_all(b"stop\n").await.unwrap();
    read_until(&mut attachment.output, "Stopping server").await;
    let exit = executor.wait(&name).await.unwrap();
    assert_eq!(exit.code, 0);
    assert!(!exit.oom_killed);
    let state = executor.state(&name).await.unwrap().unwrap();
    assert!(!state.running);
    assert_eq!(state.image, TEST_IMAGE);

    executor.remove(&name).await.unwrap();
    assert!(executor.state(&name).await.unwrap().is_none());
    executor
        .remove(&name)
        .await
        .expect("removing twice is fine");
}

#[tokio::test]
async fn sigint_reaches_the_server_so_it_can_save() {
    let executor = executor().await;
    let volume = tempfile::tempdir().unwrap();
    let name = unique("sigint");
    let mut attachment = started(&executor, &game_server(&name, volume.path())).await;
    read_until(&mut attachment.output, "Done (").await;
    executor.signal(&name, "SIGINT").await.unwrap();
    read_until(&mut attachment.output, "caught SIGINT, saving world").await;
    assert_eq!(executor.wait(&name).await.unwrap().code, 0);
    executor.remove(&name).await.unwrap();
}

#[tokio::test]
async fn exit_codes_stderr_volumes_and_ports_are_real() {
    let executor = executor().await;
    let volume = tempfile::tempdir().unwrap();
    let name = unique("crash");
    let mut spec = game_server(&name, volume.path());
    spec.entrypoint = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("echo written-by-server > /home/container/world.txt; {GAME_SERVER}"),
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spec.ports = vec![PortBinding {
        ip: "127.0.0.1".into(),
        port,
    }];
    let mut attachment = started(&executor, &spec).await;
    read_until(&mut attachment.output, "Done (").await;
    // The volume is the host directory.
    assert_eq!(
        std::fs::read_to_string(volume.path().join("world.txt")).unwrap(),
        "written-by-server\n"
    );

    attachment.input.write_all(b"crash\n").await.unwrap();
    let mut stderr = String::new();
    while let Some(Ok(chunk)) = attachment.output.next().await {
        if let OutputChunk::Stderr(bytes) = chunk {
            stderr.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    assert_eq!(stderr, "oh no\n");
    assert_eq!(executor.wait(&name).await.unwrap().code, 3);
    executor.remove(&name).await.unwrap();
}

#[tokio::test]
async fn missing_images_and_containers_are_clear_errors() {
    let executor = executor().await;
    let err = executor
        .ensure_image("localhost/hatchery-test/no-such-image:1")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::ImageUnavailable(_)), "{message}");
    assert!(
        message.contains("could not be pulled") && message.contains("not present on this node"),
        "{message}"
    );
    assert!(matches!(
        executor.attach("hatchery-test-missing").await,
        Err(Error::NoSuchContainer(_))
    ));
    assert!(
        executor
            .state("hatchery-test-missing")
            .await
            .unwrap()
            .is_none()
    );
}

/// Game-server containers are hardened as Pterodactyl's wings does it: the image is
/// read-only, /tmp is a small tmpfs, nothing gains privileges, and capabilities such as
/// MKNOD are dropped.
#[tokio::test]
async fn containers_are_hardened() {
    let executor = executor().await;
    let volume = tempfile::tempdir().unwrap();
    let name = unique("hardened");
    let mut spec = game_server(&name, volume.path());
    spec.read_only_root = true;
    spec.tmpfs_mb = 8;
    spec.entrypoint = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        "touch /etc/probe 2>/dev/null && echo rootfs=writable || echo rootfs=read-only; \
         touch /tmp/probe && echo tmp=writable; \
         touch /home/container/probe && echo volume=writable; \
         grep NoNewPrivs /proc/self/status; \
         mknod /tmp/null c 1 3 2>/dev/null && echo mknod=allowed || echo mknod=refused; \
         echo probed"
            .into(),
    ]);
    let mut attachment = started(&executor, &spec).await;
    let seen = read_until(&mut attachment.output, "probed").await;
    for expected in [
        "rootfs=read-only",
        "tmp=writable",
        "volume=writable",
        "mknod=refused",
    ] {
        assert!(seen.contains(expected), "{expected} missing from {seen:?}");
    }
    assert!(
        seen.lines()
            .any(|line| line.starts_with("NoNewPrivs:") && line.trim_end().ends_with('1')),
        "{seen:?}"
    );
    let _ = executor.wait(&name).await;
    executor.remove(&name).await.unwrap();
}
