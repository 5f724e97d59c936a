//! Time-based one-time codes (RFC 6238 as authenticator apps implement it: HMAC-SHA1,
//! six digits, 30-second steps) and recovery codes.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds one code stands for.
pub const STEP: i64 = 30;
/// Steps either side of now that are accepted, for clocks that drift.
const SKEW: i64 = 1;
/// Recovery codes given at once.
pub const RECOVERY_CODES: usize = 10;

/// A new random secret, as authenticator apps take it (base32, no padding).
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|err| format!("no randomness: {err}"))?;
    Ok(data_encoding::BASE32_NOPAD.encode(&bytes))
}

/// The `otpauth://` address a QR code carries.
pub fn enrolment_uri(issuer: &str, account: &str, secret: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        percent(issuer),
        percent(account),
        percent(issuer)
    )
}

/// The step `code` is right for, near `now`; none when it is right for none.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let current = now.div_euclid(STEP);
    (current - SKEW..=current + SKEW).find(|step| {
        let expected = code_at(&key, *step);
        // Compared without an early exit, so timing does not reveal digits.
        expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    })
}

/// The six-digit code of `step` (RFC 4226's dynamic truncation).
fn code_at(key: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// Ten recovery codes (`xxxx-xxxx`, lowercase letters and digits without look-alikes).
pub fn new_recovery_codes() -> Result<Vec<String>, String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|err| format!("no randomness: {err}"))?;
        let chars: String = bytes
            .iter()
            .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
            .collect();
        codes.push(format!("{}-{}", &chars[..4], &chars[4..]));
    }
    Ok(codes)
}

/// What is stored of a recovery code: its hash, with case and dashes ignored.
pub fn recovery_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex(&Sha256::digest(normalised.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (the secret is "12345678901234567890"; the
    /// RFC's codes have eight digits, the last six are what six-digit apps show).
    #[test]
    fn codes_match_the_rfc_vectors() {
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                matching_step(&secret, code, time),
                Some(time / STEP),
                "at {time}"
            );
        }
    }

    #[test]
    fn neighbouring_steps_pass_and_others_do_not() {
        let secret = new_secret().unwrap();
        let key = data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .unwrap();
        let now = 1_800_000_000;
        let step = now / STEP;
        let code = |step| code_at(&key, step);
        assert_eq!(matching_step(&secret, &code(step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &code(step + 1), now), Some(step + 1));
        assert_eq!(matching_step(&secret, &code(step - 3), now), None);
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(matching_step(&secret, &spaced, now), Some(step));
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(matching_step(&secret, bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_loosely() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&codes[0].to_uppercase().replace('-', ""))
        );
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
    }

    #[test]
    fn the_enrolment_uri_escapes_names() {
        assert_eq!(
            enrolment_uri("Hatchery", "ada lovelace", "ABC"),
            "otpauth://totp/Hatchery:ada%20lovelace?secret=ABC&issuer=Hatchery&algorithm=SHA1&digits=6&period=30"
        );
    }
}
