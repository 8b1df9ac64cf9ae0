//! The storage interface of urbackend-rs: the [`DocumentStore`] trait that the platform and the
//! data API need, its typed error [`StoreError`], the document conventions every backend keeps,
//! and (feature `conformance`) the suite of cases every backend must pass.
//!
//! # Documents
//!
//! A [`Document`] crosses this interface as a JSON object in its wire form, the form a client
//! sees: `_id` is a 24-hex lower-case string, timestamps and declared `Date` fields are ISO 8601
//! UTC strings with milliseconds (`2026-11-23T13:20:34.123Z`, see [`format_timestamp`]), declared
//! `Ref` fields are 24-hex strings. A backend may store richer types (the MongoDB backend stores
//! ObjectIds and BSON dates, guided by the collection's [`query::Schema`]) but reads them back
//! into this form. On insert a backend sets `_id` (unless given), `createdAt`, `updatedAt` and
//! `__v: 0`; on update it refreshes `updatedAt`.
//!
//! # Scopes
//!
//! Every method that reads or writes tenant documents takes a scope from `rls-core` and applies
//! it inside the one database operation it performs: reads are ANDed with the [`ReadScope`],
//! updates and deletes are filtered by the [`WriteScope`] (`_id` and owner), so there is no
//! read-then-write window. There is no unscoped variant; a secret-key caller passes
//! [`ReadScope::All`] or an owner-less write scope, both of which rls-core hands out.
//!
//! # What this crate never knows
//!
//! A database driver, HTTP, projects or API keys: callers address a collection by its physical
//! name ([`CollectionSpec`]), which the platform derives.

mod document;
mod error;
mod reserved;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::sync::Arc;

use async_trait::async_trait;
use query::{Filter, ListQuery, Schema};
use rls_core::{AggregatePlan, DocId, ReadScope, WriteScope};
use serde_json::Value;

pub use document::{Document, format_timestamp, new_object_id, now_timestamp, parse_timestamp};
pub use error::StoreError;
pub use reserved::{ReservedStore, object, secret_write_scope};

/// The collection a call addresses: its physical name (unique within the store) and its schema,
/// which tells a backend the declared types for casting.
#[derive(Debug, Clone, Copy)]
pub struct CollectionSpec<'a> {
    /// The physical name, e.g. `<projectId>_posts` (the platform derives it).
    pub physical: &'a str,
    /// The declared field types (implicit `_id`, `createdAt`, `updatedAt` included).
    pub schema: &'a Schema,
}

/// One page of a find.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The documents, in the query's sort order, at most the query's limit.
    pub items: Vec<Document>,
    /// Whether more documents follow this page (cursor pagination's `nextCursor`).
    pub has_more: bool,
}

/// A unique index, as spec §6.5 names it: `unique_<field>_1`, partial (only documents where the
/// field exists and is not null) unless the field is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueIndex {
    /// The top-level field.
    pub field: String,
    /// Whether the field is required (then the index is not partial).
    pub required: bool,
}

impl UniqueIndex {
    /// The index name, `unique_<field>_1`.
    pub fn name(&self) -> String {
        format!("unique_{}_1", self.field)
    }
}

/// One data change, for [`DocumentStore::write_with`]. Cloning copies the documents of an
/// insert (for a caller that may have to apply the change again another way).
#[derive(Debug, Clone)]
pub enum Change<'a> {
    /// [`DocumentStore::insert`] of these documents.
    Insert(Vec<Document>),
    /// [`DocumentStore::update`] of the document the scope designates.
    Update {
        /// Which document (and whose).
        scope: &'a WriteScope,
        /// What to merge into it.
        set: &'a Document,
    },
    /// [`DocumentStore::delete`] of the document the scope designates.
    Delete {
        /// Which document (and whose).
        scope: &'a WriteScope,
    },
}

/// What a [`Change`] wrote: the inserted documents, or the updated or deleted one (`None` when
/// the scope designated none; then nothing was written at all).
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    /// The documents as stored.
    Inserted(Vec<Document>),
    /// The document as updated.
    Updated(Option<Document>),
    /// The document as it was.
    Deleted(Option<Document>),
}

/// Turns one document a change wrote into the documents to write with it.
pub type SideBuilder = Arc<dyn Fn(&Document) -> Vec<Document> + Send + Sync>;

