//! Password hashes: argon2id for every new one; bcrypt (`$2y$`, `$2a$`, `$2b$`), as
//! Pterodactyl stores them, verified unchanged and replaced on the next sign-in.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params};

/// Longest password accepted: hashing cost grows with length, and nobody types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What checking a password against a stored hash found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    /// Right; `rehash` when the hash is not argon2id with today's parameters.
    Right {
        rehash: bool,
    },
}

/// A new argon2id hash (PHC string) with a random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| format!("no random salt: {err}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|err| err.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

/// Checks `password` against a stored hash of either kind. A hash that cannot be read
/// never matches.
pub fn verify(stored: &str, password: &str) -> Verdict {
    if password.len() > MAX_PASSWORD_BYTES {
        return Verdict::Wrong;
    }
    if is_bcrypt(stored) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::Right { rehash: true },
            _ => Verdict::Wrong,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::Wrong;
    };
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Verdict::Right {
            rehash: !is_current_argon2(&parsed),
        },
        Err(_) => Verdict::Wrong,
    }
}

/// Spends what a real check costs, for sign-ins of unknown users, so the time taken
/// does not tell whether an account exists.
pub fn waste_a_check(password: &str) {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash("a password nobody has").unwrap_or_default());
    let _ = verify(decoy, password);
}

/// Whether `hash` is one this plugin can check: bcrypt as PHP's `password_hash`
/// makes it, or an argon2 PHC string.
pub fn is_importable(hash: &str) -> bool {
    if is_bcrypt(hash) {
        return hash.parse::<bcrypt::HashParts>().is_ok();
    }
    PasswordHash::new(hash).is_ok_and(|parsed| parsed.algorithm.as_str().starts_with("argon2"))
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2y$", "$2a$", "$2b$", "$2x$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
}

fn is_current_argon2(parsed: &PasswordHash<'_>) -> bool {
    let defaults = Params::default();
    let param = |name: &str| {
        parsed
            .params
            .get_decimal(name)
            .map(u64::from)
            .unwrap_or_default()
    };
    parsed.algorithm.as_str() == Algorithm::Argon2id.ident().as_str()
        && param("m") == u64::from(defaults.m_cost())
        && param("t") == u64::from(defaults.t_cost())
        && param("p") == u64::from(defaults.p_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_hashes_are_argon2id_and_need_no_rehash() {
        let stored = hash("correct horse").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(
            verify(&stored, "correct horse"),
            Verdict::Right { rehash: false }
        );
        assert_eq!(verify(&stored, "Correct horse"), Verdict::Wrong);
        // Each hash has its own salt.
        assert_ne!(stored, hash("correct horse").unwrap());
    }

    #[test]
    fn php_bcrypt_hashes_verify_and_ask_for_a_rehash() {
        // Made by PHP's password_hash('password', PASSWORD_BCRYPT), as Laravel (and so
        // Pterodactyl) stores it in `users.password`.
        let laravel = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi";
        assert_eq!(verify(laravel, "password"), Verdict::Right { rehash: true });
        assert_eq!(verify(laravel, "Password"), Verdict::Wrong);
        assert!(is_importable(laravel));
    }

    #[test]
    fn weaker_argon2_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            argon2::Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(
            b"pw-123456",
            &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
        )
        .unwrap()
        .to_string();
        assert_eq!(verify(&weak, "pw-123456"), Verdict::Right { rehash: true });
    }

    #[test]
    fn unreadable_hashes_and_huge_passwords_never_match() {
        assert_eq!(verify("", ""), Verdict::Wrong);
        assert_eq!(verify("plaintext", "plaintext"), Verdict::Wrong);
        assert_eq!(verify("$2y$10$short", "x"), Verdict::Wrong);
        let stored = hash("x").unwrap();
        assert_eq!(verify(&stored, &"x".repeat(2000)), Verdict::Wrong);
        assert!(!is_importable("md5:abc"));
        assert!(!is_importable("$2y$10$short"));
    }
}
