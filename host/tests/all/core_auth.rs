//! core-auth, the sign-in plugin, through the panel's HTTP API as browsers and scripts
//! use it: passwords (argon2id, and Pterodactyl's bcrypt handed over and upgraded),
//! one answer for every failure, limits per account and per address, and password
//! changes that sign every other browser out.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Answer, DIALECTS, Dialect, Panel, panel, session_cookie};

const SIGN_IN: &str = "/api/auth/core-auth/password";

fn sign_in(panel: &Panel, login: &str, password: &str) -> Answer {
    panel.post_json(
        SIGN_IN,
        None,
        json!({ "user": login, "password": password }),
    )
}

/// An HTML form post, with redirects left for the test to see.
fn post_form(
    panel: &Panel,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, Option<String>, Option<String>) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let body: String = fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let response = agent
        .post(format!("{}{path}", panel.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    (
        response.status().as_u16(),
        header("location"),
        header("set-cookie"),
    )
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn account(panel: &Panel, cookie: &str) -> Answer {
    panel.json_with("GET", "/api/client/account", &[("Cookie", cookie)], None)
}

#[test]
fn passwords_sign_in_by_json_and_form_and_every_failure_reads_the_same() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("core-auth").start();
        panel.user_with_password("ada", "correct horse battery");

        // The API document lists the plugin's routes while it is enabled.
        let document = panel.get("/api/openapi.json");
        assert_eq!(
            document.body["paths"]["/api/auth/core-auth/password"]["post"]["summary"],
            "Sign in with a username or email and a password (JSON or an HTML form)",
            "{document:?}"
        );
        assert!(
            document.body["paths"]["/api/auth/core-auth/api-keys/{identifier}"]["delete"]["parameters"]
                [0]["name"]
                == "identifier"
        );
        let methods = panel.get("/api/auth/methods");
        assert_eq!(
            methods.body["data"],
            json!([
                { "plugin": "core-auth", "id": "password", "label": "Password", "kind": "form", "start": SIGN_IN },
                { "plugin": "core-auth", "id": "passkey", "label": "Passkey", "kind": "passkey", "start": "/api/auth/core-auth/passkey" },
            ])
        );

        // By username or email (in any case), as JSON: the session cookie is set.
        for login in ["ada", "Ada@Example.com"] {
            let answer = sign_in(&panel, login, "correct horse battery");
            assert_eq!(answer.status, 200, "{login}: {answer:?}");
            assert_eq!(answer.body["data"]["user"]["username"], "ada");
            let cookie = session_cookie(&answer);
            assert_eq!(account(&panel, &cookie).body["data"]["username"], "ada");
        }

        // A wrong password, an unknown account and a malformed login all read alike.
        let wrong = sign_in(&panel, "ada", "correct horse batterY");
        let unknown = sign_in(&panel, "nobody", "correct horse battery");
        let numeric = sign_in(&panel, "1", "correct horse battery");
        for refused in [&wrong, &unknown, &numeric] {
            assert_eq!(refused.status, 401, "{refused:?}");
            assert!(refused.header("set-cookie").is_none());
        }
        assert_eq!(wrong.raw, unknown.raw);
        assert_eq!(wrong.raw, numeric.raw);
        assert_eq!(
            wrong.body["error"]["message"],
            "the username or password is not right"
        );

        // As the sign-in page's form: a redirect on the panel, with the cookie.
        let (status, location, cookie) = post_form(
            &panel,
            SIGN_IN,
            &[
                ("user", "ada"),
                ("password", "correct horse battery"),
                ("redirect", "/servers"),
            ],
        );
        assert_eq!((status, location.as_deref()), (303, Some("/servers")));
        assert!(cookie.unwrap().contains("HttpOnly"));
        let (_, location, _) = post_form(
            &panel,
            SIGN_IN,
            &[
                ("user", "ada"),
                ("password", "correct horse battery"),
                ("redirect", "//evil.example"),
            ],
        );
        assert_eq!(location.as_deref(), Some("/"));
        let (status, location, cookie) =
            post_form(&panel, SIGN_IN, &[("user", "ada"), ("password", "nope")]);
        assert_eq!(
            (status, location.as_deref()),
            (303, Some("/sign-in?error=credentials"))
        );
        assert!(cookie.is_none());
    }
}

#[test]
fn failed_sign_ins_are_limited_per_account_and_per_address() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    panel.user_with_password("ada", "correct horse battery");
    panel.user_with_password("grace", "grace's long password");

    // Five failures lock the account, even against the right password…
    for _ in 0..5 {
        assert_eq!(sign_in(&panel, "ada", "guess").status, 401);
    }
    let locked = sign_in(&panel, "ADA", "correct horse battery");
    assert_eq!(locked.status, 429, "{locked:?}");
    assert!(
        locked.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in 15 minutes"),
        "{locked:?}"
    );
    // …and an account that does not exist locks the same way, so the lock tells nothing.
    for _ in 0..5 {
        assert_eq!(sign_in(&panel, "nobody", "guess").status, 401);
    }
    assert_eq!(sign_in(&panel, "nobody", "guess").status, 429);
    // Another account from the same address still signs in.
    assert_eq!(
        sign_in(&panel, "grace", "grace's long password").status,
        200
    );

    // Twenty failures from one address stop every sign-in from it.
    for attempt in 0..10 {
        assert_eq!(
            sign_in(&panel, &format!("guess{attempt}"), "guess").status,
            401
        );
    }
    let stopped = sign_in(&panel, "grace", "grace's long password");
    assert_eq!(stopped.status, 429, "{stopped:?}");
}

