//! Users and API-key verification: the identity every plugin and route relies on.
//! Issuing keys to people belongs to the auth plugin; the host only stores and checks.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Database, on_pool};
use crate::domain::networks::IpNetwork;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    /// A root administrator: every permission, everywhere.
    pub admin: bool,
    pub language: String,
    /// The role whose admin permissions the user holds.
    pub role_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const USER_COLUMNS: &str =
    "id, uuid, username, email, admin, language, role_id, created_at";

/// What an admin (or the setup page, or the CLI) chooses for a new user. Passwords
/// are not the host's: they go to the sign-in plugin (`PluginHost::set_password`).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub language: Option<String>,
    pub role_id: Option<i64>,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    /// `Some(None)` removes the role.
    pub role_id: Option<Option<i64>>,
}

/// Checks a new user's fields without storing anything.
pub fn check_new(new: &NewUser) -> Result<()> {
    validate_username(&new.username)?;
    validate_email(&new.email)?;
    validate_language(new.language.as_deref().unwrap_or("en"))?;
    Ok(())
}

pub async fn create(db: &Database, new: &NewUser) -> Result<User> {
    validate_username(&new.username)?;
    let email = validate_email(&new.email)?;
    let language = validate_language(new.language.as_deref().unwrap_or("en"))?;
    let now = Utc::now();
    let uuid = uuid::Uuid::new_v4().to_string();
    let inserted = on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (uuid, username, email, admin, language, role_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {USER_COLUMNS}"
        )))
        .bind(&uuid)
        .bind(&new.username)
        .bind(&email)
        .bind(new.admin)
        .bind(&language)
        .bind(new.role_id)
        .bind(now)
        .fetch_one(pool)
        .await
    });
    inserted.map_err(unique_or_role_error)
}

/// Checks a change's fields without storing anything.
pub fn check_changes(changes: &UserChanges) -> Result<()> {
    if let Some(username) = &changes.username {
        validate_username(username)?;
    }
    if let Some(email) = &changes.email {
        validate_email(email)?;
    }
    if let Some(language) = &changes.language {
        validate_language(language)?;
    }
    Ok(())
}

pub async fn update(db: &Database, user: &User, changes: &UserChanges) -> Result<User> {
    check_changes(changes)?;
    let email = changes.email.as_deref().map(validate_email).transpose()?;
    let language = changes
        .language
        .as_deref()
        .map(validate_language)
        .transpose()?;
    let updated = on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET username = $2, email = $3, admin = $4, language = $5, \
             role_id = CASE WHEN $8 THEN $6 ELSE role_id END, \
             updated_at = $7 WHERE id = $1 RETURNING {USER_COLUMNS}"
        )))
        .bind(user.id)
        .bind(changes.username.as_ref().unwrap_or(&user.username))
        .bind(email.as_ref().unwrap_or(&user.email))
        .bind(changes.admin.unwrap_or(user.admin))
        .bind(language.as_ref().unwrap_or(&user.language))
        .bind(changes.role_id.flatten())
        .bind(Utc::now())
        .bind(changes.role_id.is_some())
        .fetch_one(pool)
        .await
    });
    updated.map_err(unique_or_role_error)
}

/// Deletes a user who owns no servers; their sessions, keys and subuser places go too.
pub async fn delete(db: &Database, user: &User) -> Result<()> {
    let result = on_pool!(db, pool => {
        sqlx::query("DELETE FROM users WHERE id = $1").bind(user.id).execute(pool).await.map(drop)
    });
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(err)) if err.is_foreign_key_violation() => {
            Err(Error::Conflict(format!(
                "{} still owns servers; delete them or give them to someone else first",
                user.username
            )))
        }
        Err(err) => Err(err.into()),
    }
}

fn unique_or_role_error(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            Error::Conflict("a user with that username or email already exists".into())
        }
        sqlx::Error::Database(db_err) if db_err.is_foreign_key_violation() => {
            Error::bad_field("role_id", "no such role")
        }
        _ => Error::Database(err),
    }
}

/// A user by id, uuid, username or email.
pub async fn find(db: &Database, key: &str) -> Result<Option<User>> {
    let id = key.parse::<i64>().unwrap_or(-1);
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1 OR uuid = $2 OR username = $2 OR email = $3 LIMIT 1"
        )))
        .bind(id)
        .bind(key)
        .bind(key.to_ascii_lowercase())
        .fetch_optional(pool)
        .await?
    }))
}

/// A user by their email address (case-insensitive), and nothing else.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<User>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        )))
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(pool)
        .await?
    }))
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

