//! JSON ↔ BSON, guided by the collection's [`Schema`].
//!
//! Writing (JSON wire form → BSON): a string at a path the schema types as an ObjectId (`_id`,
//! `Ref` fields, arrays of refs) becomes an ObjectId when it is 24 hex characters; a string at a
//! `Date` path (`createdAt`, `updatedAt`, declared dates) becomes a BSON date when it parses as
//! ISO 8601, and so does an integer (milliseconds since the epoch), as Mongoose casts them. Other
//! values keep their JSON types: integral numbers become Int32 (Int64 when they do not fit, see
//! [`number`]), other numbers Doubles. Array elements are typed by the array's path, object members by `parent.member`.
//!
//! Reading (BSON → JSON wire form): ObjectIds become 24-hex strings, dates ISO strings with
//! milliseconds ([`store::format_timestamp`]), integral Doubles integers (as JavaScript prints
//! them), and exotic types their relaxed extended JSON.

use chrono::DateTime;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document as BsonDocument};
use query::value::{MAX_DATE_MS, format_date, parse_iso_date};
use query::{FieldType, Scalar, Schema};
use serde_json::{Map, Number, Value};
use store::Document;

/// 2^53: every integer of smaller magnitude is exact in an f64.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A wire document → BSON, typed by `schema`.
pub(crate) fn to_bson_document(doc: &Document, schema: &Schema) -> BsonDocument {
    let mut out = BsonDocument::new();
    for (key, value) in doc {
        out.insert(key.clone(), typed(value, key, schema));
    }
    out
}

/// A JSON value at `path` → BSON, typed by `schema`.
pub(crate) fn typed(value: &Value, path: &str, schema: &Schema) -> Bson {
    match value {
        Value::Object(map) => {
            let mut out = BsonDocument::new();
            for (key, member) in map {
                out.insert(key.clone(), typed(member, &format!("{path}.{key}"), schema));
            }
            Bson::Document(out)
        }
        Value::Array(items) => Bson::Array(items.iter().map(|item| typed(item, path, schema)).collect()),
        scalar => match schema.field_type(path).map(FieldType::scalar_type) {
            Some(FieldType::ObjectId) => as_object_id(scalar).unwrap_or_else(|| plain(scalar)),
            Some(FieldType::Date) => as_date(scalar).unwrap_or_else(|| plain(scalar)),
            _ => plain(scalar),
        },
    }
}

fn as_object_id(value: &Value) -> Option<Bson> {
    let text = value.as_str().filter(|s| s.len() == 24)?;
    ObjectId::parse_str(text).ok().map(Bson::ObjectId)
}

fn as_date(value: &Value) -> Option<Bson> {
    let ms = match value {
        Value::String(text) => parse_iso_date(text)?,
        Value::Number(n) => n.as_i64().filter(|ms| ms.abs() <= MAX_DATE_MS)?,
        _ => return None,
    };
    Some(Bson::DateTime(BsonDateTime::from_millis(ms)))
}

/// A JSON value → BSON without any schema (aggregation stages): objects become documents,
/// numbers as in [`number`], nothing is read as extended JSON.
pub(crate) fn plain(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => number(n),
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(plain).collect()),
        Value::Object(map) => Bson::Document(map.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
    }
}

/// Numbers in one canonical form per value, as the Node driver writes JavaScript numbers: an
/// integral value of magnitude at most 2^53 is an Int32 when it fits, else an Int64 (whether the
/// JSON said `1` or `1.0`); larger exact integers are Int64s; anything else is a Double. So equal
/// numbers are stored alike, which matters to servers that compare numeric types strictly.
fn number(n: &Number) -> Bson {
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32);
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    #[allow(clippy::cast_possible_truncation)]
    if f.fract() == 0.0 && f.abs() <= EXACT_INTEGER {
        let i = f as i64;
        return i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32);
    }
    Bson::Double(f)
}

/// The BSON forms of a query number that MongoDB considers equal to it: the Double and, for an
/// integral value, the Int32 and Int64 as well. MongoDB compares numbers across these types, so
/// `{$in: [5.0, 5, 5L]}` means exactly `{$eq: 5}` there; some compatible servers (jongodb) compare
/// equality within one numeric type only, and the longer form is right on both.
pub(crate) fn number_variants(n: f64) -> Vec<Bson> {
    let mut out = vec![Bson::Double(n)];
    #[allow(clippy::cast_possible_truncation)]
    if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER {
        let i = n as i64;
        if let Ok(small) = i32::try_from(i) {
            out.push(Bson::Int32(small));
        }
        out.push(Bson::Int64(i));
    }
    out
}

/// The BSON values equal to a query scalar (see [`number_variants`]).
pub(crate) fn equal_values(value: &Scalar) -> Vec<Bson> {
    match value {
        Scalar::Number(n) => number_variants(*n),
        other => vec![scalar(other)],
    }
}

/// A query scalar → BSON (the value of an `$eq`, `$gt`, … in a filter: always a literal).
pub(crate) fn scalar(value: &Scalar) -> Bson {
    match value {
        Scalar::String(s) => Bson::String(s.clone()),
        Scalar::Number(n) => Bson::Double(*n),
        Scalar::Bool(b) => Bson::Boolean(*b),
        Scalar::Date(ms) => Bson::DateTime(BsonDateTime::from_millis(*ms)),
        Scalar::ObjectId(hex) => {
            ObjectId::parse_str(hex.as_str()).map_or_else(|_| Bson::String(hex.as_str().to_owned()), Bson::ObjectId)
        }
    }
}

