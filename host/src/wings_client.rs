//! The panel's calls to a node's wings (`/api/servers/…`), with the node's token.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db::nodes::Node;
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
            base: format!("{}://{}:{}", node.scheme, node.fqdn, node.daemon_port),
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

    pub async fn power(&self, uuid: &str, action: &str) -> Result<()> {
        self.call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": action })),
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

    /// Ends a user's consoles and SFTP sessions on these servers.
    pub async fn deauthorize_user(&self, user_uuid: &str, servers: &[String]) -> Result<()> {
        let body = json!({ "user": user_uuid, "servers": servers });
        self.call("POST", "/api/deauthorize-user", Some(body))
            .await
            .map(drop)
    }

    pub async fn read_file(&self, uuid: &str, path: &str) -> Result<Vec<u8>> {
        let path = format!(
            "/api/servers/{uuid}/files/contents?file={}",
            encode_query(path)
        );
        self.send("GET", &path, None).await
    }

    /// `only`: `Some("new")` or `Some("existing")` when the caller may not do both.
    pub async fn write_file(
        &self,
        uuid: &str,
        path: &str,
        contents: Vec<u8>,
        only: Option<&str>,
    ) -> Result<()> {
        let only = only.map(|only| format!("&only={only}")).unwrap_or_default();
        let path = format!(
            "/api/servers/{uuid}/files/write?file={}{only}",
            encode_query(path)
        );
        self.send("POST", &path, Some(("application/octet-stream", contents)))
            .await
            .map(drop)
    }

    async fn call(&self, method: &'static str, path: &str, body: Option<Value>) -> Result<Value> {
        let body = body.map(|body| {
            (
                "application/json",
                serde_json::to_vec(&body).expect("JSON encodes"),
            )
        });
        let bytes = self.send(method, path, body).await?;
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

fn encode_query(value: &str) -> String {
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
