//! Differential property test: random small documents × random filters, sorts, pages and
//! scopes. The SQLite result must be exactly the documents for which the reference evaluator
//! (`query::Filter::matches` and `ReadScope::permits`) holds, in the order of an independent
//! reference sort (MongoDB's order across types, arrays by min/max element, ties by `_id`), for
//! offset pages, counts and complete cursor walks.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use query::{
    Condition, CursorPosition, FieldPath, Filter, ListQuery, ObjectIdHex, Op, Pagination, Scalar, Schema, SortKey,
    SortOrder,
};
use rls_core::ReadScope;
use serde_json::{Map, Value, json};
use store::{CollectionSpec, DocumentStore};
use store_sqlite::SqliteStore;

const OID1: &str = "65a0c0de0000000a00000001";
const OID2: &str = "65a0c0de0000000a00000002";
const DATE1: &str = "2024-01-01T00:00:00.000Z";
const DATE2: &str = "2024-06-01T00:00:00.000Z";
const STRINGS: &[&str] = &["", "a", "b", "A", "ab", "ba", DATE1, DATE2, OID1, "65A0C0DE0000000A00000001", OID2];
const PATHS: &[&str] = &["a", "b", "o", "o.x", "o.y", "arr", "arr.k", "arr.k.z", "s", "a.x", "missing"];
const PATTERNS: &[&str] = &["a", "^a", "b$", "^$", "A.", "2024", "^65a0"];

fn scalar_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..=3).prop_map(Value::from),
        prop::sample::select(vec![-1.5f64, 0.5, 2.5]).prop_map(|f| json!(f)),
        prop::sample::select(STRINGS.to_vec()).prop_map(|s| json!(s)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn small_object() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(prop_oneof![3 => scalar_value(), 1 => vec(scalar_value(), 0..3).prop_map(Value::Array)]),
        proptest::option::of(scalar_value()),
    )
        .prop_map(|(x, y)| {
            let mut map = Map::new();
            if let Some(x) = x {
                map.insert("x".into(), x);
            }
            if let Some(y) = y {
                map.insert("y".into(), y);
            }
            Value::Object(map)
        })
}

fn element_object() -> impl Strategy<Value = Value> {
    proptest::option::of(prop_oneof![
        3 => scalar_value(),
        1 => vec(scalar_value(), 0..3).prop_map(Value::Array),
        1 => scalar_value().prop_map(|z| json!({"z": z})),
    ])
    .prop_map(|k| match k {
        Some(k) => json!({"k": k}),
        None => json!({"other": 1}),
    })
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar_value(),
        2 => vec(scalar_value(), 0..4).prop_map(Value::Array),
        1 => small_object(),
        1 => vec(element_object(), 0..3).prop_map(Value::Array),
        1 => vec(vec(scalar_value(), 0..2).prop_map(Value::Array), 0..2).prop_map(Value::Array),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(any_value()),
        proptest::option::of(any_value()),
        proptest::option::of(small_object()),
        proptest::option::of(prop_oneof![
            3 => vec(element_object(), 0..3).prop_map(Value::Array),
            1 => element_object(),
            1 => scalar_value(),
        ]),
        proptest::option::of(prop_oneof![4 => scalar_value(), 1 => Just(json!("a"))]),
    )
        .prop_map(|(a, b, o, arr, s)| {
            let mut map = Map::new();
            for (name, value) in [("a", a), ("b", b), ("o", o), ("arr", arr), ("s", s)] {
                if let Some(value) = value {
                    map.insert(name.into(), value);
                }
            }
            Value::Object(map)
        })
}

fn query_scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        prop::sample::select(STRINGS.to_vec()).prop_map(|s| Scalar::String(s.to_owned())),
        prop::sample::select(vec![-3.0, -1.5, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0]).prop_map(Scalar::Number),
        any::<bool>().prop_map(Scalar::Bool),
        prop::sample::select(vec![1_704_067_200_000i64, 1_717_200_000_000, 1_710_000_000_000]).prop_map(Scalar::Date),
        prop::sample::select(vec![OID1, OID2]).prop_map(|s| Scalar::ObjectId(ObjectIdHex::parse(s).unwrap())),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let path = prop::sample::select(PATHS.to_vec());
    let op = prop_oneof![
        3 => query_scalar().prop_map(Op::Eq),
        2 => query_scalar().prop_map(Op::Ne),
        2 => vec(query_scalar(), 0..3).prop_map(Op::In),
        1 => query_scalar().prop_map(Op::Gt),
        1 => query_scalar().prop_map(Op::Gte),
        1 => query_scalar().prop_map(Op::Lt),
        1 => query_scalar().prop_map(Op::Lte),
        1 => any::<bool>().prop_map(Op::Exists),
        1 => prop::sample::select(PATTERNS.to_vec()).prop_map(regex_op),
    ];
    (path, op).prop_map(|(p, op)| Condition::new(FieldPath::new(p).unwrap(), op))
}

