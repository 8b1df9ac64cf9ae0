//! Conversions over the wire: what is stored as BSON and what reads give back.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document, doc};
use query::{FieldType, Schema};
use rls_core::ReadScope;
use serde_json::json;
use store::{DocumentStore, StoreError};

use crate::harness::{TestDb, doc_id, obj, spec};

fn schema() -> Schema {
    Schema::new()
        .with("author", FieldType::ObjectId)
        .with("due", FieldType::Date)
        .with("refs", FieldType::Array(Box::new(FieldType::ObjectId)))
        .with("price", FieldType::Number)
}

#[tokio::test]
async fn dates_and_object_ids_are_stored_typed_and_read_back_as_text() {
    let t = TestDb::new().await;
    let schema = schema();
    let coll = spec("conv", &schema);
    let author = "65a1b2c3d4e5f60718293a4b";
    let inserted = t
        .store
        .insert(
            &coll,
            vec![obj(json!({
                "author": author.to_uppercase(), "due": "2024-05-06T07:08:09+02:00", "refs": [author],
                "price": 3, "ratio": 0.25, "free": "2024-05-06", "other": author, "nested": {"n": [1, {"x": null}]},
            }))],
        )
        .await
        .unwrap();
    let doc = &inserted[0];
    assert_eq!(doc["author"], json!(author));
    assert_eq!(doc["due"], json!("2024-05-06T05:08:09.000Z"));
    assert_eq!(doc["__v"], json!(0));
    assert_eq!(doc["createdAt"], doc["updatedAt"]);
    assert!(store::parse_timestamp(doc["createdAt"].as_str().unwrap()).is_some());

    // The raw BSON: typed by the schema, undeclared fields as sent.
    let raw: Document = t.store.database().collection("conv").find_one(doc! {}).await.unwrap().unwrap();
    let oid = ObjectId::parse_str(author).unwrap();
    assert_eq!(raw.get("_id").map(Bson::element_type), Some(mongodb::bson::spec::ElementType::ObjectId));
    assert_eq!(raw.get("author"), Some(&Bson::ObjectId(oid)));
    assert_eq!(raw.get("refs"), Some(&Bson::Array(vec![Bson::ObjectId(oid)])));
    assert_eq!(raw.get("due"), Some(&Bson::DateTime(DateTime::from_millis(1_714_972_089_000))));
    assert!(matches!(raw.get("createdAt"), Some(Bson::DateTime(_))));
    assert_eq!(raw.get("price"), Some(&Bson::Int32(3)));
    assert_eq!(raw.get("ratio"), Some(&Bson::Double(0.25)));
    assert_eq!(raw.get("free"), Some(&Bson::String("2024-05-06".into())));
    assert_eq!(raw.get("other"), Some(&Bson::String(author.into())));
    assert_eq!(raw.get("__v"), Some(&Bson::Int32(0)));

    // Reads give exactly what the insert returned.
    let got = t.store.get(&coll, &doc_id(doc), &ReadScope::All).await.unwrap().unwrap();
    assert_eq!(&got, doc);
    t.finish().await;
}

#[tokio::test]
async fn documents_written_by_other_clients_read_in_the_wire_form() {
    let t = TestDb::new().await;
    let schema = schema();
    let id = ObjectId::new();
    // As the Node driver writes them: JS numbers as Int32 or Double, dates as BSON dates.
    t.store
        .database()
        .collection::<Document>("foreign")
        .insert_one(doc! {
            "_id": id, "n": 2.0, "i": 7_i32, "l": 9_007_199_254_740_993_i64, "f": 1.5,
            "at": DateTime::from_millis(1_700_000_000_123), "flag": true, "nil": Bson::Null,
            "list": [ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap(), DateTime::from_millis(0)],
        })
        .await
        .unwrap();
    let got = t
        .store
        .get(&spec("foreign", &schema), &rls_core::DocId::parse(&id.to_hex()).unwrap(), &ReadScope::All)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(got),
        json!({
            "_id": id.to_hex(), "n": 2, "i": 7, "l": 9_007_199_254_740_993_i64, "f": 1.5,
            "at": "2023-11-14T22:13:20.123Z", "flag": true, "nil": null,
            "list": ["65a1b2c3d4e5f60718293a4b", "1970-01-01T00:00:00.000Z"],
        })
    );
    t.finish().await;
}

