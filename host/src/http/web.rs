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
/// component library sets CSS variables at run time); nothing may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
     object-src 'none'";

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

/// A GET for anything outside `/api/`: an asset, or the app's page.
pub fn serve(path: &str) -> Response {
    if let Some(bytes) = file(path).filter(|_| path != "/index.html") {
        // Vite names everything under /assets/ after its contents.
        let cache = match path.starts_with("/assets/") {
            true => "public, max-age=31536000, immutable",
            false => "no-cache",
        };
        return respond(StatusCode::OK, content_type(path), cache, bytes.to_vec());
    }
    if path.starts_with("/assets/") {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-cache",
            b"no such asset; reload the page to get the current panel".to_vec(),
        );
    }
    let page = file("/index.html").map_or_else(|| NOT_BUILT.as_bytes().to_vec(), <[u8]>::to_vec);
    let mut response = respond(StatusCode::OK, "text/html; charset=utf-8", "no-cache", page);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
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
