//! Index management: unique indexes as spec §6.5 names them, the owner index, and dropping a
//! collection without relying on server commands that MongoDB-compatible test servers lack.
//!
//! A unique index on a field that is not required is partial: it covers only the documents where
//! the field holds a value (neither missing nor `null`). The original asks for
//! `{f: {$exists: true, $ne: null}}`, which MongoDB refuses (`$ne` is not allowed in a partial
//! filter expression). So for the declared primitive types that unique fields may have (String,
//! Number, Boolean, Date) the filter is `{f: {$type: <that type>}}`: the same documents for
//! well-typed data, accepted by every server. For a field of another or no declared type the
//! original's filter is tried first (jongodb accepts it) and, when the server refuses it,
//! `{f: {$type: [every non-null type]}}`, which MongoDB accepts and jongodb does not understand,
//! and as a last resort `{f: {$exists: true}}` (there an explicit `null` counts as a value).
//! Before creating the index the existing
//! values are checked with an aggregation (`$group` by the field, count > 1) over the same
//! documents, so the refusal names the duplicates ([`StoreError::DuplicatesExist`]).

use mongodb::IndexModel;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;
use query::{FieldType, Schema};
use store::{StoreError, UniqueIndex};

use crate::{MongoStore, convert, error};

/// Server codes: an index with this name exists with other options or keys.
const INDEX_CONFLICT: [i32; 2] = [85, 86];
/// Server codes: the index or the namespace does not exist.
const NOT_FOUND: [i32; 2] = [26, 27];
/// How many duplicate values a refusal quotes.
const EXAMPLES: usize = 3;

/// Every BSON type name but null, undefined, minKey and maxKey (for MongoDB's partial filters).
const NON_NULL_TYPES: [&str; 13] = [
    "double",
    "string",
    "object",
    "array",
    "binData",
    "objectId",
    "bool",
    "date",
    "regex",
    "int",
    "timestamp",
    "long",
    "decimal",
];

/// A field name an index may be built on: top-level, plain.
fn checked_field(field: &str) -> Result<&str, StoreError> {
    if field.is_empty() || field.starts_with('$') || field.contains('.') || field.contains('\0') {
        return Err(StoreError::InvalidInput(format!("Cannot index the field name {field:?}.")));
    }
    Ok(field)
}

/// The partial filters to try, in order, for a unique index on a field that is not required, and
/// the `$match` that selects the same documents (see the module docs).
pub(crate) fn partial_filters(field: &str, schema: &Schema) -> (Vec<Document>, Document) {
    let single = match schema.field_type(field) {
        Some(FieldType::String) => Some("string"),
        Some(FieldType::Number) => Some("number"),
        Some(FieldType::Boolean) => Some("bool"),
        Some(FieldType::Date) => Some("date"),
        _ => None,
    };
    match single {
        Some(name) => {
            let filter = doc! { field: { "$type": name } };
            (vec![filter.clone()], filter)
        }
        None => {
            let original = doc! { field: { "$exists": true, "$ne": Bson::Null } };
            let types: Vec<Bson> = NON_NULL_TYPES.iter().map(|t| Bson::from(*t)).collect();
            let last_resort = doc! { field: { "$exists": true } };
            (vec![original.clone(), doc! { field: { "$type": types } }, last_resort], original)
        }
    }
}

