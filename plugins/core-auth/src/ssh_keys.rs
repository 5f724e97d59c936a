//! People's SSH public keys, for SFTP without a password: kept here, served at
//! Pterodactyl's `/api/client/account/ssh-keys`, and checked when wings asks the panel
//! about a key login (the provider's `check-ssh-key`).

use base64::Engine;
use hatchery_sdk::{ActivityEntry, DbValue, Error, Request, Response, host, json};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{now, signed_in};

/// Keys one account may hold.
const MAX_KEYS: usize = 64;

const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// `type base64` of an OpenSSH public key line (the comment dropped), and its
/// fingerprint as `ssh-keygen -l` prints it (`SHA256:…`).
fn normalize(line: &str) -> Option<(String, String)> {
    let mut parts = line.split_whitespace();
    let (kind, body) = (parts.next()?, parts.next()?);
    if !KEY_TYPES.contains(&kind) {
        return None;
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    // The blob starts with its own type name; a mismatch is a mangled paste.
    let named = blob
        .get(4..4 + kind.len())
        .is_some_and(|name| name == kind.as_bytes());
    if !named {
        return None;
    }
    let fingerprint = format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(&blob))
    );
    Some((format!("{kind} {body}"), fingerprint))
}

fn key_json(row: hatchery_sdk::Row<'_>) -> serde_json::Value {
    json!({
        "id": row.get("id").and_then(DbValue::as_i64),
        "name": row.get("name").and_then(DbValue::as_str),
        "fingerprint": row.get("fingerprint").and_then(DbValue::as_str),
        "public_key": row.get("public_key").and_then(DbValue::as_str),
        "created_at": row.get("created_at").and_then(DbValue::as_i64),
    })
}

fn keys_of(user_id: i64) -> Result<hatchery_sdk::DbRows, Error> {
    Ok(host::query(
        "SELECT id, name, fingerprint, public_key, created_at FROM core_auth__ssh_keys \
         WHERE user_id = $1 ORDER BY id",
        &[user_id.into()],
    )?)
}

/// `GET /api/client/account/ssh-keys`: the caller's keys.
pub fn list(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let keys: Vec<serde_json::Value> = keys_of(caller)?.iter().map(key_json).collect();
    Ok(Response::json(&json!({ "data": keys })))
}

/// `POST /api/client/account/ssh-keys`: `{name, public_key}`, an OpenSSH public key line.
pub fn add(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct NewKey {
        name: String,
        public_key: String,
    }
    let caller = signed_in(request)?;
    let body: NewKey = request.json()?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 191 {
        return Err(Error::new(400, "name", "a key name is 1 to 191 characters"));
    }
    let (public_key, fingerprint) = normalize(&body.public_key).ok_or_else(|| {
        Error::new(
            400,
            "public_key",
            "paste an OpenSSH public key, e.g. the contents of ~/.ssh/id_ed25519.pub",
        )
    })?;
    let held = keys_of(caller)?;
    if held.rows.len() >= MAX_KEYS {
        return Err(Error::conflict(format!(
            "an account holds at most {MAX_KEYS} SSH keys; remove one first"
        )));
    }
    if held
        .iter()
        .any(|row| row.get("fingerprint").and_then(DbValue::as_str) == Some(&fingerprint))
    {
        return Err(Error::conflict("that key is already on your account"));
    }
    host::execute(
        "INSERT INTO core_auth__ssh_keys (user_id, name, fingerprint, public_key, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            caller.into(),
            name.into(),
            fingerprint.as_str().into(),
            public_key.as_str().into(),
            now().into(),
        ],
    )?;
    record(caller, "ssh-key.create", &fingerprint)?;
    let added = keys_of(caller)?
        .iter()
        .find(|row| row.get("fingerprint").and_then(DbValue::as_str) == Some(&fingerprint))
        .map(key_json);
    Ok(Response::json(&json!({ "data": added })).with_status(201))
}

/// `POST /api/client/account/ssh-keys/remove`: `{fingerprint}` (`SHA256:…`).
pub fn remove(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Removal {
        fingerprint: String,
    }
    let caller = signed_in(request)?;
    let body: Removal = request.json()?;
    let held = keys_of(caller)?
        .iter()
        .any(|row| row.get("fingerprint").and_then(DbValue::as_str) == Some(&body.fingerprint));
    if !held {
        return Err(Error::not_found(format!(
            "no key {} on your account",
            body.fingerprint
        )));
    }
    host::execute(
        "DELETE FROM core_auth__ssh_keys WHERE user_id = $1 AND fingerprint = $2",
        &[caller.into(), body.fingerprint.as_str().into()],
    )?;
    record(caller, "ssh-key.delete", &body.fingerprint)?;
    Ok(Response {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

fn record(user_id: i64, event: &str, fingerprint: &str) -> Result<(), Error> {
    let mut entry = ActivityEntry::new(event);
    entry.actor_id = Some(user_id);
    entry.properties = json!({ "fingerprint": fingerprint });
    host::activity::record(&entry)?;
    Ok(())
}

/// The user `username` names, when `line` is one of their keys (an SFTP login).
pub fn check(username: &str, line: &str) -> Result<Option<i64>, Error> {
    let Some((_, fingerprint)) = normalize(line) else {
        return Ok(None);
    };
    let Some(user) = host::identity::find_user(username)?.filter(|user| user.username == username)
    else {
        return Ok(None);
    };
    let rows = host::query(
        "SELECT id FROM core_auth__ssh_keys WHERE user_id = $1 AND fingerprint = $2",
        &[user.id.into(), fingerprint.as_str().into()],
    )?;
    Ok(rows.iter().next().map(|_| user.id))
}

/// Forgets a deleted user's keys.
pub fn forget(user_id: i64) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__ssh_keys WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognised_with_their_fingerprints() {
        // ssh-keygen -t ed25519; `ssh-keygen -l` prints the same fingerprint.
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ada@laptop";
        let (key, fingerprint) = normalize(line).unwrap();
        assert_eq!(
            key,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        );
        assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
        assert_eq!(
            normalize(&key).unwrap().1,
            fingerprint,
            "the comment does not count"
        );
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            "ssh-ed25519 not-base64!",
        ] {
            assert!(normalize(bad).is_none(), "{bad}");
        }
    }
}
