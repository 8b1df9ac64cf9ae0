//! The reshaping stages: `$project`, `$addFields`/`$set`, `$unset`, `$unwind`, `$sort` and
//! `$replaceRoot`/`$replaceWith`, plus the document path helpers they share.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use store::StoreError;

use super::expr::{Expr, split_path};
use super::invalid;
use crate::sortkey::{KeyMode, collect_leaves, key_of_leaves};

/// One node of a projection tree.
#[derive(Debug, Clone)]
enum Node {
    Include,
    Exclude,
    Computed(Expr),
    Nested(Vec<(String, Node)>),
}

/// A parsed `$project`.
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    nodes: Vec<(String, Node)>,
    /// Exclusion mode (only `0`/`false` fields).
    exclusion: bool,
    /// Whether `_id` is kept (inclusion mode).
    keep_id: bool,
}

impl Projection {
    /// Parses a `$project` specification.
    pub(crate) fn parse(spec: &Value) -> Result<Projection, StoreError> {
        let Value::Object(map) = spec else {
            return Err(invalid("$project specification must be an object"));
        };
        if map.is_empty() {
            return Err(invalid(
                "Invalid $project :: caused by :: projection specification must have at least one field",
            ));
        }
        let mut nodes = Vec::new();
        let mut keep_id = true;
        for (key, value) in map {
            let node = parse_node(value)?;
            if key == "_id" {
                match node {
                    Node::Exclude => {
                        keep_id = false;
                        continue;
                    }
                    Node::Include => continue,
                    _ => {}
                }
            }
            insert_node(&mut nodes, &split_path(key)?, node)?;
        }
        let has_exclusion = nodes.iter().any(|(_, n)| contains(n, true));
        let has_inclusion = nodes.iter().any(|(_, n)| contains(n, false));
        if has_exclusion && has_inclusion {
            return Err(invalid(
                "Invalid $project :: caused by :: Cannot do exclusion and inclusion in one projection",
            ));
        }
        let exclusion = has_exclusion || (!has_inclusion && !keep_id);
        if exclusion && !keep_id {
            nodes.insert(0, ("_id".to_owned(), Node::Exclude));
        }
        Ok(Projection { nodes, exclusion, keep_id })
    }

    /// Applies the projection to one document.
    pub(crate) fn apply(&self, doc: Value) -> Result<Value, StoreError> {
        let Value::Object(map) = &doc else { return Ok(doc) };
        if self.exclusion {
            let mut out = map.clone();
            exclude(&mut out, &self.nodes);
            return Ok(Value::Object(out));
        }
        let mut out = Map::new();
        if self.keep_id
            && !self.nodes.iter().any(|(k, _)| k == "_id")
            && let Some(id) = map.get("_id")
        {
            out.insert("_id".to_owned(), id.clone());
        }
        include(map, &self.nodes, &doc, &mut out)?;
        Ok(Value::Object(out))
    }
}

fn parse_node(value: &Value) -> Result<Node, StoreError> {
    match value {
        Value::Bool(b) => Ok(if *b { Node::Include } else { Node::Exclude }),
        Value::Number(n) => Ok(if n.as_f64().is_some_and(|f| f != 0.0) { Node::Include } else { Node::Exclude }),
        Value::Object(map) if !map.is_empty() && !map.keys().any(|k| k.starts_with('$')) => {
            let mut nodes = Vec::new();
            for (key, value) in map {
                insert_node(&mut nodes, &split_path(key)?, parse_node(value)?)?;
            }
            Ok(Node::Nested(nodes))
        }
        other => Ok(Node::Computed(Expr::parse(other)?)),
    }
}

fn insert_node(nodes: &mut Vec<(String, Node)>, path: &[String], node: Node) -> Result<(), StoreError> {
    let Some((head, rest)) = path.split_first() else { return Ok(()) };
    let existing = nodes.iter_mut().find(|(k, _)| k == head);
    match (existing, rest.is_empty()) {
        (None, true) => nodes.push((head.clone(), node)),
        (None, false) => {
            let mut sub = Vec::new();
            insert_node(&mut sub, rest, node)?;
            nodes.push((head.clone(), Node::Nested(sub)));
        }
        (Some((_, Node::Nested(sub))), false) => insert_node(sub, rest, node)?,
        (Some(_), _) => return Err(invalid(format!("Invalid $project :: caused by :: Path collision at {head}"))),
    }
    Ok(())
}

/// Whether a node holds an exclusion (`exclusion`) or an inclusion/computed field.
fn contains(node: &Node, exclusion: bool) -> bool {
    match node {
        Node::Exclude => exclusion,
        Node::Include | Node::Computed(_) => !exclusion,
        Node::Nested(sub) => sub.iter().any(|(_, n)| contains(n, exclusion)),
    }
}

