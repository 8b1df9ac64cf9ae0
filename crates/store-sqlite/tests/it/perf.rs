//! Throughput smoke test, skipped (with the reason printed) unless `URBACKEND_PERF=1`:
//! `URBACKEND_PERF=1 cargo test -p store-sqlite --release --test it perf -- --nocapture`.
//! Durable inserts, gets by id and private lists of 20 over 100,000 documents, each with 100
//! concurrent clients. It prints rates; it asserts only correctness.

use std::sync::Arc;
use std::time::{Duration, Instant};

use query::Schema;
use rls_core::{DocId, ReadScope};
use serde_json::json;
use store::{CollectionSpec, DocumentStore};
use store_sqlite::SqliteStore;

use crate::common::TempDir;

const CLIENTS: usize = 100;
const DOCS: usize = 100_000;
const USERS: usize = 1_000;

async fn run_for<F, Fut>(store: &Arc<SqliteStore>, what: &str, period: Duration, op: F)
where
    F: Fn(Arc<SqliteStore>, usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let op = Arc::new(op);
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let store = Arc::clone(store);
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while started.elapsed() < period {
                op(Arc::clone(&store), client, n).await;
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{what}: {total} requests in {secs:.2}s = {:.0} req/s", total as f64 / secs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perf() {
    if std::env::var("URBACKEND_PERF").as_deref() != Ok("1") {
        println!("SKIP perf: a throughput measurement; set URBACKEND_PERF=1 to run it");
        return;
    }
    let dir = TempDir::new("perf");
    let store = Arc::new(dir.store());
    let schema = Schema::new();
    let coll = CollectionSpec { physical: "p_posts", schema: &schema };
    store.create_owner_index(&coll, "userId").await.unwrap();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(DOCS);
    for chunk in 0..DOCS / 100 {
        let docs = (0..100)
            .map(|i| {
                let n = chunk * 100 + i;
                json!({"title": format!("post {n}"), "userId": format!("user{}", n % USERS), "views": n % 97})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect();
        for d in store.insert(&coll, docs).await.unwrap() {
            ids.push(d["_id"].as_str().unwrap().to_owned());
        }
    }
    println!("seeded {DOCS} documents in {:?}", started.elapsed());
    let ids = Arc::new(ids);
    let period = Duration::from_secs(3);

    run_for(&store, "insert (1 doc, durable)", period, |store, client, n| async move {
        let schema = Schema::new();
        let coll = CollectionSpec { physical: "p_inserts", schema: &schema };
        let doc = json!({"title": "x", "userId": format!("user{client}"), "n": n}).as_object().unwrap().clone();
        store.insert(&coll, vec![doc]).await.unwrap();
    })
    .await;

    let by_id = Arc::clone(&ids);
    run_for(&store, "get by id", period, move |store, client, n| {
        let id = DocId::parse(&by_id[(client * 7919 + n * 104_729) % by_id.len()]).unwrap();
        async move {
            let schema = Schema::new();
            let coll = CollectionSpec { physical: "p_posts", schema: &schema };
            assert!(store.get(&coll, &id, &ReadScope::All).await.unwrap().is_some());
        }
    })
    .await;

    run_for(&store, "private list of 20 (owner scope, default sort)", period, |store, client, n| async move {
        let schema = Schema::new();
        let coll = CollectionSpec { physical: "p_posts", schema: &schema };
        let scope = ReadScope::Owner { field: "userId".into(), user: format!("user{}", (client * 31 + n) % USERS) };
        let query = query::parse("limit=20", &schema).unwrap();
        let page = store.find(&coll, &scope, &query).await.unwrap();
        assert_eq!(page.items.len(), 20);
    })
    .await;
}
