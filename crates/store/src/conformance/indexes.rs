//! Unique indexes (refusing existing duplicates with the spec's text, partial unless required,
//! enforced on insert, bulk insert and update, idempotent, droppable), the owner index, and
//! dropping a collection.

use query::Schema;
use rls_core::ReadScope;
use serde_json::json;

use super::{CaseResult, Ctx, Failure, doc, doc_id, ensure, ensure_eq, filter, ids, oid, owner_scope, write_scope};
use crate::{StoreError, UniqueIndex};

fn email_index(required: bool) -> UniqueIndex {
    UniqueIndex { field: "email".to_owned(), required }
}

fn is_email_duplicate(result: &Result<impl std::fmt::Debug, StoreError>) -> bool {
    match result {
        Err(StoreError::DuplicateKey { field }) => field.as_deref().is_none_or(|f| f == "email"),
        _ => false,
    }
}

/// Creating a unique index over duplicate values is refused with the count and up to three
/// examples (JSON), only counting documents that have the field (not null) when it is not
/// required; nothing is created.
pub(crate) async fn unique_index_refuses_existing_duplicates(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("users2", Schema::new());
    cx.insert(
        &coll,
        vec![
            json!({"email": "a@x.io"}),
            json!({"email": "a@x.io"}),
            json!({"email": "b@x.io"}),
            json!({}),
            json!({}),
            json!({"email": null}),
            json!({"email": null}),
        ],
    )
    .await?;
    let result = cx.store().create_unique_index(&coll.spec(), &email_index(false)).await;
    let expected = StoreError::DuplicatesExist { field: "email".into(), count: 1, examples: "\"a@x.io\"".into() };
    ensure_eq!(result, Err::<(), _>(expected.clone()), "one duplicated value");
    ensure_eq!(
        expected.to_string(),
        "Cannot create unique index on 'email'. 1 duplicate values exist. Examples: \"a@x.io\"".to_owned(),
        "the text"
    );
    cx.insert(&coll, vec![json!({"email": "b@x.io"})]).await?;
    match cx.store().create_unique_index(&coll.spec(), &email_index(false)).await {
        Err(StoreError::DuplicatesExist { field, count, examples }) => {
            let mut listed: Vec<&str> = examples.split(", ").collect();
            listed.sort_unstable();
            ensure_eq!((field, count), ("email".to_owned(), 2u64), "two duplicated values");
            ensure_eq!(listed, vec!["\"a@x.io\"", "\"b@x.io\""], "both examples");
        }
        other => return Err(Failure(format!("expected DuplicatesExist, got {other:?}"))),
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// For a required field, documents without it (or with `null`) count as duplicates of `null`.
pub(crate) async fn unique_index_required_counts_missing_values(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("users2", Schema::new());
    cx.insert(&coll, vec![json!({}), json!({"email": null}), json!({"email": "a"})]).await?;
    let result = cx.store().create_unique_index(&coll.spec(), &email_index(true)).await;
    let expected = StoreError::DuplicatesExist { field: "email".into(), count: 1, examples: "null".into() };
    ensure_eq!(result, Err::<(), _>(expected), "missing and null values are duplicates");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// A partial unique index refuses a second equal value on insert, bulk insert (all or nothing)
/// and update, allows any number of documents without the field or with `null`, is idempotent,
/// and can be dropped.
pub(crate) async fn unique_index_enforced_and_partial(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("users2", Schema::new());
    let store = cx.store();
    store.create_unique_index(&coll.spec(), &email_index(false)).await?;
    cx.insert(&coll, vec![json!({"_id": oid(1), "email": "a@x.io"})]).await?;
    let dup = store.insert(&coll.spec(), vec![doc(json!({"_id": oid(2), "email": "a@x.io"}))?]).await;
    ensure!(is_email_duplicate(&dup), "second a@x.io: {dup:?}");
    cx.insert(&coll, vec![json!({"_id": oid(3)}), json!({"_id": oid(4)}), json!({"_id": oid(5), "email": null})])
        .await?;
    cx.insert(&coll, vec![json!({"_id": oid(6), "email": null})]).await?;
    let bulk = store
        .insert(&coll.spec(), vec![doc(json!({"_id": oid(7), "email": "c@x.io"}))?, doc(json!({"email": "a@x.io"}))?])
        .await;
    ensure!(is_email_duplicate(&bulk), "bulk with a duplicate: {bulk:?}");
    let all = cx.find_by_id_order(&coll, &ReadScope::All, filter(vec![])).await?;
    ensure_eq!(ids(&all), vec![oid(1), oid(3), oid(4), oid(5), oid(6)], "documents after the refusals");
    let update = store.update(&coll.spec(), &write_scope(&oid(3), None)?, &doc(json!({"email": "a@x.io"}))?).await;
    ensure!(is_email_duplicate(&update), "update to a duplicate: {update:?}");
    let unchanged = store.get(&coll.spec(), &doc_id(&oid(3))?, &ReadScope::All).await?;
    ensure!(unchanged.is_some_and(|d| !d.contains_key("email")), "document 3 unchanged");
    store.update(&coll.spec(), &write_scope(&oid(3), None)?, &doc(json!({"email": "d@x.io"}))?).await?;
    store.create_unique_index(&coll.spec(), &email_index(false)).await?;
    let dup = store.insert(&coll.spec(), vec![doc(json!({"email": "d@x.io"}))?]).await;
    ensure!(is_email_duplicate(&dup), "still enforced after re-creating: {dup:?}");
    store.drop_unique_index(&coll.spec(), "email").await?;
    cx.insert(&coll, vec![json!({"_id": oid(8), "email": "a@x.io"})]).await?;
    store.drop_unique_index(&coll.spec(), "email").await?;
    store.drop_unique_index(&coll.spec(), "nothing").await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Creating the owner index twice, or on a collection without documents, is fine, and owner
/// reads keep their results.
pub(crate) async fn owner_index_is_idempotent(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    let empty = cx.coll("empty", Schema::new());
    let store = cx.store();
    store.create_owner_index(&empty.spec(), "owner").await?;
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "owner": "u1"}),
                json!({"_id": oid(2), "owner": "u2"}),
                json!({"_id": oid(3), "owner": "u1"}),
            ],
        )
        .await?;
    store.create_owner_index(&coll.spec(), "owner").await?;
    store.create_owner_index(&coll.spec(), "owner").await?;
    let query = super::parse("", &coll.schema)?;
    let page = store.find(&coll.spec(), &owner_scope("u1"), &query).await?;
    ensure_eq!(page.items, super::pick(&stored, &[2, 0])?, "u1's documents, newest first");
    cx.cleanup(&[&coll, &empty]).await;
    Ok(())
}

