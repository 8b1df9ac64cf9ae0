//! The per-project storage quota, accounted in the shared platform store so that every server on
//! it agrees (the original used a conditional `$inc` on the project document).
//!
//! The ledger is a chain of versions: version `n` of a project is the document
//! `{projectId, version: n, used}` whose `_id` is derived from (project, n); version 0 is
//! implicit with `used = 0`. A change reads the latest version `n` (the greatest `version` of
//! the project), checks the new total against the quota, and inserts version `n + 1`. Both store
//! backends refuse a second document with the same `_id` atomically, so of all changes racing
//! from version `n` exactly one lands and the others read again: every total is derived from the
//! one before it and no interleaving exceeds the quota (a test races 40 reservations, and shows a
//! read-check-write counter overshooting).
//!
//! **Compaction.** Every [`COMPACT_EVERY`]th version, the writer deletes the project's versions
//! that are [`KEEP`] or more behind it and older than [`MIN_AGE_MS`], so a project's ledger stays
//! a few dozen documents however many files come and go. A deleted id could be inserted again
//! only by a writer that read the latest version more than [`MIN_AGE_MS`] before writing; should
//! that ever happen, the writer sees versions far beyond its own right after inserting, removes
//! its stale version and reads again (at worst a change counted twice, never one lost).
//!
//! A quota of 0 means unlimited (totals are still kept). The ledger of a project's own bucket
//! counts nothing ([`Ledger::uncounted`]): those bytes are the project's, not the server's.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::StorageError;
use crate::records::{LEDGER_COLLECTION, Records, derived_id};

/// A writer compacts after every this many versions.
pub(crate) const COMPACT_EVERY: u64 = 64;
/// Versions this far behind the newest one may be deleted.
pub(crate) const KEEP: u64 = 16;
/// Versions younger than this (milliseconds) are never deleted.
pub(crate) const MIN_AGE_MS: i64 = 3_600_000;

/// The storage ledger of every project.
pub struct Ledger {
    records: Arc<Records>,
    quota: u64,
    counting: bool,
}

impl Ledger {
    pub(crate) fn new(records: Arc<Records>, quota: u64) -> Ledger {
        Ledger { records, quota, counting: true }
    }

    /// A ledger that charges and releases nothing (a project's own bucket).
    pub(crate) fn uncounted(records: Arc<Records>) -> Ledger {
        Ledger { records, quota: 0, counting: false }
    }

    /// The quota in bytes (0: unlimited).
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// The latest version of a project and its total.
    async fn latest(&self, project_id: &str) -> Result<(u64, u64), StorageError> {
        let Some(doc) = self.records.last_of_project(LEDGER_COLLECTION, project_id, "version").await? else {
            return Ok((0, 0));
        };
        let number = |field: &str| doc.get(field).and_then(Value::as_u64);
        match (number("version"), number("used")) {
            (Some(n), Some(used)) => Ok((n, used)),
            _ => Err(StorageError::Internal(format!("malformed ledger version of {project_id}"))),
        }
    }

    /// The project's newest version number and total (what [`Ledger::set_if_unchanged`] takes).
    pub(crate) async fn version(&self, project_id: &str) -> Result<(u64, u64), StorageError> {
        self.latest(project_id).await
    }

    /// Sets the project's total to `total` if no change landed since version `seen`; whether it
    /// did (the one conditional insert of version `seen + 1`, as every change).
    pub(crate) async fn set_if_unchanged(&self, project_id: &str, seen: u64, total: u64) -> Result<bool, StorageError> {
        if !self.counting {
            return Ok(true);
        }
        let version = seen + 1;
        let doc = json!({
            "_id": version_id(project_id, version), "projectId": project_id, "version": version, "used": total,
        });
        self.records.insert_new(LEDGER_COLLECTION, doc).await
    }

    /// The bytes a project holds (and has reserved).
    pub async fn used(&self, project_id: &str) -> Result<u64, StorageError> {
        Ok(self.latest(project_id).await?.1)
    }

    /// Whether `bytes` more would fit now (a peek: nothing is reserved).
    pub async fn fits(&self, project_id: &str, bytes: u64) -> Result<bool, StorageError> {
        Ok(!self.counting || self.quota == 0 || self.used(project_id).await?.saturating_add(bytes) <= self.quota)
    }

    /// Reserves `bytes`, or refuses with [`StorageError::QuotaExceeded`].
    pub async fn reserve(&self, project_id: &str, bytes: u64) -> Result<(), StorageError> {
        self.change(project_id, |used| {
            let total = used.saturating_add(bytes);
            if self.quota != 0 && total > self.quota { None } else { Some(total) }
        })
        .await
    }

