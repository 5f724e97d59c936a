//! What changed between two revisions, line by line: a unified diff for scripts and
//! people, and the same hunks as data for the web page.

use std::time::Duration;

use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff};

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Past this the diff settles for coarser hunks rather than keep the request waiting.
const BUDGET: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
pub struct Diff {
    pub unified: String,
    pub hunks: Vec<Hunk>,
    pub added: usize,
    pub removed: usize,
}

#[derive(Debug, Serialize)]
pub struct Hunk {
    /// 1-based first line in the older text, and how many lines of it the hunk shows.
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    /// `context`, `removed` or `added`.
    pub kind: &'static str,
    pub text: String,
}

/// The diff from `old` to `new` (bytes that are not UTF-8 are shown replaced).
pub fn between(old: &[u8], new: &[u8], old_name: &str, new_name: &str) -> Diff {
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(BUDGET)
        .diff_lines(old.as_ref(), new.as_ref());
    let mut hunks = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (old_range, new_range) = (
            first.old_range().start..last.old_range().end,
            first.new_range().start..last.new_range().end,
        );
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Equal => "context",
                    ChangeTag::Delete => {
                        removed += 1;
                        "removed"
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        "added"
                    }
                };
                let text = change.value();
                lines.push(Line {
                    kind,
                    text: text.strip_suffix('\n').unwrap_or(text).to_string(),
                });
            }
        }
        hunks.push(Hunk {
            old_start: old_range.start + 1,
            old_lines: old_range.len(),
            new_start: new_range.start + 1,
            new_lines: new_range.len(),
            lines,
        });
    }
    let unified = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(old_name, new_name)
        .to_string();
    Diff {
        unified,
        hunks,
        added,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_name_lines_as_editors_number_them() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let diff = between(old.as_bytes(), new.as_bytes(), "r1", "r2");
        assert_eq!((diff.added, diff.removed), (2, 1));
        assert_eq!(diff.hunks.len(), 1);
        let hunk = &diff.hunks[0];
        assert_eq!((hunk.old_start, hunk.new_start), (2, 2));
        assert!(
            diff.unified.starts_with("--- r1\n+++ r2\n@@ -2,7 +2,8 @@"),
            "{}",
            diff.unified
        );
        let changed: Vec<_> = hunk
            .lines
            .iter()
            .filter(|line| line.kind != "context")
            .map(|line| format!("{} {}", line.kind, line.text))
            .collect();
        assert_eq!(changed, ["removed e", "added E", "added i"]);
    }

    #[test]
    fn equal_texts_have_no_hunks() {
        let diff = between(b"same\n", b"same\n", "a", "b");
        assert!(diff.hunks.is_empty() && diff.unified.is_empty());
    }
}
