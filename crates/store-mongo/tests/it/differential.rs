//! The differential property test: random small documents and random filters (and owner
//! scopes) — the documents MongoStore returns must be exactly those that the reference evaluator
//! `query::Filter::matches` (and `ReadScope::permits`) selects on the documents as read back.
//!
//! Where jongodb deviates from MongoDB the case is left out there, by name and with the reason
//! printed ([`JONGODB_REGEX_NESTED`]); the assertion is never weakened. One more deviation is
//! covered by the store's translation instead: jongodb compares numbers for equality within one
//! BSON type only (`{$eq: 2.0}` misses an Int32 `2`); the store stores numbers canonically and
//! matches equality with the `$in` of a number's forms, which is exactly `$eq` on MongoDB (see
//! `conversions::numbers_written_as_any_bson_type_compare_equal`).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use query::{FieldType, Schema};
use rls_core::ReadScope;
use serde_json::{Map, Value, json};
use store::DocumentStore;

use crate::harness::{TestDb, note, on_jongodb, skip, spec};

/// jongodb's `$regex` also matches strings inside nested arrays (`[["a"]]`), MongoDB's does not:
/// on jongodb, cases that combine a regex on `u` with a nested array in `u` are rejected.
const JONGODB_REGEX_NESTED: (&str, &str) = (
    "differential::regex_on_nested_arrays",
    "jongodb's $regex matches strings inside nested arrays, MongoDB's does not",
);

/// Whether a value holds an array directly inside an array.
fn nested_array(value: &Value) -> bool {
    matches!(value, Value::Array(items) if items.iter().any(Value::is_array))
}

/// How many random cases run (about 7 ms each on jongodb).
const CASES: u32 = 1000;

fn schema() -> Schema {
    Schema::new()
        .with("n", FieldType::Number)
        .with("s", FieldType::String)
        .with("b", FieldType::Boolean)
        .with("d", FieldType::Date)
        .with("r", FieldType::ObjectId)
        .with("tags", FieldType::Array(Box::new(FieldType::String)))
        .with("o.x", FieldType::Number)
}

const HEX: [&str; 3] = ["65a1b2c3d4e5f60718293a4b", "65a1b2c3d4e5f60718293a4c", "65A1B2C3D4E5F60718293A4D"];
const DATES: [&str; 3] = ["2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", "2024-06-01T12:00:00.000Z"];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![Just(json!(-1)), Just(json!(0)), Just(json!(1)), Just(json!(1.5)), Just(json!(2)), Just(json!(2.0))]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("a")),
        Just(json!("ab")),
        Just(json!("b")),
        Just(json!("B")),
        Just(json!("")),
        Just(json!("1"))
    ]
}

/// Any value, mostly of the field's own type, sometimes another type, null or an array.
fn value_of(own: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![
        6 => own.clone(),
        1 => Just(Value::Null),
        1 => prop_oneof![number(), text(), any::<bool>().prop_map(Value::Bool)],
        1 => prop::collection::vec(own, 0..3).prop_map(Value::Array),
    ]
    .boxed()
}

fn document() -> impl Strategy<Value = Map<String, Value>> {
    let date = prop_oneof![
        prop::sample::select(DATES.to_vec()).prop_map(|d| json!(d)),
        Just(json!("soon")),
        Just(json!(1_704_067_200_000_i64)),
    ];
    let reference = prop_oneof![prop::sample::select(HEX.to_vec()).prop_map(|h| json!(h)), Just(json!("x"))];
    let tags = prop::collection::vec(text(), 0..3).prop_map(Value::Array);
    let inner = prop_oneof![
        number().prop_map(|x| json!({"x": x, "y": "a"})),
        prop::collection::vec(number().prop_map(|x| json!({"x": x})), 0..3).prop_map(Value::Array),
        text().prop_map(|y| json!({"y": y})),
        number(),
    ];
    let owner = prop_oneof![Just(json!("alice")), Just(json!("bob")), Just(json!(["alice"])), Just(Value::Null)];
    (
        prop::option::of(value_of(number().boxed())),
        prop::option::of(value_of(text().boxed())),
        prop::option::of(value_of(any::<bool>().prop_map(Value::Bool).boxed())),
        prop::option::of(value_of(date.boxed())),
        prop::option::of(value_of(reference.boxed())),
        prop::option::of(prop_oneof![4 => tags, 1 => text()]),
        prop::option::of(prop_oneof![
            4 => value_of(prop_oneof![number(), text()].boxed()),
            2 => prop::sample::select(vec![
                json!([[1, "a"], "b"]),
                json!([["a"]]),
                json!([["ab", "b"], 2]),
                json!([[2]]),
                json!([{"x": 1}, "a"]),
                json!({"x": "1"}),
                json!([]),
                json!([null]),
            ]),
        ]),
        prop::option::of(inner),
        prop::option::of(owner),
    )
        .prop_map(|(n, s, b, d, r, tags, u, o, owner)| {
            let mut doc = Map::new();
            let fields = [("n", n), ("s", s), ("b", b), ("d", d), ("r", r), ("tags", tags), ("u", u), ("o", o)];
            for (key, value) in fields.into_iter().chain([("owner", owner)]) {
                if let Some(value) = value {
                    doc.insert(key.to_owned(), value);
                }
            }
            doc
        })
}

