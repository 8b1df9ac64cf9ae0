//! The accounts' own documents in reserved collections of the platform store, read and written
//! through the ordinary [`DocumentStore`] interface with secret-key scopes.
//!
//! Atomicity comes from one primitive both backends guarantee: inserting a document whose `_id`
//! exists fails with [`StoreError::DuplicateKey`]. A *latch* is such a document: its id is derived
//! from a name (`used:<session>`, `revoked:<family>`, `consumed:<code>`, `attempt:<code>:<n>`),
//! and setting it succeeds for exactly one caller, whatever the number of concurrent requests
//! or server processes. Single use of refresh tokens and one-time codes, and the attempt limit of
//! codes, are built on latches, so they need neither transactions nor Redis.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Pagination, Scalar, Schema, SortKey, SortOrder};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, Target, WriteScope};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{CollectionSpec, Document, DocumentStore, StoreError};

use crate::error::AuthError;

/// Refresh sessions, one document per issued refresh token.
pub const SESSIONS_COLLECTION: &str = "_urbackend_refresh_sessions";
/// One-time codes (verification, password reset).
pub const CODES_COLLECTION: &str = "_urbackend_auth_codes";
/// Latches (see the module documentation).
pub const LATCHES_COLLECTION: &str = "_urbackend_auth_latches";

/// The 24-hex document id derived from a name (the first 96 bits of its SHA-256).
pub(crate) fn derived_id(name: &str) -> String {
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    digest.chars().take(24).collect()
}

/// Access to the reserved collections of the accounts.
#[derive(Clone)]
pub(crate) struct SystemStore {
    store: Arc<dyn DocumentStore>,
    schema: Arc<Schema>,
}

fn internal(what: impl Into<String>) -> AuthError {
    AuthError::Internal(what.into())
}

fn path(name: &str) -> Result<FieldPath, AuthError> {
    FieldPath::new(name).map_err(|e| internal(format!("field path {name}: {e}")))
}

/// A secret-key write scope for one document (no owner condition).
pub(crate) fn secret_scope(physical: &str, id: &str) -> Result<WriteScope, AuthError> {
    let rls = RlsConfig::default();
    rls_core::authorize_delete(&Caller::secret(), &Target::existing(physical, &rls), id)
        .map_err(|denial| internal(format!("{physical}/{id}: {}", denial.message())))
}

/// A filter of string equalities.
pub(crate) fn equalities(pairs: &[(&str, &str)]) -> Result<Filter, AuthError> {
    let mut filter = Filter::new();
    for (field, value) in pairs {
        filter.and(Condition::new(path(field)?, Op::Eq(Scalar::String((*value).to_owned()))));
    }
    Ok(filter)
}

impl SystemStore {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> SystemStore {
        SystemStore { store, schema: Arc::new(Schema::new()) }
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    pub(crate) async fn insert(&self, physical: &str, doc: Document) -> Result<Document, AuthError> {
        let mut stored = self.store.insert(&self.spec(physical), vec![doc]).await?;
        stored.pop().ok_or_else(|| internal("insert returned nothing"))
    }

    /// Deletes one document; whether it was there.
    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<bool, AuthError> {
        Ok(self.store.delete(&self.spec(physical), &secret_scope(physical, id)?).await?.is_some())
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, AuthError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        Ok(self.store.get(&self.spec(physical), &id, &ReadScope::All).await?)
    }

    /// The documents matching the filter, newest first by the numeric field `order_by`, at
    /// most `limit`.
    pub(crate) async fn find(
        &self,
        physical: &str,
        filter: Filter,
        order_by: &str,
        limit: u32,
    ) -> Result<Vec<Document>, AuthError> {
        let query = ListQuery {
            filter,
            sort: vec![
                SortKey { path: path(order_by)?, order: SortOrder::Desc },
                SortKey { path: path("_id")?, order: SortOrder::Desc },
            ],
            pagination: Pagination::Offset { page: 1, limit },
            projection: None,
            populate: Vec::new(),
            count: false,
            meta: None,
        };
        Ok(self.store.find(&self.spec(physical), &ReadScope::All, &query).await?.items)
    }

    pub(crate) async fn count(&self, physical: &str, filter: &Filter) -> Result<u64, AuthError> {
        Ok(self.store.count(&self.spec(physical), &ReadScope::All, filter).await?)
    }

    /// Sets the latch `name`; `true` for the one caller that set it, `false` when it was set.
    pub(crate) async fn set_latch(&self, name: &str, group: &str) -> Result<bool, AuthError> {
        let mut doc = Document::new();
        doc.insert("_id".to_owned(), Value::String(derived_id(name)));
        doc.insert("group".to_owned(), Value::String(group.to_owned()));
        match self.store.insert(&self.spec(LATCHES_COLLECTION), vec![doc]).await {
            Ok(_) => Ok(true),
            Err(StoreError::DuplicateKey { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the latch `name` is set.
    pub(crate) async fn latch_is_set(&self, name: &str) -> Result<bool, AuthError> {
        Ok(self.get(LATCHES_COLLECTION, &derived_id(name)).await?.is_some())
    }

    /// Takes the next of `max` numbered latches `<prefix>:<n>` (group `prefix`); `false` when
    /// all are taken. Concurrent callers each get a different number.
    pub(crate) async fn take_numbered_latch(&self, prefix: &str, max: u32) -> Result<bool, AuthError> {
        let taken = self.count(LATCHES_COLLECTION, &equalities(&[("group", prefix)])?).await?;
        let mut n = u32::try_from(taken).unwrap_or(u32::MAX).saturating_add(1);
        while n <= max {
            if self.set_latch(&format!("{prefix}:{n}"), prefix).await? {
                return Ok(true);
            }
            n += 1;
        }
        Ok(false)
    }
}

/// A JSON object from a `json!` literal (for documents built in code).
pub(crate) fn object(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}
