//! File work in a server's directory, done by its node's wings, for the HTTP API and
//! plugins alike. Each action checks the caller's server permission (Pterodactyl's
//! `file.*` set), refuses servers that are not ready, and records what changed. Paths
//! are confined by wings, which resolves them inside the server's directory itself.

use hatchery_protocol::files::{ArchiveEntry, FileEntry, WriteOnly};
use serde_json::json;

use super::servers::refuse_unless_ready;
use super::{Activity, Actor, Core};
use crate::db::servers::Server;
use crate::error::{Error, Result};
use crate::events::host_event;
use crate::node_tokens;
use crate::policy::ServerAccess;
use crate::wings_client::WingsClient;

/// The wings of `server`'s node, once the caller holds `permission` and the server
/// takes file work.
async fn wings(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    permission: &str,
) -> Result<WingsClient> {
    access.require(permission)?;
    refuse_unless_ready(server)?;
    core.wings_for_users(server.node_id).await
}

pub async fn list(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    directory: &str,
) -> Result<Vec<FileEntry>> {
    let wings = wings(core, server, access, "file.read").await?;
    wings.list_directory(&server.uuid, directory).await
}

pub async fn stat(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    path: &str,
) -> Result<FileEntry> {
    let wings = wings(core, server, access, "file.read").await?;
    wings.stat(&server.uuid, path).await
}

/// A whole file (up to wings' 32 MiB read limit), or `length` bytes from `offset`.
pub async fn read(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    path: &str,
    range: Option<(u64, u64)>,
) -> Result<Vec<u8>> {
    let wings = wings(core, server, access, "file.read-content").await?;
    wings.read_file(&server.uuid, path, range).await
}

/// Which writes `access` allows: `file.create` makes new files, `file.update` changes
/// existing ones; wings enforces the choice on the file itself.
pub fn write_kind(access: &ServerAccess) -> Result<Option<WriteOnly>> {
    match (access.can("file.create"), access.can("file.update")) {
        (true, true) => Ok(None),
        (true, false) => Ok(Some(WriteOnly::New)),
        (false, true) => Ok(Some(WriteOnly::Existing)),
        (false, false) => Err(Error::Forbidden(
            "writing files needs the file.create or file.update permission on this server".into(),
        )),
    }
}

/// The wings to stream `path` to, and which writes `access` allows there. A write the
/// caller may not make is refused before any byte is sent (wings checks again).
pub async fn stream_target(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    path: &str,
) -> Result<(WingsClient, Option<WriteOnly>)> {
    let only = write_kind(access)?;
    refuse_unless_ready(server)?;
    let wings = core.wings_for_users(server.node_id).await?;
    if let Some(only) = only {
        let exists = match wings.stat(&server.uuid, path).await {
            Ok(_) => true,
            Err(Error::NotFound(_)) => false,
            Err(err) => return Err(err),
        };
        match (only, exists) {
            (WriteOnly::New, true) => {
                return Err(Error::Forbidden(format!(
                    "`{path}` already exists; changing it needs the file.update permission"
                )));
            }
            (WriteOnly::Existing, false) => {
                return Err(Error::Forbidden(format!(
                    "`{path}` does not exist; creating it needs the file.create permission"
                )));
            }
            _ => {}
        }
    }
    Ok((wings, only))
}

/// Writes a whole file, atomically, on behalf of `via` (`plugin:<id>`).
pub async fn write(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    path: &str,
    contents: Vec<u8>,
    via: &str,
) -> Result<()> {
    let only = write_kind(access)?;
    refuse_unless_ready(server)?;
    let bytes = contents.len() as u64;
    core.wings_for_users(server.node_id)
        .await?
        .write_file(&server.uuid, path, contents, only)
        .await?;
    written(core, actor, server, path, bytes, via).await;
    Ok(())
}

