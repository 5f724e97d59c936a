//! Users and API-key verification: the identity every plugin and route relies on.
//! Issuing keys to people belongs to the auth plugin; the host only stores and checks.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Database, on_pool};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, uuid, username, email, admin, created_at";

pub async fn create(db: &Database, username: &str, email: &str, admin: bool) -> Result<User> {
    validate_username(username)?;
    if !email.contains('@') || email.len() > 254 {
        return Err(Error::bad_field(
            "email",
            format!("`{email}` is not an email address"),
        ));
    }
    let now = Utc::now();
    let uuid = uuid::Uuid::new_v4().to_string();
    let inserted = on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (uuid, username, email, admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {USER_COLUMNS}"
        )))
        .bind(&uuid)
        .bind(username)
        .bind(email.to_ascii_lowercase())
        .bind(admin)
        .bind(now)
        .fetch_one(pool)
        .await
    });
    inserted.map_err(|err| match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            Error::Conflict("a user with that username or email already exists".into())
        }
        _ => Error::Database(err),
    })
}

pub async fn find_by_username(db: &Database, username: &str) -> Result<Option<User>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(pool)
        .await?
    }))
}

fn validate_username(username: &str) -> Result<()> {
    let valid = (1..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Error::bad_field(
            "username",
            "usernames are 1–64 characters of letters, digits, '_', '-' and '.'",
        ))
    }
}

/// A freshly issued key; `token` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub identifier: String,
    pub token: String,
}

const KEY_PREFIX: &str = "hk_";
const IDENTIFIER_LEN: usize = 16;
const SECRET_LEN: usize = 48;

pub async fn issue_api_key(
    db: &Database,
    user_id: i64,
    description: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedKey> {
    let identifier = random_hex(IDENTIFIER_LEN / 2);
    let secret = random_hex(SECRET_LEN / 2);
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO api_keys (user_id, identifier, secret_sha256, description, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user_id)
        .bind(&identifier)
        .bind(sha256_hex(&secret))
        .bind(description)
        .bind(expires_at)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(IssuedKey {
        token: format!("{KEY_PREFIX}{identifier}{secret}"),
        identifier,
    })
}

/// The user a bearer token belongs to. Malformed, unknown, wrong and expired tokens
/// are all errors that say which, without revealing whether the identifier exists.
pub async fn verify_api_key(db: &Database, token: &str) -> Result<User> {
    let invalid = || Error::Unauthenticated("the API key is not valid".into());
    let body = token.strip_prefix(KEY_PREFIX).ok_or_else(invalid)?;
    if body.len() != IDENTIFIER_LEN + SECRET_LEN || !body.is_ascii() {
        return Err(invalid());
    }
    let (identifier, secret) = body.split_at(IDENTIFIER_LEN);

    #[derive(sqlx::FromRow)]
    struct KeyRow {
        secret_sha256: String,
        expires_at: Option<DateTime<Utc>>,
        id: i64,
        uuid: String,
        username: String,
        email: String,
        admin: bool,
        created_at: DateTime<Utc>,
    }
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, KeyRow>(
            "SELECT k.secret_sha256, k.expires_at, u.id, u.uuid, u.username, u.email, u.admin, u.created_at \
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.identifier = $1",
        )
        .bind(identifier)
        .fetch_optional(pool)
        .await?
    });
    // Hash even when the identifier is unknown so both paths cost the same.
    let presented = sha256_hex(secret);
    let stored = row
        .as_ref()
        .map(|row| row.secret_sha256.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let matches: bool = presented.as_bytes().ct_eq(stored.as_bytes()).into();
    let row = row.filter(|_| matches).ok_or_else(invalid)?;
    if row.expires_at.is_some_and(|expiry| expiry <= Utc::now()) {
        return Err(Error::Unauthenticated(
            "the API key has expired; issue a new one".into(),
        ));
    }
    Ok(User {
        id: row.id,
        uuid: row.uuid,
        username: row.username,
        email: row.email,
        admin: row.admin,
        created_at: row.created_at,
    })
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source works");
    hex::encode(buffer)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
