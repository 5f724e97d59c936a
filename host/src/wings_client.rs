//! The panel's calls to a node's wings (`/api/servers/…`), with the node's token.

use std::time::Duration;

use hatchery_protocol::files::{
    ArchiveEntry, Checksum, ChmodFile, ChmodFiles, Copied, CopyFile, CreateDirectory, Decompress,
    ExtractEntries, FileEntry, FileList, PullFile, RenameFile, RenameFiles, WriteOnly,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::db::nodes::Node;
use crate::domain::vocabulary::PowerSignal;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct WingsClient {
    base: String,
    node: String,
    authorization: String,
    agent: ureq::Agent,
}

impl WingsClient {
    pub fn new(node: &Node, token: &str) -> WingsClient {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        WingsClient {
            base: node.public_url(),
            node: node.name.clone(),
            authorization: format!("Bearer {token}"),
            agent,
        }
    }

    /// Asks wings to fetch the server from the panel and install it.
    pub async fn create_server(&self, uuid: &str, start_on_completion: bool) -> Result<()> {
        self.call(
            "POST",
            "/api/servers",
            Some(json!({ "uuid": uuid, "start_on_completion": start_on_completion })),
        )
        .await
        .map(drop)
    }

    pub async fn delete_server(&self, uuid: &str) -> Result<()> {
        match self
            .call("DELETE", &format!("/api/servers/{uuid}"), None)
            .await
        {
            Err(Error::NotFound(_)) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn power(&self, uuid: &str, signal: PowerSignal) -> Result<()> {
        self.call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": signal.as_str() })),
        )
        .await
        .map(drop)
    }

    /// Every server wings keeps, with its state and installation.
    pub async fn servers(&self) -> Result<Vec<Value>> {
        match self.call("GET", "/api/servers", None).await? {
            Value::Array(servers) => Ok(servers),
            other => Err(Error::Node(format!(
                "wings on {} listed its servers as {other}, not a list",
                self.node
            ))),
        }
    }

    /// What the node runs (wings version, kernel, container engine); also a liveness probe.
    pub async fn system(&self) -> Result<Value> {
        self.call("GET", "/api/system", None).await
    }

    pub async fn server(&self, uuid: &str) -> Result<Value> {
        self.call("GET", &format!("/api/servers/{uuid}"), None)
            .await
    }

    pub async fn send_command(&self, uuid: &str, command: &str) -> Result<()> {
        let body = json!({ "commands": [command] });
        self.call("POST", &format!("/api/servers/{uuid}/commands"), Some(body))
            .await
            .map(drop)
    }

    pub async fn reinstall(&self, uuid: &str) -> Result<()> {
        self.call("POST", &format!("/api/servers/{uuid}/reinstall"), None)
            .await
            .map(drop)
    }

    /// Has wings fetch the server's configuration again (limits, image, variables,
    /// suspension) and apply it.
    pub async fn sync(&self, uuid: &str) -> Result<()> {
        self.call("POST", &format!("/api/servers/{uuid}/sync"), None)
            .await
            .map(drop)
    }

    /// Has wings fetch the plugins it should run from the panel again.
    pub async fn sync_plugins(&self) -> Result<()> {
        self.call("POST", "/api/plugins/sync", None).await.map(drop)
    }

    /// Ends a user's consoles and SFTP sessions on these servers.
    pub async fn deauthorize_user(&self, user_uuid: &str, servers: &[String]) -> Result<()> {
        let body = json!({ "user": user_uuid, "servers": servers });
        self.call("POST", "/api/deauthorize-user", Some(body))
            .await
            .map(drop)
    }

    pub async fn list_directory(&self, uuid: &str, directory: &str) -> Result<Vec<FileEntry>> {
        let path = format!(
            "/api/servers/{uuid}/files/list-directory?directory={}",
            encode_query(directory)
        );
        self.typed("GET", &path, None).await
    }

    pub async fn stat(&self, uuid: &str, path: &str) -> Result<FileEntry> {
        let path = format!("/api/servers/{uuid}/files/stat?file={}", encode_query(path));
        self.typed("GET", &path, None).await
    }

    /// A whole file, or `length` bytes from `offset` when a range is given.
    pub async fn read_file(
        &self,
        uuid: &str,
        path: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>> {
        let range = range
            .map(|(offset, length)| format!("&offset={offset}&length={length}"))
            .unwrap_or_default();
        let path = format!(
            "/api/servers/{uuid}/files/contents?file={}{range}",
            encode_query(path)
        );
        self.send("GET", &path, None).await
    }

    /// Writes a whole file, which wings swaps in atomically once all of it arrived.
    pub async fn write_file(
        &self,
        uuid: &str,
        path: &str,
        contents: Vec<u8>,
        only: Option<WriteOnly>,
    ) -> Result<()> {
        self.send(
            "POST",
            &write_path(uuid, path, only),
            Some(("application/octet-stream", contents)),
        )
        .await
        .map(drop)
    }

    /// Streams a file from `source` (read on a blocking thread) without holding it in
    /// memory; if `source` fails, wings discards what it received.
    pub async fn write_file_from(
        &self,
        uuid: &str,
        path: &str,
        only: Option<WriteOnly>,
        source: impl std::io::Read + Send + Sync + 'static,
    ) -> Result<()> {
        let client = self.clone();
        let url = format!("{}{}", self.base, write_path(uuid, path, only));
        tokio::task::spawn_blocking(move || {
            let request = ureq::http::Request::builder()
                .method("POST")
                .uri(&url)
                .header("Authorization", &client.authorization)
                .header("Content-Type", "application/octet-stream")
                .body(ureq::SendBody::from_owned_reader(source))
                .expect("a valid request");
            // No overall deadline: large files take long; a stalled writer ends the
            // body itself after an idle minute.
            let streaming: ureq::Agent = ureq::Agent::config_builder()
                .timeout_connect(Some(Duration::from_secs(10)))
                .timeout_recv_response(Some(Duration::from_secs(120)))
                .http_status_as_error(false)
                .build()
                .into();
            let response = streaming.run(request);
            client.answer(&url, response).map(drop)
        })
        .await
        .map_err(|err| Error::Node(format!("the call to wings failed: {err}")))?
    }

    pub async fn create_directory(&self, uuid: &str, path: &str) -> Result<()> {
        let (parent, name) = split_parent(path);
        let body = CreateDirectory {
            name: name.to_string(),
            path: parent.to_string(),
        };
        self.post_json(uuid, "create-directory", &body).await
    }

    pub async fn rename(&self, uuid: &str, from: &str, to: &str) -> Result<()> {
        let body = RenameFiles {
            root: "/".into(),
            files: vec![RenameFile {
                from: from.to_string(),
                to: to.to_string(),
            }],
        };
        let path = format!("/api/servers/{uuid}/files/rename");
        self.call("PUT", &path, Some(to_json(&body)))
            .await
            .map(drop)
    }

    /// Copies a file beside itself; returns the copy's path.
    pub async fn copy(&self, uuid: &str, path: &str) -> Result<String> {
        let body = CopyFile {
            location: path.to_string(),
        };
        let path = format!("/api/servers/{uuid}/files/copy");
        let copied: Copied = self.typed("POST", &path, Some(to_json(&body))).await?;
        Ok(copied.name)
    }

    pub async fn delete(&self, uuid: &str, root: &str, files: &[String]) -> Result<()> {
        let body = FileList {
            root: root.to_string(),
            files: files.to_vec(),
        };
        self.post_json(uuid, "delete", &body).await
    }

    pub async fn chmod(&self, uuid: &str, path: &str, mode: u32) -> Result<()> {
        let body = ChmodFiles {
            root: "/".into(),
            files: vec![ChmodFile {
                file: path.to_string(),
                mode: format!("{mode:o}"),
            }],
        };
        self.post_json(uuid, "chmod", &body).await
    }

    /// Packs `files` of directory `root` into a new archive there.
    pub async fn compress(&self, uuid: &str, root: &str, files: &[String]) -> Result<FileEntry> {
        let body = FileList {
            root: root.to_string(),
            files: files.to_vec(),
        };
        let path = format!("/api/servers/{uuid}/files/compress");
        self.typed("POST", &path, Some(to_json(&body))).await
    }

    /// Unpacks archive `file` of directory `root` into `root`.
    pub async fn decompress(&self, uuid: &str, root: &str, file: &str) -> Result<()> {
        let body = Decompress {
            root: root.to_string(),
            file: file.to_string(),
        };
        self.post_json(uuid, "decompress", &body).await
    }

    /// An archive's entries, read without extracting it.
    pub async fn archive_entries(&self, uuid: &str, archive: &str) -> Result<Vec<ArchiveEntry>> {
        let path = format!(
            "/api/servers/{uuid}/files/archive/list?file={}",
            encode_query(archive)
        );
        self.typed("GET", &path, None).await
    }

    /// One file inside an archive.
    pub async fn archive_entry(&self, uuid: &str, archive: &str, entry: &str) -> Result<Vec<u8>> {
        let path = format!(
            "/api/servers/{uuid}/files/archive/contents?file={}&entry={}",
            encode_query(archive),
            encode_query(entry)
        );
        self.send("GET", &path, None).await
    }

    /// Extracts `entries` (none: all) of `archive` into `root`.
    pub async fn extract(
        &self,
        uuid: &str,
        archive: &str,
        entries: &[String],
        root: &str,
    ) -> Result<()> {
        let body = ExtractEntries {
            file: archive.to_string(),
            entries: entries.to_vec(),
            root: root.to_string(),
        };
        self.post_json(uuid, "archive/extract", &body).await
    }

    /// A file's checksum (`sha256`, `md5`, `crc32`), lowercase hex.
    pub async fn checksum(&self, uuid: &str, file: &str, algorithm: &str) -> Result<String> {
        let path = format!(
            "/api/servers/{uuid}/files/checksum?file={}&algorithm={}",
            encode_query(file),
            encode_query(algorithm)
        );
        let answer: Checksum = self.typed("GET", &path, None).await?;
        Ok(answer.checksum)
    }

    /// Starts downloading `url` into `root` on the node (in the background).
    pub async fn pull(
        &self,
        uuid: &str,
        url: &str,
        root: &str,
        file_name: Option<&str>,
    ) -> Result<()> {
        let body = PullFile {
            url: url.to_string(),
            root: root.to_string(),
            file_name: file_name.map(str::to_string),
            use_header: true,
            foreground: false,
        };
        self.post_json(uuid, "pull", &body).await
    }

    /// The public address of this wings, for signed URLs.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn post_json(&self, uuid: &str, operation: &str, body: &impl Serialize) -> Result<()> {
        let path = format!("/api/servers/{uuid}/files/{operation}");
        self.call("POST", &path, Some(to_json(body)))
            .await
            .map(drop)
    }

    /// A call whose answer has a known shape.
    async fn typed<T: DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        // Straight into `T`: a listing of 20,000 entries is not built as a tree first.
        let answer = self.send(method, path, json_body(body)).await?;
        serde_json::from_slice(&answer).map_err(|err| {
            Error::Node(format!(
                "wings on node {} answered {path} in a shape this panel does not know: {err}",
                self.node
            ))
        })
    }

    async fn call(&self, method: &'static str, path: &str, body: Option<Value>) -> Result<Value> {
        let bytes = self.send(method, path, json_body(body)).await?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Vec<u8>> {
        let client = self.clone();
        let url = format!("{}{path}", self.base);
        tokio::task::spawn_blocking(move || client.send_blocking(method, &url, body))
            .await
            .map_err(|err| Error::Node(format!("the call to wings failed: {err}")))?
    }

    fn send_blocking(
        &self,
        method: &str,
        url: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Vec<u8>> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        let sent = match body {
            Some((content_type, body)) => self.agent.run(
                request
                    .header("Content-Type", content_type)
                    .body(body)
                    .expect("a valid request"),
            ),
            None => self.agent.run(request.body(()).expect("a valid request")),
        };
        self.answer(url, sent)
    }

    /// Reads wings' answer: its body on success, else the error it names.
    fn answer(
        &self,
        url: &str,
        sent: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>> {
        let mut response = sent.map_err(|err| {
            Error::Node(format!(
                "cannot reach wings on node {} at {url}: {err}",
                self.node
            ))
        })?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|err| {
                Error::Node(format!(
                    "wings on node {} sent a bad answer: {err}",
                    self.node
                ))
            })?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let message = value["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        let message = format!("wings on node {}: {message}", self.node);
        Err(match status {
            404 => Error::NotFound(message),
            409 => Error::Conflict(message),
            400 => Error::bad_request(message),
            403 => Error::Forbidden(message),
            413 | 507 => Error::PayloadTooLarge(message),
            _ => Error::Node(format!("{message} (status {status})")),
        })
    }
}

/// Largest answer read from wings (file contents included).
const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

fn write_path(uuid: &str, path: &str, only: Option<WriteOnly>) -> String {
    let only = match only {
        Some(WriteOnly::New) => "&only=new",
        Some(WriteOnly::Existing) => "&only=existing",
        None => "",
    };
    format!(
        "/api/servers/{uuid}/files/write?file={}{only}",
        encode_query(path)
    )
}

/// `/a/b/c` → (`/a/b`, `c`).
fn split_parent(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => ("", trimmed),
    }
}

fn to_json(body: &impl Serialize) -> Value {
    serde_json::to_value(body).expect("plain data encodes")
}

/// Percent-encodes a query value, keeping `/` readable.
pub fn encode_query(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// A JSON request body as `send` takes it.
fn json_body(body: Option<Value>) -> Option<(&'static str, Vec<u8>)> {
    body.map(|body| {
        (
            "application/json",
            serde_json::to_vec(&body).expect("JSON encodes"),
        )
    })
}
