//! `populate`/`expand`: replacing reference ids by the referenced documents, only those the
//! caller may read.
//!
//! Each path must be a top-level `Ref` field (or an `Array` of `Ref` items) with a target
//! collection. Following it is a read of the target collection, decided by rls-core like any
//! other read: a target the caller may not read refuses the request (the `users` collection
//! always does), and in a `private` target only the caller's own documents are filled in; a
//! reference the caller may not see, or to a missing document, becomes `null`, as in Mongoose.

use std::collections::HashMap;

use platform::{CollectionDef, FieldKind};
use query::FieldPath;
use rls_core::{DocId, ReadOp, authorize_read};
use serde_json::Value;
use store::Document;

use crate::{Access, DataError, DataPlane, Placed, Resolved};

/// Fills in the referenced documents of `items` along every path.
pub(crate) async fn populate(
    plane: &DataPlane,
    access: &Access<'_>,
    def: &CollectionDef,
    paths: &[FieldPath],
    items: &mut [Document],
) -> Result<(), DataError> {
    if paths.is_empty() || items.is_empty() {
        return Ok(());
    }
    let store = plane.store(access.project).await?;
    for path in paths {
        let target_name = reference_target(def, path)?;
        let target = Resolved::new(access.project, target_name);
        let scope = authorize_read(&access.caller(), &target.target(), ReadOp::Populate)?;
        let target_def = target.def()?;
        let field = path.as_str();
        let ids: Vec<DocId> = items
            .iter()
            .filter_map(|doc| doc.get(field))
            .flat_map(|value| match value {
                Value::Array(values) => values.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .filter_map(|value| value.as_str().and_then(|id| DocId::parse(id).ok()))
            .collect();
        if ids.is_empty() {
            continue;
        }
        let target = Placed::new(store.clone(), access.project, target_def);
        let found: HashMap<String, Document> = target
            .store
            .get_many(&target.spec(), &ids, &scope)
            .await?
            .into_iter()
            .filter_map(|doc| doc.get("_id").and_then(Value::as_str).map(str::to_owned).map(|id| (id, doc)))
            .collect();
        let resolve = |value: &Value| match value.as_str().map(str::to_ascii_lowercase) {
            Some(id) => found.get(&id).cloned().map_or(Value::Null, Value::Object),
            None => Value::Null,
        };
        for doc in items.iter_mut() {
            if let Some(value) = doc.get_mut(field) {
                let populated = match &*value {
                    Value::Array(values) => Value::Array(values.iter().map(resolve).collect()),
                    Value::Null => Value::Null,
                    other => resolve(other),
                };
                *value = populated;
            }
        }
    }
    Ok(())
}

/// The collection a populate path refers to.
fn reference_target<'a>(def: &'a CollectionDef, path: &FieldPath) -> Result<&'a str, DataError> {
    let not_a_reference = || DataError::BadRequest(format!("Cannot populate '{path}': it is not a Ref field."));
    let field = def.field(path.as_str()).ok_or_else(not_a_reference)?;
    let target = match field.kind {
        FieldKind::Ref => field.reference.as_deref(),
        FieldKind::Array => {
            field.items.as_ref().filter(|items| items.kind == FieldKind::Ref).and_then(|i| i.reference.as_deref())
        }
        _ => None,
    };
    target.ok_or_else(not_a_reference)
}
