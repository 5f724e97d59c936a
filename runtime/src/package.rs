//! Plugin packages (`.hpkg`): a zip of `plugin.toml`, the entry artifact, optional
//! `migrations/<dialect>/NNNN_name.sql` and `ui/…` files, and `SIGNATURE`.
//!
//! `SIGNATURE` is JSON: the sha256 of every other file, the signer's ed25519 public key,
//! and a signature over the canonical list (`<sha256>  <path>\n`, sorted by path).
//! Reading is defensive: entry names are checked for escapes, sizes are counted while
//! decompressing (not trusted from headers), and nothing touches the disk.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::{HostCatalogue, Manifest, validate_relative_path};
use crate::{Error, Result};

pub const MANIFEST_FILE: &str = "plugin.toml";
pub const SIGNATURE_FILE: &str = "SIGNATURE";
const SIGNED_DOMAIN: &str = "hatchery-package-v1\n";

/// Bounds on what a package may expand to, whatever its headers claim.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    pub max_files: usize,
    pub max_total_bytes: u64,
}

impl ReadLimits {
    /// Limits for packages up to `max_package_bytes`: they may expand to four times that.
    pub fn for_package_limit(max_package_bytes: u64) -> Self {
        ReadLimits {
            max_files: 2_000,
            max_total_bytes: max_package_bytes.saturating_mul(4),
        }
    }
}

/// A package read into memory and checked for internal consistency.
#[derive(Debug, Clone)]
pub struct Package {
    pub manifest: Manifest,
    /// Every file, including `plugin.toml` and `SIGNATURE`.
    pub files: BTreeMap<String, Vec<u8>>,
    pub signer: PackageSigner,
}

/// Who vouches for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSigner {
    /// Signed by this key, which the host trusts.
    Trusted(String),
    /// Signed correctly, but by a key the host does not trust.
    Untrusted(String),
    Unsigned,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    algorithm: String,
    public_key: String,
    signature: String,
    files: BTreeMap<String, String>,
}

impl Package {
    /// Reads and verifies a package. A wrong hash, a missing or extra file, a bad
    /// signature or a bad manifest is an error; an unsigned or untrusted package is
    /// returned as such for the caller's policy to decide.
    pub fn read(
        bytes: &[u8],
        trusted_keys: &[String],
        limits: ReadLimits,
        host: &dyn HostCatalogue,
    ) -> Result<Package> {
        let files = read_zip(bytes, limits)?;
        let manifest_text = files
            .get(MANIFEST_FILE)
            .ok_or_else(|| Error::Package(format!("{MANIFEST_FILE} is missing")))?;
        let manifest_text = std::str::from_utf8(manifest_text)
            .map_err(|_| Error::Package(format!("{MANIFEST_FILE} is not UTF-8")))?;
        let manifest = Manifest::parse(manifest_text, host).map_err(Error::Manifest)?;

        let signer = match files.get(SIGNATURE_FILE) {
            None => PackageSigner::Unsigned,
            Some(signature) => verify_signature(&files, signature, trusted_keys)?,
        };
        check_contents(&manifest, &files)?;
        Ok(Package {
            manifest,
            files,
            signer,
        })
    }

    /// A hash over every file, stable across re-packing.
    pub fn content_sha256(&self) -> String {
        content_hash(&self.files)
    }
}

/// The hash that identifies a plugin's code and assets, from its files.
pub fn content_hash(files: &BTreeMap<String, Vec<u8>>) -> String {
    let listing = canonical_listing(files.iter().filter(|(path, _)| *path != SIGNATURE_FILE));
    hex::encode(Sha256::digest(listing.as_bytes()))
}

fn canonical_listing<'a>(files: impl Iterator<Item = (&'a String, &'a Vec<u8>)>) -> String {
    let mut listing = String::new();
    for (path, bytes) in files {
        listing.push_str(&hex::encode(Sha256::digest(bytes)));
        listing.push_str("  ");
        listing.push_str(path);
        listing.push('\n');
    }
    listing
}

