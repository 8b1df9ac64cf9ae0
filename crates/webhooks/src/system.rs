//! The reserved collections of webhooks, read and written through the ordinary [`DocumentStore`]
//! interface with secret-key scopes from rls-core, as the platform and the accounts do.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Pagination, Scalar, Schema, SortKey, SortOrder};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, Target, WriteScope};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{CollectionSpec, Document, DocumentStore, StoreError};

use crate::WebhookError;

/// The 24-hex document id derived from a name (the first 96 bits of its SHA-256).
pub(crate) fn derived_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes())).chars().take(24).collect()
}

fn internal(what: impl Into<String>) -> WebhookError {
    WebhookError::Internal(what.into())
}

fn path(name: &str) -> Result<FieldPath, WebhookError> {
    FieldPath::new(name).map_err(|e| internal(format!("field path {name}: {e}")))
}

/// A secret-key write scope for one document (no owner condition).
fn scope(physical: &str, id: &str) -> Result<WriteScope, WebhookError> {
    let rls = RlsConfig::default();
    rls_core::authorize_delete(&Caller::secret(), &Target::existing(physical, &rls), id)
        .map_err(|denial| internal(format!("{physical}/{id}: {}", denial.message())))
}

/// A filter: the string equalities, and optionally `field <= number`.
pub(crate) fn filter(equal: &[(&str, &str)], at_most: Option<(&str, i64)>) -> Result<Filter, WebhookError> {
    let mut filter = Filter::new();
    for (field, value) in equal {
        filter.and(Condition::new(path(field)?, Op::Eq(Scalar::String((*value).to_owned()))));
    }
    if let Some((field, max)) = at_most {
        #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 are exact in an f64 until year 287,000.
        filter.and(Condition::new(path(field)?, Op::Lte(Scalar::Number(max as f64))));
    }
    Ok(filter)
}

/// Access to the reserved collections.
#[derive(Clone)]
pub(crate) struct SystemStore {
    store: Arc<dyn DocumentStore>,
    schema: Arc<Schema>,
}

impl SystemStore {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> SystemStore {
        SystemStore { store, schema: Arc::new(Schema::new()) }
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    pub(crate) async fn insert(&self, physical: &str, doc: Document) -> Result<Document, WebhookError> {
        let mut stored = self.store.insert(&self.spec(physical), vec![doc]).await?;
        stored.pop().ok_or_else(|| internal("insert returned nothing"))
    }

    /// Inserts the document with its own `_id`; `false` when that `_id` is taken (atomic in both
    /// backends: exactly one of any number of concurrent callers gets `true`).
    pub(crate) async fn insert_if_absent(&self, physical: &str, doc: Document) -> Result<bool, WebhookError> {
        match self.store.insert(&self.spec(physical), vec![doc]).await {
            Ok(_) => Ok(true),
            Err(StoreError::DuplicateKey { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, WebhookError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        Ok(self.store.get(&self.spec(physical), &id, &ReadScope::All).await?)
    }

    pub(crate) async fn update(&self, physical: &str, id: &str, set: &Document) -> Result<bool, WebhookError> {
        Ok(self.store.update(&self.spec(physical), &scope(physical, id)?, set).await?.is_some())
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, WebhookError> {
        Ok(self.store.delete(&self.spec(physical), &scope(physical, id)?).await?)
    }

    /// At most `limit` documents matching the filter, ascending by the field `order_by`, then `_id`.
    pub(crate) async fn find(
        &self,
        physical: &str,
        filter: Filter,
        order_by: &str,
        limit: u32,
    ) -> Result<Vec<Document>, WebhookError> {
        let query = ListQuery {
            filter,
            sort: vec![
                SortKey { path: path(order_by)?, order: SortOrder::Asc },
                SortKey { path: path("_id")?, order: SortOrder::Asc },
            ],
            pagination: Pagination::Offset { page: 1, limit },
            projection: None,
            populate: Vec::new(),
            count: false,
            meta: None,
        };
        Ok(self.store.find(&self.spec(physical), &ReadScope::All, &query).await?.items)
    }

    /// The number of documents matching the filter.
    pub(crate) async fn count(&self, physical: &str, filter: &Filter) -> Result<u64, WebhookError> {
        Ok(self.store.count(&self.spec(physical), &ReadScope::All, filter).await?)
    }

    /// Creates the (field, `createdAt`) index used to look documents up by `field`.
    pub(crate) async fn index(&self, physical: &str, field: &str) -> Result<(), WebhookError> {
        Ok(self.store.create_owner_index(&self.spec(physical), field).await?)
    }
}

/// A JSON object from a `json!` literal (for documents built in code).
pub(crate) fn object(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}

/// A string field of a document.
pub(crate) fn text<'a>(doc: &'a Document, field: &str) -> Option<&'a str> {
    doc.get(field).and_then(Value::as_str)
}
