//! Indexes: unique indexes (full and partial), refusal when duplicates exist, the owner index,
//! dropping, and aggregation with the scope as first stage.

use mongodb::bson::{Document, doc};
use query::{FieldType, Schema};
use rls_core::{AggregatePlan, ReadScope};
use serde_json::json;
use store::{DocumentStore, StoreError, UniqueIndex};

use crate::harness::{TestDb, obj, on_jongodb, skip, spec};

async fn index_names(t: &TestDb, coll: &str) -> Vec<String> {
    t.store.database().collection::<Document>(coll).list_index_names().await.unwrap()
}

#[tokio::test]
async fn a_partial_unique_index_ignores_missing_and_null_values() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("nick", FieldType::String);
    let coll = spec("partial", &schema);
    let index = UniqueIndex { field: "nick".into(), required: false };
    t.store.create_unique_index(&coll, &index).await.unwrap();
    t.store.create_unique_index(&coll, &index).await.unwrap(); // idempotent
    assert!(index_names(&t, "partial").await.contains(&"unique_nick_1".to_owned()));
    let raw = t.store.database().collection::<Document>("partial");
    let spec_doc = raw.list_indexes().await.unwrap();
    drop(spec_doc);

    let docs = vec![obj(json!({})), obj(json!({})), obj(json!({"nick": null})), obj(json!({"nick": null}))];
    t.store.insert(&coll, docs).await.unwrap();
    t.store.insert(&coll, vec![obj(json!({"nick": "ann"}))]).await.unwrap();
    let err = t.store.insert(&coll, vec![obj(json!({"nick": "ann"}))]).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("nick".into()) });
    t.finish().await;
}

#[tokio::test]
async fn a_required_unique_index_covers_every_document() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("code", FieldType::Number);
    let coll = spec("required", &schema);
    t.store.create_unique_index(&coll, &UniqueIndex { field: "code".into(), required: true }).await.unwrap();
    t.store.insert(&coll, vec![obj(json!({"code": 1})), obj(json!({}))]).await.unwrap();
    let err = t.store.insert(&coll, vec![obj(json!({}))]).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateKey { .. }), "a second missing value is a duplicate null: {err:?}");
    let err = t.store.insert(&coll, vec![obj(json!({"code": 1.0}))]).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("code".into()) });
    t.finish().await;
}

#[tokio::test]
async fn existing_duplicates_refuse_the_index_and_are_named() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("email", FieldType::String);
    let coll = spec("existing", &schema);
    let docs = ["a", "b", "a", "c", "b", "a", "d", "e", "d", "f", "f"]
        .iter()
        .map(|e| obj(json!({"email": format!("{e}@x")})))
        .chain([obj(json!({})), obj(json!({})), obj(json!({"email": null}))])
        .collect();
    t.store.insert(&coll, docs).await.unwrap();
    let err = t.store.create_unique_index(&coll, &UniqueIndex { field: "email".into(), required: false }).await;
    let Err(StoreError::DuplicatesExist { field, count, examples }) = err else { panic!("{err:?}") };
    assert_eq!((field.as_str(), count), ("email", 4));
    let quoted: Vec<&str> = examples.split(", ").collect();
    assert_eq!(quoted.len(), 3);
    assert!(quoted.iter().all(|q| ["\"a@x\"", "\"b@x\"", "\"d@x\"", "\"f@x\""].contains(q)), "{examples}");
    let message = StoreError::DuplicatesExist { field, count, examples: examples.clone() }.to_string();
    assert_eq!(
        message,
        format!("Cannot create unique index on 'email'. 4 duplicate values exist. Examples: {examples}")
    );
    assert!(!index_names(&t, "existing").await.contains(&"unique_email_1".to_owned()));

    // Required: the missing values count as one repeated null.
    let schema = Schema::new().with("sku", FieldType::String);
    let coll = spec("existing_required", &schema);
    t.store.insert(&coll, vec![obj(json!({"sku": "x"})), obj(json!({})), obj(json!({}))]).await.unwrap();
    let err = t.store.create_unique_index(&coll, &UniqueIndex { field: "sku".into(), required: true }).await;
    assert_eq!(err, Err(StoreError::DuplicatesExist { field: "sku".into(), count: 1, examples: "null".into() }));
    t.finish().await;
}