/// One page of users, optionally only those whose username or email contains `search`.
pub async fn page(
    db: &Database,
    page: &super::Page,
    search: Option<&str>,
) -> Result<(Vec<User>, i64)> {
    let pattern = format!("%{}%", search.unwrap_or("").to_ascii_lowercase());
    Ok(on_pool!(db, pool => {
        let users = sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE LOWER(username) LIKE $1 OR email LIKE $1 \
             ORDER BY id LIMIT $2 OFFSET $3"
        )))
        .bind(&pattern)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE LOWER(username) LIKE $1 OR email LIKE $1",
        )
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
        (users, total)
    }))
}

pub async fn count(db: &Database) -> Result<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await?
    }))
}

/// Password hashes the panel still holds: from before sign-in was a plugin, or put
/// there by an import (Pterodactyl's bcrypt), waiting to be handed to the plugin that
/// keeps passwords.
pub async fn held_password_hashes(db: &Database) -> Result<Vec<(i64, String)>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT id, password_hash FROM users WHERE password_hash IS NOT NULL ORDER BY id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Forgets a held hash once the sign-in plugin has it.
pub async fn forget_password_hash(db: &Database, user_id: i64) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("UPDATE users SET password_hash = NULL WHERE id = $1")
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
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

fn validate_email(email: &str) -> Result<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
        });
    if valid {
        Ok(email.to_ascii_lowercase())
    } else {
        Err(Error::bad_field(
            "email",
            format!("`{email}` is not an email address"),
        ))
    }
}

