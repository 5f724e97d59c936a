//! `cargo xtask build | run | test`: builds the host and every plugin (Wasm and native),
//! assembles plugin directories and signed packages, and runs the panel or the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

const TOOLCHAIN: &str = "1.95.0";
const WASM_TARGET: &str = "wasm32-wasip2";
const WASM_PROFILE: &str = "wasm";

const HELP: &str = "\
cargo xtask <command>

Commands:
  build   Build the host and every plugin; assemble them into target/hatchery/ and
          install the example plugins into ./data/plugins for `hatchery serve`
  run     build, then start the panel (extra arguments go to `hatchery serve`)
  test    build, then run every test of the workspace
  bench   build, then run the benchmarks (release build) and print their figures
  lint    cargo fmt --check and cargo clippy -D warnings on the whole workspace
  fuzz    run the property tests (eggs, Laravel rules, plugin manifests and packages,
          plugin SQL, the wings configuration, console tokens, paths) for a set time
          with many cases per round: cargo xtask fuzz [SECONDS, default 600] [CASES
          per property per round, default 2000]; prints how many cases ran
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("build") => build().map(drop),
        Some("run") => build().and_then(|layout| run(&layout, &args[1..])),
        Some("test") => build().and_then(|layout| test(&layout, &args[1..])),
        Some("bench") => build().and_then(|layout| bench(&layout)),
        Some("lint") => Layout::discover().and_then(|layout| lint(&layout)),
        Some("fuzz") => Layout::discover().and_then(|layout| fuzz(&layout, &args[1..])),
        _ => {
            eprint!("{HELP}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where things are.
struct Layout {
    root: PathBuf,
    target: PathBuf,
    /// Assembled plugin directories and packages.
    out: PathBuf,
}

impl Layout {
    fn discover() -> Result<Layout> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask lives inside the workspace")?
            .to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            })
            .unwrap_or_else(|| root.join("target"));
        let out = target.join("hatchery");
        Ok(Layout { root, target, out })
    }

    fn hatchery(&self) -> PathBuf {
        self.target
            .join("debug")
            .join(format!("hatchery{}", std::env::consts::EXE_SUFFIX))
    }
}

#[derive(Deserialize)]
struct ManifestHead {
    id: String,
    runtime: String,
    entry: String,
    /// The settings schema file, copied into the package.
    #[serde(default)]
    settings: Option<String>,
}

/// A plugin manifest found in a crate: `plugin.toml`, or `<name>.plugin.toml` when one
/// source builds several plugins.
struct PluginSource {
    crate_dir: PathBuf,
    crate_name: String,
    manifest_path: PathBuf,
    head: ManifestHead,
    /// Test-only plugins are packaged but never installed for `hatchery serve`.
    testing: bool,
}