#[test]
fn a_password_change_signs_every_other_browser_out() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("core-auth").start();
        panel.user_with_password("ada", "correct horse battery");
        let here = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
        let elsewhere = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));

        let status = panel.json_with("GET", SIGN_IN, &[("Cookie", &here)], None);
        assert_eq!(status.body["data"]["has_password"], true, "{status:?}");

        let change = |current: &str, new: &str| {
            panel.json_with(
                "PUT",
                SIGN_IN,
                &[("Cookie", &here), ("Origin", &panel.url)],
                Some(json!({ "current_password": current, "password": new })),
            )
        };
        let wrong = change("not it", "a new long password");
        assert_eq!(
            (wrong.status, wrong.body["error"]["code"].as_str()),
            (400, Some("current_password")),
            "{wrong:?}"
        );
        let short = change("correct horse battery", "short");
        assert_eq!(short.status, 400, "{short:?}");
        assert!(
            short.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("8 to")
        );
        let changed = change("correct horse battery", "a new long password");
        assert_eq!(changed.status, 200, "{changed:?}");
        let renewed = session_cookie(&changed);

        assert_eq!(account(&panel, &elsewhere).status, 401);
        assert_eq!(account(&panel, &here).status, 401);
        assert_eq!(account(&panel, &renewed).status, 200);
        assert_eq!(sign_in(&panel, "ada", "correct horse battery").status, 401);
        assert_eq!(sign_in(&panel, "ada", "a new long password").status, 200);
        let recorded = panel.get_as(
            "/api/admin/activity?event=core-auth:password.change",
            &panel.admin_key(),
        );
        assert!(
            recorded.raw_text().contains("core-auth:password.change"),
            "{recorded:?}"
        );
    }
}

/// A Pterodactyl user keeps their password: the `$2y$` bcrypt hash from its `users`
/// table (as the importer leaves it in the panel's `users.password_hash`) goes to
/// core-auth at start, signs in unchanged, and is replaced with argon2id on the way.
#[test]
fn pterodactyl_bcrypt_hashes_are_handed_over_and_upgraded() {
    // PHP's password_hash('password', PASSWORD_BCRYPT), the shape of Pterodactyl's
    // `users.password` column.
    const LARAVEL_HASH: &str = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi";
    for dialect in DIALECTS {
        let mut panel = panel(dialect).plugin("core-auth").start();
        panel.user_key("imported");
        panel.stop();
        execute(
            panel.database_url(),
            &format!(
                "UPDATE users SET password_hash = '{LARAVEL_HASH}' WHERE username = 'imported'"
            ),
        );
        panel.restart();

        assert_eq!(sign_in(&panel, "imported", "Password").status, 401);
        let answer = sign_in(&panel, "imported", "password");
        assert_eq!(answer.status, 200, "{answer:?}\n{}", panel.log());
        let held = scalar(
            panel.database_url(),
            "SELECT COUNT(*) FROM users WHERE password_hash IS NOT NULL",
        );
        assert_eq!(held, json!(0), "the panel forgets what it handed over");
        if dialect == Dialect::Sqlite {
            let store = format!(
                "sqlite://{}",
                panel
                    .data_dir()
                    .join("plugin-databases/core-auth.sqlite")
                    .display()
            );
            let kept = scalar(&store, "SELECT hash FROM core_auth__passwords");
            assert!(
                kept.as_str().unwrap().starts_with("$argon2id$"),
                "upgraded on sign-in: {kept}"
            );
        }
        // A restart hands nothing over twice, and the password still works.
        panel.restart();
        assert_eq!(sign_in(&panel, "imported", "password").status, 200);
    }
}

/// Without a plugin that keeps passwords, the first administrator cannot be given
/// one: the answer says what to do, and the setup link still works.
#[test]
fn setup_without_a_password_keeper_keeps_the_link() {
    let panel = panel(Dialect::Sqlite).start();
    let log = panel.log();
    let start = log.find("/setup?token=").unwrap() + "/setup?token=".len();
    let token: String = log[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let setup = panel.post_json(
        "/api/setup",
        None,
        json!({ "token": token, "username": "root", "email": "root@example.com", "password": "long enough" }),
    );
    assert_eq!(setup.status, 409, "{setup:?}");
    assert!(setup.raw_text().contains("enable core-auth"), "{setup:?}");
    assert!(!panel.cli_ok(&["user", "list"]).contains("root"));
    assert_eq!(
        panel.get("/api/settings").body["data"]["setup_required"],
        true
    );
}

fn execute(url: &str, sql: &str) {
    run_sql(url, sql, false);
}

fn scalar(url: &str, sql: &str) -> Value {
    run_sql(url, sql, true)
}

/// Runs one statement straight on a database, as an import tool would.
fn run_sql(url: &str, sql: &str, fetch: bool) -> Value {
    let url = url.to_string();
    let sql = sql.to_string();
    crate::support::off_thread(async move {
        use sqlx::Connection;
        if url.starts_with("sqlite:") {
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            if fetch {
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut connection)
                    .await
                    .unwrap();
                return sqlite_value(&row);
            }
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut connection)
                .await
                .unwrap();
        } else {
            let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
            if fetch {
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut connection)
                    .await
                    .unwrap();
                return postgres_value(&row);
            }
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut connection)
                .await
                .unwrap();
        }
        Value::Null
    })
}

fn sqlite_value(row: &sqlx::sqlite::SqliteRow) -> Value {
    use sqlx::Row;
    row.try_get::<i64, _>(0)
        .map(Value::from)
        .or_else(|_| row.try_get::<String, _>(0).map(Value::from))
        .unwrap()
}

