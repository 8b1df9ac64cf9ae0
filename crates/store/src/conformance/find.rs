//! `find` and `count` with every filter operator: scalars of each type bracket, arrays (matched
//! by element), nested paths (through objects and arrays of objects), missing fields, mixed
//! types, dates, ObjectIds, regular expressions, and the owner scope.

use query::{Filter, ObjectIdHex, Op, Scalar, Schema};
use rls_core::ReadScope;
use serde_json::{Value, json};

use super::{CaseResult, Coll, Ctx, Failure, cond, ensure_eq, filter, ids, oid, owner_scope, parse};
use crate::Document;

/// Runs `filter` within `scope` and checks that exactly the fixture documents at 1-based
/// `expected` positions come back (in `_id` order), and that the reference evaluator agrees.
async fn check(
    cx: &Ctx<'_>,
    coll: &Coll,
    stored: &[Document],
    scope: &ReadScope,
    filter: Filter,
    expected: &[usize],
    label: &str,
) -> CaseResult {
    let expected_ids: Vec<String> = expected.iter().map(|&n| oid(u32::try_from(n).unwrap_or(0))).collect();
    let reference: Vec<String> = ids(stored)
        .into_iter()
        .zip(stored)
        .filter(|(_, d)| {
            let doc = Value::Object((*d).clone());
            scope.permits(&doc) && filter.matches(&doc)
        })
        .map(|(id, _)| id)
        .collect();
    ensure_eq!(reference, expected_ids, "{label}: the expectation agrees with the reference evaluator");
    let found = cx.find_by_id_order(coll, scope, filter.clone()).await?;
    ensure_eq!(ids(&found), expected_ids, "{label}: find");
    let by_id: Vec<Document> =
        found.iter().filter_map(|f| stored.iter().find(|s| s.get("_id") == f.get("_id")).cloned()).collect();
    ensure_eq!(found, by_id, "{label}: found documents are the stored ones");
    let count = cx.store().count(&coll.spec(), scope, &filter).await?;
    ensure_eq!(count, expected.len() as u64, "{label}: count");
    Ok(())
}

fn s(text: &str) -> Scalar {
    Scalar::String(text.to_owned())
}

fn n(value: f64) -> Scalar {
    Scalar::Number(value)
}

fn b(value: bool) -> Scalar {
    Scalar::Bool(value)
}

/// The shared fixture of the filter cases.
async fn fixture(cx: &Ctx<'_>) -> Result<(Coll, Vec<Document>), Failure> {
    let coll = cx.coll("things", Schema::new());
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "name": "alpha", "n": 1, "flag": true, "tags": ["a", "b"],
                       "meta": {"score": 10, "tags": ["x"]}, "items": [{"k": "p", "v": 1}, {"k": "q", "v": 2}]}),
                json!({"_id": oid(2), "name": "Beta", "n": 2.5, "flag": false, "tags": ["b", "c"],
                       "meta": {"score": 20}, "items": [{"k": "q", "v": 3}]}),
                json!({"_id": oid(3), "name": "gamma", "n": "3", "tags": "a", "meta": {"score": "30"}, "items": []}),
                json!({"_id": oid(4), "name": null, "n": null, "tags": [], "meta": null}),
                json!({"_id": oid(5), "n": -4, "tags": [["a"]], "meta": {"score": [5, 50]}, "items": {"k": "p"}}),
                json!({"_id": oid(6), "name": "ALPHA", "n": 10, "flag": "true", "tags": ["A"], "mixed": [1, "1", true]}),
            ],
        )
        .await?;
    Ok((coll, stored))
}

/// Conditions as (path, operator) pairs.
type Conditions<'p> = Vec<(&'p str, Op)>;

