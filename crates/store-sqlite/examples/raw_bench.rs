//! The raw-store side of `cargo xtask bench`: seeds a benchmark collection straight into the
//! embedded store file and measures the store operations in-process, without HTTP, so that the
//! HTTP figures can be read against what the store alone does.
//!
//! ```text
//! raw_bench seed --db FILE --project ID --users N --per-user M --user U --ids-out FILE
//! raw_bench run  --db FILE --project ID --user U --writer W --ids FILE --concurrency C --seconds S
//!                --ops reads|inserts
//! ```
//!
//! `seed` inserts `N × M` documents (`title` String, `n` Number, `userId` String; document `i`
//! belongs to user `user<i mod N>`, so every user's documents are spread over the whole
//! collection) into both `<project>_items` and `<project>_items_open`, in batches through
//! [`DocumentStore::insert`], and writes the ids of user `U`'s documents in each collection to a
//! JSON file (`{"items": [...], "items_open": [...]}`). The collections must already be defined
//! (`urbackend collection put`), so that the owner index exists before the data arrives.
//!
//! `run` measures, each for `S` seconds after a short warm-up, with `C` concurrent Tokio tasks,
//! on `items` within `ReadScope::Owner` for user `U` and on `items_open` with `ReadScope::All`:
//! `--ops reads` get by id, find 20 (`limit=20`, default sort; on `items_open` filtered by
//! `userId=U`, the same answer without RLS) and find 20 plus the count the list endpoint also
//! runs; `--ops inserts` inserting one document owned by `W` (apart, because it grows the
//! collections the reads measure). It prints one JSON object per measurement on stdout. The store
//! must not be open in another process meanwhile (the numbers would mix).
//!
//! This file is a tool, not a test: it never asserts on timings.

use std::error::Error;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use query::{FieldType, ListQuery, Schema};
use rls_core::{DocId, ReadScope};
use serde_json::{Value, json};
use store::{CollectionSpec, Document, DocumentStore, StoreError};
use store_sqlite::SqliteStore;

type AnyResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Documents per `insert` call while seeding.
const SEED_BATCH: usize = 1_000;
/// The RLS-on collection and the RLS-off one (logical names; physical `<project>_<name>`).
const COLLECTIONS: [&str; 2] = ["items", "items_open"];

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        return Err(usage());
    };
    let flags = Flags::parse(rest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match command.as_str() {
        "seed" => runtime.block_on(seed(&flags)),
        "run" => runtime.block_on(run(&flags)),
        _ => Err(usage()),
    }
}

fn usage() -> Box<dyn Error + Send + Sync> {
    "usage: raw_bench seed --db FILE --project ID --users N --per-user M --user U --ids-out FILE\n       \
     raw_bench run --db FILE --project ID --user U --writer W --ids FILE --concurrency C --seconds S \
     --ops reads|inserts"
        .into()
}

/// `--name value` pairs.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String]) -> AnyResult<Flags> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            let name = flag.strip_prefix("--").ok_or_else(|| format!("unexpected argument `{flag}`"))?;
            let value = iter.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
            pairs.push((name.to_owned(), value.clone()));
        }
        Ok(Flags(pairs))
    }

    fn get(&self, name: &str) -> AnyResult<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing `--{name}`").into())
    }

    fn number(&self, name: &str) -> AnyResult<usize> {
        let text = self.get(name)?;
        text.parse().map_err(|e| format!("`--{name} {text}`: {e}").into())
    }
}

/// The benchmark collections' model: `title` String, `n` Number, `userId` String.
fn schema() -> Schema {
    Schema::new().with("title", FieldType::String).with("n", FieldType::Number).with("userId", FieldType::String)
}

fn document(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}