/// Tells subscribers and the activity log that `path` was written (`via` a plugin).
pub async fn written(
    core: &Core,
    actor: &Actor,
    server: &Server,
    path: &str,
    bytes: u64,
    via: &str,
) {
    core.events.publish(host_event(
        "file.written",
        json!({
            "server": server.uuid,
            "files": [path],
            "via": via,
            "user_id": actor.user_id,
            "username": actor.user_id.map(|_| actor.name.as_str()),
        }),
    ));
    core.record(
        actor,
        Activity::new("server.file.write")
            .on_server(server.id)
            .with(json!({ "file": path, "bytes": bytes })),
    )
    .await;
}

pub async fn create_directory(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    path: &str,
) -> Result<()> {
    let wings = wings(core, server, access, "file.create").await?;
    wings.create_directory(&server.uuid, path).await?;
    record(
        core,
        actor,
        server,
        "create-directory",
        json!({ "directory": path }),
    )
    .await;
    Ok(())
}

pub async fn rename(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    from: &str,
    to: &str,
) -> Result<()> {
    let wings = wings(core, server, access, "file.update").await?;
    wings.rename(&server.uuid, from, to).await?;
    record(
        core,
        actor,
        server,
        "rename",
        json!({ "from": from, "to": to }),
    )
    .await;
    Ok(())
}

/// Copies a file beside itself (`name copy.ext`); returns the copy's path.
pub async fn copy(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    path: &str,
) -> Result<String> {
    let wings = wings(core, server, access, "file.create").await?;
    let copy = wings.copy(&server.uuid, path).await?;
    record(
        core,
        actor,
        server,
        "copy",
        json!({ "file": path, "copy": copy }),
    )
    .await;
    Ok(copy)
}

/// Deletes files and directories (with what they hold).
pub async fn delete(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    paths: &[String],
) -> Result<()> {
    if paths.is_empty() {
        return Err(Error::bad_request("name at least one file to delete"));
    }
    let wings = wings(core, server, access, "file.delete").await?;
    wings.delete(&server.uuid, "/", paths).await?;
    record(core, actor, server, "delete", json!({ "files": paths })).await;
    Ok(())
}

/// Sets permission bits (`0o644`); only the rwx bits of owner, group and others.
pub async fn chmod(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    path: &str,
    mode: u32,
) -> Result<()> {
    if mode > 0o777 {
        return Err(Error::bad_request(format!(
            "mode {mode:o} is not one of 000 to 777; setuid, setgid and sticky bits are not offered"
        )));
    }
    let wings = wings(core, server, access, "file.update").await?;
    wings.chmod(&server.uuid, path, mode).await?;
    record(
        core,
        actor,
        server,
        "chmod",
        json!({ "file": path, "mode": format!("{mode:o}") }),
    )
    .await;
    Ok(())
}

/// Packs `files` of directory `root` into a new archive there; returns the archive.
pub async fn compress(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    root: &str,
    files: &[String],
) -> Result<FileEntry> {
    if files.is_empty() {
        return Err(Error::bad_request("name at least one file to compress"));
    }
    let wings = wings(core, server, access, "file.archive").await?;
    let archive = wings.compress(&server.uuid, root, files).await?;
    let properties = json!({ "directory": root, "files": files, "archive": archive.name });
    record(core, actor, server, "compress", properties).await;
    Ok(archive)
}

/// Unpacks archive `file` of directory `root` into `root`.
pub async fn decompress(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    root: &str,
    file: &str,
) -> Result<()> {
    let wings = wings(core, server, access, "file.archive").await?;
    wings.decompress(&server.uuid, root, file).await?;
    record(
        core,
        actor,
        server,
        "decompress",
        json!({ "directory": root, "file": file }),
    )
    .await;
    Ok(())
}

/// A URL that downloads `path` straight from wings, once, within 15 minutes.
pub async fn download_url(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    user_uuid: &str,
    path: &str,
) -> Result<SignedUrl> {
    access.require("file.read-content")?;
    refuse_unless_ready(server)?;
    let (node, token) = core.node_and_token(server.node_id, true).await?;
    let (signed, expires_at) = node_tokens::transfer(&token, &server.uuid, user_uuid, Some(path));
    record(core, actor, server, "download", json!({ "file": path })).await;
    Ok(SignedUrl {
        url: format!("{}/download/file?token={signed}", node.public_url()),
        expires_at,
    })
}

