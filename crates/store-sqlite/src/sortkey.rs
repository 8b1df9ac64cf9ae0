//! Order-preserving binary keys for JSON values, MongoDB's sort order over what JSON can hold.
//!
//! [`sort_key`] turns the value(s) at a path into a byte string whose byte-wise order (SQLite's
//! BLOB order, `memcmp`) is MongoDB's sort order; the SQL function `ub_key` exposes it, so that
//! `ORDER BY`, keyset (cursor) comparisons, expression indexes and unique indexes all use one
//! definition. The aggregation stages use the same keys and [`compare_values`].
//!
//! Brackets, lowest first: an empty array (sorts below null, as in MongoDB), null and missing
//! (equal), numbers (integers and doubles compared by value), strings (byte-wise UTF-8, MongoDB's
//! binary collation; dates and ObjectIds are strings in documents), objects (field by field: the
//! value's bracket, then the name, then the value; a prefix sorts first), arrays (element by
//! element), booleans (`false < true`).
//!
//! A path that reaches arrays yields several values, as in MongoDB: an ascending sort uses the
//! smallest, a descending sort the largest (elements of arrays met on the way, and the elements
//! of an array at the end of the path, one level deep). The [`KeyMode::Whole`] mode keeps an
//! array whole instead; unique indexes use it.
//!
//! Indexes store these keys, so the encoding is part of the database format: changing it needs a
//! new format version in [`crate::catalog`] (and a rebuild of the indexes).

use std::cmp::Ordering;

use serde_json::Value;

/// Bracket bytes (the first byte of every key).
const RANK_EMPTY_ARRAY: u8 = 0x10;
const RANK_NULL: u8 = 0x20;
const RANK_NUMBER: u8 = 0x30;
const RANK_STRING: u8 = 0x40;
const RANK_OBJECT: u8 = 0x50;
const RANK_ARRAY: u8 = 0x60;
const RANK_BOOL: u8 = 0x70;

/// How the values at a path become one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMode {
    /// Ascending sort: the smallest of the values.
    Asc,
    /// Descending sort: the largest of the values.
    Desc,
    /// The value as a whole (arrays are not expanded); for unique indexes.
    Whole,
}

impl KeyMode {
    /// The mode's number in SQL (`ub_key(value, rest, mode)`).
    pub(crate) fn as_sql(self) -> i64 {
        match self {
            KeyMode::Asc => 0,
            KeyMode::Desc => 1,
            KeyMode::Whole => 2,
        }
    }

    /// The mode from its SQL number.
    pub(crate) fn from_sql(n: i64) -> Option<KeyMode> {
        match n {
            0 => Some(KeyMode::Asc),
            1 => Some(KeyMode::Desc),
            2 => Some(KeyMode::Whole),
            _ => None,
        }
    }
}

/// The bracket rank of a value (MongoDB's canonical type order, restricted to JSON).
pub(crate) fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => RANK_NULL,
        Value::Number(_) => RANK_NUMBER,
        Value::String(_) => RANK_STRING,
        Value::Object(_) => RANK_OBJECT,
        Value::Array(_) => RANK_ARRAY,
        Value::Bool(_) => RANK_BOOL,
    }
}

/// The key of the value(s) at `rest` (dot-separated, may be empty) below `top`; `None` is a
/// missing value.
pub(crate) fn sort_key(top: Option<&Value>, rest: &str, mode: KeyMode) -> Vec<u8> {
    let segments: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split('.').collect() };
    let mut leaves = Vec::new();
    if let Some(top) = top {
        collect_leaves(top, &segments, mode != KeyMode::Whole, &mut leaves);
    }
    key_of_leaves(&leaves, mode)
}

/// The key of already collected leaf values (see [`sort_key`]).
pub(crate) fn key_of_leaves(leaves: &[&Value], mode: KeyMode) -> Vec<u8> {
    if mode == KeyMode::Whole {
        return match leaves.first() {
            Some(value) => encode(value),
            None => vec![RANK_NULL],
        };
    }
    let mut best: Option<Vec<u8>> = None;
    let mut empty_array = false;
    let mut consider = |value: &Value| {
        let key = encode(value);
        let better = match &best {
            None => true,
            Some(current) => match mode {
                KeyMode::Desc => key > *current,
                _ => key < *current,
            },
        };
        if better {
            best = Some(key);
        }
    };
    for leaf in leaves {
        match leaf {
            Value::Array(items) if items.is_empty() => empty_array = true,
            Value::Array(items) => items.iter().for_each(&mut consider),
            other => consider(other),
        }
    }
    match best {
        Some(key) => key,
        None if empty_array => vec![RANK_EMPTY_ARRAY],
        None => vec![RANK_NULL],
    }
}