fn read_zip(bytes: &[u8], limits: ReadLimits) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|err| Error::Package(format!("not a zip archive: {err}")))?;
    if archive.len() > limits.max_files {
        return Err(Error::Package(format!(
            "has {} entries; at most {} are allowed",
            archive.len(),
            limits.max_files
        )));
    }
    let mut files = BTreeMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|err| Error::Package(format!("entry {index} is unreadable: {err}")))?;
        let name = entry.name().to_string();
        if entry.is_dir() {
            continue;
        }
        validate_relative_path("file", &name)
            .map_err(|err| Error::Package(format!("unsafe entry name: {err}")))?;
        if entry.is_symlink() {
            return Err(Error::Package(format!(
                "{name} is a symbolic link; packages hold regular files only"
            )));
        }
        let budget = limits.max_total_bytes - total;
        let mut content = Vec::new();
        // Read one byte past the budget to tell "exactly full" from "too big".
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut content)
            .map_err(|err| Error::Package(format!("{name} cannot be decompressed: {err}")))?;
        if content.len() as u64 > budget {
            return Err(Error::Package(format!(
                "expands beyond {} MiB; refusing it (a zip bomb?)",
                limits.max_total_bytes / (1024 * 1024)
            )));
        }
        total += content.len() as u64;
        if files.insert(name.clone(), content).is_some() {
            return Err(Error::Package(format!("{name} appears twice")));
        }
    }
    Ok(files)
}

