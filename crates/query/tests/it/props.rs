//! Property tests (10,000 cases each): `parse` never panics and only fails with 400s; no query
//! can widen an RLS restriction; the evaluator's operators are consistent with each other.

use proptest::prelude::*;
use query::{Condition, FieldPath, FieldType, Filter, Op, Pagination, Scalar, Schema, parse};
use serde_json::{Map, Value, json};

use crate::common::{ALICE, BOB, CAROL, JAN_1_2024, enc, oid, schema};

// ---- generators ----

/// Parameter names biased to the grammar: reserved names, typed and untyped fields, operators
/// and malformed names.
fn key() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        8 => prop::sample::select(vec![
            "page", "sort", "limit", "fields", "populate", "expand", "count", "meta", "cursor",
            "name", "price", "active", "birthday", "author", "tags", "scores", "refs", "items.qty",
            "address.city", "login_in", "_id", "createdAt", "other", "\u{e9}",
        ]),
        1 => prop::sample::select(vec![
            "$where", "$or", "a.$ne", "a[$ne]", "a[gt]", "", "a..b", ".", "a.0", "%24where",
            "a%00", "%5B",
        ]),
    ];
    let suffix =
        prop::sample::select(vec!["", "", "", "_gt", "_gte", "_lt", "_lte", "_ne", "_in", "_exists", "_regex"]);
    (base, suffix).prop_map(|(b, s)| format!("{b}{s}"))
}

fn value() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "",
        "0",
        "1",
        "-1",
        "18",
        "1.5",
        "-0",
        "1e9",
        "1e999",
        "99999999999999999999999999",
        "0x10",
        "true",
        "false",
        "abc",
        "start",
        "null",
        "desc",
        "-1",
        "a,b,,c",
        ",",
        "a:desc,b",
        "-a,b",
        "-_id",
        "2024-01-01",
        "2024-01-01T10:20:30Z",
        "1700000000000",
        ALICE,
        "{\"$ne\":null}",
        "(a+)+$",
        "[",
        "\\",
        "(?=a)",
        ".*",
        "%",
        "%zz",
        "%FF%FE",
        "+",
        "&",
        r"\d+\b",
        r"[\w-]",
        r"[^\S]",
        "[[:alpha:]",
        r"[]\D]",
        r"\p{L}",
        "[a&&b]",
        "eyJzb3J0VmFsdWUiOm51bGwsIl9pZCI6ImFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSJ9",
        "eyJzb3J0VmFsdWUiOnt9LCJfaWQiOiJ4In0=",
        "page",
        "$where",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        4 => fixed,
        1 => "[a-z0-9,:. $-]{0,12}",
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "[0-9]{20,40}",
    ]
}

/// A query string: a few `key=value` pairs, each part either percent-encoded or raw.
fn query_string() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value(), any::<bool>()), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, encode)| if encode { format!("{k}={}", enc(&v)) } else { format!("{k}={v}") })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn raw_bytes() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..96).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn percent_noise() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        any::<u8>().prop_map(|b| format!("%{b:02X}")),
        prop::sample::select(vec!["&", "=", "+", ",", "$", "[", "]", ".", "_in", "_gt", "%", "a", "page=", "sort="])
            .prop_map(str::to_owned),
    ];
    prop::collection::vec(token, 0..48).prop_map(|t| t.concat())
}

/// The RLS-relevant fields: owner `userId`, a nested owner-looking path, and a few typed fields.
fn owner() -> impl Strategy<Value = Option<Value>> {
    prop::sample::select(vec![
        Some(json!(ALICE)),
        Some(json!(ALICE)),
        Some(json!(ALICE)),
        Some(json!(BOB)),
        Some(json!(BOB)),
        Some(json!(CAROL)),
        Some(Value::Null),
        Some(json!({"$ne": null})),
        Some(json!("")),
        None,
    ])
}