/// The values at `segments` below `value`: objects are entered by name; with `through_arrays`,
/// arrays met on the way are entered element-wise (object elements only), as MongoDB does.
pub(crate) fn collect_leaves<'a>(value: &'a Value, segments: &[&str], through_arrays: bool, out: &mut Vec<&'a Value>) {
    let Some((head, rest)) = segments.split_first() else {
        out.push(value);
        return;
    };
    match value {
        Value::Object(map) => {
            if let Some(child) = map.get(*head) {
                collect_leaves(child, rest, through_arrays, out);
            }
        }
        Value::Array(items) if through_arrays => {
            for item in items {
                if let Value::Object(map) = item
                    && let Some(child) = map.get(*head)
                {
                    collect_leaves(child, rest, through_arrays, out);
                }
            }
        }
        _ => {}
    }
}

/// The key of one value: its bracket byte, then its body.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.push(rank(value));
    encode_body(value, &mut out);
    out
}

fn encode_body(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Number(n) => encode_number(n.as_f64().unwrap_or(0.0), out),
        Value::String(s) => encode_str(s, out),
        Value::Object(map) => {
            for (name, item) in map {
                out.push(0x01);
                out.push(rank(item));
                encode_str(name, out);
                encode_body(item, out);
            }
            out.push(0x00);
        }
        Value::Array(items) => {
            for item in items {
                out.push(0x01);
                out.push(rank(item));
                encode_body(item, out);
            }
            out.push(0x00);
        }
    }
}

/// An f64 as 8 bytes whose unsigned order is the numeric order (`-0.0` is `0.0`).
fn encode_number(n: f64, out: &mut Vec<u8>) {
    let n = if n == 0.0 { 0.0 } else { n };
    let bits = n.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits ^ (1 << 63) };
    out.extend_from_slice(&ordered.to_be_bytes());
}

/// A string as its bytes with NUL escaped (`00 FF`), terminated by `00 01`, so that a prefix
/// sorts first and the terminator never collides with content.
fn encode_str(s: &str, out: &mut Vec<u8>) {
    for &byte in s.as_bytes() {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// MongoDB's total order of two values (the order of their [`encode`]d keys, computed without
/// allocating).
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    let by_rank = rank(a).cmp(&rank(b));
    if by_rank != Ordering::Equal {
        return by_rank;
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Object(x), Value::Object(y)) => {
            let mut left = x.iter();
            let mut right = y.iter();
            loop {
                match (left.next(), right.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some((kx, vx)), Some((ky, vy))) => {
                        let order = rank(vx)
                            .cmp(&rank(vy))
                            .then_with(|| kx.as_bytes().cmp(ky.as_bytes()))
                            .then_with(|| compare_values(vx, vy));
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (vx, vy) in x.iter().zip(y) {
                let order = compare_values(vx, vy);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// Whether two values are equal in MongoDB's sense (`1 == 1.0`, objects field by field in order).
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    compare_values(a, b) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(v: Value, mode: KeyMode) -> Vec<u8> {
        sort_key(Some(&v), "", mode)
    }

    #[test]
    fn brackets_order_as_mongodb() {
        let ordered = [
            json!(null),
            json!(-1.5),
            json!(0),
            json!(2),
            json!(""),
            json!("a"),
            json!("a\u{0}"),
            json!("ab"),
            json!("b"),
            json!({}),
            json!({"a": 1}),
            json!({"a": 1, "b": 0}),
            json!({"b": 0}),
            json!({"a": "x"}),
            json!([[]]),
            json!(false),
            json!(true),
        ];
        for pair in ordered.windows(2) {
            if let [a, b] = pair {
                assert!(key(a.clone(), KeyMode::Whole) < key(b.clone(), KeyMode::Whole), "{a} < {b}");
                assert_eq!(compare_values(a, b), Ordering::Less, "{a} < {b}");
            }
        }
        assert_eq!(key(json!(1), KeyMode::Asc), key(json!(1.0), KeyMode::Asc));
        assert_eq!(key(json!(-0.0), KeyMode::Asc), key(json!(0), KeyMode::Asc));
    }

    #[test]
    fn arrays_sort_by_min_or_max_element() {
        assert_eq!(key(json!([3, 1, 2]), KeyMode::Asc), key(json!(1), KeyMode::Asc));
        assert_eq!(key(json!([3, 1, 2]), KeyMode::Desc), key(json!(3), KeyMode::Desc));
        assert!(key(json!([]), KeyMode::Asc) < sort_key(None, "", KeyMode::Asc));
        assert_eq!(sort_key(None, "", KeyMode::Asc), key(json!(null), KeyMode::Asc));
        let doc = json!([{"b": 5}, {"b": [7, 1]}, {"c": 0}]);
        assert_eq!(sort_key(Some(&doc), "b", KeyMode::Asc), key(json!(1), KeyMode::Asc));
        assert_eq!(sort_key(Some(&doc), "b", KeyMode::Desc), key(json!(7), KeyMode::Asc));
        assert_eq!(key(json!([1, 2]), KeyMode::Whole), encode(&json!([1, 2])));
    }
}