fn verify_signature(
    files: &BTreeMap<String, Vec<u8>>,
    signature_bytes: &[u8],
    trusted_keys: &[String],
) -> Result<PackageSigner> {
    let signature: SignatureFile = serde_json::from_slice(signature_bytes)
        .map_err(|err| Error::Package(format!("{SIGNATURE_FILE} is malformed: {err}")))?;
    if signature.algorithm != "ed25519" {
        return Err(Error::Package(format!(
            "{SIGNATURE_FILE}: algorithm `{}` is not supported; use ed25519",
            signature.algorithm
        )));
    }
    for (path, bytes) in files.iter().filter(|(path, _)| *path != SIGNATURE_FILE) {
        match signature.files.get(path) {
            None => {
                return Err(Error::Package(format!(
                    "{path} is not listed in {SIGNATURE_FILE}"
                )));
            }
            Some(expected) if *expected != hex::encode(Sha256::digest(bytes)) => {
                return Err(Error::Package(format!(
                    "{path} does not match its sha256 in {SIGNATURE_FILE}; the package was altered or damaged"
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = signature
        .files
        .keys()
        .find(|path| !files.contains_key(*path))
    {
        return Err(Error::Package(format!(
            "{missing} is listed in {SIGNATURE_FILE} but missing"
        )));
    }

    let key = parse_public_key(&signature.public_key)
        .map_err(|err| Error::Package(format!("{SIGNATURE_FILE}: {err}")))?;
    let raw_signature = BASE64
        .decode(&signature.signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or_else(|| Error::Package(format!("{SIGNATURE_FILE}: the signature is not ed25519")))?;
    let message = signed_message(&signature.files);
    key.verify(message.as_bytes(), &raw_signature)
        .map_err(|_| {
            Error::Package(format!(
                "{SIGNATURE_FILE}: the signature does not match the file list"
            ))
        })?;
    if trusted_keys
        .iter()
        .any(|trusted| trusted.trim() == signature.public_key)
    {
        Ok(PackageSigner::Trusted(signature.public_key))
    } else {
        Ok(PackageSigner::Untrusted(signature.public_key))
    }
}

fn signed_message(sums: &BTreeMap<String, String>) -> String {
    let mut message = String::from(SIGNED_DOMAIN);
    for (path, sum) in sums {
        message.push_str(sum);
        message.push_str("  ");
        message.push_str(path);
        message.push('\n');
    }
    message
}

/// The files the manifest points at exist, and nothing unexpected is present.
fn check_contents(manifest: &Manifest, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    if !files.contains_key(&manifest.entry) {
        return Err(Error::Package(format!(
            "the entry `{}` named in {MANIFEST_FILE} is missing",
            manifest.entry
        )));
    }
    for contribution in &manifest.ui {
        if !files.contains_key(&contribution.module) {
            return Err(Error::Package(format!(
                "the UI module `{}` named in {MANIFEST_FILE} is missing",
                contribution.module
            )));
        }
    }
    if let Some(schema) = &manifest.settings
        && !files.contains_key(schema)
    {
        return Err(Error::Package(format!(
            "the settings schema `{schema}` named in {MANIFEST_FILE} is missing"
        )));
    }
    let mut has_migrations = false;
    for path in files.keys() {
        if let Some(rest) = path.strip_prefix("migrations/") {
            has_migrations = true;
            let (dialect, file) = rest.split_once('/').unwrap_or(("", rest));
            if !matches!(dialect, "sqlite" | "postgres") || file.contains('/') {
                return Err(Error::Package(format!(
                    "{path}: migrations live in migrations/sqlite/ or migrations/postgres/"
                )));
            }
            migration_name(file).map_err(|err| Error::Package(format!("{path}: {err}")))?;
        }
    }
    if has_migrations && !manifest.capabilities.database {
        return Err(Error::Package(
            "the package has migrations but does not request the `database` capability".into(),
        ));
    }
    Ok(())
}

/// The version and name of a migration file such as `0001_create_greetings.sql`.
pub fn migration_name(file_name: &str) -> Result<(i64, &str), String> {
    let stem = file_name
        .strip_suffix(".sql")
        .ok_or_else(|| format!("migration `{file_name}` must end in .sql"))?;
    let (number, name) = stem
        .split_once('_')
        .ok_or_else(|| format!("migration `{file_name}` must be named like 0001_name.sql"))?;
    let version = number
        .parse::<i64>()
        .ok()
        .filter(|version| *version > 0)
        .ok_or_else(|| {
            format!("migration `{file_name}` must start with a positive number, like 0001_")
        })?;
    Ok((version, name))
}

/// Decodes a base64 ed25519 public key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    VerifyingKey::from_bytes(&key_bytes(text, "public")?)
        .map_err(|_| "not a valid ed25519 public key".to_string())
}

fn key_bytes(text: &str, kind: &str) -> Result<[u8; 32], String> {
    BASE64
        .decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("a {kind} key is 32 bytes in base64"))
}

/// A new signing key, as the base64 text `hatchery plugin keygen` writes.
pub fn generate_signing_key() -> String {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).expect("the operating system's random source works");
    BASE64.encode(secret)
}

pub fn parse_signing_key(text: &str) -> Result<SigningKey, String> {
    Ok(SigningKey::from_bytes(&key_bytes(text, "signing")?))
}

pub fn public_key_of(key: &SigningKey) -> String {
    BASE64.encode(key.verifying_key().to_bytes())
}

/// Builds a package from files (paths relative to the package root), signed with
/// `key` when given. The manifest is validated first so authors learn early.
pub fn pack(
    files: &BTreeMap<String, Vec<u8>>,
    key: Option<&SigningKey>,
    host: &dyn HostCatalogue,
) -> Result<Vec<u8>> {
    let mut files = files.clone();
    files.remove(SIGNATURE_FILE);
    let manifest_text = files
        .get(MANIFEST_FILE)
        .ok_or_else(|| Error::Package(format!("{MANIFEST_FILE} is missing")))?;
    let manifest =
        Manifest::parse(&String::from_utf8_lossy(manifest_text), host).map_err(Error::Manifest)?;
    check_contents(&manifest, &files)?;

    if let Some(key) = key {
        let sums: BTreeMap<String, String> = files
            .iter()
            .map(|(path, bytes)| (path.clone(), hex::encode(Sha256::digest(bytes))))
            .collect();
        let signature = key.sign(signed_message(&sums).as_bytes());
        let signature_file = SignatureFile {
            algorithm: "ed25519".into(),
            public_key: public_key_of(key),
            signature: BASE64.encode(signature.to_bytes()),
            files: sums,
        };
        let json = serde_json::to_vec_pretty(&signature_file).expect("plain data encodes");
        files.insert(SIGNATURE_FILE.into(), json);
    }

    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, bytes) in &files {
        writer
            .start_file(path.as_str(), options)
            .and_then(|()| writer.write_all(bytes).map_err(Into::into))
            .map_err(|err| Error::Package(format!("cannot write {path}: {err}")))?;
    }
    let cursor = writer
        .finish()
        .map_err(|err| Error::Package(format!("cannot finish the zip: {err}")))?;
    Ok(cursor.into_inner())
}

/// Reads every regular file below `dir` as package files (for `plugin pack` and for
/// plugins placed in the plugins directory).
pub fn read_dir_files(dir: &std::path::Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|err| Error::io(format!("cannot list {}", current.display()), err))?;
        for entry in entries {
            let entry = entry
                .map_err(|err| Error::io(format!("cannot list {}", current.display()), err))?;
            let path = entry.path();
            let file_type = entry
                .file_type()
                .map_err(|err| Error::io(format!("cannot inspect {}", path.display()), err))?;
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                let relative = path
                    .strip_prefix(dir)
                    .expect("walked below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&path)
                    .map_err(|err| Error::io(format!("cannot read {}", path.display()), err))?;
                files.insert(relative, bytes);
            }
        }
    }
    Ok(files)
}