/// A stored document → its wire form.
pub(crate) fn from_bson_document(doc: BsonDocument) -> Document {
    let mut out = Map::with_capacity(doc.len());
    for (key, value) in doc {
        out.insert(key, from_bson(value));
    }
    out
}

/// A stored value → its wire form (see the module docs).
pub(crate) fn from_bson(value: Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Int32(i) => Value::from(i),
        Bson::Int64(i) => Value::from(i),
        Bson::Double(d) => double(d),
        Bson::String(s) => Value::String(s),
        Bson::ObjectId(id) => Value::String(id.to_hex()),
        Bson::DateTime(at) => date(at.timestamp_millis()),
        Bson::Array(items) => Value::Array(items.into_iter().map(from_bson).collect()),
        Bson::Document(doc) => Value::Object(from_bson_document(doc)),
        Bson::Decimal128(d) => Value::String(d.to_string()),
        other => other.into_relaxed_extjson(),
    }
}

#[allow(clippy::cast_possible_truncation)]
fn double(d: f64) -> Value {
    if d.fract() == 0.0 && d.abs() <= EXACT_INTEGER {
        // Integral and exact: print as JavaScript does (`2`, not `2.0`; `-0` as `0`).
        Value::from(d as i64)
    } else {
        Number::from_f64(d).map_or(Value::Null, Value::Number)
    }
}

/// Milliseconds since the epoch → the document timestamp form.
pub(crate) fn date(ms: i64) -> Value {
    match DateTime::from_timestamp_millis(ms) {
        Some(at) if (0..=9999).contains(&chrono::Datelike::year(&at)) => Value::String(store::format_timestamp(at)),
        _ => format_date(ms).map_or(Value::Null, Value::String),
    }
}

/// An ObjectId from 24 hex characters (validated ids: `DocId`, `ObjectIdHex`).
pub(crate) fn object_id(hex: &str) -> Result<ObjectId, store::StoreError> {
    ObjectId::parse_str(hex).map_err(|_| store::StoreError::InvalidInput("Invalid ID format.".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new()
            .with("author", FieldType::ObjectId)
            .with("refs", FieldType::Array(Box::new(FieldType::ObjectId)))
            .with("due", FieldType::Date)
            .with("meta.seen", FieldType::Date)
            .with("price", FieldType::Number)
    }

    fn wire(value: Value) -> Document {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn typed_fields_become_object_ids_and_dates() {
        let id = "65a1b2c3d4e5f60718293a4b";
        let doc = wire(json!({
            "_id": id, "author": id.to_uppercase(), "refs": [id, "nope"], "due": "2024-05-06T07:08:09.5+02:00",
            "meta": {"seen": 1_700_000_000_000_i64, "note": id}, "price": 2, "big": 5_000_000_000_i64,
            "ratio": 0.5, "whole": 3.0, "huge": 1e300, "createdAt": "not a date", "other": id,
        }));
        let oid = ObjectId::parse_str(id).unwrap();
        let expected = doc! {
            "_id": oid, "author": oid, "refs": [oid, "nope"],
            "due": BsonDateTime::from_millis(1_714_972_089_500),
            "meta": {"seen": BsonDateTime::from_millis(1_700_000_000_000), "note": id},
            "price": 2_i32, "big": 5_000_000_000_i64, "ratio": 0.5, "whole": 3_i32, "huge": 1e300, "createdAt": "not a date", "other": id,
        };
        assert_eq!(to_bson_document(&doc, &schema()), expected);
    }

    #[test]
    fn reading_gives_the_wire_form() {
        let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let stored = doc! {
            "_id": oid, "at": BsonDateTime::from_millis(1_714_972_089_500), "n": 2.0, "f": 2.5, "i": 3_i64,
            "neg": -0.0, "nested": [{"d": BsonDateTime::from_millis(0)}], "nan": f64::NAN, "nil": Bson::Null,
        };
        assert_eq!(
            Value::Object(from_bson_document(stored)),
            json!({
                "_id": "65a1b2c3d4e5f60718293a4b", "at": "2024-05-06T05:08:09.500Z", "n": 2, "f": 2.5, "i": 3,
                "neg": 0, "nested": [{"d": "1970-01-01T00:00:00.000Z"}], "nan": null, "nil": null,
            })
        );
    }

    #[test]
    fn dates_outside_four_digit_years_use_the_javascript_form() {
        assert_eq!(date(-62_198_755_200_000), json!("-000001-01-01T00:00:00.000Z"));
        assert_eq!(date(253_402_300_800_000), json!("+010000-01-01T00:00:00.000Z"));
    }

    #[test]
    fn round_trip_keeps_the_wire_form() {
        let doc = wire(json!({
            "_id": "65a1b2c3d4e5f60718293a4b", "author": "65a1b2c3d4e5f60718293a4c",
            "due": "2024-05-06T05:08:09.500Z", "price": 19.99, "tags": ["a", 1, true, null, {"x": [1.5]}],
        }));
        assert_eq!(from_bson_document(to_bson_document(&doc, &schema())), doc);
    }
}
