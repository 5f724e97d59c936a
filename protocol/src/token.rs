//! Short-lived HS256 JWTs the panel signs with the node token: console tokens (one
//! server and the user's permissions on it, Pterodactyl's websocket protocol), file
//! transfer tokens (one upload or download) and search tokens (one search).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What every token wings accepts carries.
pub trait Claims: Serialize + DeserializeOwned {
    fn server_uuid(&self) -> &str;
    /// Expiry, seconds since the Unix epoch.
    fn expires_at(&self) -> i64;
    fn not_before(&self) -> i64;
}

/// The claims wings reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleClaims {
    pub server_uuid: String,
    #[serde(default)]
    pub user_uuid: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub nbf: i64,
    #[serde(default)]
    pub jti: String,
}

impl Claims for ConsoleClaims {
    fn server_uuid(&self) -> &str {
        &self.server_uuid
    }
    fn expires_at(&self) -> i64 {
        self.exp
    }
    fn not_before(&self) -> i64 {
        self.nbf
    }
}

/// A signed upload or download URL's token: one server, one file (downloads), one use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferClaims {
    pub server_uuid: String,
    #[serde(default)]
    pub user_uuid: String,
    /// Each token works once.
    pub unique_id: String,
    /// The file a download token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub nbf: i64,
}

impl Claims for TransferClaims {
    fn server_uuid(&self) -> &str {
        &self.server_uuid
    }
    fn expires_at(&self) -> i64 {
        self.exp
    }
    fn not_before(&self) -> i64 {
        self.nbf
    }
}

/// A signed search URL's token: one server, the folder searched and whether contents
/// may be searched, one use. Its required `search_id` keeps it from passing as a
/// transfer token, and theirs (`unique_id`) from passing as this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchClaims {
    pub server_uuid: String,
    #[serde(default)]
    pub user_uuid: String,
    pub search_id: String,
    /// The folder searched (and everything below it).
    pub directory: String,
    /// Whether the holder may search inside files (`file.read-content`).
    pub contents: bool,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub nbf: i64,
}

impl Claims for SearchClaims {
    fn server_uuid(&self) -> &str {
        &self.server_uuid
    }
    fn expires_at(&self) -> i64 {
        self.exp
    }
    fn not_before(&self) -> i64 {
        self.nbf
    }
}

impl ConsoleClaims {
    /// Whether the token grants `permission`; see [`grants`].
    pub fn can(&self, permission: &str) -> bool {
        grants(&self.permissions, permission)
    }
}

/// Whether a list of held permissions grants `permission`. `*` (what a server's
/// owner holds) grants everything except `admin.*`, which must be named: owners do
/// not see install output or internal errors meant for administrators.
pub fn grants(held: &[String], permission: &str) -> bool {
    held.iter()
        .any(|p| p == permission || (p == "*" && !permission.starts_with("admin.")))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another server")]
    WrongServer,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: String,
}

/// Signs claims with the node token (the panel's side; wings' tests use it too).
pub fn sign<C: Claims>(claims: &C, node_token: &str) -> String {
    let header = BASE64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = BASE64URL.encode(serde_json::to_vec(claims).expect("plain data encodes"));
    let signing_input = format!("{header}.{payload}");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(node_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        BASE64URL.encode(mac.finalize().into_bytes())
    )
}

/// Verifies a token for `server_uuid` at time `now` (seconds since the epoch).
pub fn verify<C: Claims>(
    token: &str,
    node_token: &str,
    server_uuid: &str,
    now: i64,
) -> Result<C, TokenError> {
    let claims: C = verify_any_server(token, node_token, now)?;
    if claims.server_uuid() != server_uuid {
        return Err(TokenError::WrongServer);
    }
    Ok(claims)
}

/// Verifies a token that names its server itself (signed URLs). The signature is
/// checked in constant time before anything in the token is trusted.
pub fn verify_any_server<C: Claims>(
    token: &str,
    node_token: &str,
    now: i64,
) -> Result<C, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("it does not have three parts"));
    };
    let signature = BASE64URL
        .decode(signature)
        .map_err(|_| TokenError::Malformed("the signature is not base64url"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(node_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;

    let header: Header = BASE64URL
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed("the header is not JSON"))?;
    // Only HS256 is accepted: "none" and asymmetric algorithms never are.
    if header.alg != "HS256" {
        return Err(TokenError::Malformed("only HS256 tokens are accepted"));
    }
    let claims: C = BASE64URL
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed(
            "the claims are not what wings expects",
        ))?;
    if claims.expires_at() <= now {
        return Err(TokenError::Expired);
    }
    if claims.not_before() > now {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "node-token-secret";

    fn claims(exp: i64) -> ConsoleClaims {
        ConsoleClaims {
            server_uuid: "server-1".into(),
            user_uuid: "user-1".into(),
            permissions: vec!["control.console".into(), "control.start".into()],
            exp,
            iat: 100,
            nbf: 100,
            jti: "j".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_carries_permissions() {
        let token = sign(&claims(1_000), KEY);
        let verified: ConsoleClaims = verify(&token, KEY, "server-1", 500).unwrap();
        assert!(verified.can("control.console"));
        assert!(!verified.can("control.stop"));
    }

    #[test]
    fn the_owners_wildcard_leaves_out_admin_permissions() {
        let owner = vec!["*".to_string()];
        assert!(grants(&owner, "control.console"));
        assert!(grants(&owner, "file.read"));
        assert!(!grants(&owner, "admin.websocket.install"));
        assert!(!grants(&owner, "admin.websocket.errors"));
        let admin = vec!["*".to_string(), "admin.websocket.install".to_string()];
        assert!(grants(&admin, "admin.websocket.install"));
        assert!(!grants(&admin, "admin.websocket.errors"));
    }

    fn verify(token: &str, key: &str, server: &str, now: i64) -> Result<ConsoleClaims, TokenError> {
        super::verify(token, key, server, now)
    }

    #[test]
    fn every_kind_of_bad_token_is_refused() {
        let token = sign(&claims(1_000), KEY);
        assert_eq!(
            verify(&token, "other-key", "server-1", 500),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&token, KEY, "server-1", 1_000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&token, KEY, "server-1", 50),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            verify(&token, KEY, "server-2", 500),
            Err(TokenError::WrongServer)
        );
        assert!(matches!(
            verify("a.b", KEY, "server-1", 500),
            Err(TokenError::Malformed(_))
        ));
        // A payload swapped under a valid signature fails the signature check.
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let mut forged = claims(1_000);
        forged.permissions = vec!["*".into()];
        let forged_payload = BASE64URL.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify(
                &format!("{head}.{forged_payload}.{signature}"),
                KEY,
                "server-1",
                500
            ),
            Err(TokenError::BadSignature)
        );
        // alg "none" with an empty signature never passes.
        let none_header = BASE64URL.encode(br#"{"alg":"none"}"#);
        let payload = BASE64URL.encode(serde_json::to_vec(&claims(1_000)).unwrap());
        assert!(verify(&format!("{none_header}.{payload}."), KEY, "server-1", 500).is_err());
    }
}
