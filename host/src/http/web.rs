//! The web panel (`web/`, a React app built by Vite and embedded at compile time): its
//! hashed assets are cached for good, `index.html` never, and every page the app
//! routes in the browser gets `index.html` under a strict Content-Security-Policy.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// What the app may load: only the panel's own scripts; styles inline too (the
/// component library sets CSS variables at run time); nothing may frame it. Consoles
/// connect to the nodes' wings, so their websocket origins join `connect-src`.
pub fn content_security_policy(console_origins: &[String]) -> String {
    let mut connect = String::from("'self'");
    for origin in console_origins {
        connect.push(' ');
        connect.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src {connect}; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// `ws://host:port` for a node, or nothing when its name could smuggle another
/// directive into the policy (the API validates names; this holds regardless).
pub fn console_origin(scheme: &str, fqdn: &str, port: i32) -> Option<String> {
    let safe = !fqdn.is_empty()
        && fqdn
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    safe.then(|| format!("{scheme}://{fqdn}:{port}"))
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Hatchery</title>\
<p>The web panel was not built into this binary. Run <code>cargo xtask build</code> \
(or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then rebuild the panel). \
The HTTP API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>";

fn file(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// A file of the built app, when `path` names one (or lies under `/assets/`).
pub fn asset(path: &str) -> Option<Response> {
    if let Some(bytes) = file(path).filter(|_| path != "/index.html") {
        // Vite names everything under /assets/ after its contents.
        let cache = match path.starts_with("/assets/") {
            true => "public, max-age=31536000, immutable",
            false => "no-cache",
        };
        return Some(respond(
            StatusCode::OK,
            content_type(path),
            cache,
            bytes.to_vec(),
        ));
    }
    path.starts_with("/assets/").then(|| {
        respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-cache",
            b"no such asset; reload the page to get the current panel".to_vec(),
        )
    })
}

/// The app's page, for every path it routes in the browser.
pub fn page(console_origins: &[String]) -> Response {
    let page = file("/index.html").map_or_else(|| NOT_BUILT.as_bytes().to_vec(), <[u8]>::to_vec);
    let mut response = respond(StatusCode::OK, "text/html; charset=utf-8", "no-cache", page);
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(console_origins)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: Vec<u8>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
