//! A backup driver for tests, run by wings: archives go to the plugin's storage
//! directory (`/data`), one file per backup. A target whose config says
//! `{"fail_after_bytes": N}` fails after reading N bytes, like a store that goes away;
//! one that says `{"spin": true}` loops without reading, like a driver that hangs.

use std::io::{Read, Write};

use hatchery_sdk::{BackupRef, Error, Plugin, export_plugin};

#[derive(Default)]
struct LocalArchives;

export_plugin!(LocalArchives);

/// Only uuids (hex digits and hyphens) become file names.
fn checked(name: &str) -> Result<&str, Error> {
    let safe = !name.is_empty() && name.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    safe.then_some(name)
        .ok_or_else(|| Error::bad_request(format!("`{name}` is not a uuid")))
}

fn path_of(backup: &BackupRef) -> Result<String, Error> {
    Ok(format!(
        "/data/{}/{}.tar",
        checked(&backup.server)?,
        checked(&backup.uuid)?
    ))
}

fn config_value(config: &str, key: &str) -> Option<serde_json::Value> {
    let mut config: serde_json::Value = serde_json::from_str(config).ok()?;
    Some(config.get_mut(key)?.take())
}

fn io(what: &str, err: std::io::Error) -> Error {
    Error::internal(format!("{what}: {err}"))
}

impl Plugin for LocalArchives {
    fn backup_save(&self, backup: &BackupRef, archive: &mut dyn Read) -> Result<String, Error> {
        let path = path_of(backup)?;
        if config_value(&backup.config, "spin") == Some(serde_json::Value::Bool(true)) {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        std::fs::create_dir_all(format!("/data/{}", backup.server))
            .map_err(|err| io("cannot create the server's directory", err))?;
        let partial = format!("{path}.partial");
        let mut file = std::fs::File::create(&partial).map_err(|err| io("cannot create", err))?;
        let limit = config_value(&backup.config, "fail_after_bytes").and_then(|v| v.as_u64());
        let mut buffer = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let read = archive
                .read(&mut buffer)
                .map_err(|err| io("cannot read the archive", err))?;
            if read == 0 {
                break;
            }
            total += read as u64;
            if limit.is_some_and(|limit| total > limit) {
                drop(file);
                let _ = std::fs::remove_file(&partial);
                return Err(Error::internal("the store went away"));
            }
            file.write_all(&buffer[..read])
                .map_err(|err| io("cannot write", err))?;
        }
        file.sync_all().map_err(|err| io("cannot sync", err))?;
        std::fs::rename(&partial, &path).map_err(|err| io("cannot rename", err))?;
        Ok(format!(
            "{}/{}.tar ({total} bytes)",
            backup.server, backup.uuid
        ))
    }

    fn backup_fetch(&self, backup: &BackupRef, into: &mut dyn Write) -> Result<(), Error> {
        let mut file = std::fs::File::open(path_of(backup)?)
            .map_err(|err| io("no archive for this backup", err))?;
        std::io::copy(&mut file, into).map_err(|err| io("cannot send the archive", err))?;
        Ok(())
    }

    fn backup_delete(&self, backup: &BackupRef) -> Result<(), Error> {
        match std::fs::remove_file(path_of(backup)?) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(io("cannot delete the archive", err))
            }
            _ => Ok(()),
        }
    }
}