fn postgres_value(row: &sqlx::postgres::PgRow) -> Value {
    use sqlx::Row;
    row.try_get::<i64, _>(0)
        .map(Value::from)
        .or_else(|_| row.try_get::<String, _>(0).map(Value::from))
        .unwrap()
}

#[test]
fn people_see_their_browsers_and_sign_the_others_out() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    panel.user_with_password("ada", "correct horse battery");
    panel.user_with_password("grace", "grace's long password");
    let browsers: Vec<String> = (0..3)
        .map(|_| session_cookie(&sign_in(&panel, "ada", "correct horse battery")))
        .collect();
    let graces = session_cookie(&sign_in(&panel, "grace", "grace's long password"));
    let here = &browsers[0];
    let write = |method: &str, path: &str, cookie: &str| {
        panel.json_with(
            method,
            path,
            &[("Cookie", cookie), ("Origin", &panel.public_url)],
            None,
        )
    };

    let listed = panel.json_with(
        "GET",
        "/api/auth/core-auth/sessions",
        &[("Cookie", here)],
        None,
    );
    let sessions = listed.body["data"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 3, "{listed:?}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(
        current.len(),
        1,
        "exactly this browser is marked: {listed:?}"
    );
    assert!(
        sessions
            .iter()
            .all(|s| s["last_seen_at"].as_i64().unwrap() > 0)
    );

    // One other browser, by id; someone else's session id is not the caller's to end.
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let graces_id = panel
        .json_with(
            "GET",
            "/api/auth/core-auth/sessions",
            &[("Cookie", &graces)],
            None,
        )
        .body["data"][0]["id"]
        .clone();
    assert_eq!(
        write(
            "DELETE",
            &format!("/api/auth/core-auth/sessions/{graces_id}"),
            here
        )
        .status,
        404
    );
    assert_eq!(account(&panel, &graces).status, 200);
    assert_eq!(
        write(
            "DELETE",
            &format!("/api/auth/core-auth/sessions/{other}"),
            here
        )
        .status,
        200
    );
    let still: Vec<u16> = browsers.iter().map(|b| account(&panel, b).status).collect();
    assert_eq!(still.iter().filter(|s| **s == 401).count(), 1, "{still:?}");

    // Everywhere else: only this browser is left.
    let others = write("POST", "/api/auth/core-auth/sessions/sign-out-others", here);
    assert_eq!(others.status, 200, "{others:?}");
    assert_eq!(others.body["data"]["signed_out"], 1);
    let after: Vec<u16> = browsers.iter().map(|b| account(&panel, b).status).collect();
    assert_eq!(after, vec![200, 401, 401]);
    assert_eq!(account(&panel, &graces).status, 200);
}

/// The code an authenticator app shows for `secret` (base32) at 30-second `step`.
fn app_code(secret: &str, step: i64) -> String {
    use hmac::{Hmac, Mac};
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

fn step_now() -> i64 {
    chrono::Utc::now().timestamp() / 30
}

/// Signs in with a password and answers the second factor with `code`.
fn second_factor(panel: &Panel, challenge: &str, code: &str) -> Answer {
    panel.post_json(
        "/api/auth/core-auth/second-factor",
        None,
        json!({ "challenge": challenge, "code": code }),
    )
}

fn challenge_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["complete"], false, "{answer:?}");
    assert!(
        answer.header("set-cookie").is_none(),
        "no session before the code"
    );
    answer.body["data"]["challenge"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn authenticator_apps_and_recovery_codes_work_once_each() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("core-auth").start();
        panel.user_with_password("ada", "correct horse battery");
        let cookie = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
        let as_ada = |method: &str, path: &str, body: Option<Value>| {
            panel.json_with(
                method,
                path,
                &[("Cookie", &cookie), ("Origin", &panel.url)],
                body,
            )
        };

        // Set up: a secret to scan, in force once a code from it is confirmed.
        let begun = as_ada("POST", "/api/auth/core-auth/totp", None);
        assert_eq!(begun.status, 200, "{begun:?}");
        let secret = begun.body["data"]["secret"].as_str().unwrap().to_string();
        assert!(
            begun.body["data"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/Hatchery:ada?secret=")
        );
        let wrong = as_ada(
            "POST",
            "/api/auth/core-auth/totp/confirm",
            Some(json!({ "code": "000000" })),
        );
        assert_eq!(wrong.status, 400, "{wrong:?}");
        let step = step_now();
        let confirmed = as_ada(
            "POST",
            "/api/auth/core-auth/totp/confirm",
            Some(json!({ "code": app_code(&secret, step) })),
        );
        assert_eq!(confirmed.status, 200, "{confirmed:?}");
        let recovery: Vec<String> = confirmed.body["data"]["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_string())
            .collect();
        assert_eq!(recovery.len(), 10);

        // A password alone no longer signs in; the app's next code does, once.
        let challenge = challenge_of(&sign_in(&panel, "ada", "correct horse battery"));
        let replayed = second_factor(&panel, &challenge, &app_code(&secret, step));
        assert_eq!(
            replayed.status, 401,
            "the confirming code is spent: {replayed:?}"
        );
        let next = app_code(&secret, step + 1);
        let done = second_factor(&panel, &challenge, &next);
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["data"]["complete"], true);
        let signed_in = session_cookie(&done);
        assert_eq!(account(&panel, &signed_in).status, 200);
        let challenge = challenge_of(&sign_in(&panel, "ada", "correct horse battery"));
        assert_eq!(
            second_factor(&panel, &challenge, &next).status,
            401,
            "replayed"
        );

        // A recovery code works once, whatever its case.
        let upper = recovery[0].to_uppercase();
        assert_eq!(second_factor(&panel, &challenge, &upper).status, 200);
        let challenge = challenge_of(&sign_in(&panel, "ada", "correct horse battery"));
        assert_eq!(second_factor(&panel, &challenge, &recovery[0]).status, 401);
        let status = as_ada("GET", "/api/auth/core-auth/totp", None);
        assert_eq!(
            status.body["data"],
            json!({ "enabled": true, "recovery_codes_left": 9 })
        );

        // Five wrong codes spend a challenge: the right one is refused after.
        for _ in 0..4 {
            assert_eq!(second_factor(&panel, &challenge, "123456").status, 401);
        }
        let spent = second_factor(&panel, &challenge, &recovery[1]);
        assert_eq!(spent.status, 401, "{spent:?}");
        assert!(spent.raw_text().contains("sign in again"), "{spent:?}");

        // Removing the app takes a code; then the password alone signs in again.
        let removed = as_ada(
            "DELETE",
            "/api/auth/core-auth/totp",
            Some(json!({ "code": recovery[2] })),
        );
        assert_eq!(removed.status, 200, "{removed:?}");
        let plain = sign_in(&panel, "ada", "correct horse battery");
        assert_eq!(plain.body["data"]["complete"], true, "{plain:?}");
    }
}

