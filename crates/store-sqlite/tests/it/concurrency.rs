//! Concurrency through the group-commit writer: many concurrent inserts and updates are all
//! acknowledged and all present afterwards; failing requests (duplicate keys, refused updates)
//! queued in the same batches roll back only themselves.

use std::sync::Arc;

use query::{Filter, Schema};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, RlsMode, Target};
use serde_json::{Value, json};
use store::{CollectionSpec, DocumentStore, StoreError, UniqueIndex};

use crate::common::TempDir;

fn doc(v: Value) -> store::Document {
    v.as_object().unwrap().clone()
}

const CLIENTS: usize = 100;
const ROUNDS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_acknowledged_kept_and_isolated() {
    let dir = TempDir::new("concurrency");
    let store = Arc::new(dir.store());
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "p_things", schema: &schema };
    store.create_unique_index(&coll, &UniqueIndex { field: "email".into(), required: false }).await.unwrap();
    let shared = store.insert(&coll, vec![doc(json!({"owner": "u0", "email": "taken@x.io"}))]).await.unwrap();
    let shared_id = shared[0]["_id"].as_str().unwrap().to_owned();

    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let store = Arc::clone(&store);
        let shared_id = shared_id.clone();
        tasks.push(tokio::spawn(async move {
            let schema = Schema::new();
            let coll = CollectionSpec { physical: "p_things", schema: &schema };
            let mut acked = Vec::new();
            let mut refused = Vec::new();
            for round in 0..ROUNDS {
                match (client + round) % 4 {
                    // A good bulk insert.
                    0 => {
                        let docs =
                            vec![doc(json!({"c": client, "r": round})), doc(json!({"c": client, "r": round, "n": 2}))];
                        for d in store.insert(&coll, docs).await.unwrap() {
                            acked.push(d["_id"].as_str().unwrap().to_owned());
                        }
                    }
                    // A bulk insert that fails on its last item: nothing of it may stay.
                    1 => {
                        let id = store::new_object_id();
                        let docs = vec![doc(json!({"_id": id, "c": client})), doc(json!({"email": "taken@x.io"}))];
                        let result = store.insert(&coll, docs).await;
                        assert_eq!(result, Err(StoreError::DuplicateKey { field: Some("email".into()) }));
                        refused.push(id);
                    }
                    // Concurrent updates of one document, each setting its own field.
                    2 => {
                        let rls = RlsConfig::enabled(RlsMode::Private, "owner");
                        let target = Target::existing("things", &rls);
                        let grant = rls_core::authorize_update(
                            &Caller::publishable(Some("u0")),
                            &target,
                            &shared_id,
                            &json!({ format!("f{client}"): round }),
                        )
                        .unwrap();
                        assert!(store.update(&coll, &grant.scope, &grant.set).await.unwrap().is_some());
                        // Another user's update of the same document matches nothing.
                        let theirs = rls_core::authorize_update(
                            &Caller::publishable(Some("intruder")),
                            &target,
                            &shared_id,
                            &json!({"hijacked": true}),
                        )
                        .unwrap();
                        assert_eq!(store.update(&coll, &theirs.scope, &theirs.set).await.unwrap(), None);
                    }
                    // A single insert with a unique value of its own.
                    _ => {
                        let email = format!("c{client}r{round}@x.io");
                        let d = store.insert(&coll, vec![doc(json!({"email": email}))]).await.unwrap();
                        acked.push(d[0]["_id"].as_str().unwrap().to_owned());
                    }
                }
            }
            (acked, refused)
        }));
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (a, r) = task.await.unwrap();
        acked.extend(a);
        refused.extend(r);
    }
    let elapsed = started.elapsed();
    println!("{} write requests from {CLIENTS} clients in {elapsed:?}", CLIENTS * ROUNDS);

    let all = store.count(&coll, &ReadScope::All, &Filter::new()).await.unwrap();
    assert_eq!(all as usize, acked.len() + 1, "every acknowledged insert is there, nothing else");
    for chunk in acked.chunks(100) {
        let ids: Vec<DocId> = chunk.iter().map(|id| DocId::parse(id).unwrap()).collect();
        assert_eq!(store.get_many(&coll, &ids, &ReadScope::All).await.unwrap().len(), chunk.len());
    }
    for id in &refused {
        assert!(!store.exists(&coll, &DocId::parse(id).unwrap()).await.unwrap(), "refused insert {id} left nothing");
    }
    let shared = store.get(&coll, &DocId::parse(&shared_id).unwrap(), &ReadScope::All).await.unwrap().unwrap();
    assert!(!shared.contains_key("hijacked"));
    for client in 0..CLIENTS {
        let last = (0..ROUNDS).rev().find(|round| (client + round) % 4 == 2);
        assert_eq!(shared.get(&format!("f{client}")).and_then(Value::as_u64), last.map(|r| r as u64), "f{client}");
    }
}
