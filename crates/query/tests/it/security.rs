//! Security cases: operator and bracket injection in names (spec §17 item 2; security cases
//! B.3, B.5 items 3 and 29), RLS scope that no query can widen, and every resource limit.

use query::{FieldPath, Pagination, Scalar};
use serde_json::json;

use crate::common::{ALICE, BOB, parse_err, parse_ok, try_parse};

#[test]
fn operator_names_are_refused() {
    for key in ["$where", "$or", "$and", "$expr", "$function", "$ne", "a.$where", "a.b.$gt"] {
        assert_eq!(
            parse_err(&format!("{key}=x")),
            format!(r#"Invalid query parameter "{key}": field names must not start with "$"."#)
        );
    }
    // Percent-encoded, with a suffix, or as a `sort` / `fields` / `populate` entry.
    assert_eq!(
        parse_err("%24where=sleep(1000)"),
        r#"Invalid query parameter "$where": field names must not start with "$"."#
    );
    assert_eq!(
        parse_err("$where_gt=1"),
        r#"Invalid query parameter "$where_gt": field names must not start with "$"."#
    );
    assert_eq!(
        parse_err("sort=$natural"),
        r#"Invalid field "$natural" in "sort": field names must not start with "$"."#
    );
    assert_eq!(parse_err("fields=-$x"), r#"Invalid field "-$x" in "fields": field names must not start with "$"."#);
    assert_eq!(parse_err("expand=a.$b"), r#"Invalid field "a.$b" in "expand": field names must not start with "$"."#);
    // A `$` inside a name is a plain character.
    parse_ok("price$=1&a$b=2");
}

#[test]
fn malformed_names_are_refused() {
    for (key, reason) in [
        ("userId[$ne]", "bracket syntax is not supported"),
        ("a[gt]", "bracket syntax is not supported"),
        ("a]", "bracket syntax is not supported"),
        ("", "field name is empty"),
        ("_gt", "field name is empty"),
        ("_exists", "field name is empty"),
        ("a..b", "field path has an empty segment"),
        (".a", "field path has an empty segment"),
        ("a.", "field path has an empty segment"),
        ("a._in", "field path has an empty segment"),
        ("a%00b", "field names must not contain control characters"),
        ("a%0Ab", "field names must not contain control characters"),
        ("a.0", "numeric path segments are not supported"),
        ("0", "numeric path segments are not supported"),
    ] {
        let shown = key.replace("%00", "\0").replace("%0A", "\n");
        assert_eq!(parse_err(&format!("{key}=1")), format!(r#"Invalid query parameter "{shown}": {reason}."#), "{key}");
    }
    assert_eq!(parse_err("=5"), r#"Invalid query parameter "": field name is empty."#);
    parse_ok("a0=1&a.b0=2&_id_in=&x-y=3");
}

#[test]
fn path_length_and_depth_are_bounded() {
    let long = "a".repeat(257);
    assert_eq!(
        parse_err(&format!("{long}=1")),
        format!(r#"Invalid query parameter "{long}": field path exceeds 256 bytes."#)
    );
    parse_ok(&format!("{}=1", "a".repeat(256)));
    let deep = vec!["a"; 17].join(".");
    assert_eq!(
        parse_err(&format!("{deep}=1")),
        format!(r#"Invalid query parameter "{deep}": field path exceeds 16 segments."#)
    );
    parse_ok(&format!("{}=1", vec!["a"; 16].join(".")));
}

#[test]
fn query_length_and_parameter_count_are_bounded() {
    let at_limit = format!("a={}", "x".repeat(16 * 1024 - 2));
    parse_ok(&at_limit);
    assert_eq!(parse_err(&format!("{at_limit}x")), "Query string is too long (max 16384 bytes).");
    let params = |k: usize| (0..k).map(|i| format!("f{i}=1")).collect::<Vec<_>>().join("&");
    parse_ok(&params(200));
    assert_eq!(parse_err(&params(201)), "Too many query parameters (max 200).");
    // Reserved parameters count too; empty pairs (`&&`) do not.
    parse_ok(&format!("{}&&&&", params(200)));
    assert_eq!(parse_err(&format!("{}&page=1", params(200))), "Too many query parameters (max 200).");
}

#[test]
fn in_lists_are_bounded() {
    let list = |k: usize| (0..k).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    parse_ok(&format!("name_in={}", list(100)));
    assert_eq!(parse_err(&format!("name_in={}", list(101))), r#"Too many values for "name_in" (max 100)."#);
    // Flattened across repetitions, and repeated plain keys too.
    assert_eq!(parse_err(&format!("name_in={}&name_in=x", list(100))), r#"Too many values for "name_in" (max 100)."#);
    let repeated = |k: usize| (0..k).map(|i| format!("name={i}")).collect::<Vec<_>>().join("&");
    parse_ok(&repeated(100));
    assert_eq!(parse_err(&repeated(101)), r#"Too many values for "name" (max 100)."#);
}

#[test]
fn resource_cases_of_b5_item_29() {
    let limit_page = |q: &str| match parse_ok(q).pagination {
        Pagination::Offset { page, limit } => (page, limit),
        Pagination::Cursor { .. } => panic!("offset expected"),
    };
    assert_eq!(limit_page("limit=100000"), (1, 100));
    assert_eq!(limit_page("page=1e9"), (1, 100)); // parseInt("1e9") is 1
    assert_eq!(
        parse_err("page=1000000000"),
        r#"Invalid value for "page": page * limit must not exceed 1000000; use cursor pagination to read further."#
    );
    parse_err("page=99999999999999999999999999999999999999999999");
    // Catastrophic-for-PCRE patterns compile in the linear-time engine and are flagged so the
    // MongoDB backend bounds the query's time; oversized ones are refused.
    assert!(parse_ok("name_regex=%28a%2B%29%2B%24").has_regex());
    let alternation = vec!["a"; 65].join("|");
    assert_eq!(
        parse_err(&format!("name_regex={alternation}")),
        r#"Regex pattern for "name_regex" exceeds 128 characters."#
    );
}

/// B.5 item 3: alice's filters cannot widen her scope.
#[test]
fn filters_cannot_widen_the_rls_scope() {
    let docs = [
        json!({"_id": "000000000000000000000001", "userId": ALICE, "name": "a"}),
        json!({"_id": "000000000000000000000002", "userId": BOB, "name": "b"}),
        json!({"_id": "000000000000000000000003", "name": "c"}),
        json!({"_id": "000000000000000000000004", "userId": null}),
    ];
    let schema_string = query::Schema::new().with("userId", query::FieldType::String);
    let schema_ref = query::Schema::new().with("userId", query::FieldType::ObjectId);
    let attacks = [
        format!("userId={BOB}"),
        format!("userId_ne={ALICE}"),
        format!("userId_in={BOB}"),
        format!("userId_in={ALICE},{BOB}"),
        "userId_exists=false".to_owned(),
        "userId_regex=.*".to_owned(),
        format!("userId_gt={ALICE}"),
        "userId=%7B%22%24ne%22%3Anull%7D".to_owned(),
        "name_ne=zzz".to_owned(),
        String::new(),
    ];
    for (schema, alice) in [
        (&schema_string, Scalar::String(ALICE.to_owned())),
        (&schema_ref, schema_ref.cast(&FieldPath::new("userId").unwrap(), ALICE).unwrap()),
    ] {
        for attack in &attacks {
            let Ok(mut q) = query::parse(attack, schema) else { continue };
            q.restrict(FieldPath::new("userId").unwrap(), alice.clone());
            for doc in &docs {
                if q.filter.matches(doc) {
                    assert_eq!(doc["userId"], json!(ALICE), "{attack} leaked {doc}");
                }
            }
        }
        // The positive control: alice sees her document.
        let mut q = query::parse("", schema).unwrap();
        q.restrict(FieldPath::new("userId").unwrap(), alice.clone());
        assert_eq!(docs.iter().filter(|d| q.filter.matches(d)).count(), 1);
    }
    for refused in ["$or=x", "userId[$ne]=x", "$where=1", "userId.$ne=x"] {
        assert!(try_parse(refused).is_err(), "{refused}");
    }
}
