//! Uploads that never finished: a server that stops in the middle of an upload (or of the
//! confirmation of a direct upload) leaves a file record in state `uploading`, maybe a partial
//! object, and bytes reserved in the project's quota ledger that nothing will give back.
//!
//! [`Files::sweep_abandoned_uploads`] finds records left `uploading` for more than
//! [`ABANDONED_AFTER_MS`] (a day: no live upload takes that long) and, per project, recounts the
//! ledger from the files that are stored (`provider` internal: the server's quota), then removes
//! the abandoned records and their objects. The recount is safe against live traffic: it reads
//! the ledger's newest version first, skips a project that has an upload in flight, and writes
//! the recounted total as the very next version, which the store refuses if any change landed in
//! between (the project is then recounted at a later sweep). Records are removed only after the
//! recount stands, so a failed round leaves everything for the next one.
//!
//! [`Files::sweep_unconfirmed_uploads`] removes what a presigned upload to a bucket left when it
//! was never confirmed (the client stopped between its PUT and `upload-confirm`): every presigned
//! URL handed out is recorded (`REQUESTS_COLLECTION`); a record older than
//! [`UNCONFIRMED_AFTER_MS`] whose path has no file record is an upload nobody will confirm. The
//! sweep takes the file record itself (the latch a confirmation takes, so the two exclude each
//! other), deletes the object, then the latch and the request.

use std::collections::BTreeMap;

use object_store::path::Path;
use serde_json::Value;
use store::Document;

use crate::backend::PROVIDER;
use crate::error::StorageError;
use crate::records::{FILES_COLLECTION, REQUESTS_COLLECTION, derived_id};
use crate::{Files, upload};

/// How long an upload may stay unfinished before it counts as abandoned.
pub const ABANDONED_AFTER_MS: i64 = 24 * 3600 * 1000;
/// How long a presigned upload may stay unconfirmed before its object is removed.
pub const UNCONFIRMED_AFTER_MS: i64 = 24 * 3600 * 1000;
/// Records (abandoned uploads, unconfirmed requests) handled per sweep.
const BATCH: u32 = 100;
/// The most file records of one project a recount reads (larger projects are left alone).
const RECOUNT_LIMIT: u32 = 100_000;

fn state(doc: &Document) -> Option<&str> {
    doc.get("state").and_then(Value::as_str)
}

fn created_ms(doc: &Document) -> Option<i64> {
    let text = doc.get("createdAt").and_then(Value::as_str)?;
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// Whether a stored file counts against the server's quota (records older than the provider
/// field are the server's).
fn charged(doc: &Document) -> bool {
    doc.get("provider").and_then(Value::as_str).is_none_or(|p| p == PROVIDER)
}

impl Files {
    /// One sweep at `now_ms`; how many abandoned uploads it removed.
    pub async fn sweep_abandoned_uploads(&self, now_ms: i64) -> Result<usize, StorageError> {
        let cutoff = now_ms.saturating_sub(ABANDONED_AFTER_MS);
        let stale = self.records.in_state_before(FILES_COLLECTION, "uploading", cutoff, BATCH).await?;
        let mut by_project: BTreeMap<String, Vec<Document>> = BTreeMap::new();
        for doc in stale {
            if let Some(project) = doc.get("projectId").and_then(Value::as_str) {
                by_project.entry(project.to_owned()).or_default().push(doc);
            }
        }
        let mut removed = 0;
        for (project, abandoned) in by_project {
            if self.recount(&project, cutoff).await? {
                removed += self.remove_abandoned(&project, &abandoned).await?;
            }
        }
        Ok(removed)
    }

    /// One sweep of presigned uploads at `now_ms`; how many unconfirmed objects it removed.
    pub async fn sweep_unconfirmed_uploads(&self, now_ms: i64) -> Result<usize, StorageError> {
        let cutoff = now_ms.saturating_sub(UNCONFIRMED_AFTER_MS);
        let stale = self.records.in_state_before(REQUESTS_COLLECTION, "requested", cutoff, BATCH).await?;
        let mut removed = 0;
        for request in stale {
            let (Some(project), Some(path)) =
                (request.get("projectId").and_then(Value::as_str), request.get("path").and_then(Value::as_str))
            else {
                continue;
            };
            let id = derived_id(path);
            let backend = self.backends.of(project)?;
            // Confirmed, or being confirmed, when the file record exists; otherwise it is ours.
            if self.records.insert_new(FILES_COLLECTION, backend.new_record(project, path)).await? {
                upload::remove(&*backend.objects, &Path::from(path)).await?;
                self.records.delete(FILES_COLLECTION, &id).await?;
                removed += 1;
            }
            self.records.delete(REQUESTS_COLLECTION, &id).await?;
        }
        Ok(removed)
    }

    /// Sets the project's server quota total to the bytes of its stored files; `false` when an
    /// upload is in flight or the ledger moved meanwhile (nothing changed).
    async fn recount(&self, project_id: &str, cutoff_ms: i64) -> Result<bool, StorageError> {
        let ledger = &self.backends.internal().ledger;
        let (seen, _) = ledger.version(project_id).await?;
        let files = self.records.find_project(FILES_COLLECTION, project_id, RECOUNT_LIMIT).await?;
        if files.len() >= RECOUNT_LIMIT as usize {
            tracing::warn!(project = project_id, "too many files to recount the storage quota");
            return Ok(false);
        }
        let in_flight =
            files.iter().any(|f| state(f) == Some("uploading") && created_ms(f).is_none_or(|t| t >= cutoff_ms));
        if in_flight {
            return Ok(false);
        }
        let total = files
            .iter()
            .filter(|f| state(f) == Some("stored") && charged(f))
            .filter_map(|f| f.get("size").and_then(Value::as_u64))
            .fold(0u64, u64::saturating_add);
        ledger.set_if_unchanged(project_id, seen, total).await
    }

    /// Removes abandoned records and whatever part of their objects was written.
    async fn remove_abandoned(&self, project_id: &str, abandoned: &[Document]) -> Result<usize, StorageError> {
        let backend = self.backends.of(project_id)?;
        let mut removed = 0;
        for doc in abandoned {
            let Some(path) = doc.get("path").and_then(Value::as_str) else { continue };
            upload::remove(&*backend.objects, &Path::from(path)).await?;
            if self.records.delete(FILES_COLLECTION, &derived_id(path)).await?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