#[test]
fn a_role_can_require_a_second_factor_set_up_at_sign_in() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let admin = panel.admin_key();
    let role = panel.json(
        "POST",
        "/api/admin/roles",
        &admin,
        Some(json!({ "name": "support", "permissions": ["users.read"] })),
    );
    assert_eq!(role.status, 201, "{role:?}");
    let created = panel.json(
        "POST",
        "/api/admin/users",
        &admin,
        Some(json!({ "username": "sam", "email": "sam@example.com", "password": "sam's long password", "role_id": role.body["data"]["id"] })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    panel.user_with_password("ada", "correct horse battery");
    let saved = panel.json(
        "PUT",
        "/api/admin/plugins/core-auth/settings",
        &admin,
        Some(json!({ "second_factor_roles": ["support"] })),
    );
    assert_eq!(saved.status, 200, "{saved:?}");

    // Not in the role: the password is enough.
    assert_eq!(
        sign_in(&panel, "ada", "correct horse battery").body["data"]["complete"],
        true
    );
    // In it: an app is set up inside the sign-in, before any session exists.
    let answer = sign_in(&panel, "sam", "sam's long password");
    assert_eq!(answer.body["data"]["second_factor"], "enrol", "{answer:?}");
    let challenge = challenge_of(&answer);
    assert_eq!(second_factor(&panel, &challenge, "000000").status, 401);
    let enrol = panel.post_json(
        "/api/auth/core-auth/second-factor/enrol",
        None,
        json!({ "challenge": challenge }),
    );
    assert_eq!(enrol.status, 200, "{enrol:?}");
    let secret = enrol.body["data"]["secret"].as_str().unwrap();
    let done = second_factor(&panel, &challenge, &app_code(secret, step_now()));
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["data"]["complete"], true);
    assert_eq!(
        done.body["data"]["recovery_codes"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(account(&panel, &session_cookie(&done)).status, 200);

    // From now on a code is owed, and the enrolment door is shut.
    let answer = sign_in(&panel, "sam", "sam's long password");
    assert_eq!(answer.body["data"]["second_factor"], "code", "{answer:?}");
    let again = panel.post_json(
        "/api/auth/core-auth/second-factor/enrol",
        None,
        json!({ "challenge": challenge_of(&answer) }),
    );
    assert_eq!(again.status, 409, "{again:?}");
}

#[test]
fn administrators_act_as_users_and_come_back_never_as_someone_stronger() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let root = panel.admin_key();
    panel.admin_with_password("boss", "the boss's long password");
    let role = panel.json(
        "POST",
        "/api/admin/roles",
        &root,
        Some(json!({ "name": "support", "permissions": ["users.read", "users.impersonate"] })),
    );
    let made = panel.json(
        "POST",
        "/api/admin/users",
        &root,
        Some(json!({ "username": "helper", "email": "helper@example.com", "password": "helper's long password", "role_id": role.body["data"]["id"] })),
    );
    assert_eq!(made.status, 201, "{made:?}");
    panel.user_with_password("ada", "correct horse battery");

    let boss = session_cookie(&sign_in(&panel, "boss", "the boss's long password"));
    let post = |cookie: &str, path: &str, body: Option<Value>| {
        panel.json_with(
            "POST",
            path,
            &[("Cookie", cookie), ("Origin", &panel.public_url)],
            body,
        )
    };
    let acting = post(
        &boss,
        "/api/auth/core-auth/impersonate",
        Some(json!({ "user": "ada" })),
    );
    assert_eq!(acting.status, 200, "{acting:?}");
    let as_ada = session_cookie(&acting);
    assert_eq!(account(&panel, &as_ada).body["data"]["username"], "ada");

    // What is done as ada is recorded with the administrator.
    let changed = panel.json_with(
        "PATCH",
        "/api/client/account",
        &[("Cookie", &as_ada), ("Origin", &panel.url)],
        Some(json!({ "language": "de" })),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    let log = panel.get_as("/api/admin/activity?event=user.account.update", &root);
    let entry = &log.body["data"][0];
    assert_eq!(entry["actor"], "ada", "{log:?}");
    let boss_id = panel.get_as("/api/admin/users/boss", &root).body["data"]["id"].clone();
    assert_eq!(entry["impersonator_id"], boss_id, "{log:?}");

    // Exit: back to the administrator, on a new session; the acting one ends.
    let back = post(&as_ada, "/api/auth/core-auth/impersonate/exit", None);
    assert_eq!(back.status, 200, "{back:?}");
    let boss_again = session_cookie(&back);
    assert_eq!(
        account(&panel, &boss_again).body["data"]["username"],
        "boss"
    );
    assert_eq!(account(&panel, &as_ada).status, 401);
    assert_eq!(account(&panel, &boss).status, 401);
    assert_eq!(
        post(&boss_again, "/api/auth/core-auth/impersonate/exit", None).status,
        400
    );

    // Staff with the permission cannot act as a root administrator, and nobody can
    // without the permission or with an API key.
    let helper = session_cookie(&sign_in(&panel, "helper", "helper's long password"));
    let refused = post(
        &helper,
        "/api/auth/core-auth/impersonate",
        Some(json!({ "user": "boss" })),
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        refused.raw_text().contains("root administrator"),
        "{refused:?}"
    );
    assert_eq!(
        post(
            &helper,
            "/api/auth/core-auth/impersonate",
            Some(json!({ "user": "ada" }))
        )
        .status,
        200
    );
    let ada = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
    let plain = post(
        &ada,
        "/api/auth/core-auth/impersonate",
        Some(json!({ "user": "helper" })),
    );
    assert_eq!(plain.status, 403, "{plain:?}");
    let by_key = panel.json(
        "POST",
        "/api/auth/core-auth/impersonate",
        &root,
        Some(json!({ "user": "ada" })),
    );
    assert_eq!(by_key.status, 400, "{by_key:?}");
}

#[test]
fn api_keys_carry_only_what_was_asked_and_stop_at_once_everywhere() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    panel.admin_with_password("boss", "the boss's long password");
    panel.user_with_password("ada", "correct horse battery");
    let issue = |cookie: &str, body: Value| {
        panel.json_with(
            "POST",
            "/api/auth/core-auth/api-keys",
            &[("Cookie", cookie), ("Origin", &panel.public_url)],
            Some(body),
        )
    };
    let ada = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
    let boss = session_cookie(&sign_in(&panel, "boss", "the boss's long password"));

    // A user's key acts as them; shown once, listed without its secret, use noted.
    let made = issue(
        &ada,
        json!({ "description": "deploys", "expires_in_days": 30 }),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let token = made.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        panel.get_as("/api/client/account", &token).body["data"]["username"],
        "ada"
    );
    let listed = panel.json_with(
        "GET",
        "/api/auth/core-auth/api-keys",
        &[("Cookie", &ada)],
        None,
    );
    assert_eq!(
        listed.body["data"][0]["description"], "deploys",
        "{listed:?}"
    );
    assert!(
        listed.body["data"][0]["last_used_at"].is_i64(),
        "{listed:?}"
    );
    assert!(
        !listed.raw_text().contains(&token[10..]),
        "no secret in the list"
    );
    let refused = issue(&ada, json!({ "description": "power", "admin": true }));
    assert_eq!(refused.status, 403, "{refused:?}");

    // An administrator's key has their powers only when asked for.
    let plain = issue(&boss, json!({ "description": "plain" }));
    let plain = plain.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(panel.get_as("/api/admin/users", &plain).status, 403);
    let strong = issue(&boss, json!({ "description": "admin", "admin": true }));
    let strong = strong.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(panel.get_as("/api/admin/users", &strong).status, 200);

    // An allowlist of addresses: the tests call from 127.0.0.1.
    let elsewhere = issue(&ada, json!({ "allowed_ips": ["192.0.2.0/24"] }));
    let elsewhere = elsewhere.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let denied = panel.get_as("/api/client/account", &elsewhere);
    assert_eq!(denied.status, 403, "{denied:?}");
    assert!(
        denied.raw_text().contains("may not be used from 127.0.0.1"),
        "{denied:?}"
    );
    let here = issue(
        &ada,
        json!({ "allowed_ips": ["127.0.0.1", "2001:db8::/32"] }),
    );
    let here = here.body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(panel.get_as("/api/client/account", &here).status, 200);
    assert_eq!(
        issue(&ada, json!({ "allowed_ips": ["not-an-ip"] })).status,
        400
    );

    // Revoked through one panel process, refused by another on its next request.
    let other = crate::support::panel(Dialect::Sqlite)
        .env("HATCHERY_DATABASE_URL", panel.database_url())
        .env("HATCHERY_DATA_DIR", &panel.data_dir().display().to_string())
        .start();
    assert_eq!(other.get_as("/api/client/account", &token).status, 200);
    let identifier = made.body["data"]["identifier"].as_str().unwrap();
    let revoked = panel.json_with(
        "DELETE",
        &format!("/api/auth/core-auth/api-keys/{identifier}"),
        &[("Cookie", &ada), ("Origin", &panel.url)],
        None,
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(other.get_as("/api/client/account", &token).status, 401);
    assert_eq!(panel.get_as("/api/client/account", &token).status, 401);
}

/// The text of a quoted-printable message as a mail client shows it.
fn quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok());
        match (bytes[index], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A real SMTP server, Python's aiosmtpd, keeping what it receives in a maildir.
struct MailSink {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl MailSink {
    fn start() -> MailSink {
        let maildir = tempfile::tempdir().unwrap();
        for part in ["tmp", "new", "cur"] {
            std::fs::create_dir(maildir.path().join(part)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut sink = MailSink {
            child,
            port,
            maildir,
        };
        crate::support::eventually(Duration::from_secs(20), "aiosmtpd to listen", || {
            if let Ok(Some(status)) = sink.child.try_wait() {
                let mut stderr = String::new();
                use std::io::Read;
                sink.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .ok();
                panic!(
                    "aiosmtpd exited with {status} (`pip install aiosmtpd`; `cargo xtask test` installs it):\n{stderr}"
                );
            }
            std::net::TcpStream::connect(("127.0.0.1", sink.port))
                .ok()
                .map(drop)
        });
        sink
    }

    /// Every message received so far, as text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("new");
        std::fs::read_dir(new)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn forgotten_passwords_are_reset_through_a_link_sent_by_mail() {
    let sink = MailSink::start();
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .env(
            "HATCHERY_SMTP_URL",
            &format!("smtp://127.0.0.1:{}", sink.port),
        )
        .env("HATCHERY_MAIL_FROM", "Panel <panel@example.com>")
        .start();
    panel.user_with_password("ada", "correct horse battery");
    let elsewhere = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
    let ask = |email: &str| {
        panel.post_json(
            "/api/auth/core-auth/password/reset",
            None,
            json!({ "email": email }),
        )
    };

    // Known and unknown addresses get the same answer; only the known one gets mail.
    let known = ask("Ada@Example.com");
    let unknown = ask("nobody@example.com");
    assert_eq!(known.status, 202, "{known:?}");
    assert_eq!((known.status, &known.raw), (unknown.status, &unknown.raw));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let message = loop {
        if let Some(message) = sink.messages().into_iter().next() {
            break message;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reset mail arrived:\n{}",
            panel.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        sink.messages().len(),
        1,
        "nothing went to the unknown address"
    );
    let message = quoted_printable(&message);
    assert!(message.contains("To: ada@example.com"), "{message}");
    assert!(
        message.contains("From: Panel <panel@example.com>"),
        "{message}"
    );
    let link_start = message
        .find(&format!("{}/reset-password?token=", panel.url))
        .expect("a link to the panel");
    let token: String = message[link_start..]
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "{message}");

    let confirm = |token: &str, password: &str| {
        panel.post_json(
            "/api/auth/core-auth/password/reset/confirm",
            None,
            json!({ "token": token, "password": password }),
        )
    };
    assert_eq!(confirm(&"0".repeat(64), "a brand new password").status, 400);
    assert_eq!(
        confirm(&token, "short").status,
        400,
        "a weak password keeps the link"
    );
    let done = confirm(&token, "a brand new password");
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(
        confirm(&token, "another new password").status,
        400,
        "a link works once"
    );
    assert_eq!(
        account(&panel, &elsewhere).status,
        401,
        "every session ended"
    );
    assert_eq!(sign_in(&panel, "ada", "correct horse battery").status, 401);
    assert_eq!(sign_in(&panel, "ada", "a brand new password").status, 200);

    // Asking is limited per account.
    for _ in 0..2 {
        assert_eq!(ask("ada@example.com").status, 202);
    }
    assert_eq!(ask("ada@example.com").status, 429);
}

/// A passkey on a software authenticator answering for the browser at `origin`.
fn register_passkey(
    panel: &Panel,
    cookie: &str,
    authenticator: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
    origin: &str,
    name: &str,
) -> Answer {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let begun = panel.json_with(
        "POST",
        "/api/auth/core-auth/passkeys",
        &[("Cookie", cookie), ("Origin", &panel.public_url)],
        None,
    );
    assert_eq!(begun.status, 200, "{begun:?}");
    let options: webauthn_rs_proto::CreationChallengeResponse =
        serde_json::from_value(begun.body["data"]["options"].clone()).unwrap();
    let credential = authenticator
        .do_registration(url::Url::parse(origin).unwrap(), options)
        .unwrap();
    panel.json_with(
        "POST",
        "/api/auth/core-auth/passkeys/finish",
        &[("Cookie", cookie), ("Origin", &panel.public_url)],
        Some(json!({
            "ceremony": begun.body["data"]["ceremony"],
            "name": name,
            "credential": credential,
        })),
    )
}

/// Answers a `navigator.credentials.get` challenge (`data.options`) at `origin`.
fn assert_with(
    authenticator: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
    origin: &str,
    begun: &Answer,
) -> Value {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    assert_eq!(begun.status, 200, "{begun:?}");
    let options: webauthn_rs_proto::RequestChallengeResponse =
        serde_json::from_value(begun.body["data"]["options"].clone()).unwrap();
    let credential = authenticator
        .do_authentication(url::Url::parse(origin).unwrap(), options)
        .unwrap();
    serde_json::to_value(credential).unwrap()
}

#[test]
fn passkeys_sign_in_without_a_password_and_serve_as_a_second_factor() {
    for dialect in DIALECTS {
        let panel = panel(dialect)
            .plugin("core-auth")
            .public_host("localhost")
            .start();
        panel.user_with_password("ada", "correct horse battery");
        let cookie = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
        let mut laptop = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);

        // Registered from the panel's own origin only: a page elsewhere on the same
        // host (which the browser lets use the same RP id) is refused by the panel.
        let mut stranger = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);
        let evil = "http://localhost:1".to_string();
        let forged = register_passkey(&panel, &cookie, &mut stranger, &evil, "evil");
        assert_eq!(forged.status, 400, "{forged:?}");
        let added = register_passkey(&panel, &cookie, &mut laptop, &panel.public_url, "laptop");
        assert_eq!(added.status, 201, "{added:?}");
        let listed = panel.json_with(
            "GET",
            "/api/auth/core-auth/passkeys",
            &[("Cookie", &cookie)],
            None,
        );
        assert_eq!(
            listed.body["data"].as_array().unwrap().len(),
            1,
            "{listed:?}"
        );
        let id = listed.body["data"][0]["id"].as_i64().unwrap();
        let renamed = panel.json_with(
            "PATCH",
            &format!("/api/auth/core-auth/passkeys/{id}"),
            &[("Cookie", &cookie), ("Origin", &panel.public_url)],
            Some(json!({ "name": "work laptop" })),
        );
        assert_eq!(renamed.body["data"]["name"], "work laptop", "{renamed:?}");

        // Passwordless: name the account, answer with the passkey, get a session.
        let begin = || {
            panel.post_json(
                "/api/auth/core-auth/passkey",
                None,
                json!({ "user": "ada" }),
            )
        };
        let begun = begin();
        let credential = assert_with(&mut laptop, &panel.public_url, &begun);
        let finish = |ceremony: &Value, credential: &Value| {
            panel.post_json(
                "/api/auth/core-auth/passkey/finish",
                None,
                json!({ "ceremony": ceremony, "credential": credential }),
            )
        };
        let done = finish(&begun.body["data"]["ceremony"], &credential);
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(
            account(&panel, &session_cookie(&done)).body["data"]["username"],
            "ada"
        );
        let replayed = finish(&begun.body["data"]["ceremony"], &credential);
        assert_eq!(
            replayed.status, 401,
            "a ceremony is used once: {replayed:?}"
        );
        // The right key answering for another origin is refused.
        let begun = begin();
        let elsewhere = assert_with(&mut laptop, &evil, &begun);
        assert_eq!(
            finish(&begun.body["data"]["ceremony"], &elsewhere).status,
            401
        );
        // An unknown account gets options too, naming no key.
        let unknown = panel.post_json(
            "/api/auth/core-auth/passkey",
            None,
            json!({ "user": "nobody" }),
        );
        assert_eq!(unknown.status, 200);
        assert!(
            unknown.body["data"]["options"]["publicKey"]["allowCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty)
        );

        // With a key, a password alone no longer signs in: the key is the second factor.
        let answer = sign_in(&panel, "ada", "correct horse battery");
        let challenge = challenge_of(&answer);
        let options = panel.post_json(
            "/api/auth/core-auth/second-factor/webauthn",
            None,
            json!({ "challenge": challenge }),
        );
        let credential = assert_with(&mut laptop, &panel.public_url, &options);
        let done = panel.post_json(
            "/api/auth/core-auth/second-factor",
            None,
            json!({ "challenge": challenge, "ceremony": options.body["data"]["ceremony"], "credential": credential }),
        );
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["data"]["complete"], true);

        // Removed, it neither signs in nor is asked for.
        let removed = panel.json_with(
            "DELETE",
            &format!("/api/auth/core-auth/passkeys/{id}"),
            &[("Cookie", &cookie), ("Origin", &panel.public_url)],
            None,
        );
        assert_eq!(removed.status, 200, "{removed:?}");
        let plain = sign_in(&panel, "ada", "correct horse battery");
        assert_eq!(plain.body["data"]["complete"], true, "{plain:?}");
    }
}

/// A key limited to one server and one permission reaches nothing else, even for an
/// owner who holds everything; the limits are checked where every server route checks
/// access, and the server list shows only what the key may see.
#[test]
fn api_keys_limited_to_servers_and_permissions_reach_nothing_else() {
    use crate::local_node::{
        LocalNode, add_ports, create_server, import_fixture_egg, server_request,
    };
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let admin = panel.admin_key();
    panel.user_with_password("owner", "the owner's long password");
    panel.user_with_password("other", "another long password");
    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let ports = add_ports(&panel, &admin, "local", 3);
    let first = create_server(
        &panel,
        &admin,
        server_request("first", "Fixture Game", ports[0].into()),
    );
    let second = create_server(
        &panel,
        &admin,
        server_request("second", "Fixture Game", ports[1].into()),
    );
    let mut theirs = server_request("theirs", "Fixture Game", ports[2].into());
    theirs["owner"] = json!("other");
    let theirs = create_server(&panel, &admin, theirs);

    let owner = session_cookie(&sign_in(&panel, "owner", "the owner's long password"));
    let issue = |body: Value| {
        panel.json_with(
            "POST",
            "/api/auth/core-auth/api-keys",
            &[("Cookie", &owner), ("Origin", &panel.url)],
            Some(body),
        )
    };
    let made = issue(
        json!({ "description": "console bot", "servers": [first], "permissions": ["websocket.connect"] }),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let key = made.body["data"]["token"].as_str().unwrap().to_string();

    let listed = panel.get_as("/api/client/servers", &key);
    assert_eq!(listed.body["meta"]["total"], 1, "{listed:?}");
    assert_eq!(listed.body["data"][0]["uuid"], first.as_str());
    assert_eq!(
        panel
            .get_as(&format!("/api/client/servers/{first}"), &key)
            .status,
        200
    );
    assert_eq!(
        panel
            .get_as(&format!("/api/client/servers/{second}"), &key)
            .status,
        404
    );
    let console = panel.get_as(&format!("/api/client/servers/{first}/websocket"), &key);
    assert_eq!(console.status, 200, "{console:?}");
    let start = panel.json(
        "POST",
        &format!("/api/client/servers/{first}/power"),
        &key,
        Some(json!({ "signal": "start" })),
    );
    assert_eq!(start.status, 403, "{start:?}");
    assert!(start.raw_text().contains("control.start"), "{start:?}");
    // The owner's session is not limited.
    assert_eq!(
        panel
            .json_with("GET", "/api/client/servers", &[("Cookie", &owner)], None)
            .body["meta"]["total"],
        2
    );

    // A key cannot name a server its owner has no part in, or a permission that is not one.
    let foreign = issue(json!({ "servers": [theirs] }));
    assert_eq!(foreign.status, 400, "{foreign:?}");
    let made_up = issue(json!({ "permissions": ["control.fly"] }));
    assert_eq!(made_up.status, 400, "{made_up:?}");
    // A limited key never makes a stronger credential: no keys, passkeys or apps.
    for path in [
        "/api/auth/core-auth/api-keys",
        "/api/auth/core-auth/passkeys",
        "/api/auth/core-auth/totp",
    ] {
        let widened = panel.json("POST", path, &key, Some(json!({})));
        assert_eq!(widened.status, 403, "{path}: {widened:?}");
        assert!(
            widened.raw_text().contains("signed-in browser"),
            "{widened:?}"
        );
    }
    let keys = panel.json_with(
        "GET",
        "/api/auth/core-auth/api-keys",
        &[("Cookie", &owner)],
        None,
    );
    assert_eq!(keys.body["data"][0]["servers"], json!([first]), "{keys:?}");
    node.kill_wings();
}

/// SSH keys live in core-auth at Pterodactyl's paths, and open SFTP to a real OpenSSH
/// client; a key the panel still held from before is handed over at start.
#[test]
fn ssh_keys_added_to_an_account_open_sftp_for_openssh() {
    use crate::local_node::{
        LocalNode, Sftp, add_ports, create_server, import_fixture_egg, server_request,
        wait_installed,
    };
    let mut panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let admin = panel.admin_key();
    panel.user_with_password("ada", "correct horse battery");
    let keys = tempfile::tempdir().unwrap();
    let keygen = |name: &str| {
        let path = keys.path().join(name);
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        (path, public.trim().to_string())
    };
    let (laptop, laptop_public) = keygen("laptop");
    let (stranger, _) = keygen("stranger");
    let (old, old_public) = keygen("old");

    let ada = session_cookie(&sign_in(&panel, "ada", "correct horse battery"));
    let origin = panel.url.clone();
    let with_ada = [("Cookie", ada.as_str()), ("Origin", origin.as_str())];
    let added = panel.json_with(
        "POST",
        "/api/client/account/ssh-keys",
        &with_ada,
        Some(json!({ "name": "laptop", "public_key": laptop_public })),
    );
    assert_eq!(added.status, 201, "{added:?}");
    let fingerprint = added.body["data"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let printed = std::process::Command::new("ssh-keygen")
        .args(["-l", "-f"])
        .arg(laptop.with_extension("pub"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&printed.stdout).contains(&fingerprint),
        "the fingerprint is the one ssh-keygen prints"
    );
    let again = panel.json_with(
        "POST",
        "/api/client/account/ssh-keys",
        &with_ada,
        Some(json!({ "name": "twice", "public_key": laptop_public })),
    );
    assert_eq!(again.status, 409, "{again:?}");
    let mangled = panel.json_with(
        "POST",
        "/api/client/account/ssh-keys",
        &with_ada,
        Some(json!({ "name": "bad", "public_key": "ssh-ed25519 AAAA-not-a-key" })),
    );
    assert_eq!(mangled.status, 400, "{mangled:?}");
    // Nobody signed in has no keys to see; the API document lists the paths.
    assert_eq!(panel.get("/api/client/account/ssh-keys").status, 401);
    let document = panel.get("/api/openapi.json");
    assert!(document.body["paths"]["/api/client/account/ssh-keys/remove"]["post"].is_object());

    // A key the panel held itself before keys were core-auth's.
    let ada_id = account(&panel, &ada).body["data"]["id"].as_i64().unwrap();
    panel.stop();
    crate::support::execute_sql(
        &panel,
        &format!(
            "INSERT INTO user_ssh_keys (user_id, name, fingerprint, public_key, created_at) \
             VALUES ({ada_id}, 'old', 'SHA256:held', '{old_public}', CURRENT_TIMESTAMP)"
        ),
    );
    panel.restart();

    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let port = add_ports(&panel, &admin, "local", 1)[0];
    let mut request = server_request("keys", "Fixture Game", port.into());
    request["owner"] = json!("ada");
    let uuid = create_server(&panel, &admin, request);
    wait_installed(&panel, &uuid);
    let short_id = panel
        .get_as(&format!("/api/client/servers/{uuid}"), &admin)
        .body["data"]["short_id"]
        .as_str()
        .unwrap()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let sftp = Sftp {
        port: node.sftp_port,
        dir: work.path().to_path_buf(),
    };
    let login = format!("ada.{short_id}");
    let (ok, output) = sftp.run_with_key(&login, &laptop, "pwd\n");
    assert!(ok, "{output}\n{}\n{}", node.log(), panel.log());
    let (ok, output) = sftp.run_with_key(&login, &old, "pwd\n");
    assert!(ok, "the handed-over key works: {output}\n{}", panel.log());
    let (ok, _) = sftp.run_with_key(&login, &stranger, "pwd\n");
    assert!(!ok, "a key nobody added is refused");

    // Removed, the key stops working.
    let listed = panel.json_with("GET", "/api/client/account/ssh-keys", &with_ada, None);
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "{listed:?}"
    );
    let removed = panel.json_with(
        "POST",
        "/api/client/account/ssh-keys/remove",
        &with_ada,
        Some(json!({ "fingerprint": fingerprint })),
    );
    assert_eq!(removed.status, 204, "{removed:?}");
    let (ok, _) = sftp.run_with_key(&login, &laptop, "pwd\n");
    assert!(!ok, "a removed key is refused");
    node.kill_wings();
}