fn exclude(map: &mut Map<String, Value>, nodes: &[(String, Node)]) {
    for (key, node) in nodes {
        match node {
            Node::Exclude => {
                map.shift_remove(key);
            }
            Node::Nested(sub) => match map.get_mut(key) {
                Some(Value::Object(child)) => exclude(child, sub),
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Value::Object(child) = item {
                            exclude(child, sub);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// Inclusion: kept fields in document order, then computed fields in specification order.
fn include(
    map: &Map<String, Value>,
    nodes: &[(String, Node)],
    root: &Value,
    out: &mut Map<String, Value>,
) -> Result<(), StoreError> {
    for (key, value) in map {
        match nodes.iter().find(|(k, _)| k == key).map(|(_, n)| n) {
            Some(Node::Include) => {
                out.insert(key.clone(), value.clone());
            }
            Some(Node::Nested(sub)) => match value {
                Value::Object(child) => {
                    let mut nested = Map::new();
                    include(child, sub, root, &mut nested)?;
                    out.insert(key.clone(), Value::Object(nested));
                }
                Value::Array(items) => {
                    let mut kept = Vec::with_capacity(items.len());
                    for item in items {
                        if let Value::Object(child) = item {
                            let mut nested = Map::new();
                            include(child, sub, root, &mut nested)?;
                            kept.push(Value::Object(nested));
                        }
                    }
                    out.insert(key.clone(), Value::Array(kept));
                }
                _ => {}
            },
            _ => {}
        }
    }
    for (key, node) in nodes {
        match node {
            Node::Computed(expr) => {
                if let Some(value) = expr.eval(root)? {
                    out.insert(key.clone(), value);
                }
            }
            Node::Nested(sub) if !map.get(key).is_some_and(|v| v.is_object() || v.is_array()) => {
                let mut nested = Map::new();
                include(&Map::new(), sub, root, &mut nested)?;
                if !nested.is_empty() {
                    out.insert(key.clone(), Value::Object(nested));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sets a dotted path, creating objects (through arrays element-wise, as `$addFields` does).
pub(crate) fn set_path(target: &mut Map<String, Value>, path: &[String], value: Option<Value>) {
    let Some((head, rest)) = path.split_first() else { return };
    if rest.is_empty() {
        match value {
            Some(value) => {
                target.insert(head.clone(), value);
            }
            None => {
                target.shift_remove(head);
            }
        }
        return;
    }
    let child = target.entry(head.clone()).or_insert_with(|| Value::Object(Map::new()));
    match child {
        Value::Object(map) => set_path(map, rest, value),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(map) = item {
                    set_path(map, rest, value.clone());
                }
            }
        }
        other => {
            let mut map = Map::new();
            set_path(&mut map, rest, value);
            *other = Value::Object(map);
        }
    }
}

/// Removes a dotted path (through arrays element-wise).
pub(crate) fn remove_path(target: &mut Map<String, Value>, path: &[String]) {
    let Some((head, rest)) = path.split_first() else { return };
    if rest.is_empty() {
        target.shift_remove(head);
        return;
    }
    match target.get_mut(head) {
        Some(Value::Object(map)) => remove_path(map, rest),
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(map) = item {
                    remove_path(map, rest);
                }
            }
        }
        _ => {}
    }
}

/// A parsed `$addFields`/`$set`.
pub(crate) fn parse_add_fields(spec: &Value) -> Result<Vec<(Vec<String>, Expr)>, StoreError> {
    let Value::Object(map) = spec else {
        return Err(invalid("$addFields specification must be an object"));
    };
    map.iter().map(|(k, v)| Ok((split_path(k)?, Expr::parse(v)?))).collect()
}

/// Applies `$addFields`: every expression sees the input document.
pub(crate) fn add_fields(doc: Value, fields: &[(Vec<String>, Expr)]) -> Result<Value, StoreError> {
    let values = fields.iter().map(|(_, e)| e.eval(&doc)).collect::<Result<Vec<_>, _>>()?;
    let Value::Object(mut map) = doc else { return Ok(doc) };
    for ((path, _), value) in fields.iter().zip(values) {
        set_path(&mut map, path, value);
    }
    Ok(Value::Object(map))
}

/// A parsed `$unset`: a path or a list of paths.
pub(crate) fn parse_unset(spec: &Value) -> Result<Vec<Vec<String>>, StoreError> {
    match spec {
        Value::String(path) => Ok(vec![split_path(path)?]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(path) => split_path(path),
                _ => Err(invalid("$unset specification must be a string or an array of strings")),
            })
            .collect(),
        _ => Err(invalid("$unset specification must be a string or an array of strings")),
    }
}

/// A parsed `$unwind`.
#[derive(Debug, Clone)]
pub(crate) struct Unwind {
    path: Vec<String>,
    index_field: Option<String>,
    preserve: bool,
}

impl Unwind {
    /// Parses `"$path"` or `{path, includeArrayIndex, preserveNullAndEmptyArrays}`.
    pub(crate) fn parse(spec: &Value) -> Result<Unwind, StoreError> {
        let (path, index_field, preserve) = match spec {
            Value::String(path) => (path.as_str(), None, false),
            Value::Object(map) => {
                for key in map.keys() {
                    if !matches!(key.as_str(), "path" | "includeArrayIndex" | "preserveNullAndEmptyArrays") {
                        return Err(invalid(format!("unrecognized option to $unwind stage: {key}")));
                    }
                }
                let path = map.get("path").and_then(Value::as_str).unwrap_or("");
                let index = match map.get("includeArrayIndex") {
                    None => None,
                    Some(Value::String(name)) if !name.is_empty() && !name.starts_with('$') => Some(name.clone()),
                    Some(_) => return Err(invalid("includeArrayIndex must be a non-empty field name")),
                };
                let preserve = match map.get("preserveNullAndEmptyArrays") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(invalid("preserveNullAndEmptyArrays must be a boolean")),
                };
                (path, index, preserve)
            }
            _ => return Err(invalid("expected either a string or an object as specification for $unwind stage")),
        };
        let Some(path) = path.strip_prefix('$') else {
            return Err(invalid("path option to $unwind stage should be prefixed with a '$'"));
        };
        Ok(Unwind { path: split_path(path)?, index_field, preserve })
    }

    /// Unwinds one document into `out`.
    pub(crate) fn apply(&self, doc: Value, out: &mut Vec<Value>) {
        let value = self.path.iter().try_fold(&doc, |v, segment| v.get(segment)).cloned();
        let Value::Object(map) = doc else { return };
        let with_index = |mut map: Map<String, Value>, index: Value| {
            if let Some(field) = &self.index_field {
                map.insert(field.clone(), index);
            }
            Value::Object(map)
        };
        match value {
            Some(Value::Array(items)) if !items.is_empty() => {
                for (i, item) in items.into_iter().enumerate() {
                    let mut copy = map.clone();
                    set_path(&mut copy, &self.path, Some(item));
                    out.push(with_index(copy, Value::from(i)));
                }
            }
            Some(Value::Array(_)) if self.preserve => {
                let mut copy = map;
                remove_path(&mut copy, &self.path);
                out.push(with_index(copy, Value::Null));
            }
            None | Some(Value::Null) if self.preserve => out.push(with_index(map, Value::Null)),
            None | Some(Value::Null | Value::Array(_)) => {}
            Some(_) => out.push(with_index(map, Value::Null)),
        }
    }
}

/// A parsed `$sort`: paths with their direction.
pub(crate) fn parse_sort(spec: &Value) -> Result<Vec<(Vec<String>, bool)>, StoreError> {
    let Value::Object(map) = spec else {
        return Err(invalid("the $sort key specification must be an object"));
    };
    if map.is_empty() {
        return Err(invalid("$sort stage must have at least one sort key"));
    }
    map.iter()
        .map(|(key, value)| {
            let descending = match value.as_f64() {
                Some(1.0) => false,
                Some(-1.0) => true,
                _ if value.is_object() => {
                    return Err(StoreError::Unsupported(
                        "Aggregation operator '$meta' is not supported on the embedded store.".to_owned(),
                    ));
                }
                _ => return Err(invalid("$sort key ordering must be 1 (for ascending) or -1 (for descending)")),
            };
            Ok((split_path(key)?, descending))
        })
        .collect()
}

/// Sorts documents (stable; arrays by their smallest or largest element, as in MongoDB).
pub(crate) fn sort(docs: Vec<Value>, keys: &[(Vec<String>, bool)]) -> Vec<Value> {
    let mut keyed: Vec<(Vec<Vec<u8>>, Value)> = docs
        .into_iter()
        .map(|doc| {
            let ks = keys
                .iter()
                .map(|(path, descending)| {
                    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                    let mut leaves = Vec::new();
                    collect_leaves(&doc, &segments, true, &mut leaves);
                    key_of_leaves(&leaves, if *descending { KeyMode::Desc } else { KeyMode::Asc })
                })
                .collect();
            (ks, doc)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        for ((ka, kb), (_, descending)) in a.iter().zip(b).zip(keys) {
            let order = if *descending { kb.cmp(ka) } else { ka.cmp(kb) };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
    keyed.into_iter().map(|(_, doc)| doc).collect()
}

/// Evaluates a `$replaceRoot`/`$replaceWith` expression, which must give an object.
pub(crate) fn replace_root(doc: &Value, expr: &Expr) -> Result<Value, StoreError> {
    match expr.eval(doc)? {
        Some(value @ Value::Object(_)) => Ok(value),
        other => Err(invalid(format!(
            "'newRoot' expression must evaluate to an object, but resulting value was: {}",
            other.map_or_else(|| "MISSING".to_owned(), |v| v.to_string())
        ))),
    }
}