/// A URL that uploads files (multipart) straight to wings into `directory`, once,
/// within 15 minutes. wings records each upload.
pub async fn upload_url(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    user_uuid: &str,
    directory: &str,
) -> Result<SignedUrl> {
    access.require("file.create")?;
    refuse_unless_ready(server)?;
    let (node, token) = core.node_and_token(server.node_id, true).await?;
    let (signed, expires_at) = node_tokens::transfer(&token, &server.uuid, user_uuid, None);
    Ok(SignedUrl {
        url: format!(
            "{}/upload/file?token={signed}&directory={}",
            node.public_url(),
            crate::wings_client::encode_query(directory)
        ),
        expires_at,
    })
}

/// An archive's entries, read on the node without extracting it.
pub async fn archive_entries(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    archive: &str,
) -> Result<Vec<ArchiveEntry>> {
    let wings = wings(core, server, access, "file.read-content").await?;
    wings.archive_entries(&server.uuid, archive).await
}

/// One file inside an archive.
pub async fn archive_entry(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    archive: &str,
    entry: &str,
) -> Result<Vec<u8>> {
    let wings = wings(core, server, access, "file.read-content").await?;
    wings.archive_entry(&server.uuid, archive, entry).await
}

/// Extracts `entries` (none: all) of `archive` into `root`.
pub async fn extract(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    archive: &str,
    entries: &[String],
    root: &str,
) -> Result<()> {
    let wings = wings(core, server, access, "file.archive").await?;
    wings.extract(&server.uuid, archive, entries, root).await?;
    let properties = json!({ "file": archive, "entries": entries, "directory": root });
    record(core, actor, server, "extract", properties).await;
    Ok(())
}

/// A file's checksum, lowercase hex.
pub async fn checksum(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    path: &str,
    algorithm: &str,
) -> Result<String> {
    let wings = wings(core, server, access, "file.read-content").await?;
    wings.checksum(&server.uuid, path, algorithm).await
}

/// A URL that searches `directory` on the node, once, within 15 minutes: names for
/// everyone with `file.read`, contents too for those with `file.read-content`.
pub async fn search_url(
    core: &Core,
    server: &Server,
    access: &ServerAccess,
    user_uuid: &str,
    directory: &str,
) -> Result<SignedUrl> {
    access.require("file.read")?;
    refuse_unless_ready(server)?;
    let (node, token) = core.node_and_token(server.node_id, true).await?;
    let contents = access.can("file.read-content");
    let (signed, expires_at) =
        node_tokens::search(&token, &server.uuid, user_uuid, directory, contents);
    Ok(SignedUrl {
        url: format!("{}/search/files?token={signed}", node.public_url()),
        expires_at,
    })
}

/// A download from a URL into the server's directory.
pub struct Pull<'a> {
    pub url: &'a str,
    pub directory: &'a str,
    pub file_name: Option<&'a str>,
}

/// Starts `pull` on the node, which downloads in the background from public
/// addresses only and records the outcome in the server's activity.
pub async fn pull(
    core: &Core,
    actor: &Actor,
    server: &Server,
    access: &ServerAccess,
    pull: &Pull<'_>,
) -> Result<()> {
    let wings = wings(core, server, access, "file.create").await?;
    wings
        .pull(&server.uuid, pull.url, pull.directory, pull.file_name)
        .await?;
    let properties = json!({ "url": pull.url, "directory": pull.directory });
    record(core, actor, server, "pull-started", properties).await;
    Ok(())
}

/// A URL that works once, until `expires_at` (seconds since the Unix epoch).
#[derive(Debug, Clone)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: i64,
}

async fn record(
    core: &Core,
    actor: &Actor,
    server: &Server,
    operation: &str,
    properties: serde_json::Value,
) {
    core.record(
        actor,
        Activity::new(format!("server.file.{operation}"))
            .on_server(server.id)
            .with(properties),
    )
    .await;
}
