//! Unit tests of the filter translation: AST → exact BSON documents.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use query::{FieldPath, FieldType, ObjectIdHex, Schema, SortKey, parse};
use rls_core::{Caller, RlsConfig, RlsMode, Target};
use serde_json::json;

use super::*;

fn schema() -> Schema {
    Schema::new()
        .with("price", FieldType::Number)
        .with("due", FieldType::Date)
        .with("author", FieldType::ObjectId)
        .with("tags", FieldType::Array(Box::new(FieldType::String)))
}

fn filter_of(qs: &str) -> Document {
    and(clauses(&parse(qs, &schema()).unwrap().filter))
}

const HEX: &str = "65a1b2c3d4e5f60718293a4b";

fn oid() -> Bson {
    Bson::ObjectId(ObjectId::parse_str(HEX).unwrap())
}

#[test]
fn every_operator_is_an_explicit_operator_on_a_literal() {
    assert_eq!(filter_of(""), doc! {});
    assert_eq!(filter_of("title=hi"), doc! { "title": { "$eq": "hi" } });
    assert_eq!(filter_of("title_ne=hi"), doc! { "title": { "$ne": "hi" } });
    assert_eq!(filter_of("title_gt=a"), doc! { "title": { "$gt": "a" } });
    assert_eq!(filter_of("title_gte=a"), doc! { "title": { "$gte": "a" } });
    assert_eq!(filter_of("title_lt=a"), doc! { "title": { "$lt": "a" } });
    assert_eq!(filter_of("title_lte=a"), doc! { "title": { "$lte": "a" } });
    assert_eq!(filter_of("title_in=a,b"), doc! { "title": { "$in": ["a", "b"] } });
    assert_eq!(filter_of("title_in="), doc! { "title": { "$in": [] } });
    assert_eq!(filter_of("title_exists=false"), doc! { "title": { "$exists": false } });
    assert_eq!(filter_of("title_regex=^a.c"), doc! { "title": { "$regex": "^a.c", "$options": "i" } });
    assert_eq!(filter_of("a.b=x"), doc! { "a.b": { "$eq": "x" } });
}

#[test]
fn values_that_look_like_operators_stay_strings() {
    assert_eq!(filter_of("title=%7B%22%24ne%22%3Anull%7D"), doc! { "title": { "$eq": "{\"$ne\":null}" } });
    assert_eq!(filter_of("title_regex=%24where"), doc! { "title": { "$regex": "$where", "$options": "i" } });
}

#[test]
fn values_are_cast_by_the_schema() {
    assert_eq!(filter_of("price_gt=18"), doc! { "price": { "$gt": 18.0 } });
    assert_eq!(filter_of("price_gt=1.5"), doc! { "price": { "$gt": 1.5 } });
    assert_eq!(filter_of("due_lt=2024-01-02"), doc! { "due": { "$lt": DateTime::from_millis(1_704_153_600_000) } });
    assert_eq!(filter_of(&format!("author={}", HEX.to_uppercase())), doc! { "author": { "$eq": oid() } });
    assert_eq!(filter_of(&format!("_id={HEX}")), doc! { "_id": { "$eq": oid() } });
    assert_eq!(filter_of("tags=x"), doc! { "tags": { "$eq": "x" } });
}

#[test]
fn number_equality_names_every_numeric_type() {
    assert_eq!(filter_of("price=5"), doc! { "price": { "$in": [5.0, 5_i32, 5_i64] } });
    assert_eq!(filter_of("price_ne=5"), doc! { "price": { "$nin": [5.0, 5_i32, 5_i64] } });
    assert_eq!(filter_of("price=0.5"), doc! { "price": { "$in": [0.5] } });
    assert_eq!(filter_of("price_in=1,2.5"), doc! { "price": { "$in": [1.0, 1_i32, 1_i64, 2.5] } });
    assert_eq!(filter_of("price=5000000000"), doc! { "price": { "$in": [5_000_000_000.0, 5_000_000_000_i64] } });
}

#[test]
fn several_conditions_are_anded_without_overwriting() {
    assert_eq!(
        filter_of("price_gt=1&price_lt=9&title=x"),
        doc! { "$and": [
            { "price": { "$gt": 1.0 } }, { "price": { "$lt": 9.0 } }, { "title": { "$eq": "x" } },
        ] }
    );
}

#[test]
fn the_owner_scope_is_exact_string_equality() {
    let scope = ReadScope::Owner { field: "userId".into(), user: "alice".into() };
    assert_eq!(
        and(read_scope(&scope, &schema()).unwrap()),
        doc! { "$and": [{ "userId": { "$eq": "alice" } }, { "userId": { "$not": { "$type": "array" } } }] }
    );
    assert!(read_scope(&ReadScope::All, &schema()).unwrap().is_empty());
}

#[test]
fn a_ref_typed_owner_field_is_compared_as_an_object_id() {
    let scope = ReadScope::Owner { field: "author".into(), user: HEX.into() };
    assert_eq!(
        read_scope(&scope, &schema()).unwrap(),
        vec![doc! { "author": { "$eq": oid() } }, doc! { "author": { "$not": { "$type": "array" } } }]
    );
    // Not the canonical form of an id: compared as the string it is (so it matches nothing stored).
    let scope = ReadScope::Owner { field: "author".into(), user: HEX.to_uppercase() };
    assert_eq!(read_scope(&scope, &schema()).unwrap()[0], doc! { "author": { "$eq": HEX.to_uppercase() } });
}

