//! The platform's own documents in the store: the reserved collections (`_urbackend_projects`,
//! `_urbackend_collections`, `_urbackend_meta`), read and written through the ordinary
//! [`DocumentStore`] interface with secret-key scopes from rls-core (single documents through
//! `store::ReservedStore`, like every other crate's reserved collections).
//!
//! The change token is one document of `_urbackend_meta`: every write sets it to a fresh random
//! value *after* writing the data it announces, and a reader reads it *before* reading the data.
//! A reader that sees a token different from the one its snapshot was built after therefore
//! reloads and sees every write announced so far; random tokens (not a counter) make two
//! concurrent writers from different processes impossible to miss.

use std::collections::HashMap;
use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, ObjectIdHex, Op, Scalar, Schema, SortKey, SortOrder};
use rls_core::ReadScope;
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore, ReservedStore, StoreError, UniqueIndex};

use crate::error::PlatformError;
use crate::keys::random_32;
use crate::model::CollectionDef;
use crate::project::{Project, collection_document, collection_from_document, project_from_document};

/// The prefix of every reserved platform collection. Tenant collections are named
/// `<24 hex>_<name>`, so they never start with it.
pub const RESERVED_PREFIX: &str = "_urbackend_";
/// Projects, one document each.
pub const PROJECTS_COLLECTION: &str = "_urbackend_projects";
/// Collection definitions, one document each.
pub const COLLECTIONS_COLLECTION: &str = "_urbackend_collections";
/// The change token.
pub const META_COLLECTION: &str = "_urbackend_meta";
/// The id of the change-token document.
const TOKEN_ID: &str = "000000000000000000000001";
/// Documents per page when loading.
const PAGE: u32 = 100;

/// Whether a physical collection name belongs to the platform (never a tenant's).
pub fn is_reserved_physical_name(name: &str) -> bool {
    name.starts_with(RESERVED_PREFIX)
}

/// Access to the reserved collections.
pub(crate) struct Catalog {
    store: Arc<dyn DocumentStore>,
    /// Single documents by id (the store's shared helper).
    reserved: ReservedStore,
    schema: Schema,
}

fn internal(what: &str) -> PlatformError {
    PlatformError::Internal(what.to_owned())
}

impl Catalog {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> Catalog {
        Catalog { reserved: ReservedStore::new(store.clone()), store, schema: Schema::new() }
    }

