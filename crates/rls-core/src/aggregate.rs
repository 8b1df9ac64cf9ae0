//! Aggregation decisions: which pipelines a caller may run, with the read scope as first stage.
//!
//! The original blocked only a top-level `$out`/`$merge`, so a publishable key could `$lookup`
//! into any collection on the connection, other tenants' included, and run server-side
//! JavaScript (spec §17, finding 1). Here publishable keys get an allow-list of stages that only
//! reshape the documents of this collection, and a deny-list of operators that is searched at
//! every depth (so `$expr: {$function: …}` inside a `$match` is caught). The secret key may use
//! any stage except those that write (`$out`, `$merge`, anywhere); the collections its
//! `$lookup`/`$graphLookup`/`$unionWith` stages name are returned so that the store can map
//! them to this project's own collections, and the users collection is never one of them.

use serde_json::{Map, Value, json};

use crate::config::{Caller, KeyRole, Target, is_users_collection};
use crate::denial::Denial;
use crate::read::{ReadOp, ReadScope, authorize_read};

/// The most stages one pipeline may have.
pub const MAX_PIPELINE_STAGES: usize = 50;

/// Stages a publishable key may use: each only filters or reshapes the current documents.
const PUBLISHABLE_STAGES: &[&str] = &[
    "$match",
    "$group",
    "$sort",
    "$project",
    "$limit",
    "$skip",
    "$count",
    "$unwind",
    "$addFields",
    "$set",
    "$unset",
    "$sortByCount",
    "$bucket",
    "$bucketAuto",
    "$replaceRoot",
    "$replaceWith",
    "$sample",
];

/// Operators a publishable key may not use at any depth: they read other collections or the
/// server's state, write, or run code.
const PUBLISHABLE_FORBIDDEN: &[&str] = &[
    "$lookup",
    "$unionWith",
    "$graphLookup",
    "$facet",
    "$out",
    "$merge",
    "$function",
    "$accumulator",
    "$where",
    "$documents",
    "$collStats",
    "$indexStats",
    "$currentOp",
    "$listSessions",
    "$listLocalSessions",
    "$planCacheStats",
    "$changeStream",
    "$changeStreamSplitLargeEvent",
    "$search",
    "$searchMeta",
    "$vectorSearch",
    "$listSearchIndexes",
    "$queryStats",
    "$shardedDataDistribution",
    "$listSampledQueries",
    "$listClusterCatalog",
];

/// Operators nobody may use through the data API: they write outside the collection.
const WRITING_STAGES: &[&str] = &["$out", "$merge"];

/// A granted aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    /// The read scope; the store runs it as the first stage.
    pub scope: ReadScope,
    /// The caller's stages, unchanged, in order.
    pub stages: Vec<Value>,
    /// Collections the stages read besides this one (secret key only), as named by the caller.
    pub foreign_collections: Vec<String>,
}

impl AggregatePlan {
    /// The pipeline to run, as MongoDB stages: `{$match: {<owner>: <user>}}` first when the scope
    /// is narrowed, then the caller's stages. Nothing can come before the scope.
    pub fn pipeline(&self) -> Vec<Value> {
        let mut pipeline = Vec::with_capacity(self.stages.len() + 1);
        if let ReadScope::Owner { field, user } = &self.scope {
            let mut filter = Map::new();
            filter.insert(field.clone(), Value::String(user.clone()));
            pipeline.push(json!({ "$match": filter }));
        }
        pipeline.extend(self.stages.iter().cloned());
        pipeline
    }
}

/// Decides `POST /api/data/:collection/aggregate` with body `{"pipeline": [...]}`.
pub fn authorize_aggregate(caller: &Caller<'_>, target: &Target<'_>, body: &Value) -> Result<AggregatePlan, Denial> {
    let scope = authorize_read(caller, target, ReadOp::List)?;
    let stages = pipeline_stages(body)?;
    let mut foreign_collections = Vec::new();
    for stage in stages {
        let (name, _) = single_operator(stage)?;
        match caller.role() {
            KeyRole::Publishable => {
                if !PUBLISHABLE_STAGES.contains(&name) || contains_operator(stage, PUBLISHABLE_FORBIDDEN) {
                    return Err(Denial::blocked_stage());
                }
            }
            KeyRole::Secret => {
                if contains_operator(stage, WRITING_STAGES) {
                    return Err(Denial::blocked_stage());
                }
                collect_foreign_collections(stage, &mut foreign_collections)?;
            }
        }
    }
    Ok(AggregatePlan { scope, stages: stages.to_vec(), foreign_collections })
}

/// Validates the body's shape with the original's (zod) texts.
fn pipeline_stages(body: &Value) -> Result<&[Value], Denial> {
    let object = body.as_object().ok_or_else(|| {
        Denial::invalid_pipeline(format!("Invalid input: expected object, received {}", type_name(body)))
    })?;
    let stages = match object.get("pipeline") {
        Some(Value::Array(stages)) => stages,
        Some(other) => {
            return Err(Denial::invalid_pipeline(format!(
                "Invalid input: expected array, received {}",
                type_name(other)
            )));
        }
        None => return Err(Denial::invalid_pipeline("Invalid input: expected array, received undefined")),
    };
    if stages.is_empty() {
        return Err(Denial::invalid_pipeline("Pipeline must contain at least one stage."));
    }
    if stages.len() > MAX_PIPELINE_STAGES {
        return Err(Denial::invalid_pipeline(format!(
            "Aggregation pipeline has too many stages (at most {MAX_PIPELINE_STAGES})."
        )));
    }
    Ok(stages)
}

/// The single operator of a stage (`{"$match": …}`), refusing empty and multi-key stages.
fn single_operator(stage: &Value) -> Result<(&str, &Value), Denial> {
    let object = match stage {
        Value::Object(object) if !object.is_empty() => object,
        Value::Object(_) => return Err(Denial::invalid_pipeline("Each aggregation stage must be a non-empty object.")),
        other => {
            return Err(Denial::invalid_pipeline(format!(
                "Invalid input: expected object, received {}",
                type_name(other)
            )));
        }
    };
    let mut entries = object.iter();
    match (entries.next(), entries.next()) {
        (Some((name, spec)), None) => Ok((name.as_str(), spec)),
        _ => Err(Denial::invalid_pipeline("Each aggregation stage must have exactly one stage operator.")),
    }
}

/// Whether any object key at any depth (trimmed) is one of `operators`. Iterative, so that a
/// deeply nested stage cannot exhaust the stack.
fn contains_operator(value: &Value, operators: &[&str]) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if map.keys().any(|key| operators.contains(&key.trim())) {
                    return true;
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    false
}

/// Records the collections named by `$lookup.from`, `$graphLookup.from` and `$unionWith`
/// (string or `{coll}`) at any depth; the users collection and non-string names are refused.
fn collect_foreign_collections(stage: &Value, out: &mut Vec<String>) -> Result<(), Denial> {
    let mut pending = vec![stage];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, spec) in map {
                    let named = match (key.as_str(), spec) {
                        ("$lookup" | "$graphLookup", Value::Object(spec)) => spec.get("from"),
                        ("$unionWith", Value::Object(spec)) => spec.get("coll"),
                        ("$unionWith", name @ Value::String(_)) => Some(name),
                        _ => None,
                    };
                    match named {
                        Some(Value::String(name)) if is_users_collection(name) => {
                            return Err(Denial::users_collection());
                        }
                        Some(Value::String(name)) => out.push(name.clone()),
                        Some(_) => return Err(Denial::blocked_stage()),
                        None => {}
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
