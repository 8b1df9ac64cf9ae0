//! The storage service's documents in the platform store, read and written through the ordinary
//! [`DocumentStore`] interface with secret-key scopes from rls-core (as the platform and mail do):
//! `_urbackend_files` (one record per object: project, path, size, content type, state),
//! `_urbackend_storage_ledger` (the quota ledger, see `quota`), `_urbackend_storage_keys` (the
//! signing secret of upload URLs, created once and shared by every server on the store) and
//! `_urbackend_storage_requests` (the presigned uploads handed out, until they are swept).
//!
//! Record ids are derived (first 24 hex digits of a SHA-256 of a name), so "create if absent" is
//! an insert that the store refuses atomically when the id is taken.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, Op, Scalar, SortOrder};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{Document, DocumentStore, ReservedStore, StoreError};

use crate::error::StorageError;

/// One record per stored object.
pub const FILES_COLLECTION: &str = "_urbackend_files";
/// The quota ledger.
pub const LEDGER_COLLECTION: &str = "_urbackend_storage_ledger";
/// The signing secret.
pub const KEYS_COLLECTION: &str = "_urbackend_storage_keys";
/// One record per presigned upload URL handed out (state `requested`), so that an upload never
/// confirmed can be found and removed from the bucket (see `sweep`).
pub const REQUESTS_COLLECTION: &str = "_urbackend_storage_requests";

/// The derived id of a name.
pub(crate) fn derived_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes())).chars().take(24).collect()
}

/// Access to the reserved collections (over the store's shared [`ReservedStore`]).
pub(crate) struct Records(ReservedStore);

fn object_of(doc: Value, what: &str) -> Result<Document, StorageError> {
    match doc {
        Value::Object(doc) => Ok(doc),
        _ => Err(StorageError::Internal(format!("{what} is not an object"))),
    }
}

impl Records {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> Records {
        Records(ReservedStore::new(store))
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<(), StoreError> {
        for physical in [FILES_COLLECTION, LEDGER_COLLECTION] {
            self.0.index(physical, "projectId").await?;
        }
        Ok(())
    }

    /// Inserts a JSON object; a taken `_id` is `Ok(false)`.
    pub(crate) async fn insert_new(&self, physical: &str, doc: Value) -> Result<bool, StorageError> {
        Ok(self.0.insert_if_absent(physical, object_of(doc, "record")?).await?)
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, StorageError> {
        Ok(self.0.get(physical, id).await?)
    }

    pub(crate) async fn update(&self, physical: &str, id: &str, set: Value) -> Result<Option<Document>, StorageError> {
        Ok(self.0.update(physical, id, &object_of(set, "update")?).await?)
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, StorageError> {
        Ok(self.0.delete(physical, id).await?)
    }

    /// Up to `limit` documents with `state` equal to `state` created before `created_before_ms`,
    /// oldest ids first.
    pub(crate) async fn in_state_before(
        &self,
        physical: &str,
        state: &str,
        created_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<Document>, StorageError> {
        let mut filter = Filter::new();
        filter.and(Condition::new(path("state")?, Op::Eq(Scalar::String(state.to_owned()))));
        filter.and(Condition::new(path("createdAt")?, Op::Lt(Scalar::Date(created_before_ms))));
        Ok(self.0.find(physical, filter, "_id", SortOrder::Asc, limit).await?)
    }

    /// The project's document with the greatest `field` (a number), if any.
    pub(crate) async fn last_of_project(
        &self,
        physical: &str,
        project_id: &str,
        field: &str,
    ) -> Result<Option<Document>, StorageError> {
        let mut found = self.0.find(physical, of_project(project_id)?, field, SortOrder::Desc, 1).await?;
        Ok(found.pop())
    }

    /// Deletes up to `limit` of the project's documents whose `field` is at most `max` and that
    /// were created before `created_before_ms`; how many.
    pub(crate) async fn delete_old_of_project(
        &self,
        physical: &str,
        project_id: &str,
        (field, max): (&str, u64),
        created_before_ms: i64,
        limit: u32,
    ) -> Result<usize, StorageError> {
        let mut filter = of_project(project_id)?;
        #[allow(clippy::cast_precision_loss)] // ledger versions stay far below 2^53.
        filter.and(Condition::new(path(field)?, Op::Lte(Scalar::Number(max as f64))));
        filter.and(Condition::new(path("createdAt")?, Op::Lt(Scalar::Date(created_before_ms))));
        Ok(self.0.delete_matching(physical, filter, limit).await?)
    }

    /// Up to `limit` documents of the project.
    pub(crate) async fn find_project(
        &self,
        physical: &str,
        project_id: &str,
        limit: u32,
    ) -> Result<Vec<Document>, StorageError> {
        Ok(self.0.find(physical, of_project(project_id)?, "_id", SortOrder::Asc, limit).await?)
    }
}

fn path(name: &str) -> Result<FieldPath, StorageError> {
    FieldPath::new(name).map_err(|e| StorageError::Internal(e.to_string()))
}

fn of_project(project_id: &str) -> Result<Filter, StorageError> {
    let mut filter = Filter::new();
    filter.and(Condition::new(path("projectId")?, Op::Eq(Scalar::String(project_id.to_owned()))));
    Ok(filter)
}
