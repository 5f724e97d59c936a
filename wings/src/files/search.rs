//! Searching a server's files where they are: by name, by glob, by content, by size
//! and by date, walking the directory iteratively through the same confined handle
//! as every other operation (links are listed, never followed). Hits are handed out
//! one by one as they are found, so a caller can stream them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::{ServerFiles, clean, fail, seconds};
use crate::error::{Error, Result};

/// Files larger than this are not searched inside (their names still are).
pub const MAX_CONTENT_BYTES: u64 = 8 * 1024 * 1024;
/// Lines of one file shown as matches.
const MATCHES_PER_FILE: usize = 5;
/// Characters of a matching line shown.
const LINE_CHARS: usize = 240;
/// Hits when the query names no limit, and the most it may name.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5_000;

/// What to look for; every filter given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchQuery {
    /// A part of the entry's name.
    #[serde(default)]
    pub name: Option<String>,
    /// `*.yml`, `plugins/**/config.yml`: against the name, or the path below the
    /// searched folder when it holds a `/`.
    #[serde(default)]
    pub glob: Option<String>,
    /// Text inside files.
    #[serde(default)]
    pub content: Option<String>,
    /// Letters' case matters (default: it does not).
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub min_size: Option<u64>,
    #[serde(default)]
    pub max_size: Option<u64>,
    /// Seconds since the Unix epoch.
    #[serde(default)]
    pub modified_after: Option<u64>,
    #[serde(default)]
    pub modified_before: Option<u64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// From the server's root, e.g. `/plugins/x/config.yml`.
    pub path: String,
    pub size: u64,
    pub modified: u64,
    pub directory: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<LineMatch>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineMatch {
    /// 1-based.
    pub line: u64,
    pub text: String,
}

/// The search's last word.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub done: bool,
    /// Entries looked at.
    pub scanned: u64,
    pub hits: u64,
    /// The limit was reached before the walk ended.
    pub truncated: bool,
    pub elapsed_ms: u64,
}

struct Matcher {
    name: Option<String>,
    glob: Option<(Regex, bool)>,
    content: Option<String>,
    case_sensitive: bool,
}

impl Matcher {
    fn fold(&self, text: &str) -> String {
        if self.case_sensitive {
            text.to_string()
        } else {
            text.to_lowercase()
        }
    }
}

/// A glob as a regex: `**/` any folders, `*` any characters but `/`, `?` one of them,
/// `[…]` a class; everything else literal.
fn glob_regex(glob: &str, case_sensitive: bool) -> Result<Regex> {
    let chars: Vec<char> = glob.chars().collect();
    let mut pattern = String::from("^");
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '*' if chars.get(index + 1) == Some(&'*') => {
                index += 1;
                if chars.get(index + 1) == Some(&'/') {
                    index += 1;
                    pattern.push_str("(?:.*/)?");
                } else {
                    pattern.push_str(".*");
                }
            }
            '*' => pattern.push_str("[^/]*"),
            '?' => pattern.push_str("[^/]"),
            '[' => match chars[index..].iter().position(|c| *c == ']') {
                Some(end) if end > 1 => {
                    let class: String = chars[index + 1..index + end].iter().collect();
                    let class = class
                        .strip_prefix('!')
                        .map_or(class.clone(), |rest| format!("^{rest}"));
                    pattern.push('[');
                    pattern.push_str(&class.replace('\\', "\\\\"));
                    pattern.push(']');
                    index += end;
                }
                _ => pattern.push_str(r"\["),
            },
            other => pattern.push_str(&regex::escape(&other.to_string())),
        }
        index += 1;
    }
    pattern.push('$');
    RegexBuilder::new(&pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|err| Error::BadRequest(format!("the glob `{glob}` is not valid: {err}")))
}

