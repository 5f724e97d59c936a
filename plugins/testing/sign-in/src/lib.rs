//! A test `auth-method` provider (contract 1.1): it knows the passwords and SSH keys an
//! administrator put in its settings, and nothing else. Never installed for `serve`.

use std::collections::BTreeMap;

use hatchery_sdk::{Error, MethodKind, Plugin, SignInMethod, host};
use serde::Deserialize;

#[derive(Default)]
struct SignInTest;

#[derive(Deserialize)]
struct Settings {
    #[serde(default)]
    passwords: BTreeMap<String, String>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

fn user_id(username: &str) -> Result<Option<i64>, Error> {
    Ok(host::identity::find_user(username)?
        .filter(|user| user.username == username)
        .map(|user| user.id))
}

impl Plugin for SignInTest {
    fn auth_methods(&self) -> Vec<SignInMethod> {
        vec![SignInMethod {
            id: "password".into(),
            label: "Password (test provider)".into(),
            kind: MethodKind::Form,
            start: "sign-in-test/password".into(),
        }]
    }

    fn check_password(&self, username: &str, password: &str) -> Result<Option<i64>, Error> {
        let settings: Settings = host::settings::get()?;
        match settings.passwords.get(username) {
            Some(known) if known == password => user_id(username),
            _ => Ok(None),
        }
    }

    fn check_ssh_key(&self, username: &str, public_key: &str) -> Result<Option<i64>, Error> {
        let settings: Settings = host::settings::get()?;
        match settings.keys.get(username) {
            Some(known) if known.trim() == public_key.trim() => user_id(username),
            _ => Ok(None),
        }
    }
}

hatchery_sdk::export_plugin!(SignInTest);