/// A regex operator, built the only way there is: through the parser.
fn regex_op(pattern: &str) -> Op {
    let query =
        query::parse(&format!("f_regex={}", pattern.replace('^', "%5E").replace('$', "%24")), &Schema::new()).unwrap();
    query.filter.conditions()[0].op.clone()
}

#[derive(Debug, Clone)]
struct Case {
    docs: Vec<Value>,
    filter: Vec<Condition>,
    sort: Vec<(&'static str, bool)>,
    owner_scope: bool,
    page: u64,
    limit: u32,
    cursor_desc: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        vec(document(), 0..10),
        vec(condition(), 0..3),
        vec((prop::sample::select(PATHS.to_vec()), any::<bool>()), 1..3),
        any::<bool>(),
        1u64..=3,
        prop_oneof![1u32..=4, Just(100)],
        any::<bool>(),
    )
        .prop_map(|(docs, filter, sort, owner_scope, page, limit, cursor_desc)| Case {
            docs,
            filter,
            sort,
            owner_scope,
            page,
            limit,
            cursor_desc,
        })
}

// ---- The reference order, written independently of the store's binary keys. ----

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Object(_) => 4,
        Value::Array(_) => 5,
        Value::Bool(_) => 6,
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap().partial_cmp(&y.as_f64().unwrap()).unwrap(),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Object(x), Value::Object(y)) => {
            let pairs = |m: &Map<String, Value>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
            let (x, y) = (pairs(x), pairs(y));
            for ((kx, vx), (ky, vy)) in x.iter().zip(&y) {
                let o = rank(vx)
                    .cmp(&rank(vy))
                    .then_with(|| kx.as_bytes().cmp(ky.as_bytes()))
                    .then_with(|| cmp_values(vx, vy));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Array(x), Value::Array(y)) => {
            for (vx, vy) in x.iter().zip(y) {
                let o = cmp_values(vx, vy);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    })
}

/// The sort key of a path: `None` is "empty array" (below null); otherwise the min (asc) or max
/// (desc) candidate, null when there is none.
fn sort_value(doc: &Value, path: &str, desc: bool) -> Option<Value> {
    let mut leaves = Vec::new();
    let segments: Vec<&str> = path.split('.').collect();
    collect(doc, &segments, &mut leaves);
    let mut candidates = Vec::new();
    let mut empty = false;
    for leaf in leaves {
        match leaf {
            Value::Array(items) if items.is_empty() => empty = true,
            Value::Array(items) => candidates.extend(items.iter().cloned()),
            other => candidates.push(other.clone()),
        }
    }
    let best = if desc { candidates.into_iter().max_by(cmp_values) } else { candidates.into_iter().min_by(cmp_values) };
    match best {
        Some(v) => Some(v),
        None if empty => None,
        None => Some(Value::Null),
    }
}

fn collect<'a>(value: &'a Value, segments: &[&str], out: &mut Vec<&'a Value>) {
    let Some((head, rest)) = segments.split_first() else {
        out.push(value);
        return;
    };
    match value {
        Value::Object(map) => {
            if let Some(child) = map.get(*head) {
                collect(child, rest, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Value::Object(map) = item
                    && let Some(child) = map.get(*head)
                {
                    collect(child, rest, out);
                }
            }
        }
        _ => {}
    }
}

fn cmp_keys(a: &Option<Value>, b: &Option<Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_values(x, y),
    }
}

