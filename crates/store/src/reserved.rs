//! The server's own documents (sessions, codes, outboxes, ledgers, …) in reserved collections
//! of a store: [`ReservedStore`] reads and writes them by physical name with secret-key scopes
//! from rls-core and an untyped schema, so the crates that keep such documents share one way of
//! doing it. Its [`ReservedStore::insert_if_absent`] is the atomic primitive they build single
//! use and counters on: both backends refuse a second document with the same `_id`.

use std::sync::Arc;

use query::{FieldPath, Filter, ListQuery, Schema, SortKey, SortOrder};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, Target, WriteScope};
use serde_json::Value;

use crate::{CollectionSpec, Document, DocumentStore, StoreError};

/// Reserved collections of one store.
#[derive(Clone)]
pub struct ReservedStore {
    store: Arc<dyn DocumentStore>,
    schema: Arc<Schema>,
}

fn path(name: &str) -> Result<FieldPath, StoreError> {
    FieldPath::new(name).map_err(|e| StoreError::Internal(format!("field path {name}: {e}")))
}

/// A secret-key write scope for one document (no owner condition).
pub fn secret_write_scope(physical: &str, id: &str) -> Result<WriteScope, StoreError> {
    let rls = RlsConfig::default();
    rls_core::authorize_delete(&Caller::secret(), &Target::existing(physical, &rls), id)
        .map_err(|denial| StoreError::Internal(format!("{physical}/{id}: {}", denial.message())))
}

/// A JSON object from a `json!` literal (an empty one for anything else).
pub fn object(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}

impl ReservedStore {
    /// The reserved collections of `store`.
    pub fn new(store: Arc<dyn DocumentStore>) -> ReservedStore {
        ReservedStore { store, schema: Arc::new(Schema::new()) }
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    /// Inserts one document and returns it as stored.
    pub async fn insert(&self, physical: &str, doc: Document) -> Result<Document, StoreError> {
        let mut stored = self.store.insert(&self.spec(physical), vec![doc]).await?;
        stored.pop().ok_or_else(|| StoreError::Internal("insert returned nothing".to_owned()))
    }

    /// Inserts documents in one store operation (all or nothing, as [`DocumentStore::insert`]).
    pub async fn insert_many(&self, physical: &str, docs: Vec<Document>) -> Result<(), StoreError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.store.insert(&self.spec(physical), docs).await.map(drop)
    }

    /// Inserts the document with its own `_id`; `false` when that `_id` is taken (exactly one of
    /// any number of concurrent callers gets `true`).
    pub async fn insert_if_absent(&self, physical: &str, doc: Document) -> Result<bool, StoreError> {
        match self.store.insert(&self.spec(physical), vec![doc]).await {
            Ok(_) => Ok(true),
            Err(StoreError::DuplicateKey { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The document with this id (`None` also for an id that is not 24 hex digits).
    pub async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, StoreError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        self.store.get(&self.spec(physical), &id, &ReadScope::All).await
    }

    /// Merges `set` into the document; the updated document, or `None` when it is gone.
    pub async fn update(&self, physical: &str, id: &str, set: &Document) -> Result<Option<Document>, StoreError> {
        self.store.update(&self.spec(physical), &secret_write_scope(physical, id)?, set).await
    }

    /// Deletes the document; it, or `None` when it was not there.
    pub async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, StoreError> {
        self.store.delete(&self.spec(physical), &secret_write_scope(physical, id)?).await
    }

    /// At most `limit` documents matching the filter, in `order` of the field `order_by`, then of
    /// `_id`.
    pub async fn find(
        &self,
        physical: &str,
        filter: Filter,
        order_by: &str,
        order: SortOrder,
        limit: u32,
    ) -> Result<Vec<Document>, StoreError> {
        let query = ListQuery::first(
            filter,
            vec![SortKey { path: path(order_by)?, order }, SortKey { path: path("_id")?, order }],
            limit,
        );
        Ok(self.store.find(&self.spec(physical), &ReadScope::All, &query).await?.items)
    }

    /// Deletes at most `limit` documents matching the filter (the oldest ids first); how many.
    /// Several processes doing it at once only delete the same documents twice.
    pub async fn delete_matching(&self, physical: &str, filter: Filter, limit: u32) -> Result<usize, StoreError> {
        let docs = self.find(physical, filter, "_id", SortOrder::Asc, limit).await?;
        let mut deleted = 0;
        for id in docs.iter().filter_map(|d| d.get("_id").and_then(Value::as_str)) {
            deleted += usize::from(self.delete(physical, id).await?.is_some());
        }
        Ok(deleted)
    }

    /// The number of documents matching the filter.
    pub async fn count(&self, physical: &str, filter: &Filter) -> Result<u64, StoreError> {
        self.store.count(&self.spec(physical), &ReadScope::All, filter).await
    }

    /// Creates the (field, `createdAt`) index used to look documents up by `field`.
    pub async fn index(&self, physical: &str, field: &str) -> Result<(), StoreError> {
        self.store.create_owner_index(&self.spec(physical), field).await
    }
}
