//! Writes: duplicate keys, all-or-nothing bulk inserts, and updates and deletes confined to
//! their scope (checked against the database state, not only the return values).

use mongodb::bson::{Document, doc};
use query::{FieldType, Schema};
use rls_core::{DocId, ReadScope};
use serde_json::json;
use store::{DocumentStore, StoreError, UniqueIndex};

use crate::harness::{TestDb, doc_id, note, obj, on_jongodb, spec, write_scope};

async fn raw_count(t: &TestDb, coll: &str, filter: Document) -> u64 {
    t.store.database().collection::<Document>(coll).count_documents(filter).await.unwrap()
}

#[tokio::test]
async fn duplicate_keys_name_the_field() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("email", FieldType::String);
    let coll = spec("dups", &schema);
    t.store.create_unique_index(&coll, &UniqueIndex { field: "email".into(), required: true }).await.unwrap();
    let first = t.store.insert(&coll, vec![obj(json!({"email": "a@x"}))]).await.unwrap();
    let err = t.store.insert(&coll, vec![obj(json!({"email": "a@x"}))]).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("email".into()) });
    assert_eq!(err.status(), 409);

    // An update into a taken value, too.
    let second = t.store.insert(&coll, vec![obj(json!({"email": "b@x"}))]).await.unwrap();
    let scope = write_scope(second[0]["_id"].as_str().unwrap(), None, "userId");
    let err = t.store.update(&coll, &scope, &obj(json!({"email": "a@x"}))).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("email".into()) });

    // A duplicate `_id`.
    let err = t.store.insert(&coll, vec![obj(json!({"_id": first[0]["_id"], "email": "c@x"}))]).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("_id".into()) });
    assert_eq!(raw_count(&t, "dups", doc! {}).await, 2);
    t.finish().await;
}

#[tokio::test]
async fn bulk_insert_is_all_or_nothing() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("sku", FieldType::String);
    let coll = spec("bulk", &schema);
    t.store.create_unique_index(&coll, &UniqueIndex { field: "sku".into(), required: false }).await.unwrap();
    let existing = t.store.insert(&coll, vec![obj(json!({"sku": "taken", "keep": true}))]).await.unwrap();

    // A duplicate at the third document: the first two must not stay.
    let batch = vec![obj(json!({"sku": "n1"})), obj(json!({"sku": "n2"})), obj(json!({"sku": "taken"}))];
    let err = t.store.insert(&coll, batch).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("sku".into()) });
    assert_eq!(raw_count(&t, "bulk", doc! {}).await, 1);

    // A duplicate `_id` of an existing document: undoing must not delete that document.
    let batch = vec![obj(json!({"sku": "n3"})), obj(json!({"_id": existing[0]["_id"], "sku": "n4"}))];
    let err = t.store.insert(&coll, batch).await.unwrap_err();
    assert_eq!(err, StoreError::DuplicateKey { field: Some("_id".into()) });
    assert_eq!(raw_count(&t, "bulk", doc! {}).await, 1);
    assert_eq!(raw_count(&t, "bulk", doc! { "keep": true }).await, 1);

    // A duplicate within the batch itself.
    let batch = vec![obj(json!({"sku": "same"})), obj(json!({"sku": "same"}))];
    assert!(matches!(t.store.insert(&coll, batch).await, Err(StoreError::DuplicateKey { .. })));
    assert_eq!(raw_count(&t, "bulk", doc! {}).await, 1);

    // And a good batch goes in whole, in order, each with its own id.
    let docs: Vec<_> = (0..50).map(|i| obj(json!({"sku": format!("ok{i}"), "i": i}))).collect();
    let stored = t.store.insert(&coll, docs).await.unwrap();
    assert_eq!(stored.len(), 50);
    assert!(stored.iter().enumerate().all(|(i, d)| d["i"] == json!(i)));
    assert_eq!(raw_count(&t, "bulk", doc! {}).await, 51);
    if on_jongodb() {
        note(
            "writes::bulk_insert_is_all_or_nothing: jongodb's insertMany is itself atomic, so the undo step \
             (deleting what a failed ordered insertMany left) is exercised only on a real MongoDB",
        );
    }
    t.finish().await;
}

