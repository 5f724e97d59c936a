//! core-auth's sign-in with identity providers, against a real OpenID Connect provider
//! (panva/oidc-provider in Node, `host/tests/peers/oidc`): discovery, PKCE, state bound
//! to the browser, nonce, auto-provisioning with claims mapped to roles, linking and
//! unlinking, and what must never happen (a callback carried to another browser, an
//! account taken over through a matching e-mail address, a host nobody granted).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Dialect, Panel, panel};

const CLIENT_SECRET: &str = "hatchery-test-secret";

/// The provider, running until dropped.
struct OidcProvider {
    child: Child,
    issuer: String,
}

impl OidcProvider {
    fn start(redirect_uri: &str, accounts: Value) -> OidcProvider {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the OpenID Connect test provider is not installed: run `npm ci` in {} (`cargo xtask test` does)",
            dir.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URIS", redirect_uri)
            .env("ACCOUNTS", accounts.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let provider = OidcProvider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        crate::support::eventually(
            Duration::from_secs(30),
            "the OIDC provider to listen",
            || {
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(drop)
            },
        );
        provider
    }

    fn host(&self) -> &str {
        self.issuer.trim_start_matches("http://")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer, redirects left for the caller to follow.
struct Hop {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
}

fn hop(url: &str, cookie: &str) -> Hop {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut request = agent.get(url);
    if !cookie.is_empty() {
        request = request.header("Cookie", cookie);
    }
    let response = request
        .call()
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let headers = response.headers();
    Hop {
        status: response.status().as_u16(),
        location: headers
            .get("location")
            .map(|value| value.to_str().unwrap().to_string()),
        set_cookies: headers
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_string())
            .collect(),
    }
}

/// A browser: its cookies per site, by name.
#[derive(Default)]
struct Browser {
    panel: BTreeMap<String, String>,
    provider: BTreeMap<String, String>,
}

impl Browser {
    fn keep(jar: &mut BTreeMap<String, String>, set_cookies: &[String]) {
        for set in set_cookies {
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = set.contains("Max-Age=0") || value.is_empty();
            match expired {
                true => jar.remove(name),
                false => jar.insert(name.to_string(), value.to_string()),
            };
        }
    }

    fn header(jar: &BTreeMap<String, String>) -> String {
        jar.iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The panel's session cookie, as a `Cookie` header.
    fn session(&self) -> Option<String> {
        self.panel
            .get("hatchery_session")
            .map(|value| format!("hatchery_session={value}"))
    }

    /// Visits a panel path (no redirects followed).
    fn panel_get(&mut self, panel: &Panel, path: &str) -> Hop {
        let answer = hop(&format!("{}{path}", panel.url), &Self::header(&self.panel));
        Self::keep(&mut self.panel, &answer.set_cookies);
        answer
    }

    /// At the provider, signs in as `login` (the provider's own screens are skipped by
    /// its `login_hint`) and follows it back to the panel's callback, which is returned
    /// as a panel path, not yet visited.
    fn authorize(&mut self, panel: &Panel, authorization_url: &str, login: &str) -> String {
        let mut url = format!("{authorization_url}&login_hint={login}");
        for _ in 0..10 {
            let answer = hop(&url, &Self::header(&self.provider));
            Self::keep(&mut self.provider, &answer.set_cookies);
            let location = answer
                .location
                .unwrap_or_else(|| panic!("the provider answered {} at {url}", answer.status));
            if let Some(path) = location.strip_prefix(&panel.public_url) {
                return path.to_string();
            }
            url = match location.starts_with('/') {
                true => format!(
                    "{}{location}",
                    url.split('/').take(3).collect::<Vec<_>>().join("/")
                ),
                false => location,
            };
        }
        panic!("the provider never sent the browser back");
    }

    /// The whole sign-in: start at the panel, sign in at the provider as `login`, come
    /// back; where the panel sends the browser then.
    fn sign_in_with(&mut self, panel: &Panel, provider: &str, login: &str) -> String {
        let callback = self.start_and_authorize(panel, provider, login);
        let back = self.panel_get(panel, &callback);
        assert_eq!(back.status, 303);
        back.location.unwrap()
    }

    /// Begins linking `provider` to the account signed in with `session` (a `Cookie`
    /// header value); the provider's authorization URL, the flow's cookie kept.
    fn start_link(&mut self, panel: &Panel, provider: &str, session: &str) -> String {
        let started = panel.json_with(
            "POST",
            &format!("/api/auth/core-auth/oauth/{provider}/link"),
            &[("Cookie", session), ("Origin", &panel.url)],
            None,
        );
        assert_eq!(started.status, 200, "{started:?}");
        let set_cookies: Vec<String> = started
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.clone())
            .collect();
        Self::keep(&mut self.panel, &set_cookies);
        started.body["data"]["url"].as_str().unwrap().to_string()
    }

    fn start_and_authorize(&mut self, panel: &Panel, provider: &str, login: &str) -> String {
        let start = self.panel_get(
            panel,
            &format!("/api/auth/core-auth/oauth/{provider}/start?redirect=/servers"),
        );
        assert_eq!(start.status, 303);
        let authorization = start.location.unwrap();
        self.authorize(panel, &authorization, login)
    }
}

fn username_of(panel: &Panel, session: &str) -> Value {
    let account = panel.json_with("GET", "/api/client/account", &[("Cookie", session)], None);
    assert_eq!(account.status, 200, "{account:?}");
    account.body["data"].clone()
}

#[test]
fn openid_connect_signs_in_links_and_provisions_without_taking_over_accounts() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let admin = panel.admin_key();
    let callback = format!(
        "{}/api/auth/core-auth/oauth/corp/callback",
        panel.public_url
    );
    let provider = OidcProvider::start(
        &callback,
        json!({
            "ada-at-corp": { "email": "ada@corp.example", "email_verified": true, "preferred_username": "Ada", "groups": ["ops"] },
            "unverified": { "email": "nobody@corp.example", "email_verified": false },
            "imposter": { "email": "grace@example.com", "email_verified": true },
            "grace-at-corp": { "email": "grace@corp.example", "email_verified": true },
        }),
    );
    let role = panel.json(
        "POST",
        "/api/admin/roles",
        &admin,
        Some(json!({ "name": "operators", "permissions": [] })),
    );
    assert_eq!(role.status, 201, "{role:?}");
    let form = json!({
        "id": "corp",
        "name": "Corp SSO",
        "kind": "oidc",
        "issuer": provider.issuer,
        "client_id": "hatchery",
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile groups",
        "auto_provision": true,
        "role_claim": "groups",
        "role_map": { "ops": "operators" },
    });

    // The plugin may not call a host nobody granted; the answer says how to grant it.
    let refused = panel.json(
        "POST",
        "/api/admin/core-auth/oauth-providers",
        &admin,
        Some(form.clone()),
    );
    assert_eq!(refused.status, 400, "{refused:?}");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("hatchery plugin grant core-auth"),
        "{message}"
    );
    panel.cli_ok(&[
        "plugin",
        "grant",
        "core-auth",
        &format!("http:{}", provider.host()),
    ]);
    let created = crate::support::eventually(
        Duration::from_secs(20),
        "the grant to reach the plugin",
        || {
            let answer = panel.json(
                "POST",
                "/api/admin/core-auth/oauth-providers",
                &admin,
                Some(form.clone()),
            );
            (answer.status == 201).then_some(answer)
        },
    );
    assert_eq!(created.body["data"]["redirect_uri"], callback.as_str());
    assert_eq!(created.body["data"]["client_secret_set"], true);
    assert!(
        !created.raw_text().contains(CLIENT_SECRET),
        "the secret is never shown"
    );
    let listed = panel.get("/api/auth/core-auth/oauth/providers");
    assert_eq!(listed.body["data"][0]["id"], "corp");
    assert_eq!(listed.body["data"][0]["name"], "Corp SSO");
    // The sign-in page offers it with the other methods.
    let methods = panel.get("/api/auth/methods");
    let offered = methods.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|method| method["id"] == "oauth-corp")
        .unwrap_or_else(|| panic!("{methods:?}"))
        .clone();
    assert_eq!(offered["kind"], "redirect");
    assert_eq!(offered["start"], "/api/auth/core-auth/oauth/corp/start");

    // Someone new with a verified address gets an account, their role from the claim.
    let mut browser = Browser::default();
    let landed = browser.sign_in_with(&panel, "corp", "ada-at-corp");
    assert_eq!(landed, "/servers");
    let ada = username_of(&panel, &browser.session().expect("signed in"));
    assert_eq!(ada["username"], "ada");
    assert_eq!(ada["email"], "ada@corp.example");
    let users = panel.json("GET", "/api/admin/users?per_page=100", &admin, None);
    let provisioned = users.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "ada")
        .unwrap()
        .clone();
    assert_eq!(provisioned["role_id"], role.body["data"]["id"]);
    assert_eq!(provisioned["admin"], false);
    // The next time, the same account: no second one.
    let mut again = Browser::default();
    again.sign_in_with(&panel, "corp", "ada-at-corp");
    assert_eq!(
        username_of(&panel, &again.session().unwrap())["id"],
        ada["id"]
    );

    // A callback carried to another browser (login CSRF) signs nobody in.
    let mut attacker = Browser::default();
    let planted = attacker.start_and_authorize(&panel, "corp", "ada-at-corp");
    let mut victim = Browser::default();
    let refused = victim.panel_get(&panel, &planted);
    assert_eq!(
        refused.location.as_deref(),
        Some("/sign-in?error=oauth-state")
    );
    assert!(victim.session().is_none());
    // A state that is not this browser's flow is refused too: the cookie of one flow,
    // the callback of another.
    let mut browser = Browser::default();
    let first = browser.start_and_authorize(&panel, "corp", "ada-at-corp");
    let second = browser.start_and_authorize(&panel, "corp", "ada-at-corp");
    let mixed = browser.panel_get(&panel, &first);
    assert_eq!(
        mixed.location.as_deref(),
        Some("/sign-in?error=oauth-state")
    );
    assert!(browser.session().is_none());
    // And a callback works once, even in the browser that started it.
    let mut replay = Browser::default();
    replay.panel.clone_from(&browser.panel);
    assert_eq!(
        browser.panel_get(&panel, &second).location.as_deref(),
        Some("/servers")
    );
    let replayed = replay.panel_get(&panel, &second);
    assert_eq!(
        replayed.location.as_deref(),
        Some("/sign-in?error=oauth-state")
    );

    // An address the provider did not verify opens nothing.
    let mut browser = Browser::default();
    assert_eq!(
        browser.sign_in_with(&panel, "corp", "unverified"),
        "/sign-in?error=oauth-no-account"
    );
    assert!(browser.session().is_none());

    // Someone at the provider whose address matches an account here is not let into it:
    // the account's owner links the provider themselves.
    panel.user_with_password("grace", "correct horse battery");
    let mut browser = Browser::default();
    assert_eq!(
        browser.sign_in_with(&panel, "corp", "imposter"),
        "/sign-in?error=oauth-no-account"
    );
    assert!(browser.session().is_none());

    // Grace links her provider account from a signed-in browser, then signs in with it.
    let signed_in = panel.post_json(
        "/api/auth/core-auth/password",
        None,
        json!({ "user": "grace", "password": "correct horse battery" }),
    );
    let grace_session = crate::support::session_cookie(&signed_in);
    let mut graces = Browser::default();
    let (name, value) = grace_session.split_once('=').unwrap();
    graces.panel.insert(name.into(), value.into());
    let url = graces.start_link(&panel, "corp", &grace_session);
    let back = graces.authorize(&panel, &url, "grace-at-corp");
    let linked = graces.panel_get(&panel, &back);
    assert_eq!(
        linked.location.as_deref(),
        Some("/account/security?linked=corp")
    );
    let mut elsewhere = Browser::default();
    elsewhere.sign_in_with(&panel, "corp", "grace-at-corp");
    assert_eq!(
        username_of(&panel, &elsewhere.session().unwrap())["username"],
        "grace"
    );
    let links = panel.json_with(
        "GET",
        "/api/auth/core-auth/oauth/links",
        &[("Cookie", &grace_session)],
        None,
    );
    assert_eq!(links.body["data"][0]["provider"], "corp");
    assert_eq!(links.body["data"][0]["email"], "grace@corp.example");

    // Ada's provider account is hers: linking it to Grace's is refused.
    let url = graces.start_link(&panel, "corp", &grace_session);
    graces.provider.clear(); // signed out at the provider, to sign in there as Ada
    let back = graces.authorize(&panel, &url, "ada-at-corp");
    assert_eq!(
        graces.panel_get(&panel, &back).location.as_deref(),
        Some("/account/security?error=oauth-linked-elsewhere")
    );

    // Unlinking works while a password remains; Ada, with nothing else, may not.
    let unlinked = panel.json_with(
        "DELETE",
        "/api/auth/core-auth/oauth/links/corp",
        &[("Cookie", &grace_session), ("Origin", &panel.url)],
        None,
    );
    assert_eq!(unlinked.status, 200, "{unlinked:?}");
    let ada_session = again.session().unwrap();
    let kept = panel.json_with(
        "DELETE",
        "/api/auth/core-auth/oauth/links/corp",
        &[("Cookie", &ada_session), ("Origin", &panel.url)],
        None,
    );
    assert_eq!(kept.status, 409, "{kept:?}");

    // Someone the provider turns away comes back to the sign-in page, signed in nowhere.
    let mut browser = Browser::default();
    assert_eq!(
        browser.sign_in_with(&panel, "corp", "nobody-at-corp"),
        "/sign-in?error=oauth-denied"
    );
    assert!(browser.session().is_none());

    // Administrators change a provider without sending its secret again, and staff
    // without the plugin's permission see nothing of it.
    let changed = panel.json(
        "PUT",
        "/api/admin/core-auth/oauth-providers/corp",
        &admin,
        Some(json!({ "name": "Corporate SSO" })),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["data"]["name"], "Corporate SSO");
    assert_eq!(changed.body["data"]["client_secret_set"], true);
    let staff = panel.json(
        "POST",
        "/api/admin/users",
        &admin,
        Some(json!({ "username": "staff", "email": "staff@example.com", "role_id": role.body["data"]["id"] })),
    );
    assert_eq!(staff.status, 201, "{staff:?}");
    let staff_key = panel
        .cli_ok(&["user", "api-key", "staff"])
        .trim()
        .to_string();
    let hidden = panel.json(
        "GET",
        "/api/admin/core-auth/oauth-providers",
        &staff_key,
        None,
    );
    assert_eq!(hidden.status, 403, "{hidden:?}");

    // Removed, the provider signs nobody in and its links are gone.
    let removed = panel.json(
        "DELETE",
        "/api/admin/core-auth/oauth-providers/corp",
        &admin,
        None,
    );
    assert_eq!(removed.status, 200, "{removed:?}");
    assert_eq!(
        panel.get("/api/auth/core-auth/oauth/corp/start").status,
        404
    );
    let links = panel.json_with(
        "GET",
        "/api/auth/core-auth/oauth/links",
        &[("Cookie", &ada_session)],
        None,
    );
    assert_eq!(links.body["data"], json!([]));
}
