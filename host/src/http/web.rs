//! The web panel (`web/`, a React app built by Vite and embedded at compile time): its
//! hashed assets are cached for good, `index.html` never, and every page the app
//! routes in the browser gets `index.html` under a strict Content-Security-Policy.
//!
//! Pages carry an import map: plugin modules import `react` and `@hatchery/ui` from the
//! panel's own build, and modules of plugins enabled when the page loads are pinned by
//! their integrity. Plugins without `ui_trusted` render in `/plugin-frame`, a sandboxed
//! page with an opaque origin and no way to reach the network itself.

use base64::Engine as _;
use sha2::Digest as _;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// Modules plugins import by name, mapped to the panel's own build.
const SHARED_MODULES: &[(&str, &str)] = &[
    ("react", "/shared/react.js"),
    ("react/jsx-runtime", "/shared/jsx-runtime.js"),
    ("@hatchery/ui", "/shared/hatchery-ui.js"),
];

/// One enabled plugin's UI module, for the import map.
pub struct PluginModule {
    pub plugin: String,
    /// Where it is served (`/plugin-assets/<plugin>/…?v=…`).
    pub url: String,
    /// `sha256-…`.
    pub integrity: String,
}

/// The import map a page carries: the shared modules; one entry per enabled plugin
/// with UI (`@plugins/<id>/` → its assets, so its modules may import one another by
/// name); and each of their modules pinned by integrity.
pub fn import_map(plugin_modules: &[PluginModule]) -> String {
    let mut imports: serde_json::Map<String, serde_json::Value> = SHARED_MODULES
        .iter()
        .map(|(name, path)| ((*name).to_string(), serde_json::json!(path)))
        .collect();
    for module in plugin_modules {
        imports.insert(
            format!("@plugins/{}/", module.plugin),
            serde_json::json!(format!("/plugin-assets/{}/", module.plugin)),
        );
    }
    let integrity: serde_json::Map<String, serde_json::Value> = plugin_modules
        .iter()
        .map(|module| (module.url.clone(), serde_json::json!(module.integrity)))
        .collect();
    serde_json::json!({ "imports": imports, "integrity": integrity }).to_string()
}

/// `'sha256-…'` of an inline script, for `script-src`.
fn script_hash(script: &str) -> String {
    let digest = sha2::Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// What the app may load: only the panel's own scripts (and its import map, by hash);
/// styles inline too (the component library sets CSS variables at run time); frames
/// only from itself (sandboxed plugin pages); nothing may frame it. Consoles, file
/// searches and transfers go to the nodes' wings, so their websocket and http(s)
/// origins join `connect-src`.
pub fn content_security_policy(node_origins: &[String], import_map: &str) -> String {
    let mut connect = String::from("'self'");
    for origin in node_origins {
        connect.push(' ');
        connect.push_str(origin);
    }
    let map = script_hash(import_map);
    format!(
        "default-src 'self'; script-src 'self' {map}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src {connect}; \
         frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
         object-src 'none'"
    )
}

/// `ws://host:port` (or `http://…`) for a node, or nothing when its name could smuggle
/// another directive into the policy (the API validates names; this holds regardless).
pub fn node_origin(scheme: &str, fqdn: &str, port: i32) -> Option<String> {
    is_plain_host(fqdn).then(|| format!("{scheme}://{fqdn}:{port}"))
}

/// A host name or address (with an optional port) and nothing else, so it may stand
/// in a Content-Security-Policy source.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
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

/// A file of the built app, when `path` names one (or lies under `/assets/`). Module
/// files may be loaded by sandboxed plugin frames, whose origin is opaque: they carry
/// `Access-Control-Allow-Origin: *` (they are public code, sent without credentials).
pub fn asset(path: &str) -> Option<Response> {
    if let Some(bytes) = file(path).filter(|_| !matches!(path, "/index.html" | "/frame.html")) {
        // Vite names everything under /assets/ after its contents.
        let cache = match path.starts_with("/assets/") {
            true => "public, max-age=31536000, immutable",
            false => "no-cache",
        };
        let mut response = respond(StatusCode::OK, content_type(path), cache, bytes.to_vec());
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        return Some(response);
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

/// `html` with the import map as the first thing in its head.
fn with_import_map(html: &[u8], map: &str) -> Vec<u8> {
    let html = String::from_utf8_lossy(html);
    let script = format!("<head>\n    <script type=\"importmap\">{map}</script>");
    html.replacen("<head>", &script, 1).into_bytes()
}

/// The app's page, for every path it routes in the browser.
pub fn page(node_origins: &[String], plugin_modules: &[PluginModule]) -> Response {
    let map = import_map(plugin_modules);
    let page = file("/index.html").map_or_else(
        || NOT_BUILT.as_bytes().to_vec(),
        |html| with_import_map(html, &map),
    );
    let mut response = respond(StatusCode::OK, "text/html; charset=utf-8", "no-cache", page);
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(node_origins, &map)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The page a sandboxed plugin UI runs in. `sandbox allow-scripts` gives it an opaque
/// origin: it holds no cookies or storage of the panel, and `connect-src 'none'` keeps
/// it off the network; it asks the panel page (over postMessage) for everything.
/// `origin` is the panel's, as the browser reached it: scripts come only from there.
pub fn frame_page(origin: &str) -> Response {
    let map = import_map(&[]);
    let Some(html) = file("/frame.html") else {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-cache",
            b"the web panel was not built into this binary".to_vec(),
        );
    };
    let mut response = respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        "no-cache",
        with_import_map(html, &map),
    );
    let policy = format!(
        "sandbox allow-scripts; default-src 'none'; script-src {origin} {}; \
         style-src {origin} 'unsafe-inline'; img-src {origin} data:; font-src {origin} data:; \
         connect-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        script_hash(&map)
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
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
