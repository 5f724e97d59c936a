//! Console tokens for wings' websocket: HS256 JWTs signed with the node's token,
//! naming one server, one user and exactly that user's permissions on it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ring::hmac;
use serde_json::json;

/// How long a console token lives; browsers fetch a new one when wings says
/// `token expiring`.
pub const LIFETIME_SECONDS: i64 = 600;

pub fn sign(
    node_token: &str,
    server_uuid: &str,
    user_uuid: &str,
    permissions: &[String],
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "server_uuid": server_uuid,
        "user_uuid": user_uuid,
        "permissions": permissions,
        "iat": now,
        "nbf": now - 5,
        "exp": now + LIFETIME_SECONDS,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let header = BASE64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = BASE64URL.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let key = hmac::Key::new(hmac::HMAC_SHA256, node_token.as_bytes());
    let signature = hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", BASE64URL.encode(signature.as_ref()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn wings_accepts_the_panels_tokens() {
        let token = super::sign(
            "node-secret",
            "server-1",
            "user-1",
            &["control.console".to_string()],
        );
        let now = chrono::Utc::now().timestamp();
        let claims: hatchery_wings::token::ConsoleClaims =
            hatchery_wings::token::verify(&token, "node-secret", "server-1", now).unwrap();
        assert!(claims.can("control.console"));
        assert!(!claims.can("control.start"));
        assert!(claims.exp > now + 500);
        let forged: Result<hatchery_wings::token::ConsoleClaims, _> =
            hatchery_wings::token::verify(&token, "another-node", "server-1", now);
        assert!(forged.is_err());
    }
}