    pub(crate) fn store(&self) -> &Arc<dyn DocumentStore> {
        &self.store
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    /// The unique indexes on both key hashes, and an index on the project id of definitions.
    pub(crate) async fn ensure_indexes(&self) -> Result<(), PlatformError> {
        let spec = self.spec(PROJECTS_COLLECTION);
        for field in ["publishableKey", "secretKey"] {
            self.store.create_unique_index(&spec, &UniqueIndex { field: field.to_owned(), required: true }).await?;
        }
        // The store's (field, createdAt) index serves the per-project lookup of definitions.
        self.store.create_owner_index(&self.spec(COLLECTIONS_COLLECTION), "projectId").await?;
        Ok(())
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, PlatformError> {
        Ok(self.reserved.get(physical, id).await?)
    }

    pub(crate) async fn insert(&self, physical: &str, doc: Document) -> Result<Document, PlatformError> {
        Ok(self.reserved.insert(physical, doc).await?)
    }

    pub(crate) async fn update(
        &self,
        physical: &str,
        id: &str,
        set: Document,
    ) -> Result<Option<Document>, PlatformError> {
        Ok(self.reserved.update(physical, id, &set).await?)
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, PlatformError> {
        Ok(self.reserved.delete(physical, id).await?)
    }

    /// Updates the document, or inserts it with this id when it does not exist.
    pub(crate) async fn upsert(&self, physical: &str, id: &str, set: Document) -> Result<(), PlatformError> {
        if self.update(physical, id, set.clone()).await?.is_some() {
            return Ok(());
        }
        let mut doc = set.clone();
        doc.insert("_id".into(), Value::String(id.to_owned()));
        match self.insert(physical, doc).await {
            Ok(_) => Ok(()),
            // Another process inserted it between our update and insert.
            Err(PlatformError::Store(StoreError::DuplicateKey { .. })) => {
                self.update(physical, id, set).await?.map(|_| ()).ok_or_else(|| internal("upsert lost its document"))
            }
            Err(e) => Err(e),
        }
    }

    /// Every document of a collection matching the filter, in `_id` order.
    async fn all(&self, physical: &str, base: &Filter) -> Result<Vec<Document>, PlatformError> {
        let id_path = FieldPath::new("_id").map_err(|e| internal(&e.to_string()))?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut filter = base.clone();
            if let Some(last) = &after {
                let last = ObjectIdHex::parse(last).ok_or_else(|| internal("stored _id is not an ObjectId"))?;
                filter.and(Condition::new(id_path.clone(), Op::Gt(Scalar::ObjectId(last))));
            }
            let query = ListQuery::first(filter, vec![SortKey { path: id_path.clone(), order: SortOrder::Asc }], PAGE);
            let page = self.store.find(&self.spec(physical), &ReadScope::All, &query).await?;
            let next = page.items.last().and_then(|d| d.get("_id")).and_then(Value::as_str).map(str::to_owned);
            let more = page.has_more && next.is_some() && next != after;
            out.extend(page.items);
            if !more {
                return Ok(out);
            }
            after = next;
        }
    }

    /// Every project with its collections; the second value counts the malformed documents
    /// that were left out.
    pub(crate) async fn load_all_projects(&self) -> Result<(Vec<Project>, usize), PlatformError> {
        let mut skipped = 0;
        let mut collections: HashMap<String, Vec<CollectionDef>> = HashMap::new();
        for doc in self.all(COLLECTIONS_COLLECTION, &Filter::new()).await? {
            match collection_from_document(&doc) {
                Some((project_id, def)) => collections.entry(project_id).or_default().push(def),
                None => skipped += 1,
            }
        }
        let mut projects = Vec::new();
        for doc in self.all(PROJECTS_COLLECTION, &Filter::new()).await? {
            let id = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
            let mut defs = collections.remove(id).unwrap_or_default();
            defs.sort_by(|a, b| a.name.cmp(&b.name));
            match project_from_document(&doc, defs) {
                Some(project) => projects.push(project),
                None => skipped += 1,
            }
        }
        Ok((projects, skipped))
    }

    /// One project with its collections, straight from the store.
    pub(crate) async fn load_project(&self, id: &str) -> Result<Option<Project>, PlatformError> {
        let Some(doc) = self.get(PROJECTS_COLLECTION, id).await? else { return Ok(None) };
        let path = FieldPath::new("projectId").map_err(|e| internal(&e.to_string()))?;
        let mut filter = Filter::new();
        filter.and(Condition::new(path, Op::Eq(Scalar::String(id.to_owned()))));
        let mut defs: Vec<CollectionDef> = self
            .all(COLLECTIONS_COLLECTION, &filter)
            .await?
            .iter()
            .filter_map(collection_from_document)
            .filter(|(project_id, _)| project_id == id)
            .map(|(_, def)| def)
            .collect();
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        project_from_document(&doc, defs).map(Some).ok_or_else(|| internal("stored project document is malformed"))
    }

    /// A stored collection definition.
    pub(crate) async fn load_collection(&self, doc_id: &str) -> Result<Option<CollectionDef>, PlatformError> {
        let doc = self.get(COLLECTIONS_COLLECTION, doc_id).await?;
        Ok(doc.as_ref().and_then(collection_from_document).map(|(_, def)| def))
    }

    /// Saves a collection definition under its derived id.
    pub(crate) async fn save_collection(
        &self,
        doc_id: &str,
        project_id: &str,
        def: &CollectionDef,
    ) -> Result<(), PlatformError> {
        self.upsert(COLLECTIONS_COLLECTION, doc_id, collection_document(project_id, def)).await
    }

    /// The current change token (`None` before the first write).
    pub(crate) async fn read_token(&self) -> Result<Option<String>, PlatformError> {
        let doc = self.get(META_COLLECTION, TOKEN_ID).await?;
        Ok(doc.and_then(|d| d.get("token").and_then(Value::as_str).map(str::to_owned)))
    }

    /// Announces a change: a fresh random token.
    pub(crate) async fn bump_token(&self) -> Result<(), PlatformError> {
        let token = hex::encode(random_32()?);
        let mut set = Document::new();
        set.insert("token".into(), Value::String(token));
        self.upsert(META_COLLECTION, TOKEN_ID, set).await
    }
}