fn reference_sort(docs: &mut [Value], sort: &[SortKey]) {
    docs.sort_by(|a, b| {
        for key in sort {
            let desc = key.order == SortOrder::Desc;
            let (ka, kb) = (sort_value(a, key.path.as_str(), desc), sort_value(b, key.path.as_str(), desc));
            let o = cmp_keys(&ka, &kb);
            let o = if desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

fn sort_keys(spec: &[(&str, bool)]) -> Vec<SortKey> {
    let mut keys: Vec<SortKey> = spec
        .iter()
        .map(|(p, desc)| SortKey {
            path: FieldPath::new(p).unwrap(),
            order: if *desc { SortOrder::Desc } else { SortOrder::Asc },
        })
        .collect();
    let last = keys.last().map_or(SortOrder::Desc, |k| k.order);
    keys.push(SortKey { path: FieldPath::new("_id").unwrap(), order: last });
    keys
}

fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap().to_owned()
}

fn scalar_of(value: Option<&Value>) -> Option<Scalar> {
    match value? {
        Value::String(s) => Some(Scalar::String(s.clone())),
        Value::Number(n) => Some(Scalar::Number(n.as_f64().unwrap())),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        _ => None,
    }
}

async fn check(store: &SqliteStore, case: Case) -> Result<(), TestCaseError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let physical = format!("diff_{}", NEXT.fetch_add(1, AtomicOrdering::Relaxed));
    let schema = Schema::new();
    let coll = CollectionSpec { physical: &physical, schema: &schema };
    let docs: Vec<Map<String, Value>> = case.docs.iter().map(|d| d.as_object().unwrap().clone()).collect();
    let stored: Vec<Value> = store.insert(&coll, docs).await.unwrap().into_iter().map(Value::Object).collect();
    let scope =
        if case.owner_scope { ReadScope::Owner { field: "s".into(), user: "a".into() } } else { ReadScope::All };
    let mut filter = Filter::new();
    for c in &case.filter {
        filter.and(c.clone());
    }
    let mut expected: Vec<Value> = stored.iter().filter(|d| scope.permits(d) && filter.matches(d)).cloned().collect();

    // Count.
    let count = store.count(&coll, &scope, &filter).await.unwrap();
    prop_assert_eq!(count, expected.len() as u64, "count");

    // Offset page.
    let sort = sort_keys(&case.sort);
    reference_sort(&mut expected, &sort);
    let query = ListQuery {
        filter: filter.clone(),
        sort: sort.clone(),
        pagination: Pagination::Offset { page: case.page, limit: case.limit },
        projection: None,
        populate: Vec::new(),
        count: false,
        meta: None,
    };
    let page = store.find(&coll, &scope, &query).await.unwrap();
    let skip = ((case.page - 1) * u64::from(case.limit)) as usize;
    let want: Vec<Value> = expected.iter().skip(skip).take(case.limit as usize).cloned().collect();
    let got: Vec<Value> = page.items.into_iter().map(Value::Object).collect();
    prop_assert_eq!(got.iter().map(id).collect::<Vec<_>>(), want.iter().map(id).collect::<Vec<_>>(), "page order");
    prop_assert_eq!(&got, &want, "page documents");
    prop_assert_eq!(page.has_more, expected.len() > skip + case.limit as usize, "has_more");

    // A complete cursor walk on the scalar field `s`.
    let order = if case.cursor_desc { SortOrder::Desc } else { SortOrder::Asc };
    let cursor_sort = vec![
        SortKey { path: FieldPath::new("s").unwrap(), order },
        SortKey { path: FieldPath::new("_id").unwrap(), order },
    ];
    let mut want = expected.clone();
    reference_sort(&mut want, &cursor_sort);
    let mut walked = Vec::new();
    let mut after: Option<CursorPosition> = None;
    for _ in 0..50 {
        let query = ListQuery {
            filter: filter.clone(),
            sort: cursor_sort.clone(),
            pagination: Pagination::Cursor { after: after.clone(), limit: case.limit.min(3) },
            projection: None,
            populate: Vec::new(),
            count: false,
            meta: None,
        };
        let page = store.find(&coll, &scope, &query).await.unwrap();
        let last = page.items.last().cloned();
        walked.extend(page.items.into_iter().map(Value::Object));
        match (page.has_more, last) {
            (true, Some(last)) => {
                after = Some(CursorPosition {
                    sort: cursor_sort[0].clone(),
                    value: scalar_of(last.get("s")),
                    id: ObjectIdHex::parse(last["_id"].as_str().unwrap()).unwrap(),
                });
            }
            _ => break,
        }
    }
    prop_assert_eq!(walked.iter().map(id).collect::<Vec<_>>(), want.iter().map(id).collect::<Vec<_>>(), "cursor walk");

    store.drop_collection(&coll).await.unwrap();
    Ok(())
}

/// The `$match` form of a condition (MongoDB's query language), for scalars JSON can carry.
fn match_stage_condition(c: &Condition) -> Option<(String, Value)> {
    let plain = |s: &Scalar| match s {
        Scalar::String(_) | Scalar::Number(_) | Scalar::Bool(_) => Some(s.to_json()),
        _ => None,
    };
    let spec = match &c.op {
        Op::Eq(s) => json!({ "$eq": plain(s)? }),
        Op::Ne(s) => json!({ "$ne": plain(s)? }),
        Op::Gt(s) => json!({ "$gt": plain(s)? }),
        Op::Gte(s) => json!({ "$gte": plain(s)? }),
        Op::Lt(s) => json!({ "$lt": plain(s)? }),
        Op::Lte(s) => json!({ "$lte": plain(s)? }),
        Op::In(list) => json!({ "$in": list.iter().map(plain).collect::<Option<Vec<_>>>()? }),
        Op::Exists(b) => json!({ "$exists": b }),
        Op::Regex(p) => json!({ "$regex": p.source(), "$options": "i" }),
    };
    Some((c.path.as_str().to_owned(), spec))
}

/// The aggregation's `$match` and `$sort` agree with the reference evaluator and sort.
async fn check_aggregate(store: &SqliteStore, case: Case) -> Result<(), TestCaseError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let physical = format!("agg_{}", NEXT.fetch_add(1, AtomicOrdering::Relaxed));
    let schema = Schema::new();
    let coll = CollectionSpec { physical: &physical, schema: &schema };
    let docs: Vec<Map<String, Value>> = case.docs.iter().map(|d| d.as_object().unwrap().clone()).collect();
    let stored: Vec<Value> = store.insert(&coll, docs).await.unwrap().into_iter().map(Value::Object).collect();
    let conditions: Vec<(Condition, (String, Value))> =
        case.filter.iter().filter_map(|c| match_stage_condition(c).map(|m| (c.clone(), m))).collect();
    let mut filter = Filter::new();
    let mut clauses = Vec::new();
    for (condition, (path, spec)) in conditions {
        filter.and(condition);
        clauses.push(json!({ path: spec }));
    }
    let scope =
        if case.owner_scope { ReadScope::Owner { field: "s".into(), user: "a".into() } } else { ReadScope::All };
    let mut expected: Vec<Value> = stored.iter().filter(|d| scope.permits(d) && filter.matches(d)).cloned().collect();
    // A `$sort` object names each path once.
    let mut sort = sort_keys(&case.sort);
    let mut seen = std::collections::HashSet::new();
    sort.retain(|k| seen.insert(k.path.clone()));
    reference_sort(&mut expected, &sort);
    let mut sort_spec = Map::new();
    for key in &sort {
        sort_spec.insert(key.path.as_str().to_owned(), json!(key.order.as_i32()));
    }
    let mut stages = Vec::new();
    if !clauses.is_empty() {
        stages.push(json!({"$match": {"$and": clauses}}));
    }
    stages.push(json!({ "$sort": sort_spec }));
    let plan = rls_core::AggregatePlan { scope, stages, foreign_collections: Vec::new() };
    let got = store.aggregate(&coll, &plan).await.unwrap();
    prop_assert_eq!(got.iter().map(id).collect::<Vec<_>>(), expected.iter().map(id).collect::<Vec<_>>(), "aggregate");
    prop_assert_eq!(&got, &expected);
    store.drop_collection(&coll).await.unwrap();
    Ok(())
}

#[test]
fn aggregation_match_and_sort_agree_with_the_reference() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = SqliteStore::open_in_memory().unwrap();
    let cases: u32 = std::env::var("DIFF_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&case(), |case| runtime.block_on(check_aggregate(&store, case)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn sqlite_agrees_with_the_reference_evaluator() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = SqliteStore::open_in_memory().unwrap();
    let cases: u32 = std::env::var("DIFF_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1500);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let started = std::time::Instant::now();
    let result = runner.run(&case(), |case| runtime.block_on(check(&store, case)));
    println!("{cases} differential cases in {:?}", started.elapsed());
    if let Err(e) = result {
        panic!("{e}");
    }
}
