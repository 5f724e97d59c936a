//! The panel's HTTP API without wings: first-start setup and sessions, users and
//! roles with their permissions, pagination, errors, nodes and eggs, the OpenAPI
//! document, and that a server whose node cannot be reached is not half-created.

use serde_json::{Value, json};

use crate::support::{DIALECTS, Panel, panel, session_cookie};

fn setup_token(panel: &Panel) -> String {
    let log = panel.log();
    let start = log
        .find("/setup?token=")
        .unwrap_or_else(|| panic!("no setup link in the log:\n{log}"))
        + "/setup?token=".len();
    log[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[test]
fn first_start_prints_a_setup_link_that_creates_the_first_admin_once() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("core-auth").start();
        let settings = panel.get("/api/settings");
        assert_eq!(settings.status, 200, "{settings:?}");
        assert_eq!(settings.body["data"]["setup_required"], true);
        let token = setup_token(&panel);
        // The link opens the web panel's first-start page.
        let page = panel.get("/setup");
        assert!(page.raw_text().contains("<div id=\"root\">"), "{page:?}");

        let setup = |token: &str, password: &str| {
            panel.post_json(
                "/api/setup",
                None,
                json!({ "token": token, "username": "root", "email": "root@example.com", "password": password }),
            )
        };
        // A bad field is reported without using the token up.
        let weak = setup(&token, "short");
        assert_eq!(
            (weak.status, weak.body["error"]["field"].as_str()),
            (400, Some("password")),
            "{weak:?}"
        );
        assert_eq!(setup("0123", "long enough").status, 403);
        let created = setup(&token, "long enough");
        assert_eq!(created.status, 201, "{created:?}");
        assert_eq!(created.body["data"]["admin"], true);
        let cookie = session_cookie(&created);
        assert_eq!(
            setup(&token, "long enough").status,
            403,
            "the link works once"
        );
        assert_eq!(
            panel.get("/api/settings").body["data"]["setup_required"],
            false
        );
        // The password went to the sign-in plugin, which signs the admin in with it.
        let signed_in = panel.post_json(
            "/api/auth/core-auth/password",
            None,
            json!({ "user": "root@example.com", "password": "long enough" }),
        );
        assert_eq!(signed_in.status, 200, "{signed_in:?}");

        // The session signs the admin in; a changing request from another site may not use it.
        let account = panel.json_with("GET", "/api/client/account", &[("Cookie", &cookie)], None);
        assert_eq!(account.status, 200, "{account:?}");
        assert_eq!(account.body["data"]["username"], "root");
        let cross_site = panel.json_with(
            "POST",
            "/api/admin/roles",
            &[("Cookie", &cookie), ("Origin", "https://evil.example")],
            Some(json!({ "name": "x", "permissions": [] })),
        );
        assert_eq!(cross_site.status, 403, "{cross_site:?}");
        let same_site = panel.json_with(
            "POST",
            "/api/admin/roles",
            &[("Cookie", &cookie), ("Origin", &panel.url)],
            Some(json!({ "name": "x", "permissions": [] })),
        );
        assert_eq!(same_site.status, 201, "{same_site:?}");

        let logout = panel.json_with("POST", "/api/auth/logout", &[("Cookie", &cookie)], None);
        assert_eq!(logout.status, 204);
        assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"));
        let after = panel.json_with("GET", "/api/client/account", &[("Cookie", &cookie)], None);
        assert_eq!(
            (after.status, after.body["error"]["code"].as_str()),
            (401, Some("unauthenticated"))
        );
    }
}

