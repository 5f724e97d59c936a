//! Tokens the panel signs with a node's token for browsers to present to its wings:
//! console tokens (one server, one user and exactly that user's permissions on it) and
//! signed-URL tokens (one upload or one download, used once). The shapes and the
//! signing live in `hatchery-protocol`, shared with wings.

use hatchery_protocol::token::{self, ConsoleClaims, SearchClaims, TransferClaims};

/// How long a console token lives; browsers fetch a new one when wings says
/// `token expiring`.
pub const CONSOLE_LIFETIME_SECONDS: i64 = 600;
/// How long a signed upload or download URL works (once).
pub const TRANSFER_LIFETIME_SECONDS: i64 = 900;

pub fn console(
    node_token: &str,
    server_uuid: &str,
    user_uuid: &str,
    permissions: &[String],
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = ConsoleClaims {
        server_uuid: server_uuid.to_string(),
        user_uuid: user_uuid.to_string(),
        permissions: permissions.to_vec(),
        exp: now + CONSOLE_LIFETIME_SECONDS,
        iat: now,
        nbf: now - 5,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    token::sign(&claims, node_token)
}

/// A token for one transfer: a download of `file_path`, or an upload when it is none.
pub fn transfer(
    node_token: &str,
    server_uuid: &str,
    user_uuid: &str,
    file_path: Option<&str>,
) -> (String, i64) {
    let now = chrono::Utc::now().timestamp();
    let expires = now + TRANSFER_LIFETIME_SECONDS;
    let claims = TransferClaims {
        server_uuid: server_uuid.to_string(),
        user_uuid: user_uuid.to_string(),
        unique_id: uuid::Uuid::new_v4().to_string(),
        file_path: file_path.map(str::to_string),
        exp: expires,
        iat: now,
        nbf: now - 5,
    };
    (token::sign(&claims, node_token), expires)
}

/// A token for one search of `directory` and below; inside files too when
/// `contents` (the user holds `file.read-content`).
pub fn search(
    node_token: &str,
    server_uuid: &str,
    user_uuid: &str,
    directory: &str,
    contents: bool,
) -> (String, i64) {
    let now = chrono::Utc::now().timestamp();
    let expires = now + TRANSFER_LIFETIME_SECONDS;
    let claims = SearchClaims {
        server_uuid: server_uuid.to_string(),
        user_uuid: user_uuid.to_string(),
        search_id: uuid::Uuid::new_v4().to_string(),
        directory: directory.to_string(),
        contents,
        exp: expires,
        iat: now,
        nbf: now - 5,
    };
    (token::sign(&claims, node_token), expires)
}

#[cfg(test)]
mod tests {
    use hatchery_protocol::token::{ConsoleClaims, TransferClaims, verify};

    #[test]
    fn wings_accepts_the_panels_tokens() {
        let token = super::console(
            "node-secret",
            "server-1",
            "user-1",
            &["control.console".to_string()],
        );
        let now = chrono::Utc::now().timestamp();
        let claims: ConsoleClaims = verify(&token, "node-secret", "server-1", now).unwrap();
        assert!(claims.can("control.console"));
        assert!(!claims.can("control.start"));
        assert!(claims.exp > now + 500);
        let forged: Result<ConsoleClaims, _> = verify(&token, "another-node", "server-1", now);
        assert!(forged.is_err());

        let (token, _) = super::transfer("node-secret", "server-1", "user-1", Some("/a.txt"));
        let claims: TransferClaims = verify(&token, "node-secret", "server-1", now).unwrap();
        assert_eq!(claims.file_path.as_deref(), Some("/a.txt"));
    }
}