async fn seed(flags: &Flags) -> AnyResult<()> {
    let store = SqliteStore::open(&PathBuf::from(flags.get("db")?))?;
    let project = flags.get("project")?;
    let users = flags.number("users")?.max(1);
    let total = users * flags.number("per-user")?;
    let user = flags.get("user")?;
    let schema = schema();
    let started = Instant::now();
    let mut ids = serde_json::Map::new();
    for name in COLLECTIONS {
        let physical = format!("{project}_{name}");
        let spec = CollectionSpec { physical: &physical, schema: &schema };
        let mut mine = Vec::new();
        let mut next = 0;
        while next < total {
            let end = (next + SEED_BATCH).min(total);
            let batch = (next..end)
                .map(|i| {
                    document(json!({"title": format!("item {i}"), "n": i, "userId": format!("user{}", i % users)}))
                })
                .collect();
            for doc in store.insert(&spec, batch).await? {
                if doc.get("userId").and_then(Value::as_str) == Some(user)
                    && let Some(id) = doc.get("_id")
                {
                    mine.push(id.clone());
                }
            }
            next = end;
        }
        ids.insert(name.to_owned(), Value::Array(mine));
    }
    std::fs::write(flags.get("ids-out")?, Value::Object(ids).to_string())?;
    eprintln!("raw_bench: seeded {} documents in {:.1}s", total * COLLECTIONS.len(), started.elapsed().as_secs_f64());
    Ok(())
}

/// What one measurement needs: the store, the collection and the parameters of the operation.
struct Case {
    store: SqliteStore,
    physical: String,
    schema: Schema,
    scope: ReadScope,
    ids: Vec<DocId>,
    query: ListQuery,
    insert: Document,
}

impl Case {
    fn spec(&self) -> CollectionSpec<'_> {
        CollectionSpec { physical: &self.physical, schema: &self.schema }
    }

    fn id(&self, n: usize) -> Option<&DocId> {
        self.ids.get(n % self.ids.len().max(1))
    }
}

async fn run(flags: &Flags) -> AnyResult<()> {
    let store = SqliteStore::open(&PathBuf::from(flags.get("db")?))?;
    let project = flags.get("project")?;
    let user = flags.get("user")?;
    let writer = flags.get("writer")?;
    let inserts = match flags.get("ops")? {
        "reads" => false,
        "inserts" => true,
        other => return Err(format!("`--ops {other}`: expected `reads` or `inserts`").into()),
    };
    let concurrency = flags.number("concurrency")?.max(1);
    let duration = Duration::from_secs_f64(flags.get("seconds")?.parse::<f64>()?);
    let warmup = (duration / 5).min(Duration::from_secs(2));
    let ids: Value = serde_json::from_str(&std::fs::read_to_string(flags.get("ids")?)?)?;
    let schema = schema();
    let owner = ReadScope::Owner { field: "userId".to_owned(), user: user.to_owned() };
    let cases =
        [("items", owner, "limit=20".to_owned()), ("items_open", ReadScope::All, format!("limit=20&userId={user}"))];
    for (name, scope, raw_query) in cases {
        let doc_ids: Vec<DocId> = ids
            .get(name)
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).filter_map(|id| DocId::parse(id).ok()).collect())
            .unwrap_or_default();
        if doc_ids.is_empty() {
            return Err(format!("no ids for `{name}` in the ids file").into());
        }
        let case = Arc::new(Case {
            store: store.clone(),
            physical: format!("{project}_{name}"),
            query: query::parse(&raw_query, &schema)?,
            schema: schema.clone(),
            scope,
            ids: doc_ids,
            insert: document(json!({"title": "x", "n": 1, "userId": writer})),
        });
        let label = json!({"collection": name, "rls": name == "items"});
        let results = if inserts {
            vec![("insert", measure_insert(&case, concurrency, warmup, duration).await)]
        } else {
            measure_reads(&case, concurrency, warmup, duration).await
        };
        for (op, outcome) in results {
            let mut label = label.clone();
            if let Value::Object(map) = &mut label {
                map.insert("op".into(), json!(op));
            }
            report(label, &outcome);
        }
    }
    Ok(())
}

