//! Shared fixtures: a schema with every field type, and helpers to parse and inspect.

use query::{FieldType, ListQuery, ObjectIdHex, Op, QueryError, Scalar, Schema, parse};

pub(crate) const ALICE: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
pub(crate) const BOB: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
pub(crate) const CAROL: &str = "cccccccccccccccccccccccc";
pub(crate) const ID: &str = "507f1f77bcf86cd799439011";

/// 2024-01-01T00:00:00Z in milliseconds.
pub(crate) const JAN_1_2024: i64 = 1_704_067_200_000;

pub(crate) fn schema() -> Schema {
    let array = |t| FieldType::Array(Box::new(t));
    Schema::new()
        .with("name", FieldType::String)
        .with("age", FieldType::Number)
        .with("price", FieldType::Number)
        .with("active", FieldType::Boolean)
        .with("birthday", FieldType::Date)
        .with("author", FieldType::ObjectId)
        .with("tags", array(FieldType::String))
        .with("scores", array(FieldType::Number))
        .with("refs", array(FieldType::ObjectId))
        .with("address", FieldType::Object)
        .with("address.city", FieldType::String)
        .with("address.zip", FieldType::Number)
        .with("items", array(FieldType::Object))
        .with("items.qty", FieldType::Number)
        .with("login_in", FieldType::String)
        .with("extra", FieldType::Mixed)
}

pub(crate) fn try_parse(q: &str) -> Result<ListQuery, QueryError> {
    parse(q, &schema())
}

pub(crate) fn parse_ok(q: &str) -> ListQuery {
    try_parse(q).unwrap_or_else(|e| panic!("{q:?} should parse, got: {e}"))
}

/// The client-facing error text of a query that must fail; also checks the status.
pub(crate) fn parse_err(q: &str) -> String {
    let err = try_parse(q).expect_err(q);
    assert_eq!(err.status(), 400, "{q}");
    err.to_string()
}

/// The filter as `(path, op)` pairs.
pub(crate) fn conds(q: &str) -> Vec<(String, Op)> {
    parse_ok(q).filter.conditions().iter().map(|c| (c.path.as_str().to_owned(), c.op.clone())).collect()
}

pub(crate) fn c(path: &str, op: Op) -> (String, Op) {
    (path.to_owned(), op)
}

pub(crate) fn s(text: &str) -> Scalar {
    Scalar::String(text.to_owned())
}

pub(crate) fn n(v: f64) -> Scalar {
    Scalar::Number(v)
}

pub(crate) fn oid(hex: &str) -> Scalar {
    Scalar::ObjectId(ObjectIdHex::parse(hex).unwrap())
}

/// Percent-encodes a value for a query string.
pub(crate) fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
