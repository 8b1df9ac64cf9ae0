//! The reference evaluator (`Filter::matches`) on hand-written documents: MongoDB semantics for
//! missing fields, nulls, arrays, nested paths and type brackets.

use query::{Condition, FieldPath, Filter, ObjectIdHex, Op, Scalar};
use serde_json::{Value, json};

use crate::common::{ALICE, JAN_1_2024, n, oid, parse_ok, s};

fn holds(path: &str, op: Op, doc: &Value) -> bool {
    let mut f = Filter::new();
    f.and(Condition::new(FieldPath::new(path).unwrap(), op));
    f.matches(doc)
}

#[test]
fn missing_and_null() {
    let doc = json!({"a": null});
    assert!(!holds("a", Op::Eq(s("x")), &doc));
    assert!(holds("a", Op::Ne(s("x")), &doc));
    assert!(holds("b", Op::Ne(s("x")), &doc));
    assert!(holds("a", Op::Exists(true), &doc));
    assert!(!holds("b", Op::Exists(true), &doc));
    assert!(holds("b", Op::Exists(false), &doc));
    assert!(!holds("b", Op::Gt(n(0.0)), &doc));
    assert!(!holds("b", Op::In(vec![s("x")]), &doc));
    assert!(holds("b.c", Op::Exists(false), &json!({"b": 5})));
}

#[test]
fn arrays_match_by_element() {
    let doc = json!({"tags": ["a", "b"], "nums": [1, 10], "nested": [[1]]});
    assert!(holds("tags", Op::Eq(s("a")), &doc));
    assert!(!holds("tags", Op::Ne(s("a")), &doc));
    assert!(holds("tags", Op::Ne(s("c")), &doc));
    assert!(holds("tags", Op::In(vec![s("z"), s("b")]), &doc));
    assert!(!holds("tags", Op::In(vec![]), &doc));
    assert!(holds("nums", Op::Gt(n(5.0)), &doc));
    assert!(holds("nums", Op::Lt(n(5.0)), &doc));
    assert!(!holds("nums", Op::Lt(n(1.0)), &doc));
    assert!(holds("nums", Op::Lte(n(1.0)), &doc));
    assert!(!holds("nested", Op::Eq(n(1.0)), &doc)); // only one level of array expansion
    assert!(holds("tags", Op::Exists(true), &json!({"tags": []})));
    assert!(!holds("tags", Op::Eq(s("a")), &json!({"tags": []})));
}

#[test]
fn nested_paths_traverse_objects_and_arrays_of_objects() {
    let doc = json!({
        "address": {"city": "Paris", "geo": {"lat": 1}},
        "items": [{"qty": 1}, {"qty": 5, "tags": ["x"]}, 7, {"other": 1}],
    });
    assert!(holds("address.city", Op::Eq(s("Paris")), &doc));
    assert!(holds("address.geo.lat", Op::Eq(n(1.0)), &doc));
    assert!(holds("items.qty", Op::Gte(n(5.0)), &doc));
    assert!(!holds("items.qty", Op::Eq(n(3.0)), &doc));
    assert!(holds("items.qty", Op::Ne(n(3.0)), &doc));
    assert!(!holds("items.qty", Op::Ne(n(5.0)), &doc));
    assert!(holds("items.tags", Op::Eq(s("x")), &doc));
    assert!(!holds("items.nope", Op::Exists(true), &doc));
    assert!(!holds("address.city.x", Op::Exists(true), &doc));
}

#[test]
fn type_brackets() {
    let doc = json!({
        "num": 20, "str": "20", "flag": true, "when": "2024-01-01T01:00:00+01:00",
        "id": ALICE.to_ascii_uppercase(), "float": 1.0
    });
    assert!(holds("num", Op::Gt(n(5.0)), &doc));
    assert!(!holds("str", Op::Gt(n(5.0)), &doc));
    assert!(!holds("num", Op::Eq(s("20")), &doc));
    assert!(holds("str", Op::Gt(s("100")), &doc)); // byte-wise string order
    assert!(holds("float", Op::Eq(n(1.0)), &doc));
    assert!(holds("flag", Op::Gt(Scalar::Bool(false)), &doc));
    assert!(!holds("flag", Op::Eq(s("true")), &doc));
    assert!(holds("when", Op::Eq(Scalar::Date(JAN_1_2024)), &doc));
    assert!(holds("when", Op::Lt(Scalar::Date(JAN_1_2024 + 1)), &doc));
    assert!(!holds("when", Op::Eq(s("2024-01-01T00:00:00Z")), &doc));
    assert!(holds("id", Op::Eq(oid(ALICE)), &doc));
    let bigger = ObjectIdHex::parse("b00000000000000000000000").unwrap();
    assert!(holds("id", Op::Lt(Scalar::ObjectId(bigger)), &doc));
    assert!(!holds("str", Op::Eq(oid(ALICE)), &doc));
    assert!(!holds("num", Op::Eq(Scalar::Date(20)), &doc));
}

#[test]
fn regex_matches_strings_and_string_elements() {
    let q = parse_ok("name_regex=%5Ejo&tags_regex=X");
    assert!(q.filter.matches(&json!({"name": "John", "tags": ["a", "xy"]})));
    assert!(!q.filter.matches(&json!({"name": "John", "tags": ["a"]})));
    assert!(!q.filter.matches(&json!({"name": ["mojo"], "tags": "x"})));
    assert!(q.filter.matches(&json!({"name": ["mojo", "jolly"], "tags": "x"})));
    assert!(!q.filter.matches(&json!({"name": 5, "tags": "x"})));
}

#[test]
fn parsed_queries_evaluate_end_to_end() {
    let q = parse_ok("price_gte=10&price_lt=20&tags_in=a,b&active=true&name_ne=x&email_exists=false");
    let good = json!({"price": 15, "tags": ["b"], "active": true, "name": "y"});
    assert!(q.filter.matches(&good));
    for bad in [
        json!({"price": 20, "tags": ["b"], "active": true}),
        json!({"price": 15, "tags": ["c"], "active": true}),
        json!({"price": 15, "tags": ["b"], "active": false}),
        json!({"price": 15, "tags": ["b"], "active": true, "name": "x"}),
        json!({"price": 15, "tags": ["b"], "active": true, "email": null}),
        json!({"price": "15", "tags": ["b"], "active": true}),
    ] {
        assert!(!q.filter.matches(&bad), "{bad}");
    }
    assert!(Filter::new().matches(&json!({})));
    assert!(!parse_ok("a=1").filter.matches(&json!([{"a": "1"}])));
}