#[test]
fn roles_give_admin_permissions_and_errors_say_which_is_missing() {
    let panel = panel(crate::support::Dialect::Sqlite)
        .plugin("core-auth")
        .start();
    let root = panel.admin_key();

    let bogus = panel.json(
        "POST",
        "/api/admin/roles",
        &root,
        Some(json!({ "name": "bad", "permissions": ["nodes.fly"] })),
    );
    assert_eq!(bogus.status, 400);
    assert_eq!(bogus.body["error"]["field"], "permissions");
    assert!(
        bogus.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nodes.fly")
    );

    let role = panel.json(
        "POST",
        "/api/admin/roles",
        &root,
        Some(json!({ "name": "support", "description": "helpdesk", "permissions": ["users.read", "activity.read"] })),
    );
    assert_eq!(role.status, 201, "{role:?}");
    let created = panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "helper", "email": "helper@example.com", "password": "helper password", "role_id": role.body["data"]["id"] })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let helper = panel
        .cli_ok(&["user", "api-key", "helper"])
        .trim()
        .to_string();

    let account = panel.get_as("/api/client/account", &helper);
    assert_eq!(
        account.body["data"]["permissions"],
        json!(["activity.read", "users.read"])
    );
    assert_eq!(panel.get_as("/api/admin/users", &helper).status, 200);
    let refused = panel.json(
        "POST",
        "/api/admin/users",
        &helper,
        Some(json!({ "username": "x", "email": "x@example.com" })),
    );
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"]["code"], "forbidden");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("users.create"),
        "{refused:?}"
    );
    assert_eq!(panel.get_as("/api/admin/nodes", &helper).status, 403);
    // A helper cannot give themselves more by editing a role.
    let escalate = panel.json(
        "PATCH",
        &format!("/api/admin/roles/{}", role.body["data"]["id"]),
        &helper,
        Some(json!({ "permissions": ["nodes.delete"] })),
    );
    assert_eq!(escalate.status, 403);

    // Nor by moving anyone, themselves included, into a stronger role, or by taking
    // over someone who holds one.
    let staff_role = panel.json(
        "POST",
        "/api/admin/roles",
        &root,
        Some(json!({ "name": "staff", "permissions": ["users.read", "users.update", "users.create"] })),
    );
    let ops_role = panel.json(
        "POST",
        "/api/admin/roles",
        &root,
        Some(json!({ "name": "ops", "permissions": ["users.read", "nodes.delete"] })),
    );
    let ops_id = ops_role.body["data"]["id"].clone();
    panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "staffer", "email": "staffer@example.com", "role_id": staff_role.body["data"]["id"] })),
    );
    panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "operator", "email": "operator@example.com", "role_id": ops_id })),
    );
    let staffer = panel
        .cli_ok(&["user", "api-key", "staffer"])
        .trim()
        .to_string();
    let refusals = [
        (
            "PATCH",
            "/api/admin/users/staffer",
            json!({ "role_id": ops_id }),
        ),
        (
            "PATCH",
            "/api/admin/users/operator",
            json!({ "password": "taken over now" }),
        ),
        (
            "POST",
            "/api/admin/users",
            json!({ "username": "sock", "email": "sock@example.com", "role_id": ops_id }),
        ),
    ];
    for (method, path, body) in refusals {
        let answer = panel.json(method, path, &staffer, Some(body.clone()));
        assert_eq!(answer.status, 403, "{method} {path} {body}: {answer:?}");
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nodes.delete"),
            "{answer:?}"
        );
    }
    assert_eq!(
        panel.get_as("/api/client/account", &staffer).body["data"]["permissions"],
        json!(["users.create", "users.read", "users.update"])
    );
    // What they hold, they may give.
    let allowed = panel.json(
        "POST",
        "/api/admin/users",
        &staffer,
        Some(json!({ "username": "trainee", "email": "trainee@example.com", "role_id": staff_role.body["data"]["id"] })),
    );
    assert_eq!(allowed.status, 201, "{allowed:?}");

    // Pages: 30 more users, 25 to a page.
    for index in 0..30 {
        let answer = panel.json(
            "POST",
            "/api/admin/users",
            &root,
            Some(json!({ "username": format!("player{index:02}"), "email": format!("p{index}@example.com") })),
        );
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let first = panel.get_as("/api/admin/users?per_page=25", &helper);
    assert_eq!(first.body["data"].as_array().unwrap().len(), 25);
    assert_eq!(
        first.body["meta"],
        json!({ "page": 1, "per_page": 25, "total": 35, "last_page": 2 })
    );
    let second = panel.get_as("/api/admin/users?per_page=25&page=2", &helper);
    assert_eq!(second.body["data"].as_array().unwrap().len(), 10);
    let search = panel.get_as("/api/admin/users?search=PLAYER1", &helper);
    assert_eq!(search.body["meta"]["total"], 10);

    // Duplicate users are a conflict that says so; bad JSON is a 4xx, not a crash.
    let duplicate = panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "helper", "email": "h2@example.com" })),
    );
    assert_eq!(
        (duplicate.status, duplicate.body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let unknown_field = panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "z", "email": "z@example.com", "root": true })),
    );
    assert!(
        (400..500).contains(&unknown_field.status),
        "{unknown_field:?}"
    );

    // Everything above is in the activity log, with who did it.
    let activity = panel.get_as("/api/admin/activity?event=admin.role", &helper);
    let events: Vec<&str> = activity.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["admin.role.create"; 3], "{activity:?}");
    assert_eq!(activity.body["data"][0]["actor"], "root");
    let by_root = panel.get_as(
        "/api/admin/activity?user=root&event=admin.user.create&per_page=1",
        &helper,
    );
    // 30 players, the helper, the staffer and the operator.
    assert_eq!(by_root.body["meta"]["total"], 33);
}

