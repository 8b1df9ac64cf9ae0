//! A small in-memory `DocumentStore` for the platform's service tests: enough of the contract
//! for what the platform does (insert, get, find by filter in `_id` order, merge update, delete,
//! unique indexes with the duplicate check). Shared between two `Platform`s, it stands for one
//! database file seen by two processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use query::{Filter, ListQuery};
use rls_core::{AggregatePlan, DocId, ReadScope, WriteScope};
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore, Page, StoreError, UniqueIndex, new_object_id, now_timestamp};

#[derive(Default)]
struct Coll {
    docs: Vec<Document>,
    unique: Vec<UniqueIndex>,
    owner_indexes: Vec<String>,
}

/// The store.
#[derive(Default)]
pub(crate) struct MemoryStore {
    colls: Mutex<HashMap<String, Coll>>,
}

impl MemoryStore {
    /// The unique indexes of a physical collection.
    pub(crate) fn unique_indexes(&self, physical: &str) -> Vec<UniqueIndex> {
        self.colls.lock().unwrap().get(physical).map(|c| c.unique.clone()).unwrap_or_default()
    }

    /// The owner indexes of a physical collection.
    pub(crate) fn owner_indexes(&self, physical: &str) -> Vec<String> {
        self.colls.lock().unwrap().get(physical).map(|c| c.owner_indexes.clone()).unwrap_or_default()
    }
}

fn indexed(value: Option<&Value>, index: &UniqueIndex) -> Option<Value> {
    match value {
        None | Some(Value::Null) if !index.required => None,
        other => Some(other.cloned().unwrap_or(Value::Null)),
    }
}

