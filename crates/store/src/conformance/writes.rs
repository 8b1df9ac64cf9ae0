//! Updates (merge, dotted paths, `_id` immutability, scoped) and deletes (scoped), bulk
//! inserts being all or nothing, and side writes standing or falling with their change. Every refused or missed write is checked against the database
//! state afterwards.

use std::sync::Arc;

use query::Schema;
use rls_core::ReadScope;
use serde_json::{Value, json};

use super::{CaseResult, Coll, Ctx, Failure, doc, doc_id, ensure, ensure_eq, filter, nth, oid, sort_key, write_scope};
use crate::{Change, Changed, Document, SideWrites, StoreError};

/// The document as stored now (secret-key read).
async fn current(cx: &Ctx<'_>, coll: &Coll, id: &str) -> Result<Option<Document>, Failure> {
    Ok(cx.store().get(&coll.spec(), &doc_id(id)?, &ReadScope::All).await?)
}

/// `expected` with `updatedAt` taken from `actual` (checked to be a canonical time not before
/// `before`).
fn with_updated_at(mut expected: Document, actual: &Document, before: &Document) -> Result<Document, Failure> {
    let updated = actual.get("updatedAt").and_then(Value::as_str).unwrap_or_default();
    let previous = before.get("updatedAt").and_then(Value::as_str).unwrap_or_default();
    let canonical = crate::parse_timestamp(updated).is_some_and(|at| crate::format_timestamp(at) == updated);
    ensure!(canonical && updated >= previous, "updatedAt {updated:?} is canonical and not before {previous:?}");
    expected.insert("updatedAt".into(), Value::String(updated.to_owned()));
    Ok(expected)
}

/// Top-level keys replace (a nested object as a whole), new keys are added, `updatedAt` moves,
/// `createdAt`, `_id`, `__v` and untouched fields stay.
pub(crate) async fn update_merges_and_refreshes_updated_at(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let before =
        nth(&cx.insert(&coll, vec![json!({"_id": oid(1), "a": 1, "b": {"c": 1, "d": 2}, "keep": "x"})]).await?, 0)?;
    let set = doc(json!({"a": 2, "b": {"c": 5}, "new": true, "createdAt": "1999-01-01T00:00:00.000Z"}))?;
    let updated = cx.store().update(&coll.spec(), &write_scope(&oid(1), None)?, &set).await?;
    let updated = updated.ok_or_else(|| Failure("update matched nothing".into()))?;
    let mut expected = before.clone();
    for (k, v) in [("a", json!(2)), ("b", json!({"c": 5})), ("new", json!(true))] {
        expected.insert(k.into(), v);
    }
    let expected = with_updated_at(expected, &updated, &before)?;
    ensure_eq!(updated, expected, "updated document");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, Some(expected), "stored document");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Dotted keys set nested paths, creating objects on the way; descending into a scalar is refused
/// and changes nothing.
pub(crate) async fn update_dotted_paths(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let before = nth(&cx.insert(&coll, vec![json!({"_id": oid(1), "b": {"c": 1, "d": 2}, "keep": "x"})]).await?, 0)?;
    let scope = write_scope(&oid(1), None)?;
    let set = doc(json!({"b.c": 7, "b.e": [1], "x.y.z": 1}))?;
    let updated = cx.store().update(&coll.spec(), &scope, &set).await?.ok_or_else(|| Failure("no match".into()))?;
    let mut expected = before.clone();
    expected.insert("b".into(), json!({"c": 7, "d": 2, "e": [1]}));
    expected.insert("x".into(), json!({"y": {"z": 1}}));
    let expected = with_updated_at(expected, &updated, &before)?;
    ensure_eq!(updated, expected, "nested update");
    let refused = cx.store().update(&coll.spec(), &scope, &doc(json!({"keep.z": 1, "a": 1}))?).await;
    ensure!(matches!(refused, Err(StoreError::InvalidInput(_))), "descending into a string: {refused:?}");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, Some(expected), "unchanged after the refusal");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `_id` cannot change: a different `_id` is refused (nothing changes), the same one is allowed.
pub(crate) async fn update_refuses_changing_id(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let before = nth(&cx.insert(&coll, vec![json!({"_id": oid(1), "a": 1})]).await?, 0)?;
    let scope = write_scope(&oid(1), None)?;
    let refused = cx.store().update(&coll.spec(), &scope, &doc(json!({"_id": oid(2), "a": 2}))?).await;
    ensure!(matches!(refused, Err(StoreError::InvalidInput(_))), "changing _id: {refused:?}");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, Some(before.clone()), "unchanged");
    ensure_eq!(current(cx, &coll, &oid(2)).await?, None, "no document under the new id");
    let same = cx.store().update(&coll.spec(), &scope, &doc(json!({"_id": oid(1), "a": 3}))?).await?;
    let same = same.ok_or_else(|| Failure("same _id matched nothing".into()))?;
    let mut expected = before.clone();
    expected.insert("a".into(), json!(3));
    ensure_eq!(same, with_updated_at(expected, &same, &before)?, "restating the same _id is allowed");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// A write scoped to another owner (or to an owner field that is not exactly the user) matches