/// Runs a table of (conditions, expected positions) on the fixture.
async fn table(cx: &Ctx<'_>, rows: Vec<(Conditions<'_>, Vec<usize>)>) -> CaseResult {
    let (coll, stored) = fixture(cx).await?;
    for (conditions, expected) in rows {
        let label = format!("{conditions:?}");
        let conditions = conditions.into_iter().map(|(p, op)| cond(p, op)).collect::<Result<Vec<_>, _>>()?;
        check(cx, &coll, &stored, &ReadScope::All, filter(conditions), &expected, &label).await?;
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Equality within a type bracket: `1` is not `"1"`, `true` is not `"true"`, `1` equals `1.0`.
pub(crate) async fn find_equality_by_type_bracket(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("name", Op::Eq(s("alpha")))], vec![1]),
            (vec![("n", Op::Eq(n(1.0)))], vec![1]),
            (vec![("n", Op::Eq(n(2.5)))], vec![2]),
            (vec![("n", Op::Eq(s("3")))], vec![3]),
            (vec![("n", Op::Eq(n(3.0)))], vec![]),
            (vec![("flag", Op::Eq(b(true)))], vec![1]),
            (vec![("flag", Op::Eq(s("true")))], vec![6]),
            (vec![("flag", Op::Eq(b(false)))], vec![2]),
            (vec![("name", Op::Eq(s("alpha"))), ("n", Op::Eq(n(1.0)))], vec![1]),
            (vec![("name", Op::Eq(s("alpha"))), ("n", Op::Eq(n(2.5)))], vec![]),
        ],
    )
    .await
}

/// An array field matches when one of its elements does (nested arrays are not flattened).
pub(crate) async fn find_equality_on_arrays_by_element(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("tags", Op::Eq(s("a")))], vec![1, 3]),
            (vec![("tags", Op::Eq(s("b")))], vec![1, 2]),
            (vec![("tags", Op::Eq(s("A")))], vec![6]),
            (vec![("tags", Op::Eq(s("x")))], vec![]),
            (vec![("mixed", Op::Eq(n(1.0)))], vec![6]),
            (vec![("mixed", Op::Eq(s("1")))], vec![6]),
            (vec![("mixed", Op::Eq(b(true)))], vec![6]),
            (vec![("mixed", Op::Eq(b(false)))], vec![]),
        ],
    )
    .await
}

/// Dotted paths go through objects and, element-wise, through arrays of objects; conditions on
/// one array may be satisfied by different elements.
pub(crate) async fn find_nested_paths(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("meta.score", Op::Eq(n(10.0)))], vec![1]),
            (vec![("meta.score", Op::Eq(n(50.0)))], vec![5]),
            (vec![("meta.score", Op::Eq(s("30")))], vec![3]),
            (vec![("meta.tags", Op::Eq(s("x")))], vec![1]),
            (vec![("items.k", Op::Eq(s("p")))], vec![1, 5]),
            (vec![("items.v", Op::Gt(n(1.0)))], vec![1, 2]),
            (vec![("items.k", Op::Eq(s("q"))), ("items.v", Op::Eq(n(1.0)))], vec![1]),
        ],
    )
    .await
}

/// `Ne` is the negation of `Eq`: it matches missing and null fields, and an array only when no
/// element is equal.
pub(crate) async fn find_ne_matches_missing(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("name", Op::Ne(s("alpha")))], vec![2, 3, 4, 5, 6]),
            (vec![("flag", Op::Ne(b(true)))], vec![2, 3, 4, 5, 6]),
            (vec![("tags", Op::Ne(s("a")))], vec![2, 4, 5, 6]),
            (vec![("meta.score", Op::Ne(n(10.0)))], vec![2, 3, 4, 5, 6]),
            (vec![("items.k", Op::Ne(s("p")))], vec![2, 3, 4, 6]),
            (vec![("n", Op::Ne(n(1.0))), ("n", Op::Ne(n(10.0)))], vec![2, 3, 4, 5]),
        ],
    )
    .await
}