fn validate_language(language: &str) -> Result<String> {
    let valid = (2..=10).contains(&language.len())
        && language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(language.to_string())
    } else {
        Err(Error::bad_field(
            "language",
            "a language is a code such as `en` or `pt-BR`",
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

/// What a new key may do beyond acting as its owner.
#[derive(Debug, Clone, Default)]
pub struct KeyOptions {
    pub description: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// May it use its owner's administrator powers?
    pub admin_power: bool,
    /// Where it works from; empty: anywhere.
    pub allowed_ips: Vec<IpNetwork>,
    /// Only these servers (uuids) and server permissions; none: no limit.
    pub scope: hatchery_sdk::KeyScope,
}

pub async fn issue_api_key(db: &Database, user_id: i64, options: &KeyOptions) -> Result<IssuedKey> {
    let identifier = random_hex(IDENTIFIER_LEN / 2);
    let secret = random_hex(SECRET_LEN / 2);
    let allowed_ips = (!options.allowed_ips.is_empty()).then(|| {
        serde_json::to_string(
            &options
                .allowed_ips
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        )
        .expect("strings encode")
    });
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO api_keys (user_id, identifier, secret_sha256, description, expires_at, created_at, admin_power, allowed_ips, servers, permissions) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user_id)
        .bind(&identifier)
        .bind(sha256_hex(&secret))
        .bind(&options.description)
        .bind(options.expires_at)
        .bind(Utc::now())
        .bind(options.admin_power)
        .bind(&allowed_ips)
        .bind(json_list(options.scope.servers.as_deref()))
        .bind(json_list(options.scope.permissions.as_deref()))
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(IssuedKey {
        token: format!("{KEY_PREFIX}{identifier}{secret}"),
        identifier,
    })
}

fn json_list(items: Option<&[String]>) -> Option<String> {
    items.map(|items| serde_json::to_string(items).expect("strings encode"))
}

fn parse_list(json: Option<&str>) -> Option<Vec<String>> {
    json.and_then(|json| serde_json::from_str(json).ok())
}

/// A key as its owner sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyInfo {
    pub identifier: String,
    pub description: String,
    pub admin_power: bool,
    /// A JSON array, or NULL for anywhere.
    pub allowed_ips: Option<String>,
    /// JSON arrays, or NULL for no limit.
    pub servers: Option<String>,
    pub permissions: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl KeyInfo {
    pub fn allowed_ips(&self) -> Vec<String> {
        parse_list(self.allowed_ips.as_deref()).unwrap_or_default()
    }

    pub fn scope(&self) -> hatchery_sdk::KeyScope {
        hatchery_sdk::KeyScope {
            servers: parse_list(self.servers.as_deref()),
            permissions: parse_list(self.permissions.as_deref()),
        }
    }
}

/// A user's keys, the newest first.
pub async fn api_keys(db: &Database, user_id: i64) -> Result<Vec<KeyInfo>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, KeyInfo>(
            "SELECT identifier, description, admin_power, allowed_ips, servers, permissions, created_at, expires_at, last_used_at \
             FROM api_keys WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The limits of the API key that proved an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLimits {
    pub identifier: String,
    pub admin_power: bool,
    /// Where it works from; empty: anywhere.
    pub allowed_ips: Vec<IpNetwork>,
    /// The servers and server permissions it is limited to.
    pub scope: hatchery_sdk::KeyScope,
}

impl KeyLimits {
    /// Whether the key may be used from `ip` (unknown addresses only when it may be
    /// used from anywhere).
    pub fn allows(&self, ip: Option<std::net::IpAddr>) -> bool {
        self.allowed_ips.is_empty()
            || ip.is_some_and(|ip| self.allowed_ips.iter().any(|network| network.contains(ip)))
    }
}

/// A signed-in user and the admin permissions their role gives them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Identity {
    #[sqlx(flatten)]
    pub user: User,
    /// The role's permissions as stored (a JSON array); `None` without a role.
    pub role_permissions: Option<String>,
    pub role_name: Option<String>,
    /// When the credential that proved this identity expires.
    #[sqlx(skip)]
    pub valid_until: Option<DateTime<Utc>>,
    /// The browser session that proved it; none for an API key.
    #[sqlx(skip)]
    pub session_id: Option<i64>,
    /// The API key that proved it, and what it may do.
    #[sqlx(skip)]
    pub key: Option<KeyLimits>,
}

impl Identity {
    /// The identity as policy decisions and plugins see it: an API key without
    /// administrator powers acts as a plain user, whatever its owner's role.
    pub fn principal(&self) -> hatchery_sdk::Principal {
        let admin_power = self.key.as_ref().is_none_or(|key| key.admin_power);
        hatchery_sdk::Principal {
            user_id: self.user.id,
            username: self.user.username.clone(),
            admin: self.user.admin && admin_power,
            permissions: match admin_power {
                true => self.permissions(),
                false => Vec::new(),
            },
            key_scope: self
                .key
                .as_ref()
                .map(|key| key.scope.clone())
                .filter(|scope| scope.servers.is_some() || scope.permissions.is_some()),
        }
    }

    pub fn permissions(&self) -> Vec<String> {
        self.role_permissions
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }
}

/// Columns for an [`Identity`] from `users u LEFT JOIN roles r`.
pub(crate) const IDENTITY_COLUMNS: &str = "u.id, u.uuid, u.username, u.email, u.admin, u.language, u.role_id, u.created_at, r.permissions AS role_permissions, r.name AS role_name";

/// A user with their role's permissions, by id.
pub async fn identity(db: &Database, user_id: i64) -> Result<Option<Identity>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Identity>(sqlx::AssertSqlSafe(format!(
            "SELECT {IDENTITY_COLUMNS} FROM users u LEFT JOIN roles r ON r.id = u.role_id WHERE u.id = $1"
        )))
        .bind(user_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Revokes a user's key; false when they have no key with that identifier.
pub async fn revoke_api_key(db: &Database, user_id: i64, identifier: &str) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query("DELETE FROM api_keys WHERE user_id = $1 AND identifier = $2")
            .bind(user_id)
            .bind(identifier)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}

/// Who a bearer token belongs to. Malformed, unknown, wrong and expired tokens
/// are all errors that say which, without revealing whether the identifier exists.
pub async fn verify_api_key(db: &Database, token: &str) -> Result<Identity> {
    let invalid = || Error::Unauthenticated("the API key is not valid".into());
    let body = token.strip_prefix(KEY_PREFIX).ok_or_else(invalid)?;
    if body.len() != IDENTIFIER_LEN + SECRET_LEN || !body.is_ascii() {
        return Err(invalid());
    }
    let (identifier, secret) = body.split_at(IDENTIFIER_LEN);

    #[derive(sqlx::FromRow)]
    struct KeyRow {
        key_id: i64,
        secret_sha256: String,
        expires_at: Option<DateTime<Utc>>,
        last_used_at: Option<DateTime<Utc>>,
        admin_power: bool,
        allowed_ips: Option<String>,
        servers: Option<String>,
        permissions: Option<String>,
        #[sqlx(flatten)]
        identity: Identity,
    }
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, KeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT k.id AS key_id, k.secret_sha256, k.expires_at, k.last_used_at, k.admin_power, k.allowed_ips, k.servers, k.permissions, {IDENTITY_COLUMNS} \
             FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN roles r ON r.id = u.role_id \
             WHERE k.identifier = $1",
        )))
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
    let now = Utc::now();
    // Use is written down at most once a minute per key.
    if row
        .last_used_at
        .is_none_or(|used| now - used > chrono::Duration::minutes(1))
    {
        on_pool!(db, pool => {
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
                .bind(row.key_id)
                .bind(now)
                .execute(pool)
                .await?;
        });
    }
    let allowed_ips = row
        .allowed_ips
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|network| IpNetwork::parse(network).ok())
        .collect();
    let mut identity = row.identity;
    identity.valid_until = row.expires_at;
    identity.key = Some(KeyLimits {
        identifier: identifier.to_string(),
        admin_power: row.admin_power,
        allowed_ips,
        scope: hatchery_sdk::KeyScope {
            servers: parse_list(row.servers.as_deref()),
            permissions: parse_list(row.permissions.as_deref()),
        },
    });
    Ok(identity)
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source works");
    hex::encode(buffer)
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