impl MongoStore {
    pub(crate) async fn create_unique(
        &self,
        physical: &str,
        schema: &Schema,
        index: &UniqueIndex,
    ) -> Result<(), StoreError> {
        let field = checked_field(&index.field)?;
        let (filters, selection) = if index.required {
            (vec![None], None)
        } else {
            let (filters, selection) = partial_filters(field, schema);
            (filters.into_iter().map(Some).collect(), Some(selection))
        };
        self.refuse_duplicates(physical, field, selection.as_ref()).await?;
        let coll = self.collection(physical);
        let mut last = None;
        for partial in filters {
            let options = IndexOptions::builder().name(index.name()).unique(true).partial_filter_expression(partial);
            let model = IndexModel::builder().keys(doc! { field: 1 }).options(options.build()).build();
            let e = match coll.create_index(model.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            match error::server_code(&e) {
                // Same name, other options (the field became required, say): replace it.
                Some((code, _)) if INDEX_CONFLICT.contains(&code) => {
                    self.drop_index(physical, &index.name()).await?;
                    return coll.create_index(model).await.map(|_| ()).map_err(|e| error::map(&e));
                }
                // A duplicate slipped in since the check: name it like the check does.
                Some((code, _)) if error::DUPLICATE_KEY.contains(&code) => {
                    self.refuse_duplicates(physical, field, selection.as_ref()).await?;
                    return Err(error::map(&e));
                }
                // The server refuses this partial filter: try the next form.
                Some(_) => last = Some(e),
                None => return Err(error::map(&e)),
            }
        }
        Err(last.map_or_else(|| StoreError::Internal("no index form to try".to_owned()), |e| error::map(&e)))
    }

    /// [`StoreError::DuplicatesExist`] when values of `field` repeat among the documents the
    /// index would cover.
    async fn refuse_duplicates(
        &self,
        physical: &str,
        field: &str,
        partial: Option<&Document>,
    ) -> Result<(), StoreError> {
        let mut pipeline = Vec::new();
        if let Some(partial) = partial {
            pipeline.push(doc! { "$match": partial.clone() });
        }
        pipeline.push(doc! { "$group": { "_id": format!("${field}"), "count": { "$sum": 1 } } });
        pipeline.push(doc! { "$match": { "count": { "$gt": 1 } } });
        let mut cursor = self.collection(physical).aggregate(pipeline).await.map_err(|e| error::map(&e))?;
        let mut count = 0u64;
        let mut examples = Vec::new();
        while cursor.advance().await.map_err(|e| error::map(&e))? {
            let group = cursor.deserialize_current().map_err(|e| error::map(&e))?;
            count += 1;
            if examples.len() < EXAMPLES {
                let value = group.get("_id").cloned().unwrap_or(Bson::Null);
                examples.push(convert::from_bson(value).to_string());
            }
        }
        if count > 0 {
            return Err(StoreError::DuplicatesExist { field: field.to_owned(), count, examples: examples.join(", ") });
        }
        Ok(())
    }

    /// Drops an index by name; a missing one is fine. A server without `dropIndexes` (jongodb)
    /// gives [`StoreError::Unsupported`].
    pub(crate) async fn drop_index(&self, physical: &str, name: &str) -> Result<(), StoreError> {
        match self.collection(physical).drop_index(name).await {
            Ok(()) => Ok(()),
            Err(e) => match error::server_code(&e) {
                Some((code, _)) if NOT_FOUND.contains(&code) => Ok(()),
                Some((error::COMMAND_NOT_FOUND, _)) => {
                    Err(StoreError::Unsupported("This MongoDB server cannot drop indexes (no dropIndexes).".to_owned()))
                }
                _ => Err(error::map(&e)),
            },
        }
    }

    pub(crate) async fn create_owner(&self, physical: &str, owner_field: &str) -> Result<(), StoreError> {
        let field = checked_field(owner_field)?;
        let model = IndexModel::builder().keys(doc! { field: 1, "createdAt": -1 }).build();
        match self.collection(physical).create_index(model).await {
            Ok(_) => Ok(()),
            // An index on these keys exists under another name or with other options: it serves.
            Err(e) if error::server_code(&e).is_some_and(|(code, _)| INDEX_CONFLICT.contains(&code)) => Ok(()),
            Err(e) => Err(error::map(&e)),
        }
    }

    /// Drops the collection; where the server has no `drop` command, removes its documents and
    /// every index but `_id_` instead ([`StoreError::Unsupported`] when indexes remain that the
    /// server cannot drop).
    pub(crate) async fn drop_physical(&self, physical: &str) -> Result<(), StoreError> {
        let coll = self.collection(physical);
        match coll.drop().await {
            Ok(()) => return Ok(()),
            Err(e) => match error::server_code(&e) {
                Some((code, _)) if NOT_FOUND.contains(&code) => return Ok(()),
                Some((error::COMMAND_NOT_FOUND, _)) => {}
                _ => return Err(error::map(&e)),
            },
        }
        coll.delete_many(doc! {}).await.map_err(|e| error::map(&e))?;
        let names = match coll.list_index_names().await {
            Ok(names) => names,
            Err(e) if error::server_code(&e).is_some_and(|(code, _)| NOT_FOUND.contains(&code)) => return Ok(()),
            Err(e) => return Err(error::map(&e)),
        };
        for name in names.iter().filter(|n| n.as_str() != "_id_") {
            self.drop_index(physical, name).await?;
        }
        Ok(())
    }
}