/// `In` matches when the value (or an element) equals one of the list; an empty list matches
/// nothing.
pub(crate) async fn find_in(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("name", Op::In(vec![s("alpha"), s("gamma")]))], vec![1, 3]),
            (vec![("tags", Op::In(vec![s("c"), s("A")]))], vec![2, 6]),
            (vec![("n", Op::In(vec![n(1.0), s("3")]))], vec![1, 3]),
            (vec![("n", Op::In(vec![]))], vec![]),
            (vec![("meta.score", Op::In(vec![n(5.0), n(20.0)]))], vec![2, 5]),
        ],
    )
    .await
}

/// Comparisons only match values of the operand's type bracket; strings compare byte-wise.
pub(crate) async fn find_comparisons_within_bracket(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("n", Op::Gt(n(1.0)))], vec![2, 6]),
            (vec![("n", Op::Lte(n(1.0)))], vec![1, 5]),
            (vec![("n", Op::Gte(n(-4.0)))], vec![1, 2, 5, 6]),
            (vec![("n", Op::Lt(n(100.0))), ("n", Op::Gt(n(0.0)))], vec![1, 2, 6]),
            (vec![("n", Op::Gt(s("2")))], vec![3]),
            (vec![("name", Op::Gt(s("b")))], vec![3]),
            (vec![("name", Op::Lt(s("B")))], vec![6]),
            (vec![("meta.score", Op::Gte(n(20.0)))], vec![2, 5]),
            (vec![("meta.score", Op::Lt(n(6.0)))], vec![5]),
            (vec![("flag", Op::Gt(b(false)))], vec![1]),
            (vec![("tags", Op::Gte(s("b")))], vec![1, 2]),
        ],
    )
    .await
}

/// `Exists` is about presence: a `null` value exists, a missing one does not.
pub(crate) async fn find_exists(cx: &Ctx<'_>) -> CaseResult {
    table(
        cx,
        vec![
            (vec![("name", Op::Exists(true))], vec![1, 2, 3, 4, 6]),
            (vec![("name", Op::Exists(false))], vec![5]),
            (vec![("meta.score", Op::Exists(true))], vec![1, 2, 3, 5]),
            (vec![("items.k", Op::Exists(true))], vec![1, 2, 5]),
            (vec![("flag", Op::Exists(false))], vec![3, 4, 5]),
            (vec![("tags", Op::Exists(true))], vec![1, 2, 3, 4, 5, 6]),
            (vec![("mixed", Op::Exists(true))], vec![6]),
        ],
    )
    .await
}

/// Runs REST query strings against the fixture.
async fn parsed_table(cx: &Ctx<'_>, coll: &Coll, stored: &[Document], rows: Vec<(String, Vec<usize>)>) -> CaseResult {
    for (raw, expected) in rows {
        let query = parse(&raw, &coll.schema)?;
        check(cx, coll, stored, &ReadScope::All, query.filter, &expected, &raw).await?;
    }
    Ok(())
}

/// `_regex` is case-insensitive, unanchored, matches string values and string elements only.
pub(crate) async fn find_regex(cx: &Ctx<'_>) -> CaseResult {
    let (coll, stored) = fixture(cx).await?;
    let rows = vec![
        ("name_regex=^al".to_owned(), vec![1, 6]),
        ("name_regex=ph".to_owned(), vec![1, 6]),
        ("tags_regex=^a$".to_owned(), vec![1, 3, 6]),
        ("n_regex=3".to_owned(), vec![3]),
        ("flag_regex=true".to_owned(), vec![6]),
        ("items.k_regex=P".to_owned(), vec![1, 5]),
        ("name_regex=%5Eb.t".to_owned(), vec![2]),
    ];
    parsed_table(cx, &coll, &stored, rows).await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// A declared `Date` field compares by instant with ISO 8601 values; `createdAt` is a date.
pub(crate) async fn find_dates(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("events", Schema::new().with("when", query::FieldType::Date));
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "when": "2024-01-01T00:00:00.000Z"}),
                json!({"_id": oid(2), "when": "2024-06-15T12:00:00.000Z"}),
                json!({"_id": oid(3)}),
                json!({"_id": oid(4), "when": "2025-01-01T00:00:00.000Z"}),
            ],
        )
        .await?;
    let rows = vec![
        ("when_gte=2024-06-01".to_owned(), vec![2, 4]),
        ("when_lt=2024-06-15T12:00:00Z".to_owned(), vec![1]),
        ("when=2024-01-01".to_owned(), vec![1]),
        ("when_ne=2024-01-01".to_owned(), vec![2, 3, 4]),
        ("when_lte=1704067200000".to_owned(), vec![1]),
        ("when_gt=2024-06-15T14:00:00%2B02:00".to_owned(), vec![4]),
        ("createdAt_lte=2999-01-01".to_owned(), vec![1, 2, 3, 4]),
        ("createdAt_gt=2999-01-01".to_owned(), vec![]),
    ];
    parsed_table(cx, &coll, &stored, rows).await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `_id` and declared `Ref` fields compare as ObjectIds (any case in the query).
