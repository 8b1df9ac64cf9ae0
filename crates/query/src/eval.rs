//! The reference evaluator: [`Filter::matches`] decides whether a JSON document matches, with
//! MongoDB's semantics for every operator the AST has. It is the oracle for this crate's property
//! tests and for the store backends' differential tests.
//!
//! Semantics, exactly:
//! - A path is resolved segment by segment; at an object the segment names a field, at an array
//!   the segment is applied to every element that is an object (MongoDB's implicit array
//!   traversal; elements that are not objects contribute nothing). This yields zero or more
//!   *leaf* values.
//! - The *candidates* are the leaves plus, for a leaf that is an array, its elements (one level).
//! - `Eq` matches when some candidate equals the value; `In` when some candidate equals some
//!   value of the list (an empty list matches nothing); `Ne` is exactly `!Eq` (so it matches a
//!   missing field); `Exists(b)` is "there is at least one leaf" `== b` (a `null` counts).
//! - `Gt`/`Gte`/`Lt`/`Lte` match when some candidate of the same type bracket compares so.
//!   Brackets: numbers (JSON numbers), strings (byte-wise), booleans (`false < true`), dates
//!   (JSON strings in ISO 8601 / RFC 3339 form), ObjectIds (JSON strings of 24 hex digits,
//!   compared case-insensitively). Values of other brackets never match.
//! - `Regex` matches when some candidate is a string the case-insensitive pattern finds.
//! - Equality follows the same brackets (a number never equals a string, `1` equals `1.0`).

use std::cmp::Ordering;

use serde_json::Value;

use crate::ast::{Condition, Filter, Op, Scalar};
use crate::value::parse_iso_date;

impl Filter {
    /// Whether `doc` matches every condition (MongoDB semantics; see the module docs). A
    /// document is a JSON object; any other value matches no filter, not even the empty one.
    #[must_use]
    pub fn matches(&self, doc: &Value) -> bool {
        doc.is_object() && self.conditions().iter().all(|c| c.matches(doc))
    }
}

impl Condition {
    /// Whether `doc` matches this condition (MongoDB semantics; see [`Filter::matches`]); a
    /// `doc` that is not a JSON object never matches.
    #[must_use]
    pub fn matches(&self, doc: &Value) -> bool {
        if !doc.is_object() {
            return false;
        }
        let segments: Vec<&str> = self.path.segments().collect();
        let mut leaves = Vec::new();
        collect(doc, &segments, &mut leaves);
        let any = |pred: &dyn Fn(&Value) -> bool| {
            leaves.iter().any(|leaf| pred(leaf) || matches!(leaf, Value::Array(items) if items.iter().any(pred)))
        };
        let compares = |s: &Scalar, want: &dyn Fn(Ordering) -> bool| any(&|v: &Value| compare(v, s).is_some_and(want));
        match &self.op {
            Op::Eq(s) => any(&|v| equals(v, s)),
            Op::Ne(s) => !any(&|v| equals(v, s)),
            Op::In(list) => any(&|v| list.iter().any(|s| equals(v, s))),
            Op::Gt(s) => compares(s, &|o| o == Ordering::Greater),
            Op::Gte(s) => compares(s, &|o| o != Ordering::Less),
            Op::Lt(s) => compares(s, &|o| o == Ordering::Less),
            Op::Lte(s) => compares(s, &|o| o != Ordering::Greater),
            Op::Exists(b) => leaves.is_empty() != *b,
            Op::Regex(p) => any(&|v| matches!(v, Value::String(t) if p.is_match(t))),
        }
    }
}

/// The leaf values at `segments` below `value` (see the module docs).
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
                if let Value::Object(map) = item {
                    if let Some(child) = map.get(*head) {
                        collect(child, rest, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Equality within a type bracket.
fn equals(v: &Value, s: &Scalar) -> bool {
    compare(v, s) == Some(Ordering::Equal)
}

/// How the document value `v` compares to the query value `s`, if they share a type bracket.
fn compare(v: &Value, s: &Scalar) -> Option<Ordering> {
    match (s, v) {
        (Scalar::String(q), Value::String(d)) => Some(d.as_str().cmp(q.as_str())),
        (Scalar::Number(q), Value::Number(d)) => d.as_f64()?.partial_cmp(q),
        (Scalar::Bool(q), Value::Bool(d)) => Some(d.cmp(q)),
        (Scalar::Date(q), Value::String(d)) => Some(parse_iso_date(d)?.cmp(q)),
        (Scalar::ObjectId(q), Value::String(d)) => (d.len() == 24 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| d.to_ascii_lowercase().as_str().cmp(q.as_str())),
        _ => None,
    }
}
