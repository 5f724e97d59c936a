//! Backups made on this node: wings writes the server's directory as a tar stream and
//! hands it to a backup driver (a plugin's `backup-driver` provider), counting its size
//! and SHA-256 itself, so a driver can only keep bytes, never vouch for them.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hatchery_runtime::services::{ArchiveSink, ArchiveSource};
use hatchery_sdk::{BackupRef, HostError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::files::ServerFiles;
use crate::plugins::{NodePlugin, plugin_error};

/// Bytes per part handed between the archive writer and the driver.
const PART: usize = 1024 * 1024;

/// A backup a driver kept, as wings measured it.
#[derive(Debug, Serialize)]
pub struct Saved {
    pub checksum: String,
    pub checksum_type: &'static str,
    pub size: u64,
    /// The driver's note of where the archive went.
    pub location: String,
}

/// Archives `files` into `driver`. Fails, with nothing kept by the driver, when the
/// archive cannot be read to its end or the driver fails or stops early.
pub async fn save(files: ServerFiles, driver: &NodePlugin, backup: &BackupRef) -> Result<Saved> {
    let (parts, receiver) = mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let failures = parts.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let written = files
            .archive_all(PartWriter {
                parts,
                buffer: Vec::with_capacity(PART),
            })
            .and_then(|mut writer| {
                writer.send_buffer().map_err(|source| Error::Io {
                    context: "the driver stopped taking the archive".into(),
                    source,
                })
            });
        // A failure must reach the driver as an error, never as a clean end.
        if let Err(err) = &written {
            let _ = failures.blocking_send(Err(std::io::Error::other(err.to_string())));
        }
        written
    });
    let tally = Arc::new(Mutex::new(Tally::default()));
    let source = TarSource {
        receiver,
        tally: tally.clone(),
        pending: Vec::new(),
        offset: 0,
    };
    let saved = driver
        .code()
        .backup_save(backup, Box::new(source))
        .await
        .map_err(plugin_error);
    let produced = producer
        .await
        .map_err(|err| Error::Plugin(format!("the archive writer failed: {err}")));
    let tally = std::mem::take(&mut *tally.lock().expect("tally lock"));
    let outcome = match (saved, produced) {
        (Err(err), _) => Err(err),
        (Ok(_), Err(err)) | (Ok(_), Ok(Err(err))) => Err(err),
        (Ok(_), Ok(Ok(()))) if !tally.ended => Err(Error::Plugin(format!(
            "backup driver {} stopped before the end of the archive",
            driver.id
        ))),
        (Ok(location), Ok(Ok(()))) => Ok(Saved {
            checksum: hex::encode(tally.hasher.finalize()),
            checksum_type: "sha256",
            size: tally.size,
            location,
        }),
    };
    if outcome.is_err() {
        // Whatever the driver kept of a failed backup is not a backup.
        if let Err(err) = driver.code().backup_delete(backup).await {
            tracing::warn!(backup = %backup.uuid, "cannot discard a failed backup: {err}");
        }
    }
    outcome
}

/// The archive kept for `backup`, streamed as the driver writes it; the stream ends
/// with an error if the driver fails part-way.
pub fn fetch(
    driver: Arc<NodePlugin>,
    backup: BackupRef,
) -> mpsc::Receiver<std::io::Result<bytes::Bytes>> {
    let (parts, receiver) = mpsc::channel(4);
    tokio::spawn(async move {
        let sink = ChannelSink {
            parts: parts.clone(),
        };
        if let Err(err) = driver.code().backup_fetch(&backup, Box::new(sink)).await {
            tracing::warn!(backup = %backup.uuid, "cannot fetch a backup: {err}");
            let _ = parts
                .send(Err(std::io::Error::other(err.to_string())))
                .await;
        }
    });
    receiver
}

#[derive(Default)]
struct Tally {
    hasher: Sha256,
    size: u64,
    /// The driver read the archive to its clean end.
    ended: bool,
}

/// The tar stream, as a driver reads it.
struct TarSource {
    receiver: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    tally: Arc<Mutex<Tally>>,
    pending: Vec<u8>,
    offset: usize,
}

#[async_trait]
impl ArchiveSource for TarSource {
    async fn read(&mut self, max: usize) -> Result<Vec<u8>, HostError> {
        if self.offset == self.pending.len() {
            match self.receiver.recv().await {
                Some(Ok(part)) => {
                    self.pending = part;
                    self.offset = 0;
                }
                Some(Err(err)) => {
                    return Err(HostError::Unavailable(format!(
                        "the server's files could not be archived: {err}"
                    )));
                }
                None => {
                    self.tally.lock().expect("tally lock").ended = true;
                    return Ok(Vec::new());
                }
            }
        }
        let end = (self.offset + max.max(1)).min(self.pending.len());
        let part = self.pending[self.offset..end].to_vec();
        self.offset = end;
        let mut tally = self.tally.lock().expect("tally lock");
        tally.hasher.update(&part);
        tally.size += part.len() as u64;
        Ok(part)
    }
}

/// Collects what tar writes into parts for the driver.
struct PartWriter {
    parts: mpsc::Sender<std::io::Result<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl PartWriter {
    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let part = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART));
        self.parts
            .blocking_send(Ok(part))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the driver stopped"))
    }
}

impl std::io::Write for PartWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = PART - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == PART {
            self.send_buffer()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where a fetched archive goes: the HTTP response.
struct ChannelSink {
    parts: mpsc::Sender<std::io::Result<bytes::Bytes>>,
}

#[async_trait]
impl ArchiveSink for ChannelSink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), HostError> {
        self.parts
            .send(Ok(bytes::Bytes::from(chunk)))
            .await
            .map_err(|_| HostError::Unavailable("the client stopped reading the archive".into()))
    }
}
