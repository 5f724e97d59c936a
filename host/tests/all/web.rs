//! The web panel as the panel serves it: the app's page for every route it has, with a
//! strict Content-Security-Policy and never cached; its hashed assets cached for good.

use crate::support::{Dialect, panel};

#[test]
fn the_web_panel_is_served_with_a_strict_policy_and_cached_assets() {
    let panel = panel(Dialect::Sqlite).start();
    let page = panel.get("/");
    assert_eq!(page.status, 200);
    let html = page.raw_text();
    assert!(
        html.contains("<div id=\"root\">"),
        "the web panel is not built into this panel; run `cargo xtask build` (it runs vite build): {html}"
    );
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let policy = page.header("content-security-policy").unwrap();
    for directive in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-eval"), "{policy}");

    // Routes the app handles in the browser get the same page.
    for route in ["/sign-in", "/account/security", "/servers/abc"] {
        let other = panel.get(route);
        assert_eq!(other.status, 200, "{route}");
        assert_eq!(other.raw, page.raw, "{route}");
    }

    // The script the page loads is cached for good; a missing asset is a 404, not the page.
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let asset = panel.get(script);
    assert_eq!(asset.status, 200);
    assert!(
        asset
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        asset.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(panel.get("/assets/gone-1234.js").status, 404);

    // Consoles, searches and transfers connect to the nodes' wings: each node's
    // websocket and http origins, and only those, join connect-src.
    assert!(!policy.contains("ws://"), "{policy}");
    let node = panel.json(
        "POST",
        "/api/admin/nodes",
        &panel.admin_key(),
        Some(serde_json::json!({ "name": "west", "fqdn": "west.example.net", "daemon_port": 8443, "memory_mb": 1024, "disk_mb": 1024 })),
    );
    assert_eq!(node.status, 201, "{node:?}");
    let with_node = panel.get("/servers/abc");
    let policy = with_node.header("content-security-policy").unwrap();
    assert!(
        policy.contains(
            "connect-src 'self' ws://west.example.net:8443 http://west.example.net:8443;"
        ),
        "{policy}"
    );

    // The API keeps answering JSON, a 404 included.
    let missing = panel.get("/api/nothing-here");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "not_found");
}

/// The panel page marks calls it makes for a sandboxed plugin frame; such a call
/// reaches that plugin's own routes and nothing else, whoever's cookie it carries.
#[test]
fn a_call_made_for_a_plugin_frame_reaches_only_that_plugins_routes() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    let root = panel.admin_key();
    let as_frame = |plugin: &str, method: &str, path: &str| {
        panel
            .try_request_with(
                method,
                path,
                &[
                    ("Authorization", &format!("Bearer {root}")),
                    ("x-hatchery-plugin", plugin),
                ],
                None,
            )
            .unwrap()
            .status
    };
    assert_eq!(
        as_frame("hello-wasm", "GET", "/api/plugins/hello-wasm/hello"),
        200
    );
    assert_eq!(
        as_frame("hello-wasm", "GET", "/api/admin/hello-wasm/greetings"),
        200
    );
    // Another plugin's route, a core route, an admin route: refused.
    assert_eq!(
        as_frame("hello-wasm", "GET", "/api/plugins/hello-native/hello"),
        403
    );
    assert_eq!(as_frame("hello-wasm", "GET", "/api/admin/users"), 403);
    assert_eq!(as_frame("hello-wasm", "GET", "/api/client/account"), 403);
    assert_eq!(
        as_frame(
            "hello-wasm",
            "POST",
            "/api/admin/plugins/hello-wasm/disable"
        ),
        403
    );
    // The same calls without the mark are the caller's own.
    assert_eq!(panel.get_as("/api/admin/users", &root).status, 200);

    // The frame page: sandboxed, off the network, scripts only from the panel.
    let frame = panel.get("/plugin-frame");
    assert_eq!(frame.status, 200);
    let policy = frame.header("content-security-policy").unwrap();
    for directive in [
        "sandbox allow-scripts",
        "connect-src 'none'",
        "default-src 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("allow-same-origin"), "{policy}");
    // The page's import map shares React and pins the plugins' modules.
    let page = panel.get("/").raw_text();
    assert!(page.contains("\"react\":\"/shared/react.js\""), "{page}");
    assert!(
        page.contains("/plugin-assets/hello-wasm/ui/hello-card.js"),
        "{page}"
    );
    assert_eq!(
        panel
            .get("/shared/react.js")
            .header("access-control-allow-origin"),
        Some("*")
    );
}