fn doc() -> impl Strategy<Value = Value> {
    let small = || prop::sample::select(vec![json!(1), json!(5), json!("5"), json!("a"), json!(true), Value::Null]);
    (
        owner(),
        owner(),
        prop::option::of(prop_oneof![small(), prop::collection::vec(small(), 0..3).prop_map(Value::Array)]),
        prop::option::of(prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3)),
        prop::option::of(prop::sample::select(vec!["2023-06-01T00:00:00Z", "2024-01-01T00:00:00.000Z"])),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(user, nested_user, price, tags, created, active)| {
            let mut m = Map::new();
            m.insert("_id".into(), json!("000000000000000000000001"));
            if let Some(u) = user {
                m.insert("userId".into(), u);
            }
            if let Some(u) = nested_user {
                m.insert("profile".into(), json!({"userId": u}));
            }
            if let Some(p) = price {
                m.insert("price".into(), p);
            }
            if let Some(t) = tags {
                m.insert("tags".into(), json!(t));
            }
            if let Some(c) = created {
                m.insert("createdAt".into(), json!(c));
            }
            if let Some(a) = active {
                m.insert("active".into(), json!(a));
            }
            Value::Object(m)
        })
}

fn rls_query() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        8 => prop::sample::select(vec![
            "userId", "userId", "userId", "profile.userId", "price", "tags", "active", "createdAt",
            "_id",
        ]),
        1 => prop::sample::select(vec!["$or", "userId[$ne]", "$where", "userId.$ne"]),
    ];
    let suffix = prop::sample::select(vec!["", "_gt", "_gte", "_lt", "_lte", "_ne", "_in", "_exists", "_regex"]);
    let pair = (field, suffix).prop_flat_map(|(f, s)| {
        let values: Vec<String> = match s {
            "_exists" => vec!["true".into(), "false".into(), "maybe".into()],
            "_regex" => vec![".*".into(), "^[ab]".into(), "A".into(), "(".into(), "".into()],
            _ => vec![
                ALICE.into(),
                ALICE.into(),
                BOB.into(),
                CAROL.into(),
                format!("{ALICE},{BOB}"),
                format!("{BOB},{CAROL}"),
                String::new(),
                "5".into(),
                "a".into(),
                "true".into(),
                "{\"$ne\":null}".into(),
                "2024-01-01".into(),
                ALICE.to_ascii_uppercase(),
            ],
        };
        prop::sample::select(values).prop_map(move |v| format!("{f}{s}={}", enc(&v)))
    });
    prop::collection::vec(pair, 0..4).prop_map(|pairs| pairs.join("&"))
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop::sample::select(vec![
        Scalar::String("a".into()),
        Scalar::String("5".into()),
        Scalar::Number(1.0),
        Scalar::Number(5.0),
        Scalar::Bool(true),
        Scalar::Bool(false),
        Scalar::Date(JAN_1_2024),
        oid(ALICE),
    ])
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        Value::Null,
        json!(1),
        json!(5.0),
        json!("a"),
        json!("5"),
        json!(true),
        json!(false),
        json!("2024-01-01T00:00:00Z"),
        json!(ALICE),
        json!(ALICE.to_ascii_uppercase()),
        json!({}),
    ])
}

/// A document holding `f` at the top level and under `o` (an object or an array of objects).
fn eval_doc() -> impl Strategy<Value = Value> {
    let field = prop_oneof![json_leaf(), prop::collection::vec(json_leaf(), 0..4).prop_map(Value::Array)];
    let holder = prop::option::of(field.clone()).prop_map(|f| match f {
        Some(v) => json!({"f": v}),
        None => json!({"g": 1}),
    });
    (
        prop::option::of(field),
        prop_oneof![holder.clone(), prop::collection::vec(holder, 0..3).prop_map(Value::Array), json_leaf()],
    )
        .prop_map(|(f, o)| {
            let mut m = Map::new();
            if let Some(v) = f {
                m.insert("f".into(), v);
            }
            m.insert("o".into(), o);
            Value::Object(m)
        })
}

