//! The storage service's documents in the platform store, read and written through the ordinary
//! [`DocumentStore`] interface with secret-key scopes from rls-core (as the platform and mail do):
//! `_urbackend_files` (one record per object: project, path, size, content type, state),
//! `_urbackend_storage_ledger` (the quota ledger, see `quota`) and `_urbackend_storage_keys` (the
//! signing secret of upload URLs, created once and shared by every server on the store).
//!
//! Record ids are derived (first 24 hex digits of a SHA-256 of a name), so "create if absent" is
//! an insert that the store refuses atomically when the id is taken.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Pagination, Scalar, Schema};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, Target, WriteScope};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{CollectionSpec, Document, DocumentStore, StoreError};

use crate::error::StorageError;

/// One record per stored object.
pub const FILES_COLLECTION: &str = "_urbackend_files";
/// The quota ledger.
pub const LEDGER_COLLECTION: &str = "_urbackend_storage_ledger";
/// The signing secret.
pub const KEYS_COLLECTION: &str = "_urbackend_storage_keys";

/// The derived id of a name.
pub(crate) fn derived_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes())).chars().take(24).collect()
}

/// Access to the reserved collections.
pub(crate) struct Records {
    store: Arc<dyn DocumentStore>,
    schema: Schema,
}

impl Records {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> Records {
        Records { store, schema: Schema::new() }
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<(), StoreError> {
        for physical in [FILES_COLLECTION, LEDGER_COLLECTION] {
            self.store.create_owner_index(&self.spec(physical), "projectId").await?;
        }
        Ok(())
    }

    /// Inserts a JSON object; a taken `_id` is `Ok(false)`.
    pub(crate) async fn insert_new(&self, physical: &str, doc: Value) -> Result<bool, StorageError> {
        let Value::Object(doc) = doc else { return Err(StorageError::Internal("record is not an object".into())) };
        match self.store.insert(&self.spec(physical), vec![doc]).await {
            Ok(_) => Ok(true),
            Err(StoreError::DuplicateKey { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, StorageError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        Ok(self.store.get(&self.spec(physical), &id, &ReadScope::All).await?)
    }

    pub(crate) async fn update(&self, physical: &str, id: &str, set: Value) -> Result<Option<Document>, StorageError> {
        let Value::Object(set) = set else { return Err(StorageError::Internal("update is not an object".into())) };
        Ok(self.store.update(&self.spec(physical), &scope(physical, id)?, &set).await?)
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, StorageError> {
        Ok(self.store.delete(&self.spec(physical), &scope(physical, id)?).await?)
    }

    /// How many documents of the collection belong to the project.
    pub(crate) async fn count_project(&self, physical: &str, project_id: &str) -> Result<u64, StorageError> {
        Ok(self.store.count(&self.spec(physical), &ReadScope::All, &of_project(project_id)?).await?)
    }

    /// Up to `limit` documents of the project.
    pub(crate) async fn find_project(
        &self,
        physical: &str,
        project_id: &str,
        limit: u32,
    ) -> Result<Vec<Document>, StorageError> {
        let query = ListQuery {
            filter: of_project(project_id)?,
            sort: Vec::new(),
            pagination: Pagination::Offset { page: 1, limit },
            projection: None,
            populate: Vec::new(),
            count: false,
            meta: None,
        };
        Ok(self.store.find(&self.spec(physical), &ReadScope::All, &query).await?.items)
    }
}

/// A secret-key write scope for one document (no owner condition).
fn scope(physical: &str, id: &str) -> Result<WriteScope, StorageError> {
    rls_core::authorize_delete(&Caller::secret(), &Target::existing(physical, &RlsConfig::default()), id)
        .map_err(|denial| StorageError::Internal(format!("{physical}/{id}: {}", denial.message())))
}

fn of_project(project_id: &str) -> Result<Filter, StorageError> {
    let field = FieldPath::new("projectId").map_err(|e| StorageError::Internal(e.to_string()))?;
    let mut filter = Filter::new();
    filter.and(Condition::new(field, Op::Eq(Scalar::String(project_id.to_owned()))));
    Ok(filter)
}