/// nothing and leaves the document as it was; the owner's own write succeeds.
pub(crate) async fn update_and_delete_respect_owner_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    let stored = cx
        .insert(&coll, vec![json!({"_id": oid(1), "owner": "u1", "t": "a"}), json!({"_id": oid(2), "owner": ["u1"]})])
        .await?;
    let (first, second) = (nth(&stored, 0)?, nth(&stored, 1)?);
    let store = cx.store();
    let set = doc(json!({"t": "z"}))?;
    ensure_eq!(store.update(&coll.spec(), &write_scope(&oid(1), Some("u2"))?, &set).await?, None, "u2 updates u1's");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, Some(first.clone()), "unchanged after u2's update");
    ensure_eq!(store.delete(&coll.spec(), &write_scope(&oid(1), Some("u2"))?).await?, None, "u2 deletes u1's");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, Some(first.clone()), "still there after u2's delete");
    ensure_eq!(store.update(&coll.spec(), &write_scope(&oid(2), Some("u1"))?, &set).await?, None, "array owner");
    ensure_eq!(store.delete(&coll.spec(), &write_scope(&oid(2), Some("u1"))?).await?, None, "array owner delete");
    ensure_eq!(current(cx, &coll, &oid(2)).await?, Some(second.clone()), "array-owned document unchanged");
    let mine = store.update(&coll.spec(), &write_scope(&oid(1), Some("u1"))?, &doc(json!({"t": "mine"}))?).await?;
    let mine = mine.ok_or_else(|| Failure("the owner's update matched nothing".into()))?;
    let mut expected = first.clone();
    expected.insert("t".into(), json!("mine"));
    let expected = with_updated_at(expected, &mine, &first)?;
    ensure_eq!(mine, expected, "the owner's update");
    let deleted = store.delete(&coll.spec(), &write_scope(&oid(1), Some("u1"))?).await?;
    ensure_eq!(deleted, Some(expected), "the owner's delete returns the document");
    ensure_eq!(current(cx, &coll, &oid(1)).await?, None, "deleted");
    ensure_eq!(store.delete(&coll.spec(), &write_scope(&oid(2), None)?).await?, Some(second), "secret-key delete");
    ensure_eq!(store.count(&coll.spec(), &ReadScope::All, &filter(vec![])).await?, 0u64, "nothing left");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Updating or deleting an unknown id, or in a collection that does not exist, is `None`.
pub(crate) async fn update_and_delete_missing_documents(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let never = cx.coll("never", Schema::new());
    cx.insert(&coll, vec![json!({"_id": oid(1)})]).await?;
    let store = cx.store();
    let set = doc(json!({"a": 1}))?;
    for c in [&coll, &never] {
        ensure_eq!(store.update(&c.spec(), &write_scope(&oid(2), None)?, &set).await?, None, "update unknown");
        ensure_eq!(store.delete(&c.spec(), &write_scope(&oid(2), None)?).await?, None, "delete unknown");
    }
    ensure_eq!(store.count(&never.spec(), &ReadScope::All, &filter(vec![])).await?, 0u64, "nothing created");
    cx.cleanup(&[&coll, &never]).await;
    Ok(())
}