#[tokio::test]
async fn updates_and_deletes_stay_inside_the_owner_scope() {
    let t = TestDb::new().await;
    let schema = Schema::new();
    let coll = spec("notes", &schema);
    let docs = t
        .store
        .insert(
            &coll,
            vec![
                obj(json!({"userId": "alice", "text": "a"})),
                obj(json!({"userId": "bob", "text": "b"})),
                obj(json!({"userId": ["alice"], "text": "array owner"})),
            ],
        )
        .await
        .unwrap();
    let (alice, bob, array) = (&docs[0], &docs[1], &docs[2]);
    let id = |d: &store::Document| d["_id"].as_str().unwrap().to_owned();

    // Alice cannot touch Bob's document, nor one whose owner array merely contains her.
    for target in [bob, array] {
        let scope = write_scope(&id(target), Some("alice"), "userId");
        assert_eq!(t.store.update(&coll, &scope, &obj(json!({"text": "hacked"}))).await.unwrap(), None);
        assert_eq!(t.store.delete(&coll, &scope).await.unwrap(), None);
        assert!(t.store.exists(&coll, &doc_id(target)).await.unwrap());
    }
    assert_eq!(raw_count(&t, "notes", doc! { "text": "hacked" }).await, 0);
    assert_eq!(raw_count(&t, "notes", doc! {}).await, 3);

    // Her own document: updated (merge, dotted paths, refreshed updatedAt), then deleted.
    let scope = write_scope(&id(alice), Some("alice"), "userId");
    let updated = t
        .store
        .update(&coll, &scope, &obj(json!({"text": "edited", "meta.views": 1, "createdAt": "1999-01-01"})))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated["text"], json!("edited"));
    assert_eq!(updated["meta"], json!({"views": 1}));
    assert_eq!(updated["userId"], json!("alice"));
    assert_eq!(updated["createdAt"], alice["createdAt"], "createdAt is immutable");
    assert!(updated["updatedAt"].as_str() >= alice["updatedAt"].as_str());
    assert_eq!(updated["__v"], json!(0));
    let deleted = t.store.delete(&coll, &scope).await.unwrap().unwrap();
    assert_eq!(deleted, updated);
    assert_eq!(t.store.delete(&coll, &scope).await.unwrap(), None);
    assert_eq!(raw_count(&t, "notes", doc! {}).await, 2);
    assert_eq!(raw_count(&t, "notes", doc! { "text": "b" }).await, 1);

    // Reads obey the same scope.
    let alice_scope = ReadScope::Owner { field: "userId".into(), user: "alice".into() };
    assert_eq!(t.store.get(&coll, &doc_id(bob), &alice_scope).await.unwrap(), None);
    assert_eq!(t.store.get(&coll, &doc_id(array), &alice_scope).await.unwrap(), None);
    let q = query::parse("", &schema).unwrap();
    assert_eq!(t.store.find(&coll, &alice_scope, &q).await.unwrap().items, vec![]);
    assert_eq!(t.store.count(&coll, &alice_scope, &q.filter).await.unwrap(), 0);
    let ids = [doc_id(bob), doc_id(array), doc_id(alice)];
    let bob_scope = ReadScope::Owner { field: "userId".into(), user: "bob".into() };
    let seen = t.store.get_many(&coll, &ids, &bob_scope).await.unwrap();
    assert_eq!(seen, vec![bob.clone()]);
    assert_eq!(t.store.get_many(&coll, &ids, &ReadScope::All).await.unwrap().len(), 2);
    t.finish().await;
}

#[tokio::test]
async fn a_ref_typed_owner_field_is_matched_as_an_object_id() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("owner", FieldType::ObjectId);
    let coll = spec("refowned", &schema);
    let user = "65a1b2c3d4e5f60718293a4b";
    let docs = t
        .store
        .insert(&coll, vec![obj(json!({"owner": user, "n": 1})), obj(json!({"owner": "65a1b2c3d4e5f60718293a4c"}))])
        .await
        .unwrap();
    let scope = ReadScope::Owner { field: "owner".into(), user: user.into() };
    let q = query::parse("", &schema).unwrap();
    let page = t.store.find(&coll, &scope, &q).await.unwrap();
    assert_eq!(page.items, vec![docs[0].clone()]);
    let plan = rls_core::AggregatePlan {
        scope,
        stages: vec![json!({"$group": {"_id": null, "total": {"$sum": "$n"}}})],
        foreign_collections: vec![],
    };
    assert_eq!(t.store.aggregate(&coll, &plan).await.unwrap(), vec![json!({"_id": null, "total": 1})]);
    let update = write_scope(docs[0]["_id"].as_str().unwrap(), Some(user), "owner");
    assert!(t.store.update(&coll, &update, &obj(json!({"n": 2}))).await.unwrap().is_some());
    t.finish().await;
}

#[tokio::test]
async fn changing_the_id_is_refused() {
    let t = TestDb::new().await;
    let schema = Schema::new();
    let coll = spec("immutable", &schema);
    let doc = t.store.insert(&coll, vec![obj(json!({"a": 1}))]).await.unwrap().remove(0);
    let id = doc["_id"].as_str().unwrap();
    let scope = write_scope(id, None, "userId");
    let err = t.store.update(&coll, &scope, &obj(json!({"_id": "65a1b2c3d4e5f60718293a4b"}))).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    // Restating the same id is harmless.
    let same = t.store.update(&coll, &scope, &obj(json!({"_id": id.to_uppercase(), "a": 2}))).await.unwrap().unwrap();
    assert_eq!(same["_id"], json!(id));
    assert_eq!(same["a"], json!(2));
    // A path through a non-object is the client's error, not a 500.
    let err = t.store.update(&coll, &scope, &obj(json!({"a.b": 1}))).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    assert!(!t.store.exists(&coll, &DocId::parse("65a1b2c3d4e5f60718293a4b").unwrap()).await.unwrap());
    t.finish().await;
}
