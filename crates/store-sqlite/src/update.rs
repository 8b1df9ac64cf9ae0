//! The update merge, MongoDB `$set` semantics: top-level keys replace; dotted keys set nested
//! paths, creating objects on the way (and addressing array elements by index), refusing to
//! descend into a scalar; `updatedAt` is refreshed; `createdAt` stays as it was (Mongoose's
//! immutable timestamps).
//!
//! [`prepare_set`] validates what can be checked without the document (conflicting paths, empty
//! segments, `_id`); [`apply_set`] runs inside the `UPDATE` statement (the SQL function
//! `ub_merge`) so that the scope check and the write are one statement.

use serde_json::{Map, Value};
use store::{Document, StoreError};

/// The deepest nesting a stored document may have (JSON readers, ours included, stop at 128).
pub(crate) const MAX_DEPTH: usize = 100;

/// The nesting depth of a value (a scalar is 0).
pub(crate) fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, level)) = pending.pop() {
        deepest = deepest.max(level);
        match value {
            Value::Object(map) => pending.extend(map.values().map(|v| (v, level + 1))),
            Value::Array(items) => pending.extend(items.iter().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

/// The refusal of a document nested too deeply.
pub(crate) fn too_deep() -> StoreError {
    StoreError::InvalidInput(format!("Documents may not be nested more than {MAX_DEPTH} levels deep."))
}

/// The largest array index a dotted update may address (MongoDB pads arrays with `null` up to
/// the index; the bound keeps one request from allocating without limit).
const MAX_ARRAY_INDEX: usize = 10_000;

/// Validates `set` for the document `id` and returns what to merge: `_id` must equal the id (and
/// is then dropped), `createdAt` is dropped, paths must not be empty or conflict.
pub(crate) fn prepare_set(set: &Document, id: &str) -> Result<Document, StoreError> {
    let mut out = Map::with_capacity(set.len());
    for (key, value) in set {
        if key.split('.').any(str::is_empty) {
            return Err(StoreError::InvalidInput(format!(
                "The update path '{key}' contains an empty field name, which is not allowed."
            )));
        }
        let head = key.split('.').next().unwrap_or_default();
        if head == "_id" {
            let same = key == "_id" && value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(id));
            if same {
                continue;
            }
            return Err(StoreError::InvalidInput(
                "Performing an update on the path '_id' would modify the immutable field '_id'.".to_owned(),
            ));
        }
        if head == "createdAt" || head == "updatedAt" {
            continue;
        }
        if key.split('.').count() + depth(value) >= MAX_DEPTH {
            return Err(too_deep());
        }
        out.insert(key.clone(), value.clone());
    }
    let keys: Vec<&String> = out.keys().collect();
    for (i, a) in keys.iter().enumerate() {
        for b in keys.iter().skip(i + 1) {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            if long.strip_prefix(short.as_str()).is_some_and(|rest| rest.starts_with('.')) {
                return Err(StoreError::InvalidInput(format!(
                    "Updating the path '{long}' would create a conflict at '{short}'"
                )));
            }
        }
    }
    Ok(out)
}

/// Applies a prepared `set` to `doc` and stamps `updatedAt`. The error is the client-facing text.
pub(crate) fn apply_set(doc: &mut Document, set: &Document, now: &str) -> Result<(), String> {
    for (key, value) in set {
        let segments: Vec<&str> = key.split('.').collect();
        set_path(doc, &segments, value.clone())?;
    }
    doc.insert("updatedAt".to_owned(), Value::String(now.to_owned()));
    Ok(())
}

/// Sets `segments` (at least one) below the object `map`.
fn set_path(map: &mut Map<String, Value>, segments: &[&str], value: Value) -> Result<(), String> {
    let Some((head, rest)) = segments.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        map.insert((*head).to_owned(), value);
        return Ok(());
    }
    let child = map.entry((*head).to_owned()).or_insert_with(|| Value::Object(Map::new()));
    set_in_value(child, head, rest, value)
}

/// Sets `segments` below `node` (named `name` in its parent, for error texts).
fn set_in_value(node: &mut Value, name: &str, segments: &[&str], value: Value) -> Result<(), String> {
    let Some((head, rest)) = segments.split_first() else {
        *node = value;
        return Ok(());
    };
    match node {
        Value::Object(map) => set_path(map, segments, value),
        Value::Array(items) => {
            let index = match head.parse::<usize>() {
                Ok(index) if head.bytes().all(|b| b.is_ascii_digit()) => index,
                _ => return Err(cannot_create(head, name, &Value::Array(items.clone()))),
            };
            if index > MAX_ARRAY_INDEX {
                return Err(format!("The array index {index} in the update path is too large."));
            }
            if items.len() <= index {
                items.resize(index + 1, Value::Null);
            }
            let Some(slot) = items.get_mut(index) else {
                return Err(format!("The array index {index} in the update path is too large."));
            };
            if rest.is_empty() {
                *slot = value;
                Ok(())
            } else {
                if slot.is_null() {
                    *slot = Value::Object(Map::new());
                }
                set_in_value(slot, head, rest, value)
            }
        }
        other => Err(cannot_create(head, name, other)),
    }
}

fn cannot_create(field: &str, parent: &str, value: &Value) -> String {
    format!("Cannot create field '{field}' in element {{{parent}: {value}}}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(v: Value) -> Document {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn dotted_paths_create_objects_and_index_arrays() {
        let mut d = doc(json!({"a": 1, "meta": {"views": 1, "x": 2}, "tags": ["a", "b"]}));
        let set = prepare_set(&doc(json!({"meta.views": 5, "n.m.o": true, "tags.3": "d", "a": 2})), "x").unwrap();
        apply_set(&mut d, &set, "now").unwrap();
        assert_eq!(
            Value::Object(d),
            json!({"a": 2, "meta": {"views": 5, "x": 2}, "tags": ["a", "b", null, "d"], "n": {"m": {"o": true}},
                   "updatedAt": "now"})
        );
    }

    #[test]
    fn refusals() {
        let id = "0123456789abcdef01234567";
        assert!(prepare_set(&doc(json!({"_id": "0123456789ABCDEF01234567"})), id).unwrap().is_empty());
        assert!(prepare_set(&doc(json!({"_id": "aaaaaaaaaaaaaaaaaaaaaaaa"})), id).is_err());
        assert!(prepare_set(&doc(json!({"a": 1, "a.b": 2})), id).is_err());
        assert!(prepare_set(&doc(json!({"a..b": 2})), id).is_err());
        let mut d = doc(json!({"s": "x"}));
        let err = apply_set(&mut d, &doc(json!({"s.t": 1})), "now").unwrap_err();
        assert_eq!(err, r#"Cannot create field 't' in element {s: "x"}"#);
    }
}
