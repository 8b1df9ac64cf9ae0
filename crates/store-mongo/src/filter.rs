//! The `query` AST and the RLS scopes → MongoDB filter documents.
//!
//! Every client value is the operand of an explicit operator (`{f: {$eq: v}}`, `{f: {$in: […]}}`,
//! …) and is a typed literal ([`query::Scalar`] → [`convert::scalar`]); field names are validated
//! [`query::FieldPath`]s, so a client can never introduce an operator. Conditions are ANDed with
//! `$and`, so several conditions on one field never overwrite each other.
//!
//! The owner scope means *exact* equality of the owner field with the user id, as
//! [`rls_core::ReadScope::permits`] defines it: `{f: {$eq: user}}` alone would also match an array
//! that contains the user, so the scope adds `{f: {$not: {$type: "array"}}}`. An owner field that
//! the schema types as a `Ref` is compared as an ObjectId (that is how it is stored).
//!
//! Cursor pagination continues strictly after the last item in MongoDB's sort order, where null
//! and missing values sort first and the type brackets order numbers < strings < objects <
//! ObjectIds < booleans < dates < regexes (see [`cursor`]). Arrays are not ordered by their
//! elements here (the parser refuses cursors on declared array fields).

use mongodb::bson::{Bson, Document, doc};
use query::{Condition, CursorPosition, FieldType, Filter, Op, Scalar, Schema, SortKey, SortOrder};
use rls_core::{DocId, ReadScope, WriteScope};
use store::StoreError;

use crate::convert;

/// The filter document of one condition.
pub(crate) fn condition(c: &Condition) -> Document {
    let path = c.path.as_str();
    let operand = match &c.op {
        Op::Eq(v) => equal(v),
        Op::Ne(Scalar::Number(n)) => doc! { "$nin": convert::number_variants(*n) },
        Op::Ne(v) => doc! { "$ne": convert::scalar(v) },
        Op::Gt(v) => doc! { "$gt": convert::scalar(v) },
        Op::Gte(v) => doc! { "$gte": convert::scalar(v) },
        Op::Lt(v) => doc! { "$lt": convert::scalar(v) },
        Op::Lte(v) => doc! { "$lte": convert::scalar(v) },
        Op::In(values) => doc! { "$in": values.iter().flat_map(convert::equal_values).collect::<Vec<Bson>>() },
        Op::Exists(b) => doc! { "$exists": *b },
        Op::Regex(p) => doc! { "$regex": p.source(), "$options": "i" },
    };
    doc! { path: operand }
}

/// The operand of "equals this value": `$eq`, or `$in` of a number's forms (see
/// [`convert::number_variants`]).
fn equal(value: &Scalar) -> Document {
    match value {
        Scalar::Number(n) => doc! { "$in": convert::number_variants(*n) },
        other => doc! { "$eq": convert::scalar(other) },
    }
}

/// The clauses of a filter, one per condition.
pub(crate) fn clauses(filter: &Filter) -> Vec<Document> {
    filter.conditions().iter().map(condition).collect()
}

/// The conjunction of clauses: `{}` for none, the clause itself for one, `$and` otherwise.
pub(crate) fn and(mut clauses: Vec<Document>) -> Document {
    match clauses.len() {
        0 => Document::new(),
        1 => clauses.pop().unwrap_or_default(),
        _ => doc! { "$and": clauses },
    }
}

/// The clauses of a read scope (none for [`ReadScope::All`]).
pub(crate) fn read_scope(scope: &ReadScope, schema: &Schema) -> Result<Vec<Document>, StoreError> {
    match scope {
        ReadScope::All => Ok(Vec::new()),
        ReadScope::Owner { field, user } => owner(field, user, schema),
    }
}