    /// Gives `bytes` back.
    pub async fn release(&self, project_id: &str, bytes: u64) -> Result<(), StorageError> {
        if bytes == 0 {
            return Ok(());
        }
        self.change(project_id, |used| Some(used.saturating_sub(bytes))).await
    }

    async fn change(&self, project_id: &str, next: impl Fn(u64) -> Option<u64>) -> Result<(), StorageError> {
        if !self.counting {
            return Ok(());
        }
        loop {
            let (n, used) = self.latest(project_id).await?;
            let total = next(used).ok_or(StorageError::QuotaExceeded)?;
            let version = n + 1;
            let doc = json!({
                "_id": version_id(project_id, version), "projectId": project_id, "version": version, "used": total,
            });
            if self.records.insert_new(LEDGER_COLLECTION, doc).await? {
                if self.latest(project_id).await?.0 >= version.saturating_add(KEEP) {
                    // A version compacted away long ago, written again by a stale writer.
                    self.records.delete(LEDGER_COLLECTION, &version_id(project_id, version)).await?;
                    continue;
                }
                if version % COMPACT_EVERY == 0 {
                    self.compact(project_id, version).await?;
                }
                return Ok(());
            }
            // Another change landed first: read again.
            tokio::task::yield_now().await;
        }
    }
}

impl Ledger {
    /// Deletes the project's versions [`KEEP`] or more behind `newest` and older than
    /// [`MIN_AGE_MS`]; how many.
    pub(crate) async fn compact(&self, project_id: &str, newest: u64) -> Result<usize, StorageError> {
        let Some(max) = newest.checked_sub(KEEP) else { return Ok(0) };
        let cutoff = chrono::Utc::now().timestamp_millis().saturating_sub(MIN_AGE_MS);
        self.compact_before(project_id, max, cutoff).await
    }

    async fn compact_before(&self, project_id: &str, max: u64, cutoff_ms: i64) -> Result<usize, StorageError> {
        // At most two rounds' worth per call: compaction keeps pace with the writes that cause it.
        let limit = u32::try_from(2 * COMPACT_EVERY).unwrap_or(u32::MAX);
        self.records.delete_old_of_project(LEDGER_COLLECTION, project_id, ("version", max), cutoff_ms, limit).await
    }
}

fn version_id(project_id: &str, n: u64) -> String {
    derived_id(&format!("storage-ledger:{project_id}:{n}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const P: &str = "65a0c0de0000000a0000000b";

    fn ledger() -> (Ledger, Arc<Records>) {
        let store: Arc<dyn store::DocumentStore> = Arc::new(store_sqlite::SqliteStore::open_in_memory().unwrap());
        let records = Arc::new(Records::new(store));
        (Ledger::new(records.clone(), 0), records)
    }

    async fn versions(records: &Records) -> u64 {
        let all = records.find_project(LEDGER_COLLECTION, P, 10_000).await.unwrap();
        all.len() as u64
    }

    #[tokio::test]
    async fn compaction_keeps_the_total_and_only_recent_versions() {
        let (ledger, records) = ledger();
        for _ in 0..150 {
            ledger.reserve(P, 10).await.unwrap();
        }
        assert_eq!(versions(&records).await, 150, "young versions are never deleted");
        let in_two_hours = chrono::Utc::now().timestamp_millis() + 2 * MIN_AGE_MS;
        let deleted = ledger.compact_before(P, 150 - KEEP, in_two_hours).await.unwrap();
        assert_eq!(deleted, 128, "one call deletes at most two rounds' worth");
        ledger.compact_before(P, 150 - KEEP, in_two_hours).await.unwrap();
        assert_eq!(versions(&records).await, KEEP, "the newest versions stay");
        assert_eq!(ledger.used(P).await.unwrap(), 1_500);
        ledger.release(P, 500).await.unwrap();
        assert_eq!(ledger.used(P).await.unwrap(), 1_000, "the chain goes on from the newest version");
    }

    #[tokio::test]
    async fn a_stale_version_written_after_compaction_changes_nothing() {
        let (ledger, records) = ledger();
        for _ in 0..40 {
            ledger.reserve(P, 10).await.unwrap();
        }
        let in_two_hours = chrono::Utc::now().timestamp_millis() + 2 * MIN_AGE_MS;
        ledger.compact_before(P, 40 - KEEP, in_two_hours).await.unwrap();
        // A writer that read version 4 long ago writes version 5 now: it must not stand.
        let stale = json!({"_id": version_id(P, 5), "projectId": P, "version": 5, "used": 50});
        assert!(records.insert_new(LEDGER_COLLECTION, stale).await.unwrap());
        assert_eq!(ledger.used(P).await.unwrap(), 400, "the newest version decides");
        ledger.reserve(P, 10).await.unwrap();
        assert_eq!(ledger.used(P).await.unwrap(), 410);
    }
}