#[tokio::test]
async fn the_owner_index_is_created_once() {
    let t = TestDb::new().await;
    let schema = Schema::new();
    let coll = spec("owned", &schema);
    t.store.create_owner_index(&coll, "userId").await.unwrap();
    t.store.create_owner_index(&coll, "userId").await.unwrap();
    let names = index_names(&t, "owned").await;
    assert!(names.contains(&"userId_1_createdAt_-1".to_owned()), "{names:?}");
    assert!(matches!(t.store.create_owner_index(&coll, "$where").await, Err(StoreError::InvalidInput(_))));
    t.finish().await;
}

#[tokio::test]
async fn dropping_indexes_and_collections() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("email", FieldType::String);
    let coll = spec("dropme", &schema);
    t.store.insert(&coll, vec![obj(json!({"email": "a"}))]).await.unwrap();
    t.store.create_unique_index(&coll, &UniqueIndex { field: "email".into(), required: false }).await.unwrap();
    if on_jongodb() {
        skip(
            "indexes::dropping_indexes_and_collections",
            "jongodb has no drop, dropIndexes or dropDatabase command (the store reports Unsupported there)",
        );
        let err = t.store.drop_unique_index(&coll, "email").await.unwrap_err();
        assert!(matches!(err, StoreError::Unsupported(_)), "{err:?}");
        // The fallback still removes the documents before it reports the index it cannot drop.
        assert!(matches!(t.store.drop_collection(&coll).await, Err(StoreError::Unsupported(_))));
        let left = t.store.database().collection::<Document>("dropme").count_documents(doc! {}).await.unwrap();
        assert_eq!(left, 0);
        return t.finish().await;
    }
    t.store.drop_unique_index(&coll, "email").await.unwrap();
    t.store.drop_unique_index(&coll, "email").await.unwrap();
    assert!(!index_names(&t, "dropme").await.contains(&"unique_email_1".to_owned()));
    t.store.insert(&coll, vec![obj(json!({"email": "a"}))]).await.unwrap();
    t.store.drop_collection(&coll).await.unwrap();
    t.store.drop_collection(&coll).await.unwrap();
    let q = query::parse("", &schema).unwrap();
    assert_eq!(t.store.count(&coll, &ReadScope::All, &q.filter).await.unwrap(), 0);
    t.finish().await;
}

#[tokio::test]
async fn aggregations_run_behind_the_scope() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("amount", FieldType::Number).with("at", FieldType::Date);
    let coll = spec("orders", &schema);
    let docs = vec![
        obj(json!({"userId": "u1", "amount": 5, "at": "2024-01-01T00:00:00Z"})),
        obj(json!({"userId": "u1", "amount": 7, "at": "2024-01-02T00:00:00Z"})),
        obj(json!({"userId": "u2", "amount": 100, "at": "2024-01-03T00:00:00Z"})),
        obj(json!({"userId": ["u1"], "amount": 1000})),
    ];
    t.store.insert(&coll, docs).await.unwrap();
    let plan =
        |scope: ReadScope, stages: Vec<serde_json::Value>| AggregatePlan { scope, stages, foreign_collections: vec![] };
    let u1 = ReadScope::Owner { field: "userId".into(), user: "u1".into() };
    let total = json!({"$group": {"_id": null, "total": {"$sum": "$amount"}}});
    let got = t.store.aggregate(&coll, &plan(u1.clone(), vec![total.clone()])).await.unwrap();
    assert_eq!(got, vec![json!({"_id": null, "total": 12})]);
    // Dates come back in the wire form.
    let dates = vec![json!({"$match": {"amount": 7}}), json!({"$project": {"_id": 0, "at": 1}})];
    let got = t.store.aggregate(&coll, &plan(u1.clone(), dates)).await.unwrap();
    assert_eq!(got, vec![json!({"at": "2024-01-02T00:00:00.000Z"})]);
    let got = t.store.aggregate(&coll, &plan(ReadScope::All, vec![total])).await.unwrap();
    assert_eq!(got[0]["total"], json!(1112));
    // A caller's `$match` can only narrow the scope.
    let widen = json!({"$match": {"userId": "u2"}});
    assert_eq!(t.store.aggregate(&coll, &plan(u1, vec![widen])).await.unwrap(), Vec::<serde_json::Value>::new());

    let err = t.store.aggregate(&coll, &plan(ReadScope::All, vec![json!({"$bogusStage": {}})])).await.unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_) | StoreError::InvalidInput(_)), "{err:?}");
    assert_ne!(err.status(), 500);
    let err = t.store.aggregate(&coll, &plan(ReadScope::All, vec![json!(5)])).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    t.finish().await;
}