fn one(path: &FieldPath, op: Op) -> Filter {
    let mut f = Filter::new();
    f.and(Condition::new(path.clone(), op));
    f
}

// ---- properties ----

fn check_parse_total(raw: &str) -> Result<(), TestCaseError> {
    match parse(raw, &schema()) {
        Ok(q) => {
            let limit = q.pagination.limit();
            prop_assert!((1..=100).contains(&limit));
            if let Pagination::Offset { page, limit } = q.pagination {
                prop_assert!(page >= 1 && page * u64::from(limit) <= 1_000_000);
            }
            prop_assert!(q.sort.iter().any(|k| k.path.is_id()));
            for c in q.filter.conditions() {
                prop_assert!(FieldPath::new(c.path.as_str()).is_ok());
                prop_assert!(c.path.segments().all(|s| !s.starts_with('$')));
                if let Op::In(list) = &c.op {
                    prop_assert!(list.len() <= 100);
                }
            }
        }
        Err(e) => {
            prop_assert_eq!(e.status(), 400);
            let text = e.to_string();
            prop_assert!(text.ends_with('.') && text.len() < 20_000, "{}", text);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn parse_never_panics_and_only_fails_with_400(
        raw in prop_oneof![3 => query_string(), 1 => raw_bytes(), 1 => percent_noise(), 1 => any::<String>()]
    ) {
        check_parse_total(&raw)?;
    }

    #[test]
    fn no_query_widens_the_rls_scope(
        raw in rls_query(),
        docs in prop::collection::vec(doc(), 1..6),
        owner_is_ref in any::<bool>(),
    ) {
        let owner_type = if owner_is_ref { FieldType::ObjectId } else { FieldType::String };
        let schema = Schema::new()
            .with("userId", owner_type)
            .with("price", FieldType::Number)
            .with("tags", FieldType::Array(Box::new(FieldType::String)))
            .with("active", FieldType::Boolean);
        let owner = FieldPath::new("userId").unwrap();
        let alice = schema.cast(&owner, ALICE).unwrap();
        if let Ok(mut q) = parse(&raw, &schema) {
            q.restrict(owner.clone(), alice.clone());
            for doc in &docs {
                if q.filter.matches(doc) {
                    prop_assert_eq!(&doc["userId"], &json!(ALICE), "{} leaked {}", raw, doc);
                }
            }
        }
    }

    #[test]
    fn evaluator_operators_are_consistent(
        doc in eval_doc(),
        v in scalar(),
        w in scalar(),
        nested in any::<bool>(),
    ) {
        let path = FieldPath::new(if nested { "o.f" } else { "f" }).unwrap();
        let m = |op: Op| one(&path, op).matches(&doc);
        let eq = m(Op::Eq(v.clone()));
        prop_assert_eq!(m(Op::Ne(v.clone())), !eq);
        prop_assert_eq!(m(Op::In(vec![v.clone()])), eq);
        prop_assert_eq!(m(Op::In(vec![v.clone(), w.clone()])), eq || m(Op::Eq(w.clone())));
        prop_assert!(!m(Op::In(vec![])));
        prop_assert_eq!(m(Op::Gte(v.clone())), m(Op::Gt(v.clone())) || eq);
        prop_assert_eq!(m(Op::Lte(v.clone())), m(Op::Lt(v.clone())) || eq);
        prop_assert_eq!(m(Op::Exists(false)), !m(Op::Exists(true)));
        // Anything that matches a value has the field.
        if eq || m(Op::Gt(v.clone())) || m(Op::Lt(v.clone())) {
            prop_assert!(m(Op::Exists(true)));
        }
        // Adding a condition never widens: a conjunction matches only what each part matches.
        let mut both = one(&path, Op::Ne(w.clone()));
        both.and(Condition::new(path.clone(), Op::Eq(v.clone())));
        prop_assert_eq!(both.matches(&doc), eq && m(Op::Ne(w.clone())));
    }
}
