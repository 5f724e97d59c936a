//! The panel's own routes and permissions, against which every plugin manifest is
//! checked, and the package checks only the panel can make (settings schemas).

use std::collections::BTreeMap;

use hatchery_runtime::manifest::{HostCatalogue, Manifest, RouteScope};
use hatchery_runtime::package::{self, Package, ReadLimits};

use super::routes::{mount, shadowed_core_route};
use super::settings::SettingsSchema;
use crate::error::{Error, Result};
use crate::policy;

/// The panel, as a manifest sees it.
pub struct Panel;

impl HostCatalogue for Panel {
    fn is_server_permission(&self, name: &str) -> bool {
        policy::SERVER_PERMISSIONS
            .iter()
            .any(|(known, _)| *known == name)
    }

    fn is_admin_permission(&self, name: &str) -> bool {
        policy::ADMIN_PERMISSIONS
            .iter()
            .any(|(known, _)| *known == name)
    }

    fn shadowed_route(&self, scope: RouteScope, path: &str) -> Option<String> {
        let core = shadowed_core_route(scope, path)?;
        Some(format!("{}{core}", mount(scope).0))
    }
}

/// Parses `plugin.toml` text for this panel; errors name the offending field.
pub fn parse_manifest(text: &str) -> Result<Manifest> {
    Manifest::parse(text, &Panel).map_err(Error::Manifest)
}

/// Reads and verifies a package for this panel, its settings schema included.
pub fn read_package(bytes: &[u8], trusted_keys: &[String], limits: ReadLimits) -> Result<Package> {
    let package = Package::read(bytes, trusted_keys, limits, &Panel)?;
    check_settings_schema(&package.manifest, &package.files)?;
    Ok(package)
}

/// Builds a package from a plugin's files, signed with `key` when given.
pub fn pack(
    files: &BTreeMap<String, Vec<u8>>,
    key: Option<&ed25519_dalek::SigningKey>,
) -> Result<Vec<u8>> {
    let manifest = files
        .get(package::MANIFEST_FILE)
        .map(|text| parse_manifest(&String::from_utf8_lossy(text)))
        .transpose()?;
    if let Some(manifest) = &manifest {
        check_settings_schema(manifest, files)?;
    }
    Ok(package::pack(files, key, &Panel)?)
}

fn check_settings_schema(manifest: &Manifest, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    let Some(schema) = &manifest.settings else {
        return Ok(());
    };
    let bytes = files
        .get(schema)
        .ok_or_else(|| Error::Package(format!("the settings schema `{schema}` is missing")))?;
    SettingsSchema::parse(bytes).map_err(|err| Error::Package(format!("{schema}: {err}")))?;
    Ok(())
}
