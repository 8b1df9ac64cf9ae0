//! Shared helpers of the service tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub(crate) mod memory;

use std::sync::Arc;

use query::Schema;
use rls_core::ReadScope;
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore};

/// Every document of a physical collection, read through the store interface (first 100).
pub(crate) async fn raw_documents(store: &dyn DocumentStore, physical: &str) -> Vec<Document> {
    let schema = Schema::new();
    let query = query::parse("limit=100", &schema).unwrap();
    store.find(&CollectionSpec { physical, schema: &schema }, &ReadScope::All, &query).await.unwrap().items
}

/// Inserts raw documents into a physical collection.
pub(crate) async fn insert_raw(
    store: &dyn DocumentStore,
    physical: &str,
    docs: Vec<Value>,
) -> Result<(), store::StoreError> {
    let schema = Schema::new();
    let docs = docs.into_iter().map(|d| d.as_object().unwrap().clone()).collect();
    store.insert(&CollectionSpec { physical, schema: &schema }, docs).await.map(|_| ())
}

/// Two handles on one database: the same store twice, or two opens of one file.
pub(crate) type Pair = (Arc<dyn DocumentStore>, Arc<dyn DocumentStore>);