fn build() -> Result<Layout> {
    let layout = Layout::discover()?;
    let sources = plugin_sources(&layout.root)?;
    ensure_wasm_target()?;

    build_web(&layout)?;
    step("building the host, wings and native plugins");
    cargo(&layout.root, &["build", "--workspace"])?;

    let wasm_crates: Vec<&str> = sources
        .iter()
        .filter(|s| s.head.runtime == "wasm")
        .map(|s| s.crate_name.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !wasm_crates.is_empty() {
        step("building Wasm plugins");
        let mut args = vec!["build", "--target", WASM_TARGET, "--profile", WASM_PROFILE];
        for name in &wasm_crates {
            args.extend(["-p", name]);
        }
        cargo(&layout.root, &args)?;
    }

    step("assembling plugin directories and signed packages");
    let plugins_out = layout.out.join("plugins");
    let packages_out = layout.out.join("packages");
    for dir in [&plugins_out, &packages_out] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("cleaning {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir)?;
    }
    let key = dev_signing_key(&layout)?;
    for source in &sources {
        let assembled = plugins_out.join(&source.head.id);
        assemble(&layout, source, &assembled)?;
        let package = packages_out.join(format!("{}.hpkg", source.head.id));
        run_quiet(
            Command::new(layout.hatchery())
                .args(["plugin", "pack"])
                .arg(&assembled)
                .arg("--key")
                .arg(&key)
                .arg("--output")
                .arg(&package),
        )?;
    }

    step("installing the example plugins into ./data/plugins");
    let installed = layout.root.join("data").join("plugins");
    std::fs::create_dir_all(&installed)?;
    for source in sources.iter().filter(|s| !s.testing) {
        let target = installed.join(&source.head.id);
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        copy_dir(&plugins_out.join(&source.head.id), &target)?;
    }
    println!("  plugins: {}", plugins_out.display());
    println!(
        "  packages (signed with {}): {}",
        key.display(),
        packages_out.display()
    );
    Ok(layout)
}

fn run(layout: &Layout, extra: &[String]) -> Result<()> {
    let mut wings = match start_local_wings(layout) {
        Ok(wings) => wings,
        Err(err) => {
            eprintln!("warning: the local wings node did not start: {err:#}");
            None
        }
    };
    step("starting the panel (Ctrl-C stops it)");
    let status = Command::new(layout.hatchery())
        .arg("serve")
        .args(extra)
        .current_dir(&layout.root)
        .status()
        .context("starting hatchery");
    if let Some(wings) = wings.as_mut() {
        let _ = wings.kill();
        let _ = wings.wait();
    }
    let status = status?;
    if !status.success() {
        bail!("hatchery serve exited with {status}");
    }
    Ok(())
}

/// Where a container engine answers: `DOCKER_HOST`, podman's or Docker's socket.
#[cfg(unix)]
fn container_engine() -> Option<String> {
    std::env::var("DOCKER_HOST").ok().or_else(|| {
        [PODMAN_SOCKET, "/var/run/docker.sock"]
            .into_iter()
            .find(|socket| Path::new(socket).exists())
            .map(|socket| format!("unix://{socket}"))
    })
}

#[cfg(not(unix))]
fn start_local_wings(_layout: &Layout) -> Result<Option<std::process::Child>> {
    Ok(None)
}

/// With a container engine on this machine, `cargo xtask run` also runs a wings for a
/// node called `local` (created on first run), configured by `hatchery node config`
/// plus this checkout's directories under `./data/wings`.
#[cfg(unix)]
fn start_local_wings(layout: &Layout) -> Result<Option<std::process::Child>> {
    let Some(socket) = container_engine() else {
        step(
            "no container engine (DOCKER_HOST, podman's or Docker's socket): the panel runs without a local node",
        );
        return Ok(None);
    };
    let hatchery = layout.hatchery();
    let wings_dir = layout.root.join("data").join("wings");
    std::fs::create_dir_all(&wings_dir)?;
    let node_config = |hatchery: &Path| {
        Command::new(hatchery)
            .args(["node", "config", "local"])
            .current_dir(&layout.root)
            .output()
    };
    if !node_config(&hatchery)?.status.success() {
        step("creating the node `local` for this machine's wings");
        run_quiet(
            Command::new(&hatchery)
                .args(["node", "create", "--name", "local", "--fqdn", "127.0.0.1"])
                .args([
                    "--port",
                    "8080",
                    "--sftp-port",
                    "2022",
                    "--memory",
                    "8192",
                    "--disk",
                    "51200",
                ])
                .arg("--data-dir")
                .arg(wings_dir.join("volumes"))
                .current_dir(&layout.root),
        )?;
    }
    let printed = node_config(&hatchery)?;
    if !printed.status.success() {
        bail!("{}", String::from_utf8_lossy(&printed.stderr));
    }
    let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&printed.stdout)?;
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(&layout.root)?;
    let local: serde_yaml_ng::Value = serde_yaml_ng::from_str(&format!(
        "{{api: {{host: 127.0.0.1}}, system: {{root_directory: '{root}', log_directory: '{root}/log', tmp_directory: '{root}/tmp', user: {{uid: {uid}, gid: {gid}}}, sftp: {{bind_address: 127.0.0.1}}}}, docker: {{socket: '{socket}'}}}}",
        root = wings_dir.display(),
        uid = owner.uid(),
        gid = owner.gid(),
    ))?;
    merge_yaml(&mut config, &local);
    let config_path = wings_dir.join("config.yml");
    std::fs::write(&config_path, serde_yaml_ng::to_string(&config)?)?;
    let log_path = wings_dir.join("wings.log");
    step(&format!(
        "starting wings for node `local` (API 127.0.0.1:8080, SFTP 2022; log {})",
        log_path.display()
    ));
    let log = std::fs::File::create(&log_path)?;
    let child = Command::new(layout.target.join("debug").join("wings"))
        .arg("--config")
        .arg(&config_path)
        .stdout(log.try_clone()?)
        .stderr(log)
        .current_dir(&layout.root)
        .spawn()
        .context("starting wings")?;
    Ok(Some(child))
}