fn violates(coll: &Coll, doc: &Document, skip: Option<usize>) -> Option<StoreError> {
    let id = doc.get("_id");
    for (i, other) in coll.docs.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        if other.get("_id") == id {
            return Some(StoreError::DuplicateKey { field: Some("_id".into()) });
        }
        for index in &coll.unique {
            if let Some(v) = indexed(doc.get(&index.field), index) {
                if indexed(other.get(&index.field), index).as_ref() == Some(&v) {
                    return Some(StoreError::DuplicateKey { field: Some(index.field.clone()) });
                }
            }
        }
    }
    None
}

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn insert(&self, coll: &CollectionSpec<'_>, docs: Vec<Document>) -> Result<Vec<Document>, StoreError> {
        let mut colls = self.colls.lock().unwrap();
        let c = colls.entry(coll.physical.to_owned()).or_default();
        let mut out = Vec::new();
        for mut doc in docs {
            doc.entry("_id").or_insert_with(|| Value::String(new_object_id()));
            let now = now_timestamp();
            doc.insert("createdAt".into(), Value::String(now.clone()));
            doc.insert("updatedAt".into(), Value::String(now));
            doc.insert("__v".into(), Value::from(0));
            if let Some(e) = violates(c, &doc, None) {
                return Err(e);
            }
            out.push(doc);
        }
        c.docs.extend(out.iter().cloned());
        Ok(out)
    }

    async fn get(
        &self,
        coll: &CollectionSpec<'_>,
        id: &DocId,
        scope: &ReadScope,
    ) -> Result<Option<Document>, StoreError> {
        let colls = self.colls.lock().unwrap();
        Ok(colls.get(coll.physical).and_then(|c| {
            c.docs
                .iter()
                .find(|d| {
                    d.get("_id").and_then(Value::as_str) == Some(id.as_str())
                        && scope.permits(&Value::Object((*d).clone()))
                })
                .cloned()
        }))
    }

    async fn get_many(
        &self,
        coll: &CollectionSpec<'_>,
        ids: &[DocId],
        scope: &ReadScope,
    ) -> Result<Vec<Document>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.get(coll, id, scope).await?);
        }
        Ok(out)
    }

    async fn find(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, query: &ListQuery) -> Result<Page, StoreError> {
        let colls = self.colls.lock().unwrap();
        let mut items: Vec<Document> = colls
            .get(coll.physical)
            .map(|c| {
                c.docs
                    .iter()
                    .filter(|d| {
                        let v = Value::Object((*d).clone());
                        query.filter.matches(&v) && scope.permits(&v)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        // Only `_id` ascending is supported here (all the platform uses).
        items.sort_by(|a, b| a.get("_id").and_then(Value::as_str).cmp(&b.get("_id").and_then(Value::as_str)));
        let skip = usize::try_from(query.pagination.skip()).unwrap();
        let limit = query.pagination.limit() as usize;
        let rest: Vec<Document> = items.into_iter().skip(skip).collect();
        let has_more = rest.len() > limit;
        Ok(Page { items: rest.into_iter().take(limit).collect(), has_more })
    }

    async fn count(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, filter: &Filter) -> Result<u64, StoreError> {
        let colls = self.colls.lock().unwrap();
        let n = colls.get(coll.physical).map_or(0, |c| {
            c.docs
                .iter()
                .filter(|d| {
                    let v = Value::Object((*d).clone());
                    filter.matches(&v) && scope.permits(&v)
                })
                .count()
        });
        Ok(n as u64)
    }

    async fn update(
        &self,
        coll: &CollectionSpec<'_>,
        scope: &WriteScope,
        set: &Document,
    ) -> Result<Option<Document>, StoreError> {
        let mut colls = self.colls.lock().unwrap();
        let Some(c) = colls.get_mut(coll.physical) else { return Ok(None) };
        let Some(i) = c.docs.iter().position(|d| scope.permits(&Value::Object(d.clone()))) else { return Ok(None) };
        let mut doc = c.docs[i].clone();
        for (k, v) in set {
            doc.insert(k.clone(), v.clone());
        }
        doc.insert("updatedAt".into(), Value::String(now_timestamp()));
        if let Some(e) = violates(c, &doc, Some(i)) {
            return Err(e);
        }
        c.docs[i] = doc.clone();
        Ok(Some(doc))
    }

    async fn delete(&self, coll: &CollectionSpec<'_>, scope: &WriteScope) -> Result<Option<Document>, StoreError> {
        let mut colls = self.colls.lock().unwrap();
        let Some(c) = colls.get_mut(coll.physical) else { return Ok(None) };
        let Some(i) = c.docs.iter().position(|d| scope.permits(&Value::Object(d.clone()))) else { return Ok(None) };
        Ok(Some(c.docs.remove(i)))
    }

    async fn exists(&self, coll: &CollectionSpec<'_>, id: &DocId) -> Result<bool, StoreError> {
        Ok(self.get(coll, id, &ReadScope::All).await?.is_some())
    }

    async fn aggregate(&self, _coll: &CollectionSpec<'_>, _plan: &AggregatePlan) -> Result<Vec<Value>, StoreError> {
        Err(StoreError::Unsupported("aggregate".into()))
    }

    async fn create_unique_index(&self, coll: &CollectionSpec<'_>, index: &UniqueIndex) -> Result<(), StoreError> {
        let mut colls = self.colls.lock().unwrap();
        let c = colls.entry(coll.physical.to_owned()).or_default();
        if c.unique.iter().any(|i| i.field == index.field) {
            return Ok(());
        }
        let mut counts: Vec<(Value, u64)> = Vec::new();
        for doc in &c.docs {
            if let Some(v) = indexed(doc.get(&index.field), index) {
                match counts.iter_mut().find(|(seen, _)| *seen == v) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((v, 1)),
                }
            }
        }
        let dups: Vec<&Value> = counts.iter().filter(|(_, n)| *n > 1).map(|(v, _)| v).collect();
        if !dups.is_empty() {
            let examples = dups.iter().take(3).map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
            return Err(StoreError::DuplicatesExist { field: index.field.clone(), count: dups.len() as u64, examples });
        }
        c.unique.push(index.clone());
        Ok(())
    }

    async fn drop_unique_index(&self, coll: &CollectionSpec<'_>, field: &str) -> Result<(), StoreError> {
        if let Some(c) = self.colls.lock().unwrap().get_mut(coll.physical) {
            c.unique.retain(|i| i.field != field);
        }
        Ok(())
    }

    async fn create_owner_index(&self, coll: &CollectionSpec<'_>, owner_field: &str) -> Result<(), StoreError> {
        let mut colls = self.colls.lock().unwrap();
        let c = colls.entry(coll.physical.to_owned()).or_default();
        if !c.owner_indexes.iter().any(|f| f == owner_field) {
            c.owner_indexes.push(owner_field.to_owned());
        }
        Ok(())
    }

    async fn drop_collection(&self, coll: &CollectionSpec<'_>) -> Result<(), StoreError> {
        self.colls.lock().unwrap().remove(coll.physical);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
