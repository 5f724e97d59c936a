//! Capability `http`, for the panel and wings alike: requests to the hosts the admin allowed, for object storage and
//! identity providers. Redirects are not followed (a redirect could leave the allowed
//! hosts); bodies are capped both ways.

use std::time::Duration;

use hatchery_sdk::{HostError, OutgoingRequest, Response};
use ureq::http::Uri;

/// Largest body sent or received.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// How long one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `allowed` (`host`, `*.domain`, `host:port`) covers `host` on `port`.
fn allows(allowed: &str, host: &str, port: u16) -> bool {
    let (pattern, wanted_port) = match allowed.rsplit_once(':') {
        Some((pattern, wanted)) => (pattern, wanted.parse::<u16>().ok()),
        None => (allowed, None),
    };
    let host_matches = match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
        None => host == pattern,
    };
    host_matches && wanted_port.is_none_or(|wanted| wanted == port)
}

/// Sends `request` for plugin `plugin_id` when one of the `allowed` hosts covers it.
pub async fn fetch(
    plugin_id: &str,
    allowed: &[String],
    request: OutgoingRequest,
) -> Result<Response, HostError> {
    if allowed.is_empty() {
        return Err(HostError::Denied(format!(
            "the http capability was not granted to plugin {}",
            plugin_id
        )));
    }
    let uri: Uri = request
        .url
        .parse()
        .map_err(|err| HostError::Invalid(format!("`{}` is not a URL: {err}", request.url)))?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => {
            return Err(HostError::Invalid(
                "only http:// and https:// URLs can be fetched".into(),
            ));
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| HostError::Invalid(format!("`{}` names no host", request.url)))?
        .to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(default_port);
    if !allowed.iter().any(|allowed| allows(allowed, &host, port)) {
        return Err(HostError::Denied(format!(
            "{host}:{port} is not among the hosts plugin {plugin_id} may call ({}); an administrator can add it with `hatchery plugin grant {plugin_id} http:{host}:{port}` when the plugin asks for hosts of their choosing",
            allowed.join(", ")
        )));
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(HostError::Invalid(format!(
            "a request body holds at most {MAX_BODY_BYTES} bytes"
        )));
    }
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let outgoing = builder
        .body(request.body)
        .map_err(|err| HostError::Invalid(format!("the request is malformed: {err}")))?;
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .run(outgoing)
            .map_err(|err| HostError::Unavailable(format!("{host}:{port}: {err}")))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES as u64)
            .read_to_vec()
            .map_err(|err| {
                HostError::Unavailable(format!(
                    "{host}:{port}: the answer could not be read (at most {MAX_BODY_BYTES} bytes): {err}"
                ))
            })?;
        Ok(Response {
            status,
            headers,
            body,
        })
    })
    .await
    .map_err(|err| HostError::Internal(format!("the request failed: {err}")))?
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn allowed_hosts() {
        assert!(allows("s3.example.com", "s3.example.com", 443));
        assert!(allows("s3.example.com", "s3.example.com", 9000));
        assert!(!allows("s3.example.com", "example.com", 443));
        assert!(!allows("s3.example.com", "s3.example.com.evil.net", 443));
        assert!(allows("*.example.com", "a.b.example.com", 443));
        assert!(!allows("*.example.com", "example.com", 443));
        assert!(!allows("*.example.com", "badexample.com", 443));
        assert!(allows("127.0.0.1:9000", "127.0.0.1", 9000));
        assert!(!allows("127.0.0.1:9000", "127.0.0.1", 9001));
        // A manifest's `*` lets an administrator add hosts; it reaches none itself.
        assert!(!allows("*", "example.com", 443));
    }
}
