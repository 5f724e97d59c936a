//! Secrets the panel must read back later (node tokens), encrypted at rest with the
//! panel's key: AES-256-GCM, a random nonce per secret, stored as `v1:<base64>`.
//!
//! The key lives in `<data_dir>/app.key` (created on first use, mode 0600). Panels that
//! share a database must share this file; losing it means issuing new node tokens.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::error::{Error, Result};

pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The panel's key from `<data_dir>/app.key`, created when missing.
    pub fn load_or_create(data_dir: &Path) -> Result<SecretBox> {
        let path = data_dir.join("app.key");
        let key = match std::fs::read_to_string(&path) {
            Ok(text) => BASE64
                .decode(text.trim())
                .ok()
                .filter(|key| key.len() == 32)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "{} is not a panel key (32 bytes, base64); restore it from a backup",
                        path.display()
                    ))
                })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|err| Error::Config(format!("no randomness: {err}")))?;
                std::fs::create_dir_all(data_dir).map_err(|err| {
                    Error::io(format!("cannot create {}", data_dir.display()), err)
                })?;
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|err| Error::io(format!("cannot create {}", path.display()), err))?;
                file.write_all(BASE64.encode(&key).as_bytes())
                    .map_err(|err| Error::io(format!("cannot write {}", path.display()), err))?;
                key
            }
            Err(err) => return Err(Error::io(format!("cannot read {}", path.display()), err)),
        };
        Ok(SecretBox::from_key(&key))
    }

    fn from_key(key: &[u8]) -> SecretBox {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key");
        SecretBox {
            key: LessSafeKey::new(key),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS provides randomness");
        let mut data = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing cannot fail for small inputs");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        format!("v1:{}", BASE64.encode(sealed))
    }

    pub fn open(&self, sealed: &str) -> Result<String> {
        let broken = || {
            Error::Config("a stored secret cannot be decrypted with this panel's app.key".into())
        };
        let bytes = sealed
            .strip_prefix("v1:")
            .and_then(|b64| BASE64.decode(b64).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or_else(broken)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let mut data = ciphertext.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| broken())?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| broken())?;
        String::from_utf8(plain.to_vec()).map_err(|_| broken())
    }
}

#[cfg(test)]
mod tests {
    use super::SecretBox;

    #[test]
    fn secrets_round_trip_and_tampering_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretBox::load_or_create(dir.path()).unwrap();
        let sealed = secrets.seal("node-token");
        assert_ne!(sealed, secrets.seal("node-token"), "nonces differ");
        assert_eq!(secrets.open(&sealed).unwrap(), "node-token");
        // The same key file opens it again.
        let again = SecretBox::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "node-token");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(secrets.open(&tampered).is_err());
        let other = SecretBox::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.open(&sealed).is_err());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("app.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
