//! A server's console: recent output kept for clients that connect later, live output
//! for those connected, and a throttle so a flooding server never blocks wings or
//! drowns its clients.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lines kept for clients that connect later.
pub const HISTORY_LINES: usize = 500;
/// Lines per second passed on live before the rest of that second is summarised.
pub const LINES_PER_SECOND: usize = 2_000;

#[derive(Default)]
pub struct Console {
    inner: Mutex<ConsoleState>,
}

#[derive(Default)]
struct ConsoleState {
    history: VecDeque<String>,
    /// Bytes after the last newline, waiting for the rest of their line.
    partial: String,
    window_start: Option<Instant>,
    window_lines: usize,
    dropped: usize,
}

impl Console {
    /// Splits `bytes` into lines; returns the lines to publish live (a throttled burst
    /// ends with one notice saying how many lines were held back). Every line goes to
    /// the history, so a client connecting later still sees the latest output.
    pub fn push(&self, bytes: &[u8]) -> Vec<String> {
        let mut state = self.inner.lock().expect("console lock");
        state.partial.push_str(&String::from_utf8_lossy(bytes));
        let mut live = Vec::new();
        while let Some(newline) = state.partial.find('\n') {
            let line: String = state.partial.drain(..=newline).collect();
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            state.history.push_back(line.clone());
            if state.history.len() > HISTORY_LINES {
                state.history.pop_front();
            }
            let now = Instant::now();
            if state
                .window_start
                .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(1))
            {
                if state.dropped > 0 {
                    live.push(format!(
                        "[wings] {} lines of output were not shown live (too much output)",
                        state.dropped
                    ));
                }
                state.window_start = Some(now);
                state.window_lines = 0;
                state.dropped = 0;
            }
            if state.window_lines < LINES_PER_SECOND {
                state.window_lines += 1;
                live.push(line);
            } else {
                state.dropped += 1;
            }
        }
        live
    }

    /// The most recent lines, oldest first.
    pub fn history(&self) -> Vec<String> {
        self.inner
            .lock()
            .expect("console lock")
            .history
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        let mut state = self.inner.lock().expect("console lock");
        state.history.clear();
        state.partial.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks_and_kept() {
        let console = Console::default();
        assert!(console.push(b"hel").is_empty());
        assert_eq!(console.push(b"lo\r\nwor"), ["hello"]);
        assert_eq!(console.push(b"ld\n"), ["world"]);
        assert_eq!(console.history(), ["hello", "world"]);
    }

    #[test]
    fn history_is_bounded() {
        let console = Console::default();
        for index in 0..HISTORY_LINES + 10 {
            console.push(format!("line {index}\n").as_bytes());
        }
        let history = console.history();
        assert_eq!(history.len(), HISTORY_LINES);
        assert_eq!(history[0], "line 10");
    }

    #[test]
    fn floods_are_throttled_not_blocked() {
        let console = Console::default();
        let flood: String = (0..LINES_PER_SECOND + 500)
            .map(|i| format!("{i}\n"))
            .collect();
        let live = console.push(flood.as_bytes());
        assert_eq!(live.len(), LINES_PER_SECOND);
        // Everything is still in the history for late clients.
        assert_eq!(
            console.history().last().unwrap(),
            &format!("{}", LINES_PER_SECOND + 499)
        );
    }
}