/// Get by id, find 20, and find 20 plus count.
async fn measure_reads(
    case: &Arc<Case>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Vec<(&'static str, Outcome)> {
    let c = Arc::clone(case);
    let get = measure(concurrency, warmup, duration, move |n| {
        let c = Arc::clone(&c);
        async move {
            let id = c.id(n).ok_or_else(|| StoreError::Internal("no id".to_owned()))?;
            match c.store.get(&c.spec(), id, &c.scope).await? {
                Some(_) => Ok(()),
                None => Err(StoreError::Internal("document not found".to_owned())),
            }
        }
    })
    .await;
    let c = Arc::clone(case);
    let find = measure(concurrency, warmup, duration, move |_| {
        let c = Arc::clone(&c);
        async move { expect_page(c.store.find(&c.spec(), &c.scope, &c.query).await?.items.len()) }
    })
    .await;
    let c = Arc::clone(case);
    let list = measure(concurrency, warmup, duration, move |_| {
        let c = Arc::clone(&c);
        async move {
            let page = c.store.find(&c.spec(), &c.scope, &c.query).await?;
            c.store.count(&c.spec(), &c.scope, &c.query.filter).await?;
            expect_page(page.items.len())
        }
    })
    .await;
    vec![("get", get), ("find", find), ("find+count", list)]
}

/// Inserting one document at a time.
async fn measure_insert(case: &Arc<Case>, concurrency: usize, warmup: Duration, duration: Duration) -> Outcome {
    let c = Arc::clone(case);
    measure(concurrency, warmup, duration, move |_| {
        let c = Arc::clone(&c);
        async move { c.store.insert(&c.spec(), vec![c.insert.clone()]).await.map(|_| ()) }
    })
    .await
}

fn expect_page(len: usize) -> Result<(), StoreError> {
    if len == 20 { Ok(()) } else { Err(StoreError::Internal(format!("expected 20 documents, got {len}"))) }
}

/// The outcome of one measurement.
struct Outcome {
    /// Successful operations within the measured window.
    ops: usize,
    /// Failed operations within the measured window.
    errors: usize,
    /// The measured window.
    seconds: f64,
    /// Latencies of the successful operations, in microseconds, sorted.
    latencies: Vec<u64>,
    /// The first error seen, if any.
    first_error: Option<String>,
}

/// Runs `op` from `concurrency` tasks in a loop: a warm-up, then the measured window.
async fn measure<F, Fut>(concurrency: usize, warmup: Duration, duration: Duration, op: F) -> Outcome
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let start = Instant::now() + warmup;
    let end = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for task in 0..concurrency {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            let mut n = task.wrapping_mul(7919);
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let result = op(n).await;
                n = n.wrapping_add(1);
                if began < start {
                    continue;
                }
                match result {
                    Ok(()) => latencies.push(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX)),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut outcome = Outcome { ops: 0, errors: 0, seconds: 0.0, latencies: Vec::new(), first_error: None };
    for task in tasks {
        match task.await {
            Ok((latencies, errors, first_error)) => {
                outcome.latencies.extend(latencies);
                outcome.errors += errors;
                if outcome.first_error.is_none() {
                    outcome.first_error = first_error;
                }
            }
            Err(e) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    // Operations started within the window, over the window.
    outcome.seconds = duration.as_secs_f64();
    outcome.ops = outcome.latencies.len();
    outcome.latencies.sort_unstable();
    outcome
}

/// The latency at percentile `p` (nearest rank), in microseconds.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied().unwrap_or(0)
}

fn report(mut label: Value, outcome: &Outcome) {
    if let Value::Object(map) = &mut label {
        map.insert("ops".into(), json!(outcome.ops));
        map.insert("errors".into(), json!(outcome.errors));
        map.insert("seconds".into(), json!(outcome.seconds));
        map.insert("ops_per_sec".into(), json!(outcome.ops as f64 / outcome.seconds.max(1e-9)));
        map.insert("p50_us".into(), json!(percentile(&outcome.latencies, 50.0)));
        map.insert("p99_us".into(), json!(percentile(&outcome.latencies, 99.0)));
        map.insert("first_error".into(), json!(outcome.first_error));
    }
    println!("{label}");
}