/// A bulk insert with a duplicate `_id` (within the batch or with a stored document) inserts
/// nothing.
pub(crate) async fn bulk_insert_is_all_or_nothing(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let store = cx.store();
    let count = || async { store.count(&coll.spec(), &ReadScope::All, &filter(vec![])).await };
    let batch = vec![doc(json!({"_id": oid(1)}))?, doc(json!({"_id": oid(2)}))?, doc(json!({"_id": oid(1)}))?];
    let result = store.insert(&coll.spec(), batch).await;
    ensure!(matches!(result, Err(StoreError::DuplicateKey { .. })), "duplicate within the batch: {result:?}");
    ensure_eq!(count().await?, 0u64, "nothing inserted");
    cx.insert(&coll, vec![json!({"_id": oid(1), "v": 1})]).await?;
    let result =
        store.insert(&coll.spec(), vec![doc(json!({"_id": oid(3)}))?, doc(json!({"_id": oid(1), "v": 2}))?]).await;
    ensure!(matches!(result, Err(StoreError::DuplicateKey { .. })), "duplicate of a stored id: {result:?}");
    ensure_eq!(count().await?, 1u64, "only the first document");
    ensure_eq!(current(cx, &coll, &oid(3)).await?, None, "the batch's first item was rolled back");
    let v = current(cx, &coll, &oid(1)).await?.and_then(|d| d.get("v").cloned());
    ensure_eq!(v, Some(json!(1)), "the stored document is untouched");
    cx.insert(&coll, vec![json!({"_id": oid(3)}), json!({"_id": oid(4)})]).await?;
    ensure_eq!(count().await?, 3u64, "a clean batch is inserted");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// How many documents a collection holds.
async fn count(cx: &Ctx<'_>, coll: &Coll) -> Result<u64, Failure> {
    Ok(cx.store().count(&coll.spec(), &ReadScope::All, &query::Filter::new()).await?)
}

/// A change and the side documents built from what it wrote (`write_with`, the webhooks outbox)
/// stand or fall together: a refused side document undoes the insert or update, and a change
/// that designates nothing writes none. The trait lets a backend answer `Unsupported` instead;
/// such a backend skips this case by name.
pub(crate) async fn side_writes_stand_or_fall_with_their_change(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("posts", Schema::new());
    let outbox = cx.coll("outbox", Schema::new());
    let taken = oid(9);
    cx.insert(&outbox, vec![json!({"_id": taken})]).await?;
    let event = |id: Option<String>| SideWrites {
        physical: outbox.physical.clone(),
        build: Arc::new(move |written: &Document| {
            let mut event = Document::new();
            event.insert("of".into(), written.get("_id").cloned().unwrap_or_default());
            event.insert("title".into(), written.get("title").cloned().unwrap_or_default());
            if let Some(id) = &id {
                event.insert("_id".into(), json!(id));
            }
            vec![event]
        }),
    };
    let store = cx.store();
    let insert = |title: &str| Change::Insert(vec![doc(json!({"_id": oid(1), "title": title})).unwrap_or_default()]);

    // The side document's id is taken: the insert is refused and nothing is written.
    let refused = store.write_with(&coll.spec(), insert("a"), &event(Some(taken.clone()))).await;
    ensure!(matches!(refused, Err(StoreError::DuplicateKey { .. })), "a taken side id refuses the change: {refused:?}");
    ensure_eq!((count(cx, &coll).await?, count(cx, &outbox).await?), (0, 1), "the refused insert left nothing");

    // Insert, update and delete, each with its event.
    let inserted = store.write_with(&coll.spec(), insert("a"), &event(None)).await?;
    ensure!(matches!(&inserted, Changed::Inserted(docs) if docs.len() == 1), "{inserted:?}");
    let scope = write_scope(&oid(1), None)?;
    let set = doc(json!({"title": "b"}))?;
    let updated = store.write_with(&coll.spec(), Change::Update { scope: &scope, set: &set }, &event(None)).await?;
    ensure!(matches!(&updated, Changed::Updated(Some(d)) if d.get("title") == Some(&json!("b"))), "{updated:?}");
    // A refused side document undoes the update too.
    let set = doc(json!({"title": "c"}))?;
    let refused =
        store.write_with(&coll.spec(), Change::Update { scope: &scope, set: &set }, &event(Some(taken.clone()))).await;
    ensure!(matches!(refused, Err(StoreError::DuplicateKey { .. })), "{refused:?}");
    let now = current(cx, &coll, &oid(1)).await?.and_then(|d| d.get("title").cloned());
    ensure_eq!(now, Some(json!("b")), "the refused update left the document as it was");
    let deleted = store.write_with(&coll.spec(), Change::Delete { scope: &scope }, &event(None)).await?;
    ensure!(matches!(deleted, Changed::Deleted(Some(_))), "{deleted:?}");
    // A change that designates nothing writes no side document.
    let missed = store.write_with(&coll.spec(), Change::Delete { scope: &scope }, &event(None)).await?;
    ensure!(missed == Changed::Deleted(None), "{missed:?}");
    ensure_eq!((count(cx, &coll).await?, count(cx, &outbox).await?), (0, 4), "the taken one and three events");
    let by_id = vec![sort_key("_id", query::SortOrder::Asc)?];
    let events =
        store.find(&outbox.spec(), &ReadScope::All, &query::ListQuery::first(filter(vec![]), by_id, 10)).await?;
    let titles: Vec<Value> = events
        .items
        .iter()
        .filter(|e| e.get("of") == Some(&json!(oid(1))))
        .filter_map(|e| e.get("title").cloned())
        .collect();
    ensure_eq!(titles, vec![json!("a"), json!("b"), json!("b")], "each event carries what its change wrote");
    Ok(())
}
