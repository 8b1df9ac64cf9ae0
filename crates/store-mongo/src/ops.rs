//! [`DocumentStore`] for [`MongoStore`]: each method is one database operation (two for a bulk
//! insert that has to be undone), with the scope inside its filter; `write_with` is a
//! transaction (module `transaction`).

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document as BsonDocument, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Cursor};
use query::{Filter, ListQuery, Pagination};
use rls_core::{AggregatePlan, DocId, ReadScope, WriteScope};
use serde_json::Value;
use store::{Change, Changed, CollectionSpec, Document, DocumentStore, Page, SideWrites, StoreError, UniqueIndex};

use crate::{MongoStore, convert, error, filter};

/// The time bound of a query with a regex (as the original: `maxTimeMS(2000)`).
const REGEX_MAX_TIME: Duration = Duration::from_millis(2000);

async fn collect(
    mut cursor: Cursor<BsonDocument>,
    map: fn(&mongodb::error::Error) -> StoreError,
) -> Result<Vec<Document>, StoreError> {
    let mut out = Vec::new();
    while cursor.advance().await.map_err(|e| map(&e))? {
        out.push(convert::from_bson_document(cursor.deserialize_current().map_err(|e| map(&e))?));
    }
    Ok(out)
}

/// A stored document ready for insertion: `_id` first (the given one, which must be 24 hex
/// characters, else a new one), the fields, then `createdAt`, `updatedAt` and `__v: 0`. Returns
/// whether the id was generated here.
pub(crate) fn prepare(
    doc: &Document,
    spec: &CollectionSpec<'_>,
    now: BsonDateTime,
) -> Result<(ObjectId, bool, BsonDocument), StoreError> {
    let mut typed = convert::to_bson_document(doc, spec.schema);
    let (id, generated) = match typed.remove("_id") {
        None | Some(Bson::Null) => (ObjectId::new(), true),
        Some(Bson::ObjectId(id)) => (id, false),
        Some(_) => {
            return Err(StoreError::InvalidInput("Invalid _id: expected 24 hexadecimal characters.".to_owned()));
        }
    };
    let mut stored = doc! { "_id": id };
    for key in ["createdAt", "updatedAt", "__v"] {
        typed.remove(key);
    }
    stored.extend(typed);
    stored.insert("createdAt", now);
    stored.insert("updatedAt", now);
    stored.insert("__v", 0_i32);
    Ok((id, generated, stored))
}

/// The `$set` of an update: the fields typed by the schema, `updatedAt` now; `createdAt` is
/// immutable (as Mongoose makes it) and `_id` may only be set to itself.
pub(crate) fn update_document(
    spec: &CollectionSpec<'_>,
    scope: &WriteScope,
    set: &Document,
) -> Result<BsonDocument, StoreError> {
    let mut fields = BsonDocument::new();
    for (key, value) in set {
        match key.as_str() {
            "createdAt" | "updatedAt" => {}
            "_id" if value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(scope.id().as_str())) => {}
            "_id" => {
                return Err(StoreError::InvalidInput(
                    "Performing an update on the path '_id' would modify the immutable field '_id'".to_owned(),
                ));
            }
            _ => {
                fields.insert(key.clone(), convert::typed(value, key, spec.schema));
            }
        }
    }
    fields.insert("updatedAt", BsonDateTime::now());
    Ok(doc! { "$set": fields })
}

/// A batch about to be inserted.
struct Batch {
    now: BsonDateTime,
    ids: Vec<ObjectId>,
    generated: Vec<bool>,
    docs: Vec<BsonDocument>,
}