pub(crate) async fn find_object_ids(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("links", Schema::new().with("ref", query::FieldType::ObjectId));
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "ref": oid(100)}),
                json!({"_id": oid(2), "ref": oid(200)}),
                json!({"_id": oid(3)}),
            ],
        )
        .await?;
    let rows = vec![
        (format!("ref={}", oid(100).to_ascii_uppercase()), vec![1]),
        (format!("ref_ne={}", oid(100)), vec![2, 3]),
        (format!("ref_in={},{}", oid(200), oid(999)), vec![2]),
        (format!("_id_in={},{}", oid(1), oid(3)), vec![1, 3]),
        (format!("_id_ne={}", oid(1)), vec![2, 3]),
        (format!("_id_gt={}", oid(1)), vec![2, 3]),
        (format!("_id_lte={}", oid(2)), vec![1, 2]),
        (format!("_id={}", oid(2)), vec![2]),
    ];
    parsed_table(cx, &coll, &stored, rows).await?;
    let direct = Op::Eq(Scalar::ObjectId(ObjectIdHex::parse(&oid(200)).ok_or_else(|| Failure("oid".into()))?));
    check(cx, &coll, &stored, &ReadScope::All, filter(vec![cond("ref", direct)?]), &[2], "ref as ObjectId").await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// The owner scope is ANDed with the filter (a filter can narrow it, never widen it) and is exact
/// string equality, while a filter on the owner field matches array elements.
pub(crate) async fn find_and_count_within_owner_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("notes", Schema::new());
    let stored = cx
        .insert(
            &coll,
            vec![
                json!({"_id": oid(1), "owner": "u1", "n": 1}),
                json!({"_id": oid(2), "owner": "u2", "n": 2}),
                json!({"_id": oid(3), "owner": "u1", "n": 3}),
                json!({"_id": oid(4), "owner": ["u1"], "n": 4}),
                json!({"_id": oid(5), "n": 5}),
            ],
        )
        .await?;
    let u1 = owner_scope("u1");
    let rows: Vec<(&ReadScope, Conditions<'_>, Vec<usize>)> = vec![
        (&ReadScope::All, vec![], vec![1, 2, 3, 4, 5]),
        (&u1, vec![], vec![1, 3]),
        (&u1, vec![("n", Op::Gt(n(1.0)))], vec![3]),
        (&u1, vec![("owner", Op::Eq(s("u2")))], vec![]),
        (&u1, vec![("owner", Op::Ne(s("u1")))], vec![]),
        (&ReadScope::All, vec![("owner", Op::Eq(s("u1")))], vec![1, 3, 4]),
    ];
    for (scope, conditions, expected) in rows {
        let label = format!("{scope:?} {conditions:?}");
        let conditions = conditions.into_iter().map(|(p, op)| cond(p, op)).collect::<Result<Vec<_>, _>>()?;
        check(cx, &coll, &stored, scope, filter(conditions), &expected, &label).await?;
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}
