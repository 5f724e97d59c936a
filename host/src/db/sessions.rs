//! Browser sessions and the one-time setup link. Only SHA-256 hashes of the secrets
//! are stored, so a copy of the database signs nobody in.

use chrono::{DateTime, Duration, Utc};

use super::users::{IDENTITY_COLUMNS, Identity, random_hex, sha256_hex};
use super::{Database, on_pool};
use crate::error::{Error, Result};

/// How long a session lasts without signing in again.
pub const SESSION_LIFETIME: Duration = Duration::days(14);
/// How long the first-start setup link works.
pub const SETUP_LIFETIME: Duration = Duration::hours(24);

/// Where a session came from, kept for the user's list of signed-in browsers.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Set when an administrator signs in as this user.
    pub impersonator_id: Option<i64>,
}

/// A new session's cookie value; shown to the browser once.
pub async fn create(db: &Database, user_id: i64, origin: &SessionOrigin) -> Result<String> {
    open(db, user_id, origin).await.map(|opened| opened.token)
}

/// A session just made: its id, its cookie value (shown once) and when it ends.
#[derive(Debug, Clone)]
pub struct Opened {
    pub id: i64,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// [`create`], with the session's id and when it ends.
pub async fn open(db: &Database, user_id: i64, origin: &SessionOrigin) -> Result<Opened> {
    let token = random_hex(32);
    let now = Utc::now();
    let id: i64 = on_pool!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO sessions (user_id, token_sha256, impersonator_id, ip, user_agent, expires_at, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(user_id)
        .bind(sha256_hex(&token))
        .bind(origin.impersonator_id)
        .bind(&origin.ip)
        .bind(origin.user_agent.as_deref().map(|agent| agent.chars().take(255).collect::<String>()))
        .bind(now + SESSION_LIFETIME)
        .bind(now)
        .fetch_one(pool)
        .await?
    });
    Ok(Opened {
        id,
        token,
        expires_at: now + SESSION_LIFETIME,
    })
}

/// A session as its user sees it in their list of signed-in browsers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionInfo {
    pub id: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub impersonator_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was last used, to the minute.
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A user's live sessions, the newest first.
pub async fn for_user(db: &Database, user_id: i64) -> Result<Vec<SessionInfo>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, SessionInfo>(
            "SELECT id, ip, user_agent, impersonator_id, created_at, expires_at, last_seen_at FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY id DESC",
        )
        .bind(user_id)
        .bind(Utc::now())
        .fetch_all(pool)
        .await?
    }))
}

/// Ends one session of a user; false when they have no such session.
pub async fn delete_by_id(db: &Database, user_id: i64, id: i64) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}

/// Whether `token` is a live session (the host checks a plugin's sign-in before it
/// sets the cookie).
pub async fn is_live(db: &Database, token: &str) -> Result<bool> {
    // A session just made; any idle limit passes it.
    match verify(db, token, std::time::Duration::from_secs(60)).await {
        Ok(_) => Ok(true),
        Err(Error::Unauthenticated(_)) => Ok(false),
        Err(err) => Err(err),
    }
}

/// The signed-in user for a session cookie, and who is impersonating them.
pub async fn verify(
    db: &Database,
    token: &str,
    idle_limit: std::time::Duration,
) -> Result<(Identity, Option<i64>)> {
    let expired = || Error::Unauthenticated("the session has ended; sign in again".into());
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(expired());
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        session_id: i64,
        expires_at: DateTime<Utc>,
        last_seen_at: Option<DateTime<Utc>>,
        impersonator_id: Option<i64>,
        #[sqlx(flatten)]
        identity: Identity,
    }
    // The lookup is by hash, so timing reveals nothing about valid tokens.
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS session_id, s.expires_at, s.last_seen_at, s.impersonator_id, {IDENTITY_COLUMNS} \
             FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN roles r ON r.id = u.role_id \
             WHERE s.token_sha256 = $1"
        )))
        .bind(sha256_hex(token))
        .fetch_optional(pool)
        .await?
    });
    let row = row.ok_or_else(expired)?;
    let now = Utc::now();
    let idle_limit = Duration::from_std(idle_limit).unwrap_or(SESSION_LIFETIME);
    let last_seen = row.last_seen_at.unwrap_or(now);
    if row.expires_at <= now || last_seen + idle_limit <= now {
        on_pool!(db, pool => {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(row.session_id)
                .execute(pool)
                .await?;
        });
        return Err(expired());
    }
    // Use is written down at most once a minute per session.
    if now - last_seen > TOUCH_INTERVAL {
        on_pool!(db, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                .bind(row.session_id)
                .bind(now)
                .execute(pool)
                .await?;
        });
    }
    let mut identity = row.identity;
    identity.valid_until = Some(row.expires_at.min(now + idle_limit));
    identity.session_id = Some(row.session_id);
    Ok((identity, row.impersonator_id))
}

/// How stale a session's last use may be before it is written again.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// Signs a session out.
pub async fn delete(db: &Database, token: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1 OR expires_at <= $2")
            .bind(sha256_hex(token))
            .bind(Utc::now())
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Signs every browser of a user out (a new password, a deleted user).
pub async fn delete_for_user(db: &Database, user_id: i64) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A new one-time setup token (replacing older ones) for the first administrator,
/// issued while no user exists; the caller prints the link. None is issued when one
/// was issued within `window` (by this process or
/// another panel starting at the same moment): several panels starting together
/// print one link between them, while a restart later prints a fresh one.
pub async fn issue_setup_token_once(db: &Database, window: Duration) -> Result<Option<String>> {
    let token = random_hex(24);
    let now = Utc::now();
    let issued = on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        if db.dialect() == crate::db::Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('hatchery setup token', 0))")
                .execute(&mut *transaction)
                .await?;
        }
        // A write first, so on SQLite the transaction holds the write lock before it
        // looks: tokens older than the window go.
        sqlx::query("DELETE FROM setup_tokens WHERE expires_at <= $1")
            .bind(now + SETUP_LIFETIME - window)
            .execute(&mut *transaction)
            .await?;
        let recent: i64 = sqlx::query_scalar("SELECT count(*) FROM setup_tokens")
            .fetch_one(&mut *transaction)
            .await?;
        if recent > 0 {
            transaction.commit().await?;
            false
        } else {
            sqlx::query("INSERT INTO setup_tokens (token_sha256, expires_at) VALUES ($1, $2)")
                .bind(sha256_hex(&token))
                .bind(now + SETUP_LIFETIME)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            true
        }
    });
    Ok(issued.then_some(token))
}

/// Uses up the setup token: true once for the right, unexpired token while nobody but
/// `first_user_id` (the administrator it is creating) exists.
pub async fn redeem_setup_token(db: &Database, token: &str, first_user_id: i64) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query(
            "DELETE FROM setup_tokens WHERE token_sha256 = $1 AND expires_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE id <> $3)",
        )
        .bind(sha256_hex(token))
        .bind(Utc::now())
        .bind(first_user_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(deleted == 1)
}

/// Whether `token` would redeem now (nobody exists yet), without using it up.
pub async fn setup_token_valid(db: &Database, token: &str) -> Result<bool> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_sha256 = $1 AND expires_at > $2) \
             AND NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(sha256_hex(token))
        .bind(Utc::now())
        .fetch_one(pool)
        .await?
    }))
}

/// Whether a setup link is outstanding (the public settings tell the web app).
pub async fn setup_pending(db: &Database) -> Result<bool> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE expires_at > $1) AND NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(Utc::now())
        .fetch_one(pool)
        .await?
    }))
}
