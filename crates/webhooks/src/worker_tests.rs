//! The claim of the worker against a real SQLite file opened twice (two processes' worth of
//! handles): every event gets exactly one attempt, whichever worker makes it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use store::{DocumentStore, new_object_id};
use store_sqlite::SqliteStore;

use super::*;
use crate::system::{SystemStore, filter, object, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_file_make_each_attempt_once() {
    let dir = std::env::temp_dir().join(format!("urbackend-webhooks-claims-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.sqlite3");
    let first: Arc<dyn DocumentStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let second: Arc<dyn DocumentStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let system = SystemStore::new(first.clone());
    let events = 40;
    for _ in 0..events {
        // A webhook that does not exist: the attempt fails at once, without any request.
        let event = object(json!({"_id": new_object_id(), "webhookId": new_object_id(), "projectId": "p",
            "event": "posts.insert", "body": "{}", "attempts": 0, "finalStatus": "pending", "nextAttemptAt": 0}));
        system.insert(EVENTS_COLLECTION, event).await.unwrap();
    }
    let workers: Vec<Arc<Worker>> = [first, second]
        .into_iter()
        .flat_map(|store| {
            [
                Arc::new(Worker::new(store.clone(), None, WorkerConfig::default())),
                Arc::new(Worker::new(store, None, WorkerConfig::default())),
            ]
        })
        .collect();
    // Polls of 20 events each: three rounds of four concurrent polls see every event.
    let mut made = 0;
    for _round in 0..3 {
        let mut runs = Vec::new();
        for worker in &workers {
            let worker = worker.clone();
            runs.push(tokio::spawn(async move { worker.run_once().await.unwrap() }));
        }
        for run in runs {
            made += run.await.unwrap();
        }
    }
    let log = system
        .find(DELIVERIES_COLLECTION, filter(&[], None).unwrap(), "attemptNumber", query::SortOrder::Asc, 1000)
        .await
        .unwrap();
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for entry in &log {
        *per_event.entry(text(entry, "eventId").unwrap().to_owned()).or_default() += 1;
        assert_eq!(text(entry, "error"), Some("Webhook disabled or not found"));
    }
    assert_eq!((made, log.len(), per_event.len()), (events, events, events), "one attempt per event");
    let failed = filter(&[("finalStatus", "failed")], None).unwrap();
    assert_eq!(system.find(EVENTS_COLLECTION, failed, "_id", query::SortOrder::Asc, 1000).await.unwrap().len(), events);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_abandoned_claim_is_recorded_as_failed_and_the_event_moves_on() {
    let store: Arc<dyn DocumentStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let system = SystemStore::new(store.clone());
    let id = new_object_id();
    let event = object(json!({"_id": id, "webhookId": new_object_id(), "projectId": "p", "event": "posts.insert",
        "body": "{}", "attempts": 0, "finalStatus": "pending", "nextAttemptAt": 0}));
    system.insert(EVENTS_COLLECTION, event).await.unwrap();
    let worker = Arc::new(Worker::new(store, None, WorkerConfig::default()));
    // A claim of attempt 1 taken just now by another process: not ours to touch.
    let fresh = object(json!({"_id": derived_id(&format!("{id}:1")), "eventId": id, "attempt": 1,
        "claimedAt": outbox_now()}));
    system.insert(CLAIMS_COLLECTION, fresh).await.unwrap();
    assert_eq!(worker.run_once().await.unwrap(), 0);
    // The same claim, taken long ago by a process that stopped.
    let set = object(json!({"claimedAt": 0}));
    assert!(system.update(CLAIMS_COLLECTION, &derived_id(&format!("{id}:1")), &set).await.unwrap().is_some());
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert_eq!(worker.run_once().await.unwrap(), 0, "recorded once; the retry is not due yet");
    let stored = system.get(EVENTS_COLLECTION, &id).await.unwrap().unwrap();
    assert_eq!((stored["attempts"].as_u64(), text(&stored, "finalStatus")), (Some(1), Some("pending")));
    let log = system
        .find(DELIVERIES_COLLECTION, filter(&[], None).unwrap(), "attemptNumber", query::SortOrder::Asc, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(text(&log[0], "error"), Some(STOPPED));
}

fn outbox_now() -> i64 {
    crate::outbox::now_ms()
}

#[tokio::test]
async fn the_sweep_keeps_pending_events_and_what_is_younger_than_the_retention() {
    let store: Arc<dyn DocumentStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let system = SystemStore::new(store.clone());
    for status in ["pending", "pending", "delivered", "failed", "failed"] {
        // Pending ones are due in the far future, so the poll below attempts none of them.
        let event = object(json!({"_id": new_object_id(), "webhookId": new_object_id(), "projectId": "p",
            "event": "posts.insert", "body": "{}", "attempts": 0, "finalStatus": status, "nextAttemptAt": i64::MAX}));
        system.insert(EVENTS_COLLECTION, event).await.unwrap();
    }
    let due = object(json!({"_id": new_object_id(), "webhookId": new_object_id(), "projectId": "p",
        "event": "posts.insert", "body": "{}", "attempts": 0, "finalStatus": "pending", "nextAttemptAt": 0}));
    system.insert(EVENTS_COLLECTION, due).await.unwrap();
    let worker = Arc::new(Worker::new(store, None, WorkerConfig::default()));
    assert_eq!(worker.run_once().await.unwrap(), 1, "the due event is attempted (and fails: no such webhook)");
    let count = |collection: &'static str, status: Option<&'static str>| {
        let system = system.clone();
        async move {
            let equal: Vec<(&str, &str)> = status.map(|s| ("finalStatus", s)).into_iter().collect();
            system.count(collection, &filter(&equal, None).unwrap()).await.unwrap()
        }
    };
    let now = outbox_now();
    assert_eq!(worker.sweep(now).await.unwrap(), crate::Swept::default(), "nothing is old yet");
    let day = 24 * 3600 * 1000;
    let swept = worker.sweep(now + 2 * day).await.unwrap();
    assert_eq!(swept, crate::Swept { events: 0, deliveries: 0, claims: 1 }, "claims go after a day");
    let swept = worker.sweep(now + 31 * day).await.unwrap();
    assert_eq!(swept, crate::Swept { events: 4, deliveries: 1, claims: 0 }, "finished events and the log go");
    assert_eq!(count(EVENTS_COLLECTION, Some("pending")).await, 2, "pending events stay");
    assert_eq!(count(EVENTS_COLLECTION, None).await, 2);
    assert_eq!(count(DELIVERIES_COLLECTION, None).await, 0);
    assert_eq!(count(CLAIMS_COLLECTION, None).await, 0);
}
