//! Fault points: named places in multi-step actions where a test can make the panel
//! die the way `kill -9` would, to prove that whatever it leaves behind is either the
//! old state or one the panel completes when it comes back.
//!
//! `HATCHERY_FAULT_POINT=<name>` arms one point for the process. Nothing else reads
//! it, and an unarmed point costs one comparison.

use std::sync::OnceLock;

/// Every fault point, so tests can walk them all and a typo is caught.
pub const POINTS: &[&str] = &[
    "server.create.recorded",
    "server.create.told_wings",
    "server.delete.recorded",
    "server.delete.told_wings",
    "server.reinstall.recorded",
    "server.update.recorded",
    "allocation.claim.recorded",
    "allocation.primary.recorded",
    "allocation.release.recorded",
];

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var("HATCHERY_FAULT_POINT").ok())
        .as_deref()
}

/// Dies at once (SIGKILL: no destructors, no flushing) when `name` is the armed point.
pub fn point(name: &'static str) {
    debug_assert!(POINTS.contains(&name), "unknown fault point {name}");
    if armed() == Some(name) {
        eprintln!("fault point {name} reached: killing the process");
        // SAFETY: kill(2) on our own pid with a valid signal number.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        std::process::abort();
    }
}
