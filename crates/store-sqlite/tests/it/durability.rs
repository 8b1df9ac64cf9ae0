//! Durability: what was acknowledged is there after the store is dropped and reopened, and after
//! the process dies without any shutdown (a child process that aborts right after its writes were
//! acknowledged).

use std::io::Write;
use std::process::Command;

use query::Schema;
use rls_core::{DocId, ReadScope};
use serde_json::json;
use store::{CollectionSpec, DocumentStore, StoreError, UniqueIndex};
use store_sqlite::{DEFAULT_FILE_NAME, SqliteStore};

use crate::common::TempDir;

fn doc(v: serde_json::Value) -> store::Document {
    v.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_reopening() {
    let dir = TempDir::new("reopen");
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "p1_posts", schema: &schema };
    let (kept, updated) = {
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.path(), dir.path().join(DEFAULT_FILE_NAME));
        let mut ids = Vec::new();
        for i in 0..20 {
            let docs = store.insert(&coll, vec![doc(json!({"i": i, "email": format!("u{i}@x.io")}))]).await.unwrap();
            ids.push(docs[0]["_id"].as_str().unwrap().to_owned());
        }
        store.create_unique_index(&coll, &UniqueIndex { field: "email".into(), required: false }).await.unwrap();
        store.create_owner_index(&coll, "owner").await.unwrap();
        let scope = rls_core::authorize_delete(
            &rls_core::Caller::secret(),
            &rls_core::Target::existing("posts", &rls_core::RlsConfig::default()),
            &ids[0],
        )
        .unwrap();
        let updated = store.update(&coll, &scope, &doc(json!({"i": 100}))).await.unwrap().unwrap();
        let gone = rls_core::authorize_delete(
            &rls_core::Caller::secret(),
            &rls_core::Target::existing("posts", &rls_core::RlsConfig::default()),
            &ids[1],
        )
        .unwrap();
        store.delete(&coll, &gone).await.unwrap().unwrap();
        (ids, updated)
    };
    let store = SqliteStore::open(&dir.path().join(DEFAULT_FILE_NAME)).unwrap();
    let all = store.count(&coll, &ReadScope::All, &query::Filter::new()).await.unwrap();
    assert_eq!(all, 19);
    let first = store.get(&coll, &DocId::parse(&kept[0]).unwrap(), &ReadScope::All).await.unwrap();
    assert_eq!(first, Some(updated));
    assert_eq!(store.get(&coll, &DocId::parse(&kept[1]).unwrap(), &ReadScope::All).await.unwrap(), None);
    let dup = store.insert(&coll, vec![doc(json!({"email": "u5@x.io"}))]).await;
    assert_eq!(dup, Err(StoreError::DuplicateKey { field: Some("email".into()) }), "the unique index survived");
}

const CHILD_ENV: &str = "URBACKEND_SQLITE_CRASH_CHILD";

/// Runs only as the child of `acknowledged_writes_survive_a_crash`: writes, reports each
/// acknowledged id on standard output, then aborts without dropping the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        println!("crash_child: a helper that runs only as the child of acknowledged_writes_survive_a_crash");
        return;
    };
    let store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "crash", schema: &schema };
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let schema = Schema::new();
            let coll = CollectionSpec { physical: "crash", schema: &schema };
            let docs = store.insert(&coll, vec![doc(json!({"i": i}))]).await.unwrap();
            let id = docs[0]["_id"].as_str().unwrap().to_owned();
            let mut out = std::io::stdout().lock();
            writeln!(out, "ACK {id}").unwrap();
            out.flush().unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let _ = store.count(&coll, &ReadScope::All, &query::Filter::new()).await;
    std::process::abort();
}

#[test]
fn acknowledged_writes_survive_a_crash() {
    let dir = TempDir::new("crash");
    let path = dir.path().join("crash.sqlite3");
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["durability::crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .output()
        .unwrap();
    assert!(!output.status.success(), "the child aborts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // libtest may print its own text before the first line; take what follows each marker.
    let acked: Vec<&str> = stdout.split("ACK ").skip(1).filter_map(|rest| rest.get(..24)).collect();
    assert_eq!(acked.len(), 64, "the child acknowledged its writes: {stdout}");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(&path).unwrap();
        let schema = Schema::new();
        let coll = CollectionSpec { physical: "crash", schema: &schema };
        for id in &acked {
            let got = store.get(&coll, &DocId::parse(id).unwrap(), &ReadScope::All).await.unwrap();
            assert!(got.is_some(), "acknowledged {id} survived");
        }
        assert_eq!(store.count(&coll, &ReadScope::All, &query::Filter::new()).await.unwrap(), 64);
    });
}
