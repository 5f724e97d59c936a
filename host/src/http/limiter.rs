//! Slows password guessing: after a few failed logins for the same address and
//! account, further attempts are refused for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed within [`WINDOW`] before logins are refused.
const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);
/// Entries kept before expired ones are swept, so a flood cannot grow memory.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn allow(&self, key: &str) -> bool {
        let failures = self.failures.lock().expect("limiter lock");
        match failures.get(key) {
            Some((count, since)) => *count < MAX_FAILURES || since.elapsed() >= WINDOW,
            None => true,
        }
    }

    pub fn failed(&self, key: &str) {
        let mut failures = self.failures.lock().expect("limiter lock");
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = failures
            .entry(key.to_string())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_repeated_failures_only_for_that_key() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allow("1.2.3.4|ada"));
            limiter.failed("1.2.3.4|ada");
        }
        assert!(!limiter.allow("1.2.3.4|ada"));
        assert!(limiter.allow("1.2.3.4|grace"));
        limiter.succeeded("1.2.3.4|ada");
        assert!(limiter.allow("1.2.3.4|ada"));
    }
}
