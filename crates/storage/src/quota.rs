//! The per-project storage quota, accounted in the shared platform store so that every server on
//! it agrees (the original used a conditional `$inc` on the project document).
//!
//! The ledger is a chain of versions: version `n` of a project is the document
//! `{projectId, version: n, used}` whose `_id` is derived from (project, n); version 0 is
//! implicit with `used = 0`. A change reads the latest version `n` (the project's document
//! count: versions are only ever appended one after another), checks the new total against the
//! quota, and inserts version `n + 1`. Both store backends refuse a second document with the same
//! `_id` atomically, so of all changes racing from version `n` exactly one lands and the others
//! read again: every total is derived from the one before it and no interleaving exceeds the
//! quota (a test races 40 reservations, and shows a read-check-write counter overshooting).
//!
//! A quota of 0 means unlimited (totals are still kept). The ledger of a project's own bucket
//! counts nothing ([`Ledger::uncounted`]): those bytes are the project's, not the server's.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::StorageError;
use crate::records::{LEDGER_COLLECTION, Records, derived_id};

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
        let n = self.records.count_project(LEDGER_COLLECTION, project_id).await?;
        if n == 0 {
            return Ok((0, 0));
        }
        let doc = self.records.get(LEDGER_COLLECTION, &version_id(project_id, n)).await?;
        let used = doc.as_ref().and_then(|d| d.get("used")).and_then(Value::as_u64);
        let used = used.ok_or_else(|| StorageError::Internal(format!("ledger version {n} of {project_id} missing")))?;
        Ok((n, used))
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
                return Ok(());
            }
            // Another change landed first: read again.
            tokio::task::yield_now().await;
        }
    }
}

fn version_id(project_id: &str, n: u64) -> String {
    derived_id(&format!("storage-ledger:{project_id}:{n}"))
}
