//! Behaviour specific to the embedded store: its texts for unsupported aggregations, index
//! definitions that change, odd field names, and its file handling.

use query::{Condition, FieldPath, Filter, Op, Scalar, Schema};
use rls_core::{Caller, ReadScope, RlsConfig, Target};
use serde_json::{Value, json};
use store::{CollectionSpec, DocumentStore, StoreError, UniqueIndex};
use store_sqlite::SqliteStore;

use crate::common::TempDir;

fn doc(v: Value) -> store::Document {
    v.as_object().unwrap().clone()
}

fn secret_plan(stages: Value) -> rls_core::AggregatePlan {
    let rls = RlsConfig::default();
    rls_core::authorize_aggregate(&Caller::secret(), &Target::existing("posts", &rls), &json!({ "pipeline": stages }))
        .unwrap()
}

#[tokio::test]
async fn unsupported_aggregations_are_named() {
    let store = SqliteStore::open_in_memory().unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "agg", schema: &schema };
    store.insert(&coll, vec![doc(json!({"a": 1}))]).await.unwrap();
    let lookup =
        secret_plan(json!([{"$lookup": {"from": "other", "localField": "a", "foreignField": "b", "as": "c"}}]));
    let err = store.aggregate(&coll, &lookup).await.unwrap_err();
    assert_eq!(err.to_string(), "Aggregation stage '$lookup' is not supported on the embedded store.");
    assert_eq!(err.status(), 400);
    let function = secret_plan(json!([{"$project": {"x": {"$function": {"body": "", "args": [], "lang": "js"}}}}]));
    let err = store.aggregate(&coll, &function).await.unwrap_err();
    assert_eq!(err.to_string(), "Aggregation operator '$function' is not supported on the embedded store.");
    let bad = secret_plan(json!([{"$limit": -1}]));
    assert!(matches!(store.aggregate(&coll, &bad).await, Err(StoreError::InvalidInput(_))));
    let ok = secret_plan(json!([{"$project": {"_id": 0, "b": {"$add": ["$a", 1]}}}]));
    assert_eq!(store.aggregate(&coll, &ok).await.unwrap(), vec![json!({"b": 2})]);
}

#[tokio::test]
async fn changing_a_unique_index_to_required_rechecks_and_rolls_back() {
    let store = SqliteStore::open_in_memory().unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "u", schema: &schema };
    store.insert(&coll, vec![doc(json!({"e": "a"})), doc(json!({})), doc(json!({}))]).await.unwrap();
    store.create_unique_index(&coll, &UniqueIndex { field: "e".into(), required: false }).await.unwrap();
    let err = store.create_unique_index(&coll, &UniqueIndex { field: "e".into(), required: true }).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicatesExist { field: "e".into(), count: 1, examples: "null".into() });
    let dup = store.insert(&coll, vec![doc(json!({"e": "a"}))]).await;
    assert_eq!(dup, Err(StoreError::DuplicateKey { field: Some("e".into()) }), "the partial index is still there");
    store.insert(&coll, vec![doc(json!({}))]).await.unwrap();
}

#[tokio::test]
async fn odd_field_names_are_quoted_not_interpreted() {
    let store = SqliteStore::open_in_memory().unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "weird \"name\"; DROP TABLE x; --", schema: &schema };
    let owner = "we\"ird\\key'";
    let stored = store
        .insert(
            &coll,
            vec![doc(json!({owner: "u1", "a.b": "literal", "a": {"b": "nested"}})), doc(json!({owner: "u2"}))],
        )
        .await
        .unwrap();
    let scope = ReadScope::Owner { field: owner.into(), user: "u1".into() };
    let mut filter = Filter::new();
    filter.and(Condition::new(FieldPath::new("a.b").unwrap(), Op::Eq(Scalar::String("nested".into()))));
    assert_eq!(store.count(&coll, &scope, &filter).await.unwrap(), 1);
    let mut quoted = Filter::new();
    quoted.and(Condition::new(FieldPath::new(owner).unwrap(), Op::Eq(Scalar::String("u2".into()))));
    assert_eq!(store.count(&coll, &ReadScope::All, &quoted).await.unwrap(), 1);
    store.create_unique_index(&coll, &UniqueIndex { field: "a.b".into(), required: false }).await.unwrap();
    let dup = store.insert(&coll, vec![doc(json!({"a.b": "literal"}))]).await;
    assert_eq!(dup, Err(StoreError::DuplicateKey { field: Some("a.b".into()) }), "the literal key, not the path");
    store.insert(&coll, vec![doc(json!({"a": {"b": "literal"}}))]).await.unwrap();
    store.create_owner_index(&coll, owner).await.unwrap();
    let page = store.find(&coll, &scope, &query::parse("", &schema).unwrap()).await.unwrap();
    assert_eq!(page.items, vec![stored[0].clone()]);
}

#[tokio::test]
async fn update_paths_that_cannot_be_set_are_refused() {
    let store = SqliteStore::open_in_memory().unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "up", schema: &schema };
    let stored = store.insert(&coll, vec![doc(json!({"s": "x", "arr": [1]}))]).await.unwrap();
    let id = stored[0]["_id"].as_str().unwrap();
    let scope =
        rls_core::authorize_delete(&Caller::secret(), &Target::existing("up", &RlsConfig::default()), id).unwrap();
    for (set, text) in [
        (json!({"s.t": 1}), "Cannot create field 't' in element {s: \"x\"}"),
        (json!({"a": 1, "a.b": 2}), "Updating the path 'a.b' would create a conflict at 'a'"),
        (json!({"arr.x": 1}), "Cannot create field 'x' in element {arr: [1]}"),
        (json!({"arr.99999": 1}), "The array index 99999 in the update path is too large."),
    ] {
        let err = store.update(&coll, &scope, &doc(set)).await.unwrap_err();
        assert_eq!(err, StoreError::InvalidInput(text.into()));
    }
    let updated = store.update(&coll, &scope, &doc(json!({"arr.2": "c"}))).await.unwrap().unwrap();
    assert_eq!(updated["arr"], json!([1, null, "c"]));
}

#[tokio::test]
async fn documents_nested_too_deeply_are_refused() {
    let store = SqliteStore::open_in_memory().unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "deep", schema: &schema };
    let mut deep = json!(1);
    for _ in 0..150 {
        deep = json!({ "a": deep });
    }
    let err = store.insert(&coll, vec![doc(json!({ "x": deep.clone() }))]).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    let stored = store.insert(&coll, vec![doc(json!({"x": 1}))]).await.unwrap();
    let id = stored[0]["_id"].as_str().unwrap();
    let scope =
        rls_core::authorize_delete(&Caller::secret(), &Target::existing("d", &RlsConfig::default()), id).unwrap();
    let err = store.update(&coll, &scope, &doc(json!({ "x": deep }))).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
}

#[tokio::test]
async fn files_are_created_and_temporary_stores_removed() {
    let dir = TempDir::new("files");
    let nested = dir.path().join("a").join("b").join("data.sqlite3");
    let store = SqliteStore::open(&nested).unwrap();
    store.ping().await.unwrap();
    assert!(nested.exists());
    drop(store);
    let temporary = SqliteStore::open_in_memory().unwrap();
    let path = temporary.path().to_path_buf();
    temporary.ping().await.unwrap();
    assert!(path.exists());
    drop(temporary);
    assert!(!path.exists(), "a temporary store removes its file");
    let not_a_db = dir.path().join("junk.sqlite3");
    std::fs::write(&not_a_db, b"this is not a database, not at all, no").unwrap();
    assert!(SqliteStore::open(&not_a_db).is_err());
}
