//! Slows password guessing and bounds what it costs: after a few failed logins for the
//! same address and account, further attempts are refused for a while; and password
//! checks (an argon2 hash each, 19 MiB and tens of milliseconds) run a few at a time
//! and at a bounded rate per server and overall, so a login flood cannot take the
//! panel's memory or CPU.

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

/// Password checks running at once (each holds an argon2 working set).
const CHECKS_AT_ONCE_PER_CORE: usize = 2;
/// How long a check waits for its turn before the caller is told to come back.
const CHECK_WAIT: Duration = Duration::from_secs(2);
/// Password checks per minute for one server, and for the whole panel.
pub const CHECKS_PER_SERVER_MINUTE: u32 = 120;
pub const CHECKS_PER_MINUTE: u32 = 1_200;

/// Admission for password checks.
pub struct PasswordGate {
    running: tokio::sync::Semaphore,
    /// key → (checks in the current minute, when it started).
    windows: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for PasswordGate {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        PasswordGate {
            running: tokio::sync::Semaphore::new(cores * CHECKS_AT_ONCE_PER_CORE),
            windows: Mutex::default(),
        }
    }
}

impl PasswordGate {
    /// Admits one password check for `server`, or says why not. The permit is held
    /// for the duration of the check.
    pub async fn admit(
        &self,
        server: &str,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, &'static str> {
        if !self.count(&format!("server:{server}"), CHECKS_PER_SERVER_MINUTE)
            || !self.count("all", CHECKS_PER_MINUTE)
        {
            return Err("too many login attempts right now; wait a minute before trying again");
        }
        match tokio::time::timeout(CHECK_WAIT, self.running.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err("the panel is busy checking logins; try again shortly"),
        }
    }

    fn count(&self, key: &str, per_minute: u32) -> bool {
        let mut windows = self.windows.lock().expect("gate lock");
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = windows
            .entry(key.to_string())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        if entry.0 >= per_minute {
            return false;
        }
        entry.0 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn password_checks_are_bounded_per_server_and_at_once() {
        let gate = PasswordGate::default();
        let mut admitted = 0;
        for _ in 0..CHECKS_PER_SERVER_MINUTE + 5 {
            if let Ok(permit) = gate.admit("abcd1234").await {
                admitted += 1;
                drop(permit);
            }
        }
        assert_eq!(admitted, CHECKS_PER_SERVER_MINUTE);
        // Another server still has its own allowance.
        assert!(gate.admit("ffff0000").await.is_ok());

        // Checks beyond the concurrent limit wait, then are turned away.
        let gate = PasswordGate {
            running: tokio::sync::Semaphore::new(1),
            windows: Mutex::default(),
        };
        let held = gate.admit("s").await.unwrap();
        let refused = gate.admit("s").await.unwrap_err();
        assert!(refused.contains("busy"), "{refused}");
        drop(held);
        assert!(gate.admit("s").await.is_ok());
    }

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
