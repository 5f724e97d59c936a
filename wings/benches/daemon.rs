//! wings' benchmark (not a test): the real `wings` binary, real containers, real
//! OpenSSH clients. Run with `cargo xtask bench` (which starts podman) or
//! `cargo bench -p wings --bench daemon`. Prints:
//!
//! - console throughput from a flooding server to 1 and 50 websocket clients (lines/s
//!   produced and delivered), and the delivery latency of command answers amid a
//!   steady stream of output (p50/p99 per client count);
//! - listing a directory of 10,000 files through the API;
//! - SFTP upload and download of the same file against wings and against OpenSSH's own
//!   sshd + sftp-server on loopback, same client, same cipher;
//! - wings' resident memory, idle with one server running.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/daemon/support.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{OpenSsh, PanelStandIn, Secret, SftpUser, Wings, server_uuid};

/// Prints lines as fast as `sh` can for `FLOOD_SECONDS`, then answers `ping N` lines
/// with `pong N` while printing a steady 1,000 lines/s of background output.
const FLOOD_SERVER: &str = r#"
i=0
end=$(( $(cut -d. -f1 /proc/uptime) + FLOOD_SECONDS ))
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
  j=0
  while [ $j -lt 2000 ]; do echo "flood $i"; i=$((i+1)); j=$((j+1)); done
done
echo "$i" > flood-count
( while :; do k=0; while [ $k -lt 100 ]; do echo "steady output line"; k=$((k+1)); done; sleep 0.1; done ) &
while read -r word n; do
  [ "$word" = ping ] && echo "pong $n"
  [ "$word" = stop ] && kill $! && exit 0
done
"#;

const FLOOD_SECONDS: u64 = 10;
/// Both SFTP servers are measured with the same cipher.
const CIPHER: &str = "aes256-gcm@openssh.com";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    println!("wings benchmark (debug builds are slower; cargo bench builds release)");

    console_throughput(&panel, &wings, 1).await;
    console_throughput(&panel, &wings, 50).await;
    directory_listing(&panel, &wings).await;
    idle_memory(&panel, &wings).await;
    sftp_throughput(&panel, &wings).await;
}

/// Installs a server whose `server.sh` is `script`, and starts it.
async fn start_server(panel: &PanelStandIn, wings: &Wings, script: &str, disk_mb: u64) -> String {
    let uuid = server_uuid();
    wings.create_installed_server(panel, &uuid, disk_mb).await;
    let volume = wings.dir.path().join("volumes").join(&uuid);
    std::fs::write(
        volume.join("server.sh"),
        script.replace("FLOOD_SECONDS", &FLOOD_SECONDS.to_string()),
    )
    .unwrap();
    let started = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "start" })),
        )
        .await;
    assert_eq!(started.status, 202, "{started:?}");
    uuid
}

