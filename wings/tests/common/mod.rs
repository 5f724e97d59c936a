//! Shared by wings' engine tests: the engine connection and the locally built image.

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
