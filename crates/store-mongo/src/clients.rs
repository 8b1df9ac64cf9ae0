//! Bring-your-own databases (spec §13.6): [`MongoClients`] keeps one driver client per project
//! URI, shared by every [`MongoStore`] handed out for it, and closes the clients that have been
//! idle for a while (20 minutes by default, as the original does).
//!
//! A client counts as used whenever a store built from it runs an operation. An idle entry is
//! removed from the cache; its client is shut down at once when no store built from it is alive
//! any more (otherwise the last such store closes it when dropped). Idle entries are reaped by a
//! background task (started when the cache is created inside a Tokio runtime) and at every
//! [`MongoClients::store_for`]; [`MongoClients::close_idle`] reaps on demand. URIs are kept only
//! in memory, as keys; `Debug` shows how many clients are open, never a URI.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use mongodb::Client;
use store::StoreError;

use crate::{MongoStore, uri};

/// How long a BYO client may stay unused before it is closed.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(20 * 60);

/// When a client was last used: shared by the cache entry and every store built from it.
#[derive(Debug)]
pub(crate) struct Activity {
    since: Instant,
    /// Milliseconds after `since`.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { since: Instant::now(), last: AtomicU64::new(0) }
    }

    /// Records a use now.
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.fetch_max(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        self.since.elapsed().saturating_sub(Duration::from_millis(self.last.load(Ordering::Relaxed)))
    }
}

struct Entry {
    client: Client,
    database: String,
    label: Arc<str>,
    activity: Arc<Activity>,
}

/// A cache of MongoDB clients by URI, for projects that bring their own database.
///
/// ```no_run
/// # async fn run() -> Result<(), store::StoreError> {
/// let clients = store_mongo::MongoClients::new(store_mongo::DEFAULT_IDLE);
/// let store = clients.store_for("mongodb://app:secret@db.example:27017/shop").await?;
/// # let _ = store; Ok(()) }
/// ```
pub struct MongoClients {
    idle: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl fmt::Debug for MongoClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoClients").field("idle", &self.idle).field("open", &self.len()).finish()
    }
}

impl MongoClients {
    /// A cache that closes clients unused for `idle`. Inside a Tokio runtime it also starts a
    /// task that reaps idle clients in the background; the task ends with the cache.
    pub fn new(idle: Duration) -> Arc<Self> {
        let clients = Arc::new(Self { idle, entries: Mutex::new(HashMap::new()) });
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&clients);
            let period = (idle / 2).clamp(Duration::from_millis(50), Duration::from_secs(60));
            handle.spawn(reaper(weak, period));
        }
        clients
    }

    /// The idle period.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// A store on the database `uri` names (or [`uri::DEFAULT_DATABASE`]), sharing the cached
    /// client for that URI, created on first use. An unreachable server is reported by the
    /// store's operations ([`StoreError::Unavailable`]), not here; a malformed URI is
    /// [`StoreError::InvalidInput`] (its text never contains the password).
    pub async fn store_for(&self, uri: &str) -> Result<MongoStore, StoreError> {
        self.close_idle();
        if let Some(store) = self.cached(uri) {
            return Ok(store);
        }
        let (client, database) = uri::client(uri).await?;
        let database = uri::checked_database(database.as_deref().unwrap_or(uri::DEFAULT_DATABASE))?.to_owned();
        let entry = Entry { client, database, label: Arc::from(uri::redact(uri)), activity: Arc::new(Activity::new()) };
        // Another task may have raced us here: keep the first client, drop ours.
        let mut entries = self.lock();
        let entry = entries.entry(uri.to_owned()).or_insert(entry);
        entry.activity.touch();
        Ok(store_of(entry))
    }

    fn cached(&self, uri: &str) -> Option<MongoStore> {
        let entries = self.lock();
        let entry = entries.get(uri)?;
        entry.activity.touch();
        Some(store_of(entry))
    }

    /// Removes the clients idle for longer than the idle period (see the module docs) and
    /// returns how many were removed.
    pub fn close_idle(&self) -> usize {
        let idle: Vec<Entry> = {
            let mut entries = self.lock();
            let keys: Vec<String> =
                entries.iter().filter(|(_, e)| e.activity.idle() >= self.idle).map(|(k, _)| k.clone()).collect();
            keys.iter().filter_map(|k| entries.remove(k)).collect()
        };
        let removed = idle.len();
        for entry in idle {
            // Only the cache holds the activity: no store of this client is alive.
            if Arc::strong_count(&entry.activity) == 1 {
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    handle.spawn(entry.client.shutdown().immediate(true).into_future());
                }
            }
        }
        removed
    }

    /// How many clients are open in the cache.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // The map stays consistent even if a holder panicked: recover it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn store_of(entry: &Entry) -> MongoStore {
    MongoStore::from_parts(entry.client.clone(), &entry.database, entry.label.clone(), Some(entry.activity.clone()))
}

async fn reaper(clients: Weak<MongoClients>, period: Duration) {
    loop {
        tokio::time::sleep(period).await;
        match clients.upgrade() {
            Some(clients) => {
                clients.close_idle();
            }
            None => return,
        }
    }
}
