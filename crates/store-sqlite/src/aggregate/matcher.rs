//! `$match`: MongoDB's query language over JSON documents.
//!
//! Supported: implicit equality (`{f: v}`, any JSON value), `$eq $ne $gt $gte $lt $lte $in $nin
//! $exists $regex` (with `$options` `i`, `m`, `s`, `x`) `$size $not` on fields, and `$and $or
//! $nor` (`$comment` is ignored). Paths go through objects and, element-wise, through arrays;
//! a numeric segment also indexes an array. As in MongoDB: equality matches an array field by
//! element or as a whole; `null` matches missing fields; `$ne`/`$nin` are negations (so they match
//! missing fields); comparisons only match values of the operand's type bracket; `$gte`/`$lte`
//! `null` match like `null` equality. Operators that evaluate expressions or geometry
//! (`$expr`, `$where`, `$text`, `$elemMatch`, …) are refused as unsupported.

use std::cmp::Ordering;

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};
use store::StoreError;

use super::{invalid, unsupported_operator};
use crate::sortkey::{compare_values, rank, values_equal};

/// A parsed `$match` filter.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// All of these.
    And(Vec<Matcher>),
    /// Any of these.
    Or(Vec<Matcher>),
    /// None of these.
    Nor(Vec<Matcher>),
    /// A test of the values at a path.
    Field(Vec<String>, Test),
}

/// A test of the values at one path.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Eq(Value),
    Cmp(Ordering, bool, Value),
    In(Vec<Value>),
    Exists(bool),
    Regex(Regex),
    Size(usize),
    Not(Box<Test>),
    All(Vec<Test>),
}

impl Matcher {
    /// Parses a `$match` specification.
    pub(crate) fn parse(spec: &Value) -> Result<Matcher, StoreError> {
        let Value::Object(map) = spec else {
            return Err(invalid("the match filter must be an expression in an object"));
        };
        let mut parts = Vec::with_capacity(map.len());
        for (key, value) in map {
            match key.as_str() {
                "$and" | "$or" | "$nor" => {
                    let Value::Array(items) = value else {
                        return Err(invalid(format!("{key} must be an array")));
                    };
                    if items.is_empty() {
                        return Err(invalid("$and/$or/$nor must be a nonempty array"));
                    }
                    let subs = items.iter().map(Matcher::parse).collect::<Result<Vec<_>, _>>()?;
                    parts.push(match key.as_str() {
                        "$and" => Matcher::And(subs),
                        "$or" => Matcher::Or(subs),
                        _ => Matcher::Nor(subs),
                    });
                }
                "$comment" => {}
                k if k.starts_with('$') => return Err(unsupported_operator(k)),
                path => {
                    if path.is_empty() || path.split('.').any(str::is_empty) {
                        return Err(invalid(format!("Invalid field path '{path}' in $match.")));
                    }
                    let segments = path.split('.').map(str::to_owned).collect();
                    parts.push(Matcher::Field(segments, parse_test(value)?));
                }
            }
        }
        Ok(Matcher::And(parts))
    }

    /// Whether `doc` matches.
    pub(crate) fn matches(&self, doc: &Value) -> bool {
        match self {
            Matcher::And(parts) => parts.iter().all(|m| m.matches(doc)),
            Matcher::Or(parts) => parts.iter().any(|m| m.matches(doc)),
            Matcher::Nor(parts) => !parts.iter().any(|m| m.matches(doc)),
            Matcher::Field(path, test) => {
                let mut found = Found::default();
                let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                collect(doc, &segments, &mut found);
                test.holds(&found)
            }
        }
    }
}

fn is_operator_object(value: &Value) -> Option<&Map<String, Value>> {
    match value {
        Value::Object(map) if map.keys().next().is_some_and(|k| k.starts_with('$')) => Some(map),
        _ => None,
    }
}

fn parse_test(value: &Value) -> Result<Test, StoreError> {
    let Some(ops) = is_operator_object(value) else {
        return Ok(Test::Eq(value.clone()));
    };
    let mut tests = Vec::with_capacity(ops.len());
    for (op, arg) in ops {
        let test = match op.as_str() {
            "$eq" => Test::Eq(arg.clone()),
            "$ne" => Test::Not(Box::new(Test::Eq(arg.clone()))),
            "$gt" => Test::Cmp(Ordering::Greater, false, arg.clone()),
            "$gte" => Test::Cmp(Ordering::Greater, true, arg.clone()),
            "$lt" => Test::Cmp(Ordering::Less, false, arg.clone()),
            "$lte" => Test::Cmp(Ordering::Less, true, arg.clone()),
            "$in" | "$nin" => {
                let Value::Array(items) = arg else {
                    return Err(invalid(format!("{op} needs an array")));
                };
                let test = Test::In(items.clone());
                if op == "$in" { test } else { Test::Not(Box::new(test)) }
            }
            "$exists" => Test::Exists(super::expr::truthy(Some(arg))),
            "$regex" => {
                let options = ops.get("$options").map(|o| o.as_str().unwrap_or("\u{0}")).unwrap_or("");
                Test::Regex(regex(arg, options)?)
            }
            "$options" if ops.contains_key("$regex") => continue,
            "$options" => return Err(invalid("$options needs a $regex")),
            "$size" => match arg.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) => Test::Size(n),
                None => return Err(invalid("$size needs a non-negative integer")),
            },
            "$not" => match is_operator_object(arg) {
                Some(_) => Test::Not(Box::new(parse_test(arg)?)),
                None => return Err(invalid("$not needs a regex or a document")),
            },
            other => return Err(unsupported_operator(other)),
        };
        tests.push(test);
    }
    if tests.len() == 1
        && let Some(test) = tests.pop()
    {
        return Ok(test);
    }
    Ok(Test::All(tests))
}

