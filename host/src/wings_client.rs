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

    pub async fn server(&self, uuid: &str) -> Result<Value> {
        self.call("GET", &format!("/api/servers/{uuid}"), None)
            .await
    }

    async fn call(&self, method: &'static str, path: &str, body: Option<Value>) -> Result<Value> {
        let client = self.clone();
        let url = format!("{}{path}", self.base);
        tokio::task::spawn_blocking(move || client.call_blocking(method, &url, body))
            .await
            .map_err(|err| Error::Node(format!("the call to wings failed: {err}")))?
    }

    fn call_blocking(&self, method: &str, url: &str, body: Option<Value>) -> Result<Value> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        let sent = match body {
            Some(body) => self.agent.run(
                request
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&body).expect("JSON encodes"))
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
        let text = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = value["error"].as_str().map(str::to_string).unwrap_or(text);
        match status {
            200..=299 => Ok(value),
            404 => Err(Error::NotFound(format!(
                "wings on node {}: {message}",
                self.node
            ))),
            409 => Err(Error::Conflict(format!(
                "wings on node {}: {message}",
                self.node
            ))),
            400 => Err(Error::bad_request(format!(
                "wings on node {}: {message}",
                self.node
            ))),
            _ => Err(Error::Node(format!(
                "wings on node {} answered {status}: {message}",
                self.node
            ))),
        }
    }
}