async fn console_throughput(panel: &PanelStandIn, wings: &Wings, clients: usize) {
    let uuid = server_uuid();
    wings.create_installed_server(panel, &uuid, 512).await;
    let volume = wings.dir.path().join("volumes").join(&uuid);
    std::fs::write(
        volume.join("server.sh"),
        FLOOD_SERVER.replace("FLOOD_SECONDS", &FLOOD_SECONDS.to_string()),
    )
    .unwrap();
    let token = panel.console_token(
        &uuid,
        &[
            "websocket.connect",
            "control.console",
            "control.start",
            "control.stop",
        ],
        3600,
    );

    // Every client counts the output lines it receives and records pong arrival times.
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(clients);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut console = wings.console(&uuid).await;
        let token = token.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            console.send("auth", &[&token]).await;
            console
                .expect_event("auth success", Duration::from_secs(10))
                .await;
            ready.send(()).await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(FLOOD_SECONDS + 150);
            let mut flood_lines = 0u64;
            let mut flood_window: Option<(Instant, Instant)> = None;
            let mut pongs: Vec<(u64, Instant)> = Vec::new();
            while Instant::now() < deadline {
                let Some((event, args)) = console.next(Duration::from_secs(5)).await else {
                    continue;
                };
                if event != "console output" {
                    continue;
                }
                let line = &args[0];
                if line.starts_with("flood ") {
                    flood_lines += 1;
                    let now = Instant::now();
                    flood_window = Some(flood_window.map_or((now, now), |(first, _)| (first, now)));
                } else if let Some(n) = line.strip_prefix("pong ") {
                    let n: u64 = n.parse().unwrap();
                    pongs.push((n, Instant::now()));
                    if n == 199 {
                        break;
                    }
                }
            }
            console.seen.clear();
            (flood_lines, flood_window, pongs)
        }));
    }
    drop(ready_tx);
    for _ in 0..clients {
        ready_rx.recv().await.unwrap();
    }
    let started = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "start" })),
        )
        .await;
    assert_eq!(started.status, 202);
    // The answers are timed once the flood is over and wings has passed all of it on
    // (its last console line is steady output again).
    let deadline = Instant::now() + Duration::from_secs(FLOOD_SECONDS + 120);
    loop {
        let flooded = volume.join("flood-count").exists();
        let latest = wings
            .call("GET", &format!("/api/servers/{uuid}/logs?size=1"), None)
            .await
            .json();
        if flooded
            && latest["data"][0]
                .as_str()
                .is_some_and(|line| line.starts_with("steady"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the flood never settled");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Commands amid steady output: 200 pings at 50/s, sent through the API.
    let mut sent_at = Vec::new();
    for n in 0..200u64 {
        sent_at.push(Instant::now());
        let answer = wings
            .call(
                "POST",
                &format!("/api/servers/{uuid}/commands"),
                Some(json!({ "commands": [format!("ping {n}")] })),
            )
            .await;
        assert_eq!(answer.status, 204, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut delivered = Vec::new();
    let mut latencies = Vec::new();
    let produced: u64 = std::fs::read_to_string(volume.join("flood-count"))
        .map(|text| text.trim().parse().unwrap_or(0))
        .unwrap_or(0);
    for task in tasks {
        let (lines, window, pongs) = task.await.unwrap();
        if let Some((first, last)) = window {
            delivered.push(lines as f64 / (last - first).as_secs_f64().max(0.001));
        }
        for (n, at) in pongs {
            latencies.push(at.duration_since(sent_at[n as usize]));
        }
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let mean_delivered = delivered.iter().sum::<f64>() / delivered.len().max(1) as f64;
    println!(
        "console, {clients:>2} client(s): server produced {:.0} lines/s for {FLOOD_SECONDS} s; each client received {:.0} lines/s live (the rest is summarised, all of it kept as history); command answers amid 1,000 lines/s: p50 {:.1} ms, p99 {:.1} ms over {} deliveries",
        produced as f64 / FLOOD_SECONDS as f64,
        mean_delivered,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.len(),
    );
    wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "kill" })),
        )
        .await;
    let _ = wings
        .call("DELETE", &format!("/api/servers/{uuid}"), None)
        .await;
}

async fn directory_listing(panel: &PanelStandIn, wings: &Wings) {
    let uuid = server_uuid();
    wings.create_installed_server(panel, &uuid, 0).await;
    let dir = wings.dir.path().join("volumes").join(&uuid).join("many");
    std::fs::create_dir_all(&dir).unwrap();
    for n in 0..10_000 {
        std::fs::write(dir.join(format!("file-{n:05}.txt")), b"x").unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let answer = wings
            .call(
                "GET",
                &format!("/api/servers/{uuid}/files/list-directory?directory=many"),
                None,
            )
            .await;
        times.push(started.elapsed());
        assert_eq!(answer.json().as_array().unwrap().len(), 10_000);
    }
    times.sort();
    println!(
        "listing 10,000 files through the API: p50 {:.1} ms, max {:.1} ms (20 runs, JSON included)",
        times[10].as_secs_f64() * 1000.0,
        times[19].as_secs_f64() * 1000.0
    );
    let _ = wings
        .call("DELETE", &format!("/api/servers/{uuid}"), None)
        .await;
}

async fn idle_memory(panel: &PanelStandIn, wings: &Wings) {
    let uuid = start_server(
        panel,
        wings,
        "while read -r line; do echo \"$line\"; done\n",
        64,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss = wings.rss_kib();
    println!(
        "wings idle with one running server: {:.1} MiB resident",
        rss as f64 / 1024.0
    );
    wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "kill" })),
        )
        .await;
    let _ = wings
        .call("DELETE", &format!("/api/servers/{uuid}"), None)
        .await;
}

