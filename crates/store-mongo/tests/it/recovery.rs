//! Failure and recovery: a stopped server gives `Unavailable` quickly, and the same store works
//! again once the server is back; and the BYO client cache closes idle clients.

use std::time::{Duration, Instant};

use query::Schema;
use rls_core::ReadScope;
use serde_json::json;
use store::{DocumentStore, StoreError};
use store_mongo::{MongoClients, MongoStore};

use crate::harness::{Jongodb, jongodb_bin, note, obj, on_jongodb, server, skip, spec, unique_database};

#[tokio::test]
async fn a_stopped_server_is_unavailable_and_the_store_recovers_by_itself() {
    // Fails (as every test does) when there is no server at all.
    let _ = server();
    if let Err(reason) = jongodb_bin() {
        // Only reachable on the real-MongoDB lane, where jongodb is optional.
        skip("recovery::a_stopped_server_is_unavailable_and_the_store_recovers_by_itself", &reason);
        return;
    }
    let first = Jongodb::start(0).expect("start jongodb");
    let port = first.port;
    let store = MongoStore::connect(&first.uri, Some("recovery")).await.unwrap();
    let schema = Schema::new();
    let coll = spec("things", &schema);
    let filter = query::Filter::new();
    store.insert(&coll, vec![obj(json!({"a": 1}))]).await.unwrap();
    assert_eq!(store.count(&coll, &ReadScope::All, &filter).await.unwrap(), 1);

    first.kill();
    let started = Instant::now();
    let err = store.count(&coll, &ReadScope::All, &filter).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    assert!(waited < Duration::from_secs(10), "took {waited:?}");
    let err = store.insert(&coll, vec![obj(json!({"a": 2}))]).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    // Same port, new (empty, in-memory) server: the same store finds it again.
    let second = Jongodb::start(port).expect("restart jongodb on the same port");
    let started = Instant::now();
    let recovered = loop {
        match store.insert(&coll, vec![obj(json!({"a": 3}))]).await {
            Ok(_) => break started.elapsed(),
            Err(StoreError::Unavailable(_)) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no recovery: {e:?}"),
        }
    };
    assert_eq!(store.count(&coll, &ReadScope::All, &filter).await.unwrap(), 1);
    store.ping().await.unwrap();
    note(&format!(
        "recovery: Unavailable after {:.1}s, recovered {:.1}s after the restart",
        waited.as_secs_f64(),
        recovered.as_secs_f64()
    ));
    drop(second);
}

/// The test server's URI with another database in its path.
fn with_database(uri: &str, database: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

#[tokio::test]
async fn byo_clients_are_shared_per_uri_and_closed_when_idle() {
    let base = &server().uri;
    let clients = MongoClients::new(Duration::from_secs(1));
    let (db1, db2) = (unique_database(), unique_database());
    let uri1 = with_database(base, &db1);
    let uri2 = with_database(base, &db2);
    let a = clients.store_for(&uri1).await.unwrap();
    let b = clients.store_for(&uri1).await.unwrap();
    let c = clients.store_for(&uri2).await.unwrap();
    assert_eq!((a.database_name(), c.database_name()), (db1.as_str(), db2.as_str()));
    assert_eq!(clients.len(), 2);
    a.ping().await.unwrap();
    let schema = Schema::new();
    let coll = spec("byo", &schema);
    b.insert(&coll, vec![obj(json!({"x": 1}))]).await.unwrap();
    assert_eq!(a.count(&coll, &ReadScope::All, &query::Filter::new()).await.unwrap(), 1);
    assert_eq!(c.count(&coll, &ReadScope::All, &query::Filter::new()).await.unwrap(), 0);

    // Used within the idle period: kept; the other one, idle, is closed (its store still works).
    for _ in 0..14 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.ping().await.unwrap();
    }
    assert_eq!(clients.len(), 1, "{clients:?}");
    c.ping().await.unwrap();

    // Idle: the background reaper removes the entry.
    drop((a, b));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(clients.is_empty(), "{clients:?}");
    c.ping().await.unwrap();
    let again = clients.store_for(&uri1).await.unwrap();
    assert_eq!(again.count(&coll, &ReadScope::All, &query::Filter::new()).await.unwrap(), 1);
    assert_eq!(clients.len(), 1);
    drop(again);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(clients.close_idle(), 0, "the reaper got there first");
    assert!(clients.is_empty());
    if !on_jongodb() {
        c.drop_database().await.unwrap();
        clients.store_for(&uri1).await.unwrap().drop_database().await.unwrap();
    }
}

#[tokio::test]
async fn uris_never_show_their_password() {
    let secret = "hunter2-secret";
    let uri = format!("mongodb://app:{secret}@127.0.0.1:1/shop?authSource=admin&appName=x");
    let clients = MongoClients::new(Duration::from_secs(60));
    let store = clients.store_for(&uri).await.unwrap();
    let shown = format!("{store:?} {clients:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("mongodb://app:****@127.0.0.1:1/shop?…"), "{shown}");
    let direct = MongoStore::connect(&uri, None).await.unwrap();
    assert_eq!(direct.database_name(), "shop");
    assert!(!format!("{direct:?}").contains(secret));
    let err = MongoStore::connect(&format!("mongodb://app:{secret}@/nohost"), None).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    assert!(!err.to_string().contains(secret), "{err}");
    let err = clients.store_for("http://nope").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    assert_eq!(MongoStore::connect("mongodb://127.0.0.1:1", None).await.unwrap().database_name(), "urbackend");
    assert_eq!(MongoStore::connect("mongodb://127.0.0.1:1/a", Some("b")).await.unwrap().database_name(), "b");
}