#[test]
fn nodes_eggs_and_a_server_whose_node_is_down_leave_nothing_behind() {
    for dialect in DIALECTS {
        let panel = panel(dialect).start();
        let root = panel.admin_key();
        let owner = panel.user_key("owner");
        let node = panel.json(
            "POST",
            "/api/admin/nodes",
            &root,
            Some(json!({ "name": "down", "fqdn": "127.0.0.1", "daemon_port": 9, "memory_mb": 1024, "disk_mb": 1024 })),
        );
        assert_eq!(node.status, 201, "{node:?}");
        let bad_node = panel.json(
            "POST",
            "/api/admin/nodes",
            &root,
            Some(json!({ "name": "x", "fqdn": "bad host", "memory_mb": 1, "disk_mb": 1 })),
        );
        assert_eq!(bad_node.body["error"]["field"], "fqdn");
        let allocated = panel.json(
            "POST",
            "/api/admin/nodes/down/allocations",
            &root,
            Some(json!({ "ip": "127.0.0.1", "ports": "30000-30002" })),
        );
        assert_eq!(allocated.body["data"]["count"], 3, "{allocated:?}");
        let config = panel.request(
            "GET",
            "/api/admin/nodes/down/configuration",
            Some(&root),
            None,
        );
        assert!(
            String::from_utf8_lossy(&config.raw).contains("token_id:"),
            "{config:?}"
        );

        let egg = panel.request(
            "POST",
            "/api/admin/eggs?nest=Tests",
            Some(&root),
            Some(include_bytes!("../fixtures/fixture-egg.json").to_vec()),
        );
        assert_eq!(
            (egg.status, egg.body["data"]["result"].as_str()),
            (201, Some("created")),
            "{egg:?}"
        );
        let not_an_egg = panel.request(
            "POST",
            "/api/admin/eggs",
            Some(&root),
            Some(b"{\"name\": 1}".to_vec()),
        );
        assert_eq!(not_an_egg.status, 400);
        let exported = panel.request(
            "GET",
            "/api/admin/eggs/Fixture%20Game/export?format=pelican",
            Some(&root),
            None,
        );
        assert!(
            String::from_utf8_lossy(&exported.raw).contains("PLCN_v1"),
            "{exported:?}"
        );

        let create_with = |greeting: &str, memory_mb: u64| {
            panel.json(
                "POST",
                "/api/admin/servers",
                &root,
                Some(json!({
                    "name": "nowhere", "owner": "owner", "node": "down", "egg": "Fixture Game",
                    "allocation": "127.0.0.1:30000", "memory_mb": memory_mb, "disk_mb": 100,
                    "variables": { "GREETING": greeting },
                })),
            )
        };
        let create = |greeting: &str| create_with(greeting, 64);
        // The node has 1024 MiB and no over-allocation.
        let too_big = create_with("hi", 2048);
        assert_eq!(too_big.body["error"]["field"], "memory_mb", "{too_big:?}");
        assert!(
            too_big.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("1024 MiB of memory left")
        );
        let invalid = create(&"x".repeat(30));
        assert_eq!(
            invalid.body["error"]["field"], "variables.GREETING",
            "{invalid:?}"
        );
        let unreachable = create("hi");
        assert_eq!(
            (
                unreachable.status,
                unreachable.body["error"]["code"].as_str()
            ),
            (502, Some("node_unavailable")),
            "{unreachable:?}"
        );
        // Nothing half-made: no server, the allocation free again.
        assert_eq!(
            panel.get_as("/api/admin/servers", &root).body["meta"]["total"],
            0
        );
        assert_eq!(
            panel.get_as("/api/client/servers", &owner).body["data"],
            json!([])
        );
        let free = panel.get_as("/api/admin/nodes/down/allocations?free=true", &root);
        assert_eq!(free.body["data"].as_array().unwrap().len(), 3);
        // Users cannot reach the admin API at all.
        assert_eq!(panel.get_as("/api/admin/servers", &owner).status, 403);
        assert_eq!(
            panel
                .get_as("/api/client/servers?type=admin", &owner)
                .status,
            403
        );
    }
}

