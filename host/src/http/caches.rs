//! Short-lived memory of what the busiest requests cost to compute: verified session
//! cookies (a browser making many requests costs one lookup every few seconds; API
//! keys are verified on every request, so a revocation holds at once everywhere) and
//! server list pages (read far more often than servers change).
//!
//! A change made through this panel invalidates at once (any activity empties the
//! lists; one about users, roles, keys or sessions empties the credentials); a change
//! made elsewhere (another panel instance, the CLI) shows within [`LIFETIME`] or
//! [`LIST_LIFETIME`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::db::users::Identity;

pub const LIFETIME: Duration = Duration::from_secs(5);
pub const LIST_LIFETIME: Duration = Duration::from_secs(2);
/// Entries kept before the cache starts over, so a flood of keys cannot grow memory.
const CAPACITY: usize = 10_000;

type Entry = (Identity, Option<i64>, Instant);

#[derive(Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

/// The cache key: a hash, so the map never holds a credential.
pub fn key(kind: &str, credential: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(credential.as_bytes());
    hasher.finalize().into()
}

impl IdentityCache {
    pub fn get(&self, key: &[u8; 32]) -> Option<(Identity, Option<i64>)> {
        let entries = self.entries.lock().expect("identity cache lock");
        let (identity, impersonator, until) = entries.get(key)?;
        (Instant::now() < *until).then(|| (identity.clone(), *impersonator))
    }

    pub fn insert(&self, key: [u8; 32], identity: &Identity, impersonator: Option<i64>) {
        let mut until = Instant::now() + LIFETIME;
        if let Some(valid_until) = identity.valid_until {
            let left = (valid_until - chrono::Utc::now())
                .to_std()
                .unwrap_or_default();
            until = until.min(Instant::now() + left);
        }
        let mut entries = self.entries.lock().expect("identity cache lock");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (identity.clone(), impersonator, until));
    }

    pub fn clear(&self) {
        self.entries.lock().expect("identity cache lock").clear();
    }
}

/// Both caches; every change recorded through `actions::Core` reaches them as its
/// `ChangeObserver`.
#[derive(Default)]
pub struct Caches {
    pub identities: IdentityCache,
    pub lists: ListCache,
}

/// Changes to these decide who a credential is: users, roles, keys and sessions.
const IDENTITY_EVENTS: &[&str] = &["admin.user.", "admin.role.", "user.", "auth."];

impl crate::actions::ChangeObserver for Caches {
    fn changed(&self, event: &str) {
        self.lists.invalidate();
        if IDENTITY_EVENTS
            .iter()
            .any(|prefix| event.starts_with(prefix))
        {
            self.identities.clear();
        }
    }
}

/// Rendered list pages, keyed by who asks and which page; a generation counter bumped
/// by every change makes older entries misses.
#[derive(Default)]
pub struct ListCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, Instant, axum::body::Bytes)>>,
}

impl ListCache {
    pub fn get(&self, key: &str) -> Option<axum::body::Bytes> {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.lock().expect("list cache lock");
        let (stored, at, body) = entries.get(key)?;
        (*stored == generation && at.elapsed() < LIST_LIFETIME).then(|| body.clone())
    }

    /// Stores a page computed while `generation` was current (a change in between
    /// makes it a miss, so a stale page is never kept).
    pub fn insert(&self, key: String, generation: u64, body: axum::body::Bytes) {
        let mut entries = self.entries.lock().expect("list cache lock");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (generation, Instant::now(), body));
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
