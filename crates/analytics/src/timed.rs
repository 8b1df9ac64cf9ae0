//! [`TimedStore`]: a `DocumentStore` that forwards every call to another and records its
//! duration under the method's name ([`crate::telemetry::store_operation`]).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use query::{Filter, ListQuery};
use rls_core::{AggregatePlan, DocId, ReadScope, WriteScope};
use serde_json::Value;
use store::{Change, Changed, CollectionSpec, Document, DocumentStore, Page, SideWrites, StoreError, UniqueIndex};

use crate::telemetry::store_operation;

/// Times every call of the wrapped store.
pub struct TimedStore(pub Arc<dyn DocumentStore>);

impl TimedStore {
    /// Wraps `store`.
    pub fn wrap(store: Arc<dyn DocumentStore>) -> Arc<dyn DocumentStore> {
        Arc::new(TimedStore(store))
    }
}

async fn timed<T>(operation: &'static str, call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = call.await;
    store_operation(operation, result.is_ok(), started.elapsed());
    result
}

#[async_trait]
impl DocumentStore for TimedStore {
    async fn insert(&self, coll: &CollectionSpec<'_>, docs: Vec<Document>) -> Result<Vec<Document>, StoreError> {
        timed("insert", self.0.insert(coll, docs)).await
    }

    async fn get(
        &self,
        coll: &CollectionSpec<'_>,
        id: &DocId,
        scope: &ReadScope,
    ) -> Result<Option<Document>, StoreError> {
        timed("get", self.0.get(coll, id, scope)).await
    }

    async fn get_many(
        &self,
        coll: &CollectionSpec<'_>,
        ids: &[DocId],
        scope: &ReadScope,
    ) -> Result<Vec<Document>, StoreError> {
        timed("get_many", self.0.get_many(coll, ids, scope)).await
    }

    async fn find(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, query: &ListQuery) -> Result<Page, StoreError> {
        timed("find", self.0.find(coll, scope, query)).await
    }

    async fn count(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, filter: &Filter) -> Result<u64, StoreError> {
        timed("count", self.0.count(coll, scope, filter)).await
    }

    async fn update(
        &self,
        coll: &CollectionSpec<'_>,
        scope: &WriteScope,
        set: &Document,
    ) -> Result<Option<Document>, StoreError> {
        timed("update", self.0.update(coll, scope, set)).await
    }

    async fn delete(&self, coll: &CollectionSpec<'_>, scope: &WriteScope) -> Result<Option<Document>, StoreError> {
        timed("delete", self.0.delete(coll, scope)).await
    }

    async fn write_with(
        &self,
        coll: &CollectionSpec<'_>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, StoreError> {
        timed("write_with", self.0.write_with(coll, change, side)).await
    }

    async fn exists(&self, coll: &CollectionSpec<'_>, id: &DocId) -> Result<bool, StoreError> {
        timed("exists", self.0.exists(coll, id)).await
    }

    async fn aggregate(&self, coll: &CollectionSpec<'_>, plan: &AggregatePlan) -> Result<Vec<Value>, StoreError> {
        timed("aggregate", self.0.aggregate(coll, plan)).await
    }

    async fn create_unique_index(&self, coll: &CollectionSpec<'_>, index: &UniqueIndex) -> Result<(), StoreError> {
        timed("create_unique_index", self.0.create_unique_index(coll, index)).await
    }

    async fn drop_unique_index(&self, coll: &CollectionSpec<'_>, field: &str) -> Result<(), StoreError> {
        timed("drop_unique_index", self.0.drop_unique_index(coll, field)).await
    }

    async fn create_owner_index(&self, coll: &CollectionSpec<'_>, owner_field: &str) -> Result<(), StoreError> {
        timed("create_owner_index", self.0.create_owner_index(coll, owner_field)).await
    }

    async fn drop_collection(&self, coll: &CollectionSpec<'_>) -> Result<(), StoreError> {
        timed("drop_collection", self.0.drop_collection(coll)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        timed("ping", self.0.ping()).await
    }
}