/// Overlays `extra` onto `base`, map by map.
#[cfg(unix)]
fn merge_yaml(base: &mut serde_yaml_ng::Value, extra: &serde_yaml_ng::Value) {
    match (base, extra) {
        (serde_yaml_ng::Value::Mapping(base), serde_yaml_ng::Value::Mapping(extra)) => {
            for (key, value) in extra {
                match base.get_mut(key) {
                    Some(existing) if existing.is_mapping() && value.is_mapping() => {
                        merge_yaml(existing, value)
                    }
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, extra) => *base = extra.clone(),
    }
}

/// The browser tests drive Chromium (playwright-core cannot download one here).
fn ensure_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some() {
        return Ok(());
    }
    step("installing Chromium (for the web panel's browser tests)");
    if !apt_install(&["chromium"]) {
        bail!("could not install Chromium; run `apt-get install chromium` or set CHROMIUM");
    }
    Ok(())
}

/// `apt-get install`, once more after `apt-get update` when the lists are stale.
fn apt_install(packages: &[&str]) -> bool {
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    if install() {
        return true;
    }
    let _ = Command::new("apt-get").arg("update").status();
    install()
}

fn test(layout: &Layout, extra: &[String]) -> Result<()> {
    ensure_chromium()?;
    ensure_web_packages(layout)?;
    step("testing the web panel (vitest)");
    npm(layout, &["test"])?;
    ensure_postgres()?;
    ensure_mail_sink()?;
    ensure_oidc_provider(layout)?;
    let docker_host = ensure_podman(layout)?;
    step("running the tests");
    let nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    let mut command = Command::new("cargo");
    if nextest {
        command.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        command.args(["test", "--workspace", "--no-fail-fast"]);
    }
    command
        .args(extra)
        .env("PLUGIN_ARTIFACTS_DIR", &layout.out)
        .env("DOCKER_HOST", &docker_host)
        .current_dir(&layout.root);
    let status = command.status().context("running cargo")?;
    if !status.success() {
        bail!("tests failed");
    }
    if !nextest {
        return Ok(());
    }
    // nextest does not run doctests.
    let status = Command::new("cargo")
        .args(["test", "--workspace", "--doc"])
        .current_dir(&layout.root)
        .status()?;
    if !status.success() {
        bail!("doctests failed");
    }
    Ok(())
}

/// The identity-provider sign-in tests start a real OpenID Connect provider
/// (panva/oidc-provider in Node); its packages come from the lock file.
fn ensure_oidc_provider(layout: &Layout) -> Result<()> {
    let dir = layout.root.join("host/tests/peers/oidc");
    if dir.join("node_modules/oidc-provider").is_dir() {
        return Ok(());
    }
    step("installing the OpenID Connect test provider (npm ci)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()?;
    if !status.success() {
        bail!("npm ci failed in {}", dir.display());
    }
    Ok(())
}

/// The password-reset tests send real mail to Python's aiosmtpd, which they start.
fn ensure_mail_sink() -> Result<()> {
    let installed = || {
        Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if installed() {
        return Ok(());
    }
    step("installing aiosmtpd (a local SMTP server for the mail tests)");
    let _ = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
        .status();
    if !installed() {
        bail!("could not install aiosmtpd; run `python3 -m pip install aiosmtpd`");
    }
    Ok(())
}

/// The database tests need PostgreSQL; start the local cluster if it is not running.
/// Connections the test PostgreSQL accepts: many panels (each with a pool per
/// plugin) run side by side in one test run, past the default 100.
const TEST_POSTGRES_CONNECTIONS: u32 = 400;

fn ensure_postgres() -> Result<()> {
    if std::env::var_os("TEST_POSTGRES_URL").is_some() {
        return Ok(());
    }
    let reachable = || std::net::TcpStream::connect(("127.0.0.1", 5432)).is_ok();
    let wait = || {
        for _ in 0..30 {
            if reachable() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        bail!(
            "PostgreSQL is not reachable on 127.0.0.1:5432; start it, or point TEST_POSTGRES_URL at a server"
        )
    };
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned());
    let cluster = |action: &str| {
        if let Some(version) = &version {
            let _ = Command::new("pg_ctlcluster")
                .args(["--skip-systemctl-redirect", version, "main", action])
                .status();
        }
    };
    if !reachable() {
        step("starting PostgreSQL");
        cluster("start");
        wait()?;
    }
    // The machine's own cluster (not one TEST_POSTGRES_URL names) gets room for them.
    let psql = |sql: &str| {
        Command::new("psql")
            .args([
                "-XAtq",
                "postgres://postgres@127.0.0.1:5432/postgres",
                "-c",
                sql,
            ])
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let allowed = psql("SHOW max_connections").and_then(|value| value.parse::<u32>().ok());
    if version.is_some() && allowed.is_some_and(|allowed| allowed < TEST_POSTGRES_CONNECTIONS) {
        step(&format!(
            "letting PostgreSQL take {TEST_POSTGRES_CONNECTIONS} connections (the tests run many panels at once)"
        ));
        psql(&format!(
            "ALTER SYSTEM SET max_connections = {TEST_POSTGRES_CONNECTIONS}"
        ));
        cluster("restart");
        wait()?;
    }
    Ok(())
}

/// The image wings' tests run game servers in; no registry is reachable, so it is
/// built from the static busybox.
const TEST_IMAGE: &str = "localhost/hatchery-test/busybox:2";
/// Like Pterodactyl's yolks: runs `STARTUP` with `{{VAR}}` expanded from the environment.
const TEST_ENTRYPOINT: &str = r#"#!/bin/sh
cd /home/container || exit 1
STARTUP_COMMAND=$(printf '%s' "$STARTUP" | sed -e 's/{{/${/g' -e 's/}}/}/g')
eval "exec $STARTUP_COMMAND"
"#;
const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

/// podman 4.3 closes a container's stdin when the attached client goes away (a wings
/// restart), which ends game servers that read commands; conmon keeps it open only when
/// told to, and podman never tells it. This wrapper does.
const CONMON_WRAPPER: &str = "/usr/local/libexec/hatchery/conmon";
const CONTAINERS_CONF: &str = "/etc/containers/containers.conf";

/// Writes podman's engine configuration for the tests: runc (crun cannot set rlimits in
/// this sandbox) and the conmon wrapper. Returns whether anything changed.
#[cfg(unix)]
fn configure_podman() -> Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let wrapper = "#!/bin/sh\nexec /usr/bin/conmon --leave-stdin-open \"$@\"\n";
    let mut changed = false;
    if std::fs::read_to_string(CONMON_WRAPPER).ok().as_deref() != Some(wrapper) {
        std::fs::create_dir_all(Path::new(CONMON_WRAPPER).parent().expect("has a parent"))?;
        std::fs::write(CONMON_WRAPPER, wrapper).context("writing the conmon wrapper")?;
        std::fs::set_permissions(CONMON_WRAPPER, std::fs::Permissions::from_mode(0o755))?;
        changed = true;
    }
    let wanted = format!(
        "# written by `cargo xtask test`\n[engine]\nruntime = \"runc\"\nconmon_path = [\"{CONMON_WRAPPER}\"]\n"
    );
    let current = std::fs::read_to_string(CONTAINERS_CONF).unwrap_or_default();
    if current != wanted {
        if !current.is_empty() && !current.starts_with("# written by `cargo xtask test`") {
            std::fs::write(format!("{CONTAINERS_CONF}.before-hatchery"), &current)?;
        }
        std::fs::create_dir_all("/etc/containers")?;
        std::fs::write(CONTAINERS_CONF, wanted)
            .context("writing /etc/containers/containers.conf")?;
        changed = true;
    }
    Ok(changed)
}

#[cfg(not(unix))]
fn ensure_podman(_layout: &Layout) -> Result<String> {
    std::env::var("DOCKER_HOST").context("set DOCKER_HOST to a Docker engine for wings' tests")
}

/// Wings' tests need a Docker-compatible engine: podman, its API service, and the test
/// image. Installs and starts what is missing; returns the `DOCKER_HOST` to use.
#[cfg(unix)]
fn ensure_podman(layout: &Layout) -> Result<String> {
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        return Ok(host);
    }
    let have = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !have("podman") || !Path::new("/bin/busybox").exists() {
        step("installing podman, runc and busybox-static");
        if !apt_install(&["podman", "runc", "busybox-static"]) {
            bail!(
                "could not install podman; install podman, runc and busybox-static, or set DOCKER_HOST to a Docker engine"
            );
        }
    }
    let reconfigured = configure_podman()?;
    let reachable = || std::os::unix::net::UnixStream::connect(PODMAN_SOCKET).is_ok();
    if reconfigured && reachable() {
        step("restarting podman's API service with the new configuration");
        let _ = Command::new("pkill")
            .args(["-f", "podman system service"])
            .status();
        for _ in 0..50 {
            if !reachable() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = std::fs::remove_file(PODMAN_SOCKET);
    }
    if !reachable() {
        step("starting podman's Docker-compatible API service");
        std::fs::create_dir_all("/run/podman")?;
        let log = std::fs::File::create(layout.out.join("podman-service.log"))?;
        Command::new("podman")
            .args([
                "system",
                "service",
                "--time=0",
                &format!("unix://{PODMAN_SOCKET}"),
            ])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting podman system service")?;
        for _ in 0..50 {
            if reachable() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        if !reachable() {
            bail!(
                "podman's API service did not come up; see {}",
                layout.out.join("podman-service.log").display()
            );
        }
    }
    let exists = Command::new("podman")
        .args(["image", "exists", TEST_IMAGE])
        .status()
        .is_ok_and(|status| status.success());
    if !exists {
        step(&format!(
            "building the test image {TEST_IMAGE} from busybox"
        ));
        let root = layout.out.join("busybox-rootfs");
        if root.exists() {
            std::fs::remove_dir_all(&root)?;
        }
        for dir in ["bin", "tmp", "etc", "home/container"] {
            std::fs::create_dir_all(root.join(dir))?;
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox"))?;
        std::fs::write(root.join("entrypoint.sh"), TEST_ENTRYPOINT)?;
        std::fs::set_permissions(
            root.join("entrypoint.sh"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        for applet in [
            "sh", "echo", "cat", "sleep", "ls", "mkdir", "rm", "printf", "env", "kill", "true",
            "false", "wc", "head", "tail", "grep", "sed", "chmod", "cp", "mv", "id",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))?;
        }
        let tarball = layout.out.join("busybox-rootfs.tar");
        run_quiet(
            Command::new("tar")
                .arg("-C")
                .arg(&root)
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        )?;
        run_quiet(
            Command::new("podman")
                .arg("import")
                .args(["--change", r#"ENTRYPOINT ["/entrypoint.sh"]"#])
                .arg(&tarball)
                .arg(TEST_IMAGE),
        )?;
    }
    Ok(format!("unix://{PODMAN_SOCKET}"))
}

/// The plugin-host benchmark, then wings' (real containers, and OpenSSH's server for
/// the SFTP comparison, installed when missing).
fn bench(layout: &Layout) -> Result<()> {
    let docker_host = ensure_podman(layout)?;
    if !Path::new("/usr/lib/openssh/sftp-server").exists() {
        step("installing openssh-server for the SFTP comparison");
        if !apt_install(&["openssh-server"]) {
            eprintln!("warning: openssh-server is not installed; the SFTP comparison is skipped");
        }
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        step("installing wrk for the API load benchmark");
        if !apt_install(&["wrk"]) {
            eprintln!("warning: wrk is not installed; the API load benchmark is skipped");
        }
    }
    ensure_postgres()?;
    step("building wings and the native plugins optimised, for the plugin benchmarks");
    cargo(
        &layout.root,
        &[
            "build",
            "--release",
            "-p",
            "hostile",
            "-p",
            "hello-native",
            "-p",
            "bench-plugin",
            "-p",
            "core-files",
            "-p",
            "wings",
        ],
    )?;
    for package in ["hatchery", "wings"] {
        step(&format!("running the {package} benchmarks (release build)"));
        let status = Command::new("cargo")
            .args(["bench", "-p", package])
            .env("PLUGIN_ARTIFACTS_DIR", &layout.out)
            .env("DOCKER_HOST", &docker_host)
            .current_dir(&layout.root)
            .status()?;
        if !status.success() {
            bail!("the {package} benchmarks failed");
        }
    }
    Ok(())
}

/// `npm` in `web/`, its output shown only when it fails.
fn npm(layout: &Layout, args: &[&str]) -> Result<()> {
    let dir = layout.root.join("web");
    run_quiet(Command::new("npm").args(args).current_dir(&dir))
        .with_context(|| format!("npm {} in {}", args.join(" "), dir.display()))
}

/// The web panel's packages, from its lock file, when they are missing or older.
fn ensure_web_packages(layout: &Layout) -> Result<()> {
    let web = layout.root.join("web");
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (
        installed.metadata(),
        web.join("package-lock.json").metadata(),
    ) {
        (Ok(installed), Ok(lock)) => installed.modified()? < lock.modified()?,
        _ => true,
    };
    if stale {
        step("installing the web panel's packages (npm ci)");
        npm(
            layout,
            &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
        )?;
    }
    Ok(())
}

/// Builds the web panel into `web/dist`, which the panel embeds.
fn build_web(layout: &Layout) -> Result<()> {
    ensure_web_packages(layout)?;
    step("building the web panel (vite build)");
    npm(layout, &["run", "build"])
}

fn lint(layout: &Layout) -> Result<()> {
    ensure_web_packages(layout)?;
    step("checking the web panel (tsc --noEmit, eslint)");
    npm(layout, &["run", "check"])?;
    step("checking formatting");
    cargo(&layout.root, &["fmt", "--all", "--", "--check"])?;
    step("running clippy");
    cargo(
        &layout.root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    ensure_wasm_target()?;
    cargo(
        &layout.root,
        &[
            "clippy",
            "--target",
            WASM_TARGET,
            "-p",
            "hatchery-sdk",
            "-p",
            "hello-wasm",
            "-p",
            "hostile",
            "--",
            "-D",
            "warnings",
        ],
    )
}

fn plugin_sources(root: &Path) -> Result<Vec<PluginSource>> {
    let mut sources = Vec::new();
    let mut pending = vec![root.join("plugins")];
    while let Some(dir) = pending.pop() {
        let cargo_toml = dir.join("Cargo.toml");
        if cargo_toml.exists() {
            let crate_name = crate_name(&cargo_toml)?;
            let testing = dir.starts_with(root.join("plugins").join("testing"));
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if name == "plugin.toml" || name.ends_with(".plugin.toml") {
                    let text = std::fs::read_to_string(&path)?;
                    let head: ManifestHead = toml::from_str(&text)
                        .with_context(|| format!("reading {}", path.display()))?;
                    sources.push(PluginSource {
                        crate_dir: dir.clone(),
                        crate_name: crate_name.clone(),
                        manifest_path: path,
                        head,
                        testing,
                    });
                }
            }
            continue;
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    sources.sort_by(|a, b| a.head.id.cmp(&b.head.id));
    Ok(sources)
}

fn crate_name(cargo_toml: &Path) -> Result<String> {
    #[derive(Deserialize)]
    struct CargoToml {
        package: Package,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
    }
    let text = std::fs::read_to_string(cargo_toml)?;
    let parsed: CargoToml =
        toml::from_str(&text).with_context(|| format!("reading {}", cargo_toml.display()))?;
    Ok(parsed.package.name)
}

/// Lays out a plugin as the host expects it: manifest, entry, settings schema,
/// migrations, ui.
fn assemble(layout: &Layout, source: &PluginSource, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::copy(&source.manifest_path, out.join("plugin.toml"))?;
    let library = source.crate_name.replace('-', "_");
    let artifact = match source.head.runtime.as_str() {
        "wasm" => layout
            .target
            .join(WASM_TARGET)
            .join(WASM_PROFILE)
            .join(format!("{library}.wasm")),
        _ => layout.target.join("debug").join(format!(
            "{}{library}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )),
    };
    std::fs::copy(&artifact, out.join(&source.head.entry))
        .with_context(|| format!("copying {} for {}", artifact.display(), source.head.id))?;
    if let Some(schema) = &source.head.settings {
        std::fs::copy(source.crate_dir.join(schema), out.join(schema))
            .with_context(|| format!("copying the settings schema of {}", source.head.id))?;
    }
    for extra in ["migrations", "ui"] {
        let from = source.crate_dir.join(extra);
        if from.is_dir() {
            copy_dir(&from, &out.join(extra))?;
        }
    }
    Ok(())
}

/// The development signing key, and its public half in `dev-signing.pub` for
/// `HATCHERY_TRUSTED_KEYS`.
fn dev_signing_key(layout: &Layout) -> Result<PathBuf> {
    let key = layout.out.join("dev-signing.key");
    let public = layout.out.join("dev-signing.pub");
    if !key.exists() || !public.exists() {
        let output = Command::new(layout.hatchery())
            .args(["plugin", "keygen"])
            .arg(&key)
            .output()
            .context("running hatchery plugin keygen")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let public_key = stdout
            .lines()
            .find_map(|line| line.strip_prefix("public key: "))
            .with_context(|| format!("hatchery plugin keygen printed no public key: {stdout}"))?;
        std::fs::write(&public, format!("{public_key}\n"))?;
    }
    Ok(key)
}

fn ensure_wasm_target() -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed", "--toolchain", TOOLCHAIN])
        .output()
        .context("running rustup (is it installed?)")?;
    if String::from_utf8_lossy(&output.stdout)
        .lines()
        .any(|line| line.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    step(&format!(
        "adding the {WASM_TARGET} target to Rust {TOOLCHAIN}"
    ));
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET, "--toolchain", TOOLCHAIN])
        .status()?;
    if !status.success() {
        bail!(
            "could not add the {WASM_TARGET} target; run `rustup target add {WASM_TARGET} --toolchain {TOOLCHAIN}`"
        );
    }
    Ok(())
}

fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("cargo")
        .args(args)
        .current_dir(root)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

fn run_quiet(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        files.insert(entry.file_name(), entry.path());
    }
    for (name, path) in files {
        if path.is_dir() {
            copy_dir(&path, &to.join(name))?;
        } else {
            std::fs::copy(&path, to.join(name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(())
}

/// Runs the property tests round after round, each with new random cases, until the
/// time is up or one fails (proptest then saves the failing case under
/// `*/tests/proptest-regressions/`, so every later run tries it first).
fn fuzz(layout: &Layout, args: &[String]) -> Result<()> {
    let seconds: u64 = args
        .first()
        .map_or(Ok(600), |s| s.parse())
        .context("SECONDS")?;
    let cases: u64 = args
        .get(1)
        .map_or(Ok(2000), |s| s.parse())
        .context("CASES")?;
    let suites: [&[&str]; 2] = [
        &["test", "-p", "hatchery", "--test", "all", "properties::"],
        &["test", "-p", "wings", "--test", "properties"],
    ];
    step(&format!(
        "property tests for {seconds} s, {cases} cases per property per round"
    ));
    let started = std::time::Instant::now();
    let (mut rounds, mut total) = (0u64, 0u64);
    while started.elapsed().as_secs() < seconds {
        for suite in suites {
            let output = Command::new("cargo")
                .args(suite)
                .current_dir(&layout.root)
                .env("PROPTEST_CASES", cases.to_string())
                .output()
                .context("running cargo test")?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                bail!(
                    "a property failed after {total} cases:\n{stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            // "test result: ok. 12 passed; …": each passed property ran `cases` cases.
            let properties: u64 = stdout
                .lines()
                .filter_map(|line| line.strip_prefix("test result: ok. "))
                .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
                .sum();
            total += properties * cases;
        }
        rounds += 1;
        println!(
            "round {rounds}: {total} cases so far, no failure ({} s)",
            started.elapsed().as_secs()
        );
    }
    println!(
        "{total} cases in {rounds} rounds over {} s: no crash, no failure",
        started.elapsed().as_secs()
    );
    Ok(())
}

fn step(message: &str) {
    println!("==> {message}");
}