/// Dropping a collection removes its documents and its indexes; dropping again (or a collection
/// that never existed) is fine.
pub(crate) async fn drop_collection_removes_documents_and_indexes(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let never = cx.coll("never", Schema::new());
    let store = cx.store();
    cx.insert(&coll, vec![json!({"_id": oid(1), "email": "a"}), json!({"_id": oid(2), "email": "b"})]).await?;
    store.create_unique_index(&coll.spec(), &email_index(false)).await?;
    store.drop_collection(&coll.spec()).await?;
    ensure_eq!(store.count(&coll.spec(), &ReadScope::All, &filter(vec![])).await?, 0u64, "no documents");
    ensure_eq!(store.get(&coll.spec(), &doc_id(&oid(1))?, &ReadScope::All).await?, None, "get after drop");
    ensure_eq!(store.exists(&coll.spec(), &doc_id(&oid(1))?).await?, false, "exists after drop");
    cx.insert(&coll, vec![json!({"_id": oid(1), "email": "a"}), json!({"_id": oid(3), "email": "a"})]).await?;
    let all = cx.find_by_id_order(&coll, &ReadScope::All, filter(vec![])).await?;
    ensure_eq!(ids(&all), vec![oid(1), oid(3)], "the index went with the collection");
    store.drop_collection(&coll.spec()).await?;
    store.drop_collection(&coll.spec()).await?;
    store.drop_collection(&never.spec()).await?;
    Ok(())
}