#[tokio::test]
async fn given_ids_are_kept_and_invalid_ones_refused() {
    let t = TestDb::new().await;
    let schema = Schema::new();
    let coll = spec("ids", &schema);
    let given = "65a1b2c3d4e5f60718293a4b";
    for bad in [json!("nope"), json!(5), json!({"$oid": given}), json!(format!("{}g", &given[..23]))] {
        let err = t.store.insert(&coll, vec![obj(json!({})), obj(json!({"_id": bad}))]).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    }
    let q = query::parse("", &schema).unwrap();
    assert_eq!(t.store.count(&coll, &ReadScope::All, &q.filter).await.unwrap(), 0, "nothing stored");
    let docs = t
        .store
        .insert(&coll, vec![obj(json!({"_id": given.to_uppercase()})), obj(json!({"_id": null}))])
        .await
        .unwrap();
    assert_eq!(docs[0]["_id"], json!(given));
    let generated = docs[1]["_id"].as_str().unwrap();
    assert!(generated != given && ObjectId::parse_str(generated).is_ok());
    // The stored `_id` is an ObjectId, so the typed filter finds it.
    assert!(t.store.exists(&coll, &rls_core::DocId::parse(given).unwrap()).await.unwrap());
    // Caller-supplied timestamps and version are replaced by the store's.
    let stamped =
        t.store.insert(&coll, vec![obj(json!({"createdAt": "1999-01-01T00:00:00.000Z", "__v": 7}))]).await.unwrap();
    assert_ne!(stamped[0]["createdAt"], json!("1999-01-01T00:00:00.000Z"));
    assert_eq!(stamped[0]["__v"], json!(0));
    t.finish().await;
}

#[tokio::test]
async fn queries_match_typed_values() {
    let t = TestDb::new().await;
    let schema = schema();
    let coll = spec("typed", &schema);
    let author = "65a1b2c3d4e5f60718293a4b";
    t.store
        .insert(
            &coll,
            vec![
                obj(json!({"k": 1, "author": author, "due": "2024-01-01T00:00:00Z", "price": 5})),
                obj(json!({"k": 2, "author": "65a1b2c3d4e5f60718293a4c", "due": "2025-01-01", "price": 5.5})),
            ],
        )
        .await
        .unwrap();
    let keys = |qs: &str| {
        let store = t.store.clone();
        let schema = schema.clone();
        let qs = qs.to_owned();
        async move {
            let q = query::parse(&qs, &schema).unwrap();
            let page = store.find(&spec("typed", &schema), &ReadScope::All, &q).await.unwrap();
            let mut keys: Vec<i64> = page.items.iter().map(|d| d["k"].as_i64().unwrap()).collect();
            keys.sort_unstable();
            keys
        }
    };
    assert_eq!(keys(&format!("author={}", author.to_uppercase())).await, vec![1]);
    assert_eq!(keys("due_gte=2024-06-01").await, vec![2]);
    assert_eq!(keys("due_lt=1735689600000").await, vec![1]);
    assert_eq!(keys("price=5").await, vec![1]);
    assert_eq!(keys("price_gt=5").await, vec![2]);
    assert_eq!(keys("price_ne=5").await, vec![2]);
    assert_eq!(keys("createdAt_gt=2000-01-01").await, vec![1, 2]);
    t.finish().await;
}

#[tokio::test]
async fn numbers_written_as_any_bson_type_compare_equal() {
    let t = TestDb::new().await;
    let schema = Schema::new().with("n", FieldType::Number);
    // Written by other clients: the same number as Double, Int32 and Int64, and another one.
    let raw = t.store.database().collection::<Document>("numbers");
    let docs = vec![
        doc! { "k": 1, "n": 2.0 },
        doc! { "k": 2, "n": 2_i32 },
        doc! { "k": 3, "n": 2_i64 },
        doc! { "k": 4, "n": 2.5 },
        doc! { "k": 5, "n": [1_i64, 2_i64] },
    ];
    raw.insert_many(docs).await.unwrap();
    for (qs, expected) in [
        ("n=2", vec![1, 2, 3, 5]),
        ("n_in=2,2.5", vec![1, 2, 3, 4, 5]),
        ("n_ne=2", vec![4]),
        ("n_gte=2", vec![1, 2, 3, 4, 5]),
        ("n_lt=2", vec![5]),
    ] {
        let q = query::parse(qs, &schema).unwrap();
        let page = t.store.find(&spec("numbers", &schema), &ReadScope::All, &q).await.unwrap();
        let mut keys: Vec<i64> = page.items.iter().map(|d| d["k"].as_i64().unwrap()).collect();
        keys.sort_unstable();
        assert_eq!(keys, expected, "{qs}");
    }
    t.finish().await;
}