#[test]
fn owner_fields_that_are_not_plain_names_fail_closed() {
    for field in ["", "$where", "a.b", "a\0"] {
        let scope = ReadScope::Owner { field: field.into(), user: "u".into() };
        assert!(read_scope(&scope, &schema()).is_err(), "{field:?}");
    }
}

#[test]
fn the_scope_is_anded_after_the_query() {
    let mut clauses = clauses(&parse("title=x", &schema()).unwrap().filter);
    clauses.extend(read_scope(&ReadScope::Owner { field: "o".into(), user: "u".into() }, &schema()).unwrap());
    assert_eq!(
        and(clauses),
        doc! { "$and": [
            { "title": { "$eq": "x" } }, { "o": { "$eq": "u" } }, { "o": { "$not": { "$type": "array" } } },
        ] }
    );
}

#[test]
fn write_scopes_filter_by_id_and_owner() {
    let config = RlsConfig::enabled(RlsMode::Private, "userId");
    let target = Target::existing("notes", &config);
    let secret = rls_core::authorize_delete(&Caller::secret(), &target, HEX).unwrap();
    assert_eq!(write_scope(&secret, &schema()).unwrap(), doc! { "_id": oid() });
    let owner = rls_core::authorize_delete(&Caller::publishable(Some("bob")), &target, &HEX.to_uppercase()).unwrap();
    assert_eq!(
        write_scope(&owner, &schema()).unwrap(),
        doc! { "$and": [
            { "_id": oid() }, { "userId": { "$eq": "bob" } }, { "userId": { "$not": { "$type": "array" } } },
        ] }
    );
}

#[test]
fn sort_keeps_the_key_order() {
    let q = parse("sort=price:desc,title", &schema()).unwrap();
    assert_eq!(sort(&q.sort), doc! { "price": -1, "title": 1, "_id": 1 });
    let q = parse("", &schema()).unwrap();
    assert_eq!(sort(&q.sort), doc! { "createdAt": -1, "_id": -1 });
}

fn position(path: &str, order: SortOrder, value: Option<Scalar>) -> CursorPosition {
    CursorPosition {
        sort: SortKey { path: FieldPath::new(path).unwrap(), order },
        value,
        id: ObjectIdHex::parse(HEX).unwrap(),
    }
}

#[test]
fn cursor_on_id_is_one_comparison() {
    assert_eq!(cursor(&position("_id", SortOrder::Asc, None)).unwrap(), doc! { "_id": { "$gt": oid() } });
    assert_eq!(cursor(&position("_id", SortOrder::Desc, None)).unwrap(), doc! { "_id": { "$lt": oid() } });
}

#[test]
fn cursor_ascending_continues_with_greater_values_and_higher_brackets() {
    let c = cursor(&position("title", SortOrder::Asc, Some(Scalar::String("m".into())))).unwrap();
    assert_eq!(
        c,
        doc! { "$or": [
            { "title": { "$gt": "m" } },
            { "title": { "$eq": "m" }, "_id": { "$gt": oid() } },
            { "title": { "$type": "object" } }, { "title": { "$type": "objectId" } },
            { "title": { "$type": "bool" } }, { "title": { "$type": "date" } }, { "title": { "$type": "regex" } },
        ] }
    );
}

#[test]
fn cursor_descending_continues_with_smaller_values_lower_brackets_and_nulls() {
    let at = DateTime::from_millis(1000);
    let c = cursor(&position("createdAt", SortOrder::Desc, Some(Scalar::Date(1000)))).unwrap();
    let mut expected =
        vec![doc! { "createdAt": { "$lt": at } }, doc! { "createdAt": { "$eq": at }, "_id": { "$lt": oid() } }];
    for name in ["number", "string", "object", "objectId", "bool"] {
        expected.push(doc! { "createdAt": { "$type": name } });
    }
    expected.push(doc! { "createdAt": Bson::Null });
    assert_eq!(c, doc! { "$or": expected });
}

#[test]
fn cursor_numbers_compare_every_numeric_type() {
    let c = cursor(&position("price", SortOrder::Desc, Some(Scalar::Number(3.0)))).unwrap();
    assert_eq!(
        c,
        doc! { "$or": [
            { "price": { "$lt": 3.0 } },
            { "price": { "$in": [3.0, 3_i32, 3_i64] }, "_id": { "$lt": oid() } },
            { "price": Bson::Null },
        ] }
    );
}

#[test]
fn cursor_after_a_null_value() {
    let asc = cursor(&position("title", SortOrder::Asc, None)).unwrap();
    assert_eq!(
        asc,
        doc! { "$or": [{ "title": Bson::Null, "_id": { "$gt": oid() } }, { "title": { "$ne": Bson::Null } }] }
    );
    let desc = cursor(&position("title", SortOrder::Desc, None)).unwrap();
    assert_eq!(desc, doc! { "title": Bson::Null, "_id": { "$lt": oid() } });
}

#[test]
fn json_scope_reference_agrees_on_arrays() {
    // The reference meaning the `$not: {$type: "array"}` clause implements.
    let scope = ReadScope::Owner { field: "o".into(), user: "u".into() };
    assert!(scope.permits(&json!({"o": "u"})));
    assert!(!scope.permits(&json!({"o": ["u"]})));
}