impl MongoStore {
    /// Deletes what a failed insert of this call left behind (see the crate docs): when the
    /// server says which document failed (an ordered `insertMany`'s write error), the documents
    /// before it, which this call inserted; when the command failed as a whole, nothing; when the
    /// outcome is unknown (the connection broke), the documents whose ids this call generated
    /// (they cannot belong to anyone else; given ids are left, since they might).
    async fn undo_insert(
        &self,
        coll: &Collection<BsonDocument>,
        batch: &Batch,
        failure: &mongodb::error::Error,
    ) -> StoreError {
        let cause = error::map_insert(failure);
        let inserted: Vec<ObjectId> = match (error::failed_insert_index(failure), error::server_code(failure)) {
            (Some(index), _) => batch.ids.iter().take(index).copied().collect(),
            (None, Some(_)) => Vec::new(),
            (None, None) => batch.ids.iter().zip(&batch.generated).filter(|(_, g)| **g).map(|(id, _)| *id).collect(),
        };
        if inserted.is_empty() {
            return cause;
        }
        match coll.delete_many(doc! { "_id": { "$in": inserted }, "createdAt": batch.now }).await {
            Ok(_) => cause,
            Err(e) => {
                let text = format!("bulk insert failed ({cause}) and its first documents could not be removed: {e}");
                match error::map(&e) {
                    StoreError::Unavailable(_) => StoreError::Unavailable(text),
                    _ => StoreError::Internal(text),
                }
            }
        }
    }

    fn scoped(
        clauses: Vec<BsonDocument>,
        scope: &ReadScope,
        spec: &CollectionSpec<'_>,
    ) -> Result<BsonDocument, StoreError> {
        let mut clauses = clauses;
        clauses.extend(filter::read_scope(scope, spec.schema)?);
        Ok(filter::and(clauses))
    }
}

#[async_trait]
impl DocumentStore for MongoStore {
    async fn insert(&self, spec: &CollectionSpec<'_>, docs: Vec<Document>) -> Result<Vec<Document>, StoreError> {
        let coll = self.checked(spec.physical)?;
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let now = BsonDateTime::now();
        let mut batch = Batch { now, ids: Vec::new(), generated: Vec::new(), docs: Vec::new() };
        for doc in &docs {
            let (id, generated, stored) = prepare(doc, spec, now)?;
            batch.ids.push(id);
            batch.generated.push(generated);
            batch.docs.push(stored);
        }
        let result = match batch.docs.as_slice() {
            [one] => coll.insert_one(one).await.map(|_| ()),
            many => coll.insert_many(many).ordered(true).await.map(|_| ()),
        };
        match result {
            Ok(()) => Ok(batch.docs.into_iter().map(convert::from_bson_document).collect()),
            Err(e) => Err(self.undo_insert(&coll, &batch, &e).await),
        }
    }

    async fn get(
        &self,
        spec: &CollectionSpec<'_>,
        id: &DocId,
        scope: &ReadScope,
    ) -> Result<Option<Document>, StoreError> {
        let coll = self.checked(spec.physical)?;
        let filter = Self::scoped(vec![filter::id(id)?], scope, spec)?;
        let found = coll.find_one(filter).await.map_err(|e| error::map(&e))?;
        Ok(found.map(convert::from_bson_document))
    }

    async fn get_many(
        &self,
        spec: &CollectionSpec<'_>,
        ids: &[DocId],
        scope: &ReadScope,
    ) -> Result<Vec<Document>, StoreError> {
        let coll = self.checked(spec.physical)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids =
            ids.iter().map(|id| convert::object_id(id.as_str()).map(Bson::ObjectId)).collect::<Result<Vec<_>, _>>()?;
        let filter = Self::scoped(vec![doc! { "_id": { "$in": ids } }], scope, spec)?;
        let cursor = coll.find(filter).await.map_err(|e| error::map(&e))?;
        collect(cursor, error::map).await
    }

