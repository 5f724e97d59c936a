//! Users' SSH public keys, for SFTP and the SSH console without a password.

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Database, on_pool};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SshKey {
    pub id: i64,
    pub name: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
}

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
/// fingerprint.
pub fn normalize(line: &str) -> Result<(String, String)> {
    let bad = || {
        Error::bad_field(
            "public_key",
            "paste an OpenSSH public key, e.g. the contents of ~/.ssh/id_ed25519.pub",
        )
    };
    let mut parts = line.split_whitespace();
    let (kind, body) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    if !KEY_TYPES.contains(&kind) {
        return Err(bad());
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| bad())?;
    // The blob starts with its own type name; a mismatch is a mangled paste.
    let named = blob
        .get(4..4 + kind.len())
        .is_some_and(|name| name == kind.as_bytes());
    if !named {
        return Err(bad());
    }
    let digest = Sha256::digest(&blob);
    let fingerprint = format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    );
    Ok((format!("{kind} {body}"), fingerprint))
}

pub async fn list(db: &Database, user_id: i64) -> Result<Vec<SshKey>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, SshKey>(
            "SELECT id, name, fingerprint, public_key, created_at FROM user_ssh_keys WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
    }))
}

pub async fn add(db: &Database, user_id: i64, name: &str, line: &str) -> Result<SshKey> {
    let name = name.trim();
    if name.is_empty() || name.len() > 191 {
        return Err(Error::bad_field(
            "name",
            "a key name is 1 to 191 characters",
        ));
    }
    let (public_key, fingerprint) = normalize(line)?;
    let added = on_pool!(db, pool => {
        sqlx::query_as::<_, SshKey>(
            "INSERT INTO user_ssh_keys (user_id, name, fingerprint, public_key, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, fingerprint, public_key, created_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(&fingerprint)
        .bind(&public_key)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    added.map_err(|err| match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            Error::Conflict("that key is already on your account".into())
        }
        _ => Error::Database(err),
    })
}

pub async fn delete(db: &Database, user_id: i64, fingerprint: &str) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query("DELETE FROM user_ssh_keys WHERE user_id = $1 AND fingerprint = $2")
            .bind(user_id)
            .bind(fingerprint)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}

/// Whether `line` is one of the user's keys.
pub async fn matches(db: &Database, user_id: i64, line: &str) -> Result<bool> {
    let Ok((_, fingerprint)) = normalize(line) else {
        return Ok(false);
    };
    let found: Option<i64> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM user_ssh_keys WHERE user_id = $1 AND fingerprint = $2")
            .bind(user_id)
            .bind(&fingerprint)
            .fetch_optional(pool)
            .await?
    });
    Ok(found.is_some())
}