impl ServerFiles {
    /// Walks `directory` and below, giving each hit to `found` (which answers whether
    /// to go on: a caller that went away stops the walk). Searching inside files needs
    /// `contents_allowed`.
    pub fn search(
        &self,
        directory: &str,
        query: &SearchQuery,
        contents_allowed: bool,
        found: &mut dyn FnMut(Hit) -> bool,
    ) -> Result<Summary> {
        let started = Instant::now();
        let present = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
        if !present(&query.name) && !present(&query.glob) && !present(&query.content) {
            return Err(Error::BadRequest(
                "say what to look for: a name, a glob or some content".into(),
            ));
        }
        if present(&query.content) && !contents_allowed {
            return Err(Error::Forbidden(
                "searching inside files needs the file.read-content permission".into(),
            ));
        }
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let case_sensitive = query.case_sensitive;
        let mut matcher = Matcher {
            name: None,
            glob: match query.glob.as_deref().filter(|g| !g.is_empty()) {
                Some(glob) => Some((glob_regex(glob, case_sensitive)?, glob.contains('/'))),
                None => None,
            },
            content: None,
            case_sensitive,
        };
        matcher.name = query
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| matcher.fold(n));
        matcher.content = query
            .content
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| matcher.fold(c));

        let base = clean(directory)?;
        let mut summary = Summary {
            done: true,
            scanned: 0,
            hits: 0,
            truncated: false,
            elapsed_ms: 0,
        };
        let mut pending: Vec<PathBuf> = vec![base.clone()];
        'walk: while let Some(dir) = pending.pop() {
            let listing = match self.root.read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                &dir
            }) {
                Ok(listing) => listing,
                // The top must exist; a folder deleted meanwhile is skipped.
                Err(err) if dir == base => return Err(fail(directory, err)),
                Err(_) => continue,
            };
            let mut names = Vec::new();
            for entry in listing.flatten() {
                names.push(entry);
            }
            names.sort_by_key(|entry| entry.file_name());
            // Folders are walked in name order after this one's entries.
            let mut folders = Vec::new();
            for entry in names {
                summary.scanned += 1;
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(file_type) = entry.file_type() else {
                    continue;
                };
                let relative = dir.join(&name);
                if file_type.is_dir() {
                    folders.push(relative.clone());
                }
                let Ok(metadata) = entry.metadata() else {
                    continue;
                };
                let below = relative
                    .strip_prefix(&base)
                    .unwrap_or(&relative)
                    .to_string_lossy()
                    .into_owned();
                let size = if file_type.is_file() {
                    metadata.len()
                } else {
                    0
                };
                let modified = seconds(metadata.modified().ok().map(|time| time.into_std()));
                if !passes(
                    &matcher,
                    query,
                    &name,
                    &below,
                    size,
                    modified,
                    file_type.is_file(),
                ) {
                    continue;
                }
                let mut matches = Vec::new();
                if let Some(needle) = &matcher.content {
                    if !file_type.is_file() || size > MAX_CONTENT_BYTES {
                        continue;
                    }
                    matches = self.lines_matching(&relative, needle, &matcher)?;
                    if matches.is_empty() {
                        continue;
                    }
                }
                summary.hits += 1;
                let hit = Hit {
                    path: format!("/{}", relative.display()),
                    size,
                    modified,
                    directory: file_type.is_dir(),
                    matches,
                };
                if !found(hit) {
                    summary.done = false;
                    break 'walk;
                }
                if summary.hits as usize >= limit {
                    summary.truncated = true;
                    break 'walk;
                }
            }
            pending.extend(folders.into_iter().rev());
        }
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(summary)
    }

    /// Lines of a text file holding `needle` (already case-folded); none for binary
    /// files or files that cannot be opened as regular files.
    fn lines_matching(
        &self,
        path: &Path,
        needle: &str,
        matcher: &Matcher,
    ) -> Result<Vec<LineMatch>> {
        let display = path.display().to_string();
        let Ok(file) = super::open_regular(&self.root, path, &mut super::read_options(), &display)
        else {
            return Ok(Vec::new());
        };
        // A NUL in the first 8 KiB marks a binary file: the rest is not read.
        let mut file = file.into_std();
        let mut bytes = Vec::new();
        (&mut file)
            .take(8192)
            .read_to_end(&mut bytes)
            .map_err(|err| fail(&display, err))?;
        if bytes.contains(&0) {
            return Ok(Vec::new());
        }
        file.take(MAX_CONTENT_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|err| fail(&display, err))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut matches = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if matcher.fold(line).contains(needle) {
                matches.push(LineMatch {
                    line: index as u64 + 1,
                    text: line.chars().take(LINE_CHARS).collect(),
                });
                if matches.len() == MATCHES_PER_FILE {
                    break;
                }
            }
        }
        Ok(matches)
    }
}

/// Whether an entry passes the name, glob, size and date filters.
fn passes(
    matcher: &Matcher,
    query: &SearchQuery,
    name: &str,
    below: &str,
    size: u64,
    modified: u64,
    is_file: bool,
) -> bool {
    if let Some(wanted) = &matcher.name
        && !matcher.fold(name).contains(wanted.as_str())
    {
        return false;
    }
    if let Some((glob, whole_path)) = &matcher.glob
        && !glob.is_match(if *whole_path { below } else { name })
    {
        return false;
    }
    if (query.min_size.is_some() || query.max_size.is_some()) && !is_file {
        return false;
    }
    query.min_size.is_none_or(|min| size >= min)
        && query.max_size.is_none_or(|max| size <= max)
        && query.modified_after.is_none_or(|after| modified >= after)
        && query
            .modified_before
            .is_none_or(|before| modified <= before)
}

#[cfg(test)]
mod tests {
    use super::glob_regex;

    #[test]
    fn globs_read_as_shells_read_them() {
        let cases = [
            ("*.yml", "config.yml", true),
            ("*.yml", "config.yaml", false),
            ("*.YML", "config.yml", true),
            ("plugins/**/config.yml", "plugins/a/b/config.yml", true),
            ("plugins/**/config.yml", "plugins/config.yml", true),
            ("plugins/*/config.yml", "plugins/a/b/config.yml", false),
            ("level?.dat", "level1.dat", true),
            ("[ab].txt", "a.txt", true),
            ("[!ab].txt", "a.txt", false),
            ("a+b(c).txt", "a+b(c).txt", true),
        ];
        for (glob, path, expected) in cases {
            assert_eq!(
                glob_regex(glob, false).unwrap().is_match(path),
                expected,
                "{glob} ~ {path}"
            );
        }
        assert!(!glob_regex("*.YML", true).unwrap().is_match("config.yml"));
    }
}