#[test]
fn the_openapi_document_describes_the_api() {
    let panel = panel(crate::support::Dialect::Sqlite).start();
    let document = panel.get("/api/openapi.json");
    assert_eq!(document.status, 200);
    let body: &Value = &document.body;
    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/client/servers",
        "/api/client/servers/{server}/users",
        "/api/admin/nodes/{node}/allocations",
        "/api/setup",
    ] {
        assert!(body["paths"].get(path).is_some(), "{path} is missing");
    }
    let schemas = &body["components"]["schemas"];
    for schema in ["ServerSummary", "User", "ErrorBody", "Role"] {
        assert!(schemas.get(schema).is_some(), "schema {schema} is missing");
    }
    assert!(body["components"]["securitySchemes"]["api_key"].is_object());
    let permissions = panel.get("/api/permissions");
    let server: Vec<&str> = permissions.body["data"]["server"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(server.contains(&"file.sftp") && server.contains(&"control.console"));
}

#[test]
fn activity_records_the_client_address_through_a_trusted_proxy_only() {
    let create_role = |panel: &Panel, key: &str, name: &str| {
        let authorization = format!("Bearer {key}");
        let answer = panel.json_with(
            "POST",
            "/api/admin/roles",
            &[
                ("Authorization", &authorization),
                ("X-Forwarded-For", "198.51.100.9, 203.0.113.7"),
            ],
            Some(json!({ "name": name, "permissions": [] })),
        );
        assert_eq!(answer.status, 201, "{answer:?}");
        let activity = panel.get_as("/api/admin/activity?event=admin.role.create", key);
        activity.body["data"][0]["ip"].as_str().unwrap().to_string()
    };
    // Directly connected clients cannot claim another address.
    let direct = panel(crate::support::Dialect::Sqlite).start();
    assert_eq!(
        create_role(&direct, &direct.admin_key(), "direct"),
        "127.0.0.1"
    );
    // Behind a trusted proxy, the nearest untrusted hop is the client.
    let proxied = panel(crate::support::Dialect::Sqlite)
        .env("HATCHERY_TRUSTED_PROXIES", "127.0.0.1")
        .start();
    assert_eq!(
        create_role(&proxied, &proxied.admin_key(), "proxied"),
        "203.0.113.7"
    );
}