/// One query-string condition: `field[_op]=value`.
fn condition() -> impl Strategy<Value = String> {
    let field = prop::sample::select(vec!["n", "s", "b", "d", "r", "tags", "u", "o.x", "o.y", "o"]);
    let op = prop::sample::select(vec!["", "_ne", "_gt", "_gte", "_lt", "_lte", "_in", "_exists", "_regex"]);
    (field, op, 0..6usize, 0..3usize).prop_filter_map("castable", |(field, op, i, j)| {
        let value = match (op, field) {
            ("_exists", _) => ["true", "false"][i % 2].to_owned(),
            ("_regex", "n" | "b" | "d" | "r" | "o.x") => return None,
            ("_regex", _) => ["^a", "b$", "A", "a.", "^$", "[ab]", "x|b"][i % 7].to_owned(),
            (_, "n" | "o.x") => ["-1", "0", "1", "1.5", "2", "3"][i].to_owned(),
            (_, "b") => ["true", "false"][i % 2].to_owned(),
            (_, "d") => ["2024-01-01", "2024-01-02T00:00:00Z", "2024-03-01", "1704067200000"][i % 4].to_owned(),
            (_, "r") => HEX[i % 3].to_owned(),
            _ => ["a", "ab", "b", "B", "1", "2"][i].to_owned(),
        };
        let value = if op == "_in" {
            let second = match field {
                "n" | "o.x" => ["2", "-1", "1.5"][j],
                "b" => "false",
                "d" => "2024-06-01T12:00:00Z",
                "r" => HEX[j],
                _ => ["b", "B", "zz"][j],
            };
            format!("{value},{second}")
        } else {
            value
        };
        Some(format!("{field}{op}={value}"))
    })
}

/// One case: the documents, some filters (each a list of conditions), and the owner scope's user.
type Case = (Vec<Map<String, Value>>, Vec<Vec<String>>, Option<&'static str>);

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(document(), 4..12),
        prop::collection::vec(prop::collection::vec(condition(), 1..3), 1..4),
        prop::option::weighted(0.3, prop::sample::select(vec!["alice", "bob"])),
    )
}

fn ids(docs: &[store::Document]) -> BTreeSet<String> {
    docs.iter().map(|d| d["_id"].as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn mongo_selects_exactly_what_the_reference_evaluator_selects() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let t = runtime.block_on(TestDb::new());
    let schema = schema();
    let counter = AtomicU32::new(0);
    let (queries, selective) = (AtomicU32::new(0), AtomicU32::new(0));
    let started = std::time::Instant::now();
    let jongodb = on_jongodb();
    let rejected = AtomicU32::new(0);
    let config = Config { cases: CASES, failure_persistence: None, max_global_rejects: CASES, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |(docs, filters, owner)| {
        let regex_on_u = filters.iter().flatten().any(|c| c.starts_with("u_regex="));
        if jongodb && regex_on_u && docs.iter().any(|d| d.get("u").is_some_and(nested_array)) {
            rejected.fetch_add(1, Ordering::Relaxed);
            return Err(TestCaseError::reject(JONGODB_REGEX_NESTED.1));
        }
        let physical = format!("diff_{}", counter.fetch_add(1, Ordering::Relaxed));
        let coll = spec(&physical, &schema);
        runtime.block_on(async {
            let stored = t.store.insert(&coll, docs).await.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let all = t
                .store
                .find(&coll, &ReadScope::All, &query::parse("limit=100&sort=_id", &schema).unwrap())
                .await
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(&all.items.len(), &stored.len());
            let scope = match owner {
                Some(user) => ReadScope::Owner { field: "owner".into(), user: user.into() },
                None => ReadScope::All,
            };
            for conditions in filters {
                let qs = format!("{}&limit=100", conditions.join("&"));
                let q = query::parse(&qs, &schema).map_err(|e| TestCaseError::fail(format!("{qs}: {e}")))?;
                let expected: Vec<store::Document> = all
                    .items
                    .iter()
                    .filter(|d| {
                        let doc = Value::Object((*d).clone());
                        scope.permits(&doc) && q.filter.matches(&doc)
                    })
                    .cloned()
                    .collect();
                queries.fetch_add(1, Ordering::Relaxed);
                if !expected.is_empty() && expected.len() < all.items.len() {
                    selective.fetch_add(1, Ordering::Relaxed);
                }
                let page = t.store.find(&coll, &scope, &q).await.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(
                    ids(&page.items),
                    ids(&expected),
                    "query {} scope {:?}\ndocuments: {}",
                    qs,
                    scope,
                    serde_json::to_string(&all.items).unwrap_or_default()
                );
                let count =
                    t.store.count(&coll, &scope, &q.filter).await.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(count, expected.len() as u64, "count of {}", qs);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    runtime.block_on(t.finish());
    let (queries, selective) = (queries.into_inner(), selective.into_inner());
    if jongodb {
        let (name, reason) = JONGODB_REGEX_NESTED;
        skip(name, &format!("{reason} ({} generated cases left out)", rejected.into_inner()));
    }
    note(&format!(
        "differential: {CASES} cases, {queries} queries ({selective} selecting some but not all documents) in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    assert!(selective * 4 > queries, "the generator should mostly produce selective filters");
}