async fn sftp_throughput(panel: &PanelStandIn, wings: &Wings) {
    let uuid = server_uuid();
    wings.create_installed_server(panel, &uuid, 0).await;
    let short = &uuid[..8];
    let client = OpenSsh::new(wings.sftp_port).with_cipher(CIPHER);
    let (key, public_key) = client.keygen("bench_key");
    panel.add_sftp_user(
        &format!("bench.{short}"),
        SftpUser {
            password: "unused".into(),
            public_key: Some(public_key.clone()),
            permissions: vec!["*".into()],
            user_uuid: "bench".into(),
        },
    );
    let size_mib = 256;
    let payload = client.path("payload.bin");
    let status = Command::new("head")
        .args(["-c", &format!("{}", size_mib * 1024 * 1024)])
        .arg("/dev/urandom")
        .stdout(std::fs::File::create(&payload).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let secret = Secret::Key(key.clone());
    let wings_user = format!("bench.{short}");
    let (up, down) =
        tokio::task::block_in_place(|| transfer(&client, &wings_user, &secret, size_mib));
    println!(
        "SFTP {size_mib} MiB via wings (russh), {CIPHER}: upload {up:.0} MiB/s, download {down:.0} MiB/s"
    );

    match OpenSshServer::start(&client, &public_key) {
        Some(sshd) => {
            let reference = OpenSsh::new(sshd.port).with_cipher(CIPHER);
            let (up, down) = tokio::task::block_in_place(|| {
                transfer_with(&reference, &client, "root", &secret, size_mib)
            });
            println!(
                "SFTP {size_mib} MiB via OpenSSH sshd + sftp-server, {CIPHER}: upload {up:.0} MiB/s, download {down:.0} MiB/s"
            );
        }
        None => println!(
            "SFTP via OpenSSH: SKIPPED — /usr/sbin/sshd or /usr/lib/openssh/sftp-server is missing (apt-get install openssh-server)"
        ),
    }
    let _ = wings
        .call("DELETE", &format!("/api/servers/{uuid}"), None)
        .await;
}

fn transfer(client: &OpenSsh, user: &str, secret: &Secret, size_mib: u64) -> (f64, f64) {
    transfer_with(client, client, user, secret, size_mib)
}

/// Uploads then downloads the payload with `sftp`; returns MiB/s each way.
fn transfer_with(
    target: &OpenSsh,
    files: &OpenSsh,
    user: &str,
    secret: &Secret,
    size_mib: u64,
) -> (f64, f64) {
    let payload = files.path("payload.bin");
    let back = files.path("payload.back");
    let started = Instant::now();
    let (ok, out) = target.sftp(
        user,
        secret,
        &format!("put {} bench-payload.bin\n", payload.display()),
    );
    let up = started.elapsed();
    assert!(ok, "{out}");
    let started = Instant::now();
    let (ok, out) = target.sftp(
        user,
        secret,
        &format!(
            "get bench-payload.bin {}\nrm bench-payload.bin\n",
            back.display()
        ),
    );
    let down = started.elapsed();
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::metadata(&back).unwrap().len(),
        size_mib * 1024 * 1024
    );
    std::fs::remove_file(&back).unwrap();
    (
        size_mib as f64 / up.as_secs_f64(),
        size_mib as f64 / down.as_secs_f64(),
    )
}

/// OpenSSH's own server on a loopback port, for comparison.
struct OpenSshServer {
    child: std::process::Child,
    port: u16,
}

impl OpenSshServer {
    fn start(client: &OpenSsh, public_key: &str) -> Option<OpenSshServer> {
        let sftp_server = "/usr/lib/openssh/sftp-server";
        if !std::path::Path::new("/usr/sbin/sshd").exists()
            || !std::path::Path::new(sftp_server).exists()
        {
            return None;
        }
        let port = support::free_port();
        let (host_key, _) = client.keygen("sshd_host_key");
        let authorized = client.path("authorized_keys");
        std::fs::write(&authorized, format!("{public_key}\n")).unwrap();
        let config = client.path("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile none\nSubsystem sftp {sftp_server}\n",
                host_key.display(),
                authorized.display()
            ),
        )
        .unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(OpenSshServer { child, port })
    }
}

impl Drop for OpenSshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
