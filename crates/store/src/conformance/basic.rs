//! Inserting, getting by id (with and without scope), `get_many`, `exists`, reads of a missing
//! collection, and `ping`.

use query::{Pagination, Schema, SortOrder};
use rls_core::ReadScope;
use serde_json::{Value, json};

use super::{
    CaseResult, Ctx, doc, doc_id, ensure, ensure_eq, filter, id_of, ids, list_query, nth, oid, owner_scope, pick,
    sort_key,
};
use crate::{StoreError, format_timestamp, parse_timestamp};

fn is_object_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_canonical_timestamp(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|t| parse_timestamp(t).is_some_and(|at| format_timestamp(at) == t))
}

/// Insert sets `_id`, `createdAt` = `updatedAt` (canonical ISO strings) and `__v: 0`, keeps the
/// fields, and `get` returns exactly the stored document.
pub(crate) async fn insert_assigns_id_timestamps_and_version(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("items", Schema::new());
    let stored =
        cx.insert(&coll, vec![json!({"title": "a", "n": 1, "nested": {"x": [1, "two", null]}}), json!({})]).await?;
    ensure_eq!(stored.len(), 2usize, "two documents stored");
    let (first, second) = (&nth(&stored, 0)?, &nth(&stored, 1)?);
    let id = id_of(first)?;
    ensure!(is_object_id(&id), "_id {id} is 24 lower-case hex");
    ensure!(id != id_of(second)?, "ids differ");
    ensure!(is_canonical_timestamp(first.get("createdAt")), "createdAt {:?} is canonical", first.get("createdAt"));
    ensure_eq!(first.get("createdAt"), first.get("updatedAt"), "createdAt equals updatedAt on insert");
    let mut expected = doc(json!({"_id": id, "title": "a", "n": 1, "nested": {"x": [1, "two", null]}, "__v": 0}))?;
    expected.insert("createdAt".into(), first.get("createdAt").cloned().unwrap_or(Value::Null));
    expected.insert("updatedAt".into(), first.get("updatedAt").cloned().unwrap_or(Value::Null));
    ensure_eq!(*first, expected, "stored document");
    let mut keys: Vec<&str> = second.keys().map(String::as_str).collect();
    keys.sort_unstable();
    ensure_eq!(keys, vec!["__v", "_id", "createdAt", "updatedAt"], "an empty document gets exactly the metadata");
    let got = cx.store().get(&coll.spec(), &super::doc_id(&id)?, &ReadScope::All).await?;
    ensure_eq!(got, Some(first.clone()), "get returns the stored document");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// A valid client `_id` is kept (lower-cased); client `createdAt`, `updatedAt` and `__v` are
/// overwritten.
pub(crate) async fn insert_keeps_valid_id_and_overwrites_metadata(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("items", Schema::new());
    let given = oid(0xABCD).to_ascii_uppercase();
    let stored = cx
        .insert(
            &coll,
            vec![json!({"_id": given, "createdAt": "1999-01-01T00:00:00.000Z", "updatedAt": "x", "__v": 7, "a": 1})],
        )
        .await?;
    let first = &nth(&stored, 0)?;
    ensure_eq!(id_of(first)?, oid(0xABCD), "given _id kept, lower-cased");
    ensure!(first.get("createdAt") != Some(&json!("1999-01-01T00:00:00.000Z")), "createdAt overwritten");
    ensure!(is_canonical_timestamp(first.get("updatedAt")), "updatedAt overwritten");
    ensure_eq!(first.get("__v").cloned(), Some(json!(0)), "__v overwritten");
    let got = cx.store().get(&coll.spec(), &doc_id(&oid(0xABCD))?, &ReadScope::All).await?;
    ensure_eq!(got, Some(first.clone()), "get by the given id");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// An `_id` that is not 24 hex characters is refused and nothing is stored.
pub(crate) async fn insert_refuses_invalid_id(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("items", Schema::new());
    for bad in [json!("xyz"), json!(5), json!("65a0c0de0000000a0000000g")] {
        let result = cx.store().insert(&coll.spec(), vec![doc(json!({"a": 1}))?, doc(json!({"_id": bad}))?]).await;
        ensure!(matches!(result, Err(StoreError::InvalidInput(_))), "_id {bad} refused: {result:?}");
    }
    let count = cx.store().count(&coll.spec(), &ReadScope::All, &filter(vec![])).await?;
    ensure_eq!(count, 0u64, "nothing stored");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Reads of a collection that was never written find nothing (and create nothing).
pub(crate) async fn missing_collection_reads_empty(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("never", Schema::new());
    let store = cx.store();
    let id = doc_id(&oid(1))?;
    ensure_eq!(store.get(&coll.spec(), &id, &ReadScope::All).await?, None, "get");
    ensure_eq!(store.get_many(&coll.spec(), std::slice::from_ref(&id), &ReadScope::All).await?, Vec::new(), "get_many");
    ensure_eq!(store.exists(&coll.spec(), &id).await?, false, "exists");
    ensure_eq!(store.count(&coll.spec(), &ReadScope::All, &filter(vec![])).await?, 0u64, "count");
    let query =
        list_query(filter(vec![]), vec![sort_key("_id", SortOrder::Asc)?], Pagination::Offset { page: 1, limit: 10 });
    let page = store.find(&coll.spec(), &ReadScope::All, &query).await?;
    ensure!(page.items.is_empty() && !page.has_more, "find: {page:?}");
    let out = store.aggregate(&coll.spec(), &super::aggregate_plan(None, json!([{"$count": "n"}]))?).await?;
    ensure_eq!(out, Vec::<Value>::new(), "aggregate");
    Ok(())
}

/// `get` finds a document by id, not another collection's, and `None` for an unknown id.
pub(crate) async fn get_by_id(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("a", Schema::new());
    let other = cx.coll("b", Schema::new());
    let stored = cx.insert(&coll, vec![json!({"_id": oid(1), "v": 1}), json!({"_id": oid(2), "v": 2})]).await?;
    cx.insert(&other, vec![json!({"_id": oid(3), "v": 3})]).await?;
    let store = cx.store();
    ensure_eq!(store.get(&coll.spec(), &doc_id(&oid(2))?, &ReadScope::All).await?, stored.get(1).cloned(), "by id");
    ensure_eq!(store.get(&coll.spec(), &doc_id(&oid(3))?, &ReadScope::All).await?, None, "other collection's id");
    ensure_eq!(store.get(&coll.spec(), &doc_id(&oid(9))?, &ReadScope::All).await?, None, "unknown id");
    cx.cleanup(&[&coll, &other]).await;
    Ok(())
}

/// Within an owner scope only documents whose owner field is exactly the user's id are visible:
/// not others', not an owner-less document, not an array containing the id.
pub(crate) async fn get_within_owner_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "owner": "u1", "t": "mine"}),
                json!({"_id": oid(2), "owner": "u2", "t": "theirs"}),
                json!({"_id": oid(3), "t": "nobody's"}),
                json!({"_id": oid(4), "owner": ["u1"], "t": "array"}),
                json!({"_id": oid(5), "owner": "U1", "t": "case"}),
            ],
        )
        .await?;
    let store = cx.store();
    let u1 = owner_scope("u1");
    for (n, visible) in [(1, true), (2, false), (3, false), (4, false), (5, false)] {
        let got = store.get(&coll.spec(), &doc_id(&oid(n))?, &u1).await?;
        let expected = if visible { stored.get(n as usize - 1).cloned() } else { None };
        ensure_eq!(got, expected, "document {n} within u1's scope");
        let all = store.get(&coll.spec(), &doc_id(&oid(n))?, &ReadScope::All).await?;
        ensure_eq!(all, stored.get(n as usize - 1).cloned(), "document {n} with the secret key");
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `get_many` returns the documents with the given ids that lie within the scope.
pub(crate) async fn get_many_within_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "owner": "u1"}),
                json!({"_id": oid(2), "owner": "u2"}),
                json!({"_id": oid(3), "owner": "u1"}),
                json!({"_id": oid(4), "owner": "u1"}),
            ],
        )
        .await?;
    let wanted = [doc_id(&oid(1))?, doc_id(&oid(2))?, doc_id(&oid(3))?, doc_id(&oid(99))?];
    let mut got = cx.store().get_many(&coll.spec(), &wanted, &owner_scope("u1")).await?;
    got.sort_by_key(|d| ids(std::slice::from_ref(d)));
    ensure_eq!(got, pick(&stored, &[0, 2])?, "u1's documents among the ids");
    let mut got = cx.store().get_many(&coll.spec(), &wanted, &ReadScope::All).await?;
    got.sort_by_key(|d| ids(std::slice::from_ref(d)));
    ensure_eq!(got, pick(&stored, &[0, 1, 2])?, "all documents among the ids");
    ensure_eq!(cx.store().get_many(&coll.spec(), &[], &ReadScope::All).await?, Vec::new(), "no ids");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `exists` tells whether an id exists at all, whoever owns it.
pub(crate) async fn exists_ignores_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    cx.insert(&coll, vec![json!({"_id": oid(1), "owner": "u2"})]).await?;
    ensure_eq!(cx.store().exists(&coll.spec(), &doc_id(&oid(1))?).await?, true, "existing id");
    ensure_eq!(cx.store().exists(&coll.spec(), &doc_id(&oid(2))?).await?, false, "unknown id");
    cx.store().delete(&coll.spec(), &super::write_scope(&oid(1), None)?).await?;
    ensure_eq!(cx.store().exists(&coll.spec(), &doc_id(&oid(1))?).await?, false, "deleted id");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// The store answers.
pub(crate) async fn ping(cx: &Ctx<'_>) -> CaseResult {
    cx.store().ping().await?;
    Ok(())
}