/// Documents to insert into another collection of the same store together with a change (the
/// webhooks outbox): `build` turns each document the change wrote into the documents to add.
#[derive(Clone)]
pub struct SideWrites {
    /// The collection they go to.
    pub physical: String,
    /// The documents for one written document.
    pub build: SideBuilder,
}

impl std::fmt::Debug for SideWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideWrites").field("physical", &self.physical).finish_non_exhaustive()
    }
}

/// The storage interface. Implementations: `store-sqlite` (embedded default), `store-mongo`.
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Inserts documents, all or nothing, and returns them as stored (with `_id`, `createdAt`,
    /// `updatedAt`, `__v`). A unique-index violation is [`StoreError::DuplicateKey`] and leaves
    /// nothing inserted.
    async fn insert(&self, coll: &CollectionSpec<'_>, docs: Vec<Document>) -> Result<Vec<Document>, StoreError>;

    /// The document with this id, if it lies within the scope.
    async fn get(
        &self,
        coll: &CollectionSpec<'_>,
        id: &DocId,
        scope: &ReadScope,
    ) -> Result<Option<Document>, StoreError>;

    /// The documents with these ids that lie within the scope (for populate), in no particular order.
    async fn get_many(
        &self,
        coll: &CollectionSpec<'_>,
        ids: &[DocId],
        scope: &ReadScope,
    ) -> Result<Vec<Document>, StoreError>;

    /// One page of the documents matching the query's filter within the scope, in the query's sort
    /// order, paged as the query says (offset or cursor). Projection and populate are the caller's.
    async fn find(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, query: &ListQuery) -> Result<Page, StoreError>;

    /// The number of documents matching the filter within the scope.
    async fn count(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, filter: &Filter) -> Result<u64, StoreError>;

    /// Merges `set` into the one document the scope designates (top-level keys; dotted keys set
    /// nested paths) and refreshes `updatedAt`, in one operation; returns the updated document,
    /// or `None` when no document lies within the scope.
    async fn update(
        &self,
        coll: &CollectionSpec<'_>,
        scope: &WriteScope,
        set: &Document,
    ) -> Result<Option<Document>, StoreError>;

    /// Deletes the one document the scope designates, in one operation; returns it, or `None`.
    async fn delete(&self, coll: &CollectionSpec<'_>, scope: &WriteScope) -> Result<Option<Document>, StoreError>;

    /// Applies `change` and inserts the side documents built from what it wrote, in one atomic
    /// operation: both stand or neither does. Backends that cannot answer
    /// [`StoreError::Unsupported`] (the default), and the caller writes the two separately.
    async fn write_with(
        &self,
        coll: &CollectionSpec<'_>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, StoreError> {
        let _ = (coll, change, side);
        Err(StoreError::Unsupported("atomic side writes".to_owned()))
    }

    /// Whether a document with this id exists at all (only to choose between 403 and 404 after a
    /// scoped write missed, where rls-core says the caller may know).
    async fn exists(&self, coll: &CollectionSpec<'_>, id: &DocId) -> Result<bool, StoreError>;

    /// Runs a granted aggregation: the plan's scope first, then its stages. Backends support at
    /// least the publishable subset; stages they cannot run are [`StoreError::Unsupported`].
    async fn aggregate(&self, coll: &CollectionSpec<'_>, plan: &AggregatePlan) -> Result<Vec<Value>, StoreError>;

    /// Creates a unique index, refusing with [`StoreError::DuplicatesExist`] when the documents
    /// already hold duplicate values. Creating an existing index is a no-op.
    async fn create_unique_index(&self, coll: &CollectionSpec<'_>, index: &UniqueIndex) -> Result<(), StoreError>;

    /// Drops a unique index by field; dropping a missing one is a no-op.
    async fn drop_unique_index(&self, coll: &CollectionSpec<'_>, field: &str) -> Result<(), StoreError>;

    /// Creates the (owner field, `createdAt`) index that RLS reads use. Idempotent.
    async fn create_owner_index(&self, coll: &CollectionSpec<'_>, owner_field: &str) -> Result<(), StoreError>;

    /// Removes the collection's documents and indexes. Idempotent.
    async fn drop_collection(&self, coll: &CollectionSpec<'_>) -> Result<(), StoreError>;

    /// Whether the store answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
}