/// The clauses of "the owner field is exactly this user" (see the module docs).
pub(crate) fn owner(field: &str, user: &str, schema: &Schema) -> Result<Vec<Document>, StoreError> {
    // rls-core only hands out plain field names; anything else fails closed.
    if field.is_empty() || field.starts_with('$') || field.contains('.') || field.contains('\0') {
        return Err(StoreError::Internal(format!("refusing an owner scope on the field name {field:?}")));
    }
    let stored_as_object_id = schema.field_type(field) == Some(&FieldType::ObjectId)
        && user.len() == 24
        && user.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let value =
        if stored_as_object_id { Bson::ObjectId(convert::object_id(user)?) } else { Bson::String(user.to_owned()) };
    Ok(vec![doc! { field: { "$eq": value } }, doc! { field: { "$not": { "$type": "array" } } }])
}

/// The id clause of a single-document operation.
pub(crate) fn id(id: &DocId) -> Result<Document, StoreError> {
    Ok(doc! { "_id": convert::object_id(id.as_str())? })
}

/// The filter of an update or delete: `_id` and, when the scope has one, the owner.
pub(crate) fn write_scope(scope: &WriteScope, schema: &Schema) -> Result<Document, StoreError> {
    let mut clauses = vec![id(scope.id())?];
    if let Some(owner) = scope.owner() {
        clauses.extend(self::owner(&owner.field, &owner.user, schema)?);
    }
    Ok(and(clauses))
}

/// The sort document, keys in order.
pub(crate) fn sort(keys: &[SortKey]) -> Document {
    keys.iter().map(|k| (k.path.as_str().to_owned(), Bson::Int32(k.order.as_i32()))).collect()
}

/// MongoDB's sort brackets of the values a cursor can hold, smallest first, each with the
/// `$type` name it covers (null and arrays are handled apart). Types that JSON writes never
/// produce and that jongodb's `$type` does not know (binData, symbol, timestamp) are left out.
const BRACKETS: [&str; 7] = ["number", "string", "object", "objectId", "bool", "date", "regex"];

fn bracket(value: &Scalar) -> usize {
    match value {
        Scalar::Number(_) => 0,
        Scalar::String(_) => 1,
        Scalar::ObjectId(_) => 3,
        Scalar::Bool(_) => 4,
        Scalar::Date(_) => 5,
    }
}

/// `{path: {$type: name}}` for each bracket (one clause per type: `$type` with a list is not
/// understood by every compatible server).
fn type_clauses<'a>(path: &'a str, brackets: &'a [&'a str]) -> impl Iterator<Item = Document> + 'a {
    brackets.iter().map(move |name| doc! { path: { "$type": *name } })
}

/// The clause selecting the documents strictly after the cursor position, in the order (the
/// position's sort key, then `_id` in the same direction).
pub(crate) fn cursor(position: &CursorPosition) -> Result<Document, StoreError> {
    let path = position.sort.path.as_str();
    let id = Bson::ObjectId(convert::object_id(position.id.as_str())?);
    let asc = position.sort.order == SortOrder::Asc;
    let (after, after_id) = if asc { ("$gt", doc! { "$gt": id }) } else { ("$lt", doc! { "$lt": id }) };
    if position.sort.path.is_id() {
        return Ok(doc! { "_id": after_id });
    }
    let mut branches = Vec::new();
    match &position.value {
        // Null and missing sort first: ascending, everything that is not null follows.
        None => {
            branches.push(doc! { path: Bson::Null, "_id": after_id });
            if asc {
                branches.push(doc! { path: { "$ne": Bson::Null } });
            }
        }
        Some(value) => {
            let v = convert::scalar(value);
            branches.push(doc! { path: { after: v }, });
            branches.push(doc! { path: equal(value), "_id": after_id });
            let b = bracket(value);
            let (below, above) = BRACKETS.split_at(b);
            if asc {
                branches.extend(type_clauses(path, above.get(1..).unwrap_or_default()));
            } else {
                branches.extend(type_clauses(path, below));
            }
            if !asc {
                branches.push(doc! { path: Bson::Null });
            }
        }
    }
    Ok(match branches.len() {
        1 => branches.pop().unwrap_or_default(),
        _ => doc! { "$or": branches },
    })
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