    async fn find(&self, spec: &CollectionSpec<'_>, scope: &ReadScope, query: &ListQuery) -> Result<Page, StoreError> {
        let coll = self.checked(spec.physical)?;
        let mut clauses = filter::clauses(&query.filter);
        if let Pagination::Cursor { after: Some(position), .. } = &query.pagination {
            clauses.push(filter::cursor(position)?);
        }
        let filter = Self::scoped(clauses, scope, spec)?;
        let limit = query.pagination.limit();
        let mut find = coll.find(filter).sort(filter::sort(&query.sort)).limit(i64::from(limit) + 1);
        let skip = query.pagination.skip();
        if skip > 0 {
            find = find.skip(skip);
        }
        if query.has_regex() {
            find = find.max_time(REGEX_MAX_TIME);
        }
        let mut items = collect(find.await.map_err(|e| error::map(&e))?, error::map).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, has_more })
    }

    async fn count(&self, spec: &CollectionSpec<'_>, scope: &ReadScope, filter: &Filter) -> Result<u64, StoreError> {
        let coll = self.checked(spec.physical)?;
        let document = Self::scoped(filter::clauses(filter), scope, spec)?;
        let mut count = coll.count_documents(document);
        if filter.has_regex() {
            count = count.max_time(REGEX_MAX_TIME);
        }
        count.await.map_err(|e| error::map(&e))
    }

    async fn update(
        &self,
        spec: &CollectionSpec<'_>,
        scope: &WriteScope,
        set: &Document,
    ) -> Result<Option<Document>, StoreError> {
        let coll = self.checked(spec.physical)?;
        let filter = filter::write_scope(scope, spec.schema)?;
        let updated = coll
            .find_one_and_update(filter, update_document(spec, scope, set)?)
            .return_document(ReturnDocument::After)
            .await
            .map_err(|e| error::map_update(&e))?;
        Ok(updated.map(convert::from_bson_document))
    }

    async fn delete(&self, spec: &CollectionSpec<'_>, scope: &WriteScope) -> Result<Option<Document>, StoreError> {
        let coll = self.checked(spec.physical)?;
        let filter = filter::write_scope(scope, spec.schema)?;
        let deleted = coll.find_one_and_delete(filter).await.map_err(|e| error::map(&e))?;
        Ok(deleted.map(convert::from_bson_document))
    }

    async fn write_with(
        &self,
        spec: &CollectionSpec<'_>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, StoreError> {
        self.write_in_transaction(spec, change, side).await
    }

    async fn exists(&self, spec: &CollectionSpec<'_>, id: &DocId) -> Result<bool, StoreError> {
        let coll = self.checked(spec.physical)?;
        let found = coll.find_one(filter::id(id)?).await.map_err(|e| error::map(&e))?;
        Ok(found.is_some())
    }

    async fn aggregate(&self, spec: &CollectionSpec<'_>, plan: &AggregatePlan) -> Result<Vec<Value>, StoreError> {
        let coll = self.checked(spec.physical)?;
        let mut pipeline = Vec::with_capacity(plan.stages.len() + 1);
        let scope = filter::read_scope(&plan.scope, spec.schema)?;
        if !scope.is_empty() {
            pipeline.push(doc! { "$match": filter::and(scope) });
        }
        for stage in &plan.stages {
            match convert::plain(stage) {
                Bson::Document(stage) if !stage.is_empty() => pipeline.push(stage),
                _ => {
                    return Err(StoreError::InvalidInput(
                        "Each aggregation stage must be a non-empty object.".to_owned(),
                    ));
                }
            }
        }
        let cursor = coll.aggregate(pipeline).await.map_err(|e| error::map_aggregate(&e))?;
        let docs = collect(cursor, error::map_aggregate).await?;
        Ok(docs.into_iter().map(Value::Object).collect())
    }

    async fn create_unique_index(&self, spec: &CollectionSpec<'_>, index: &UniqueIndex) -> Result<(), StoreError> {
        self.checked(spec.physical)?;
        self.create_unique(spec.physical, spec.schema, index).await
    }

    async fn drop_unique_index(&self, spec: &CollectionSpec<'_>, field: &str) -> Result<(), StoreError> {
        self.checked(spec.physical)?;
        self.drop_index(spec.physical, &format!("unique_{field}_1")).await
    }

    async fn create_owner_index(&self, spec: &CollectionSpec<'_>, owner_field: &str) -> Result<(), StoreError> {
        self.checked(spec.physical)?;
        self.create_owner(spec.physical, owner_field).await
    }

    async fn drop_collection(&self, spec: &CollectionSpec<'_>) -> Result<(), StoreError> {
        self.checked(spec.physical)?;
        self.drop_physical(spec.physical).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.ping_server().await
    }
}
