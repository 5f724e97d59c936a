#![allow(dead_code)] // each test crate uses part of this
//! Shared by wings' engine tests: the engine connection, the locally built image and
//! the fixture game-server egg's install script.

use hatchery_wings::docker::DockerExecutor;

/// Built locally from a static busybox by `cargo xtask test` (no registry is reachable).
pub const TEST_IMAGE: &str = "localhost/hatchery-test/busybox:2";

/// The engine at `DOCKER_HOST`, or podman's socket that `cargo xtask test` starts.
pub async fn executor() -> DockerExecutor {
    let socket =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    DockerExecutor::connect(&socket).await.unwrap_or_else(|err| {
        panic!("the tests need a container engine at {socket} (cargo xtask test starts podman): {err}")
    })
}

/// The fixture egg's install script: it writes a shell-script game server.
pub const INSTALL_SCRIPT: &str = r#"#!/bin/sh
cd /mnt/server
cat > server.sh <<'SERVER'
trap 'echo "caught SIGINT, saving world"; exit 0' INT
echo "Starting game server on port $SERVER_PORT, greeting: $GREETING"
echo "Done (0.1s)! For help, type help"
while read -r line; do
  case "$line" in
    ping) echo pong ;;
    stop) echo "Saving and stopping"; exit 0 ;;
    crash) echo "fatal error" >&2; exit 3 ;;
    ignore) ;;
    *) echo "unknown command: $line" ;;
  esac
done
SERVER
echo "install finished"
"#;
