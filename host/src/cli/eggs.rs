//! `hatchery egg …`: import eggs from files and directories (or only check them),
//! export them in Pterodactyl's or Pelican's format, and list them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::db::Database;
use crate::db::eggs::{self, Imported};
use crate::domain::eggs::{Egg, ExportFormat};
use crate::error::{Error, Result};

/// Egg files are at most this large; anything bigger is not an egg.
const MAX_EGG_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum EggCommand {
    /// Import egg files, or every .json/.yaml/.yml file under directories
    Import {
        /// Files or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Only check the eggs; store nothing
        #[arg(long)]
        dry_run: bool,
        /// The nest (group) the eggs go into; created when missing
        #[arg(long, default_value = "Imported eggs")]
        nest: String,
    },
    /// Print an egg in Pterodactyl's (PTDL_v2 JSON) or Pelican's (PLCN YAML) format
    Export {
        /// The egg's id, uuid or name
        egg: String,
        #[arg(long, value_enum, default_value = "pterodactyl")]
        format: Format,
        /// Write to this file instead of standard output
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List the eggs
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Pterodactyl,
    Pelican,
}

pub async fn run(db: &Database, command: EggCommand) -> Result<ExitCode> {
    match command {
        EggCommand::Import {
            paths,
            dry_run,
            nest,
        } => import(db, &paths, dry_run, &nest).await,
        EggCommand::Export {
            egg,
            format,
            output,
        } => {
            let record = eggs::find(db, &egg).await?.ok_or_else(|| {
                Error::NotFound(format!("no egg `{egg}`; `hatchery egg list` shows them"))
            })?;
            let format = match format {
                Format::Pterodactyl => ExportFormat::Pterodactyl,
                Format::Pelican => ExportFormat::Pelican,
            };
            let text = record.egg()?.export(format);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .map_err(|err| Error::io(format!("cannot write {}", path.display()), err))?,
                None => println!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        EggCommand::List { json } => {
            let records = eggs::list(db).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&records).expect("JSON encodes")
                );
            } else if records.is_empty() {
                println!(
                    "no eggs yet; import some with `hatchery egg import <files or directories>`"
                );
            } else {
                for record in records {
                    println!(
                        "{:>5}  {:<24}  {}  ({})",
                        record.id, record.nest, record.name, record.source_format
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Imports every egg file found; one bad egg never stops the others. Ends with
/// "N imported, M failed", naming each failure and why.
async fn import(db: &Database, paths: &[PathBuf], dry_run: bool, nest: &str) -> Result<ExitCode> {
    let mut files = Vec::new();
    let mut failures: Vec<(PathBuf, String)> = Vec::new();
    for path in paths {
        collect(path, &mut files, &mut failures);
    }
    let mut imported = 0;
    for file in &files {
        let parsed = read_egg(file);
        if let Ok(egg) = &parsed {
            for warning in &egg.warnings {
                eprintln!(" warning  {}: {warning}", file.display());
            }
        }
        let outcome = match parsed {
            Err(reason) => Err(reason),
            Ok(egg) if dry_run => Ok((egg.name, "valid")),
            Ok(egg) => match eggs::import(db, nest, &egg).await {
                Ok((record, Imported::Created)) => Ok((record.name, "imported")),
                Ok((record, Imported::Updated)) => Ok((record.name, "updated")),
                Err(err) => Err(err.to_string()),
            },
        };
        match outcome {
            Ok((name, what)) => {
                imported += 1;
                println!("{what:>8}  {name}  ({})", file.display());
            }
            Err(reason) => failures.push((file.clone(), reason)),
        }
    }
    for (file, reason) in &failures {
        eprintln!("  failed  {}: {reason}", file.display());
    }
    println!(
        "{imported} imported, {} failed{}",
        failures.len(),
        if dry_run {
            " (dry run: nothing was stored)"
        } else {
            ""
        }
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_egg(file: &Path) -> std::result::Result<Egg, String> {
    let size = std::fs::metadata(file)
        .map_err(|err| err.to_string())?
        .len();
    if size > MAX_EGG_BYTES {
        return Err(format!("{size} bytes is too large for an egg"));
    }
    let text = std::fs::read_to_string(file).map_err(|err| format!("cannot read it: {err}"))?;
    Egg::parse(&text)
}

/// Egg files under `path` (a file, or a directory searched recursively), in order.
fn collect(path: &Path, files: &mut Vec<PathBuf>, failures: &mut Vec<(PathBuf, String)>) {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) => {
            failures.push((path.to_path_buf(), format!("cannot open it: {err}")));
            return;
        }
    };
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(err) => {
            failures.push((path.to_path_buf(), format!("cannot list it: {err}")));
            return;
        }
    };
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files, failures);
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
        {
            files.push(entry);
        }
    }
}