fn regex(pattern: &Value, options: &str) -> Result<Regex, StoreError> {
    let Value::String(source) = pattern else {
        return Err(invalid("$regex has to be a string"));
    };
    let mut builder = RegexBuilder::new(source);
    for option in options.chars() {
        match option {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'x' => builder.ignore_whitespace(true),
            other => return Err(invalid(format!("invalid flag in regex options: {other}"))),
        };
    }
    builder
        .size_limit(query::limits::REGEX_SIZE_LIMIT)
        .dfa_size_limit(query::limits::REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .map_err(|_| invalid(format!("Invalid or unsupported regular expression: {source}")))
}

/// The values a path reaches, and whether some branch of it is missing.
#[derive(Default)]
struct Found<'a> {
    leaves: Vec<&'a Value>,
    missing: bool,
}

fn collect<'a>(value: &'a Value, segments: &[&str], found: &mut Found<'a>) {
    let Some((head, rest)) = segments.split_first() else {
        found.leaves.push(value);
        return;
    };
    match value {
        Value::Object(map) => match map.get(*head) {
            Some(child) => collect(child, rest, found),
            None => found.missing = true,
        },
        Value::Array(items) => {
            let index = head.parse::<usize>().ok().filter(|_| head.bytes().all(|b| b.is_ascii_digit()));
            if let Some(item) = index.and_then(|i| items.get(i)) {
                collect(item, rest, found);
            }
            for item in items {
                match item {
                    Value::Object(map) => match map.get(*head) {
                        Some(child) => collect(child, rest, found),
                        None => found.missing = true,
                    },
                    _ if index.is_none() => found.missing = true,
                    _ => {}
                }
            }
        }
        _ => found.missing = true,
    }
}

impl Test {
    fn holds(&self, found: &Found<'_>) -> bool {
        // A candidate is a leaf, or an element of a leaf that is an array.
        let any = |pred: &dyn Fn(&Value) -> bool| {
            found.leaves.iter().any(|leaf| pred(leaf) || matches!(leaf, Value::Array(items) if items.iter().any(pred)))
        };
        match self {
            Test::Eq(Value::Null) => found.missing || found.leaves.is_empty() || any(&Value::is_null),
            Test::Eq(target) => any(&|v| values_equal(v, target)),
            Test::Cmp(_, true, Value::Null) => Test::Eq(Value::Null).holds(found),
            Test::Cmp(_, false, Value::Null) => false,
            Test::Cmp(want, or_equal, target) => any(&|v| {
                rank(v) == rank(target) && {
                    let order = compare_values(v, target);
                    order == *want || (*or_equal && order == Ordering::Equal)
                }
            }),
            Test::In(targets) => targets.iter().any(|t| Test::Eq(t.clone()).holds(found)),
            Test::Exists(wanted) => found.leaves.is_empty() != *wanted,
            Test::Regex(re) => any(&|v| matches!(v, Value::String(s) if re.is_match(s))),
            Test::Size(n) => found.leaves.iter().any(|leaf| matches!(leaf, Value::Array(items) if items.len() == *n)),
            Test::Not(inner) => !inner.holds(found),
            Test::All(tests) => tests.iter().all(|t| t.holds(found)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn m(spec: Value, doc: Value) -> bool {
        Matcher::parse(&spec).unwrap().matches(&doc)
    }

    #[test]
    fn mongodb_semantics() {
        let doc = json!({"a": 1, "tags": ["x", "y"], "n": null, "o": {"p": [{"q": 2}, {"r": 3}]}, "s": "Hello"});
        assert!(m(json!({"a": 1.0}), doc.clone()));
        assert!(!m(json!({"a": "1"}), doc.clone()));
        assert!(m(json!({"tags": "x"}), doc.clone()));
        assert!(m(json!({"tags": ["x", "y"]}), doc.clone()));
        assert!(m(json!({"missing": null}), doc.clone()));
        assert!(m(json!({"n": null}), doc.clone()));
        assert!(m(json!({"o.p.q": 2}), doc.clone()));
        assert!(m(json!({"o.p.q": null}), doc.clone()));
        assert!(m(json!({"o.p.0.q": 2}), doc.clone()));
        assert!(m(json!({"missing": {"$ne": 1}}), doc.clone()));
        assert!(!m(json!({"a": {"$gt": "0"}}), doc.clone()));
        assert!(m(json!({"a": {"$gte": 1, "$lt": 2}}), doc.clone()));
        assert!(m(json!({"tags": {"$in": ["z", "y"]}}), doc.clone()));
        assert!(m(json!({"tags": {"$nin": ["z"]}}), doc.clone()));
        assert!(m(json!({"n": {"$exists": true}, "zz": {"$exists": false}}), doc.clone()));
        assert!(m(json!({"s": {"$regex": "^hel", "$options": "i"}}), doc.clone()));
        assert!(!m(json!({"s": {"$regex": "^hel"}}), doc.clone()));
        assert!(m(json!({"s": {"$not": {"$regex": "^x"}}}), doc.clone()));
        assert!(m(json!({"$or": [{"a": 2}, {"tags": {"$size": 2}}]}), doc.clone()));
        assert!(m(json!({"$nor": [{"a": 2}]}), doc));
        assert!(matches!(Matcher::parse(&json!({"$expr": {}})), Err(StoreError::Unsupported(_))));
        assert!(matches!(Matcher::parse(&json!({"a": {"$elemMatch": {}}})), Err(StoreError::Unsupported(_))));
    }
}
