//! Aggregation on the embedded store: the publishable subset of MongoDB's pipeline, run in Rust
//! over the documents of the read scope.
//!
//! The scope is applied first, in SQL (`ReadScope::permits` as a `WHERE`), and leading `$match`
//! stages filter the rows as they stream from the table (in insertion order, MongoDB's natural
//! order); the remaining stages run in memory. Supported stages:
//!
//! | Stage | Support |
//! |---|---|
//! | `$match` | MongoDB's query language ([`matcher`]): equality, `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $size $not`, `$and $or $nor` |
//! | `$group` | `_id` any expression; `$sum $avg $min $max $count $first $last $push $addToSet` ([`group`]) |
//! | `$sort` | `1`/`-1` per path, MongoDB's order across types, arrays by their min/max element |
//! | `$limit`, `$skip` | non-negative integers (`$limit` positive) |
//! | `$count` | `{<name>: n}`; nothing when no document reaches it, as in MongoDB |
//! | `$project` | inclusion (`1`/`true`, expressions, nested) or exclusion (`0`/`false`); `_id` kept unless `_id: 0` |
//! | `$addFields`, `$set` | expressions at dotted paths |
//! | `$unset` | a path or a list of paths |
//! | `$unwind` | `"$path"` or `{path, includeArrayIndex, preserveNullAndEmptyArrays}` |
//! | `$sortByCount` | any expression; groups by count, descending |
//! | `$replaceRoot`, `$replaceWith` | any expression that evaluates to an object |
//!
//! Expressions ([`expr`]): field paths, `$$ROOT`/`$$CURRENT`/`$$REMOVE`, literals, objects,
//! arrays, `$literal $concat $toLower $toUpper $add $subtract $multiply $divide $size $ifNull
//! $cond $eq $ne $gt $gte $lt $lte $and $or $not`. Any other stage is
//! `Unsupported("Aggregation stage '<x>' is not supported on the embedded store.")`, any other
//! operator `Unsupported("Aggregation operator '<x>' is not supported on the embedded store.")`.
//! Regular expressions use the linear-time `regex` crate (PCRE-only constructs are refused).

mod expr;
mod group;
mod matcher;
mod stages;

use rls_core::ReadScope;
use rusqlite::Connection;
use serde_json::Value;
use store::StoreError;

use crate::error::SqlResultExt;
use crate::sql::{Sql, parse_body};
use expr::Expr;
use group::Group;
use matcher::Matcher;
use stages::{Projection, Unwind};

/// A client error in a stage's arguments.
pub(crate) fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::InvalidInput(message.into())
}

/// An operator the embedded store does not implement.
pub(crate) fn unsupported_operator(name: &str) -> StoreError {
    StoreError::Unsupported(format!("Aggregation operator '{name}' is not supported on the embedded store."))
}

fn unsupported_stage(name: &str) -> StoreError {
    StoreError::Unsupported(format!("Aggregation stage '{name}' is not supported on the embedded store."))
}

/// One parsed stage.
#[derive(Debug, Clone)]
enum Stage {
    Match(Matcher),
    Group(Group),
    Sort(Vec<(Vec<String>, bool)>),
    Limit(usize),
    Skip(usize),
    Count(String),
    Project(Projection),
    AddFields(Vec<(Vec<String>, Expr)>),
    Unset(Vec<Vec<String>>),
    Unwind(Unwind),
    SortByCount(Expr),
    ReplaceRoot(Expr),
}

/// A parsed pipeline (parsing refuses what cannot run before any document is read).
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    stages: Vec<Stage>,
}

impl Pipeline {
    /// Parses the caller's stages.
    pub(crate) fn parse(stages: &[Value]) -> Result<Pipeline, StoreError> {
        let stages = stages.iter().map(parse_stage).collect::<Result<_, _>>()?;
        Ok(Pipeline { stages })
    }

    /// Runs the pipeline over the scoped documents of `table` (`None`: the collection does not
    /// exist, so there are none).
    pub(crate) fn run(
        &self,
        conn: &Connection,
        table: Option<&str>,
        scope: &ReadScope,
    ) -> Result<Vec<Value>, StoreError> {
        let leading = self.stages.iter().take_while(|s| matches!(s, Stage::Match(_))).count();
        let (filters, rest) = self.stages.split_at(leading);
        let mut docs = Vec::new();
        if let Some(table) = table {
            let mut sql = Sql::new();
            let condition = sql.scope(scope).unwrap_or_else(|| "1".to_owned());
            let text = format!("SELECT body FROM \"{table}\" WHERE {condition} ORDER BY rowid");
            let mut stmt = conn.prepare_cached(&text).store()?;
            let mut rows = stmt.query(rusqlite::params_from_iter(&sql.params)).store()?;
            while let Some(row) = rows.next().store()? {
                let body: String = row.get(0).store()?;
                let doc = Value::Object(parse_body(&body)?);
                let keep = filters.iter().all(|stage| match stage {
                    Stage::Match(m) => m.matches(&doc),
                    _ => true,
                });
                if keep {
                    docs.push(doc);
                }
            }
        }
        for stage in rest {
            docs = run_stage(stage, docs)?;
        }
        Ok(docs)
    }
}

fn count_spec(spec: &Value) -> Result<String, StoreError> {
    match spec {
        Value::String(name) if !name.is_empty() && !name.starts_with('$') && !name.contains('.') => Ok(name.clone()),
        _ => Err(invalid("the count field must be a non-empty string, not start with '$' and not contain '.'")),
    }
}

fn count_arg(spec: &Value, stage: &str, positive: bool) -> Result<usize, StoreError> {
    let n = spec.as_u64().or_else(|| spec.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64));
    match n.and_then(|n| usize::try_from(n).ok()) {
        Some(n) if n > 0 || !positive => Ok(n),
        _ if positive => Err(invalid(format!("the {stage} must be a positive integer"))),
        _ => Err(invalid(format!("the {stage} must be a non-negative integer"))),
    }
}

fn parse_stage(stage: &Value) -> Result<Stage, StoreError> {
    let Some((name, spec)) = stage.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return Err(invalid("Each aggregation stage must have exactly one stage operator."));
    };
    Ok(match name.as_str() {
        "$match" => Stage::Match(Matcher::parse(spec)?),
        "$group" => Stage::Group(Group::parse(spec)?),
        "$sort" => Stage::Sort(stages::parse_sort(spec)?),
        "$limit" => Stage::Limit(count_arg(spec, "limit", true)?),
        "$skip" => Stage::Skip(count_arg(spec, "skip", false)?),
        "$count" => Stage::Count(count_spec(spec)?),
        "$project" => Stage::Project(Projection::parse(spec)?),
        "$addFields" | "$set" => Stage::AddFields(stages::parse_add_fields(spec)?),
        "$unset" => Stage::Unset(stages::parse_unset(spec)?),
        "$unwind" => Stage::Unwind(Unwind::parse(spec)?),
        "$sortByCount" => match spec {
            Value::String(s) if s.starts_with('$') => Stage::SortByCount(Expr::parse(spec)?),
            Value::Object(m) if m.keys().next().is_some_and(|k| k.starts_with('$')) => {
                Stage::SortByCount(Expr::parse(spec)?)
            }
            _ => return Err(invalid("the sortByCount field must be defined as a $-prefixed path or an expression")),
        },
        "$replaceRoot" => match spec.get("newRoot") {
            Some(root) if spec.as_object().is_some_and(|m| m.len() == 1) => Stage::ReplaceRoot(Expr::parse(root)?),
            _ => return Err(invalid("$replaceRoot needs exactly the field 'newRoot'")),
        },
        "$replaceWith" => Stage::ReplaceRoot(Expr::parse(spec)?),
        other => return Err(unsupported_stage(other)),
    })
}

fn run_stage(stage: &Stage, docs: Vec<Value>) -> Result<Vec<Value>, StoreError> {
    Ok(match stage {
        Stage::Match(m) => docs.into_iter().filter(|d| m.matches(d)).collect(),
        Stage::Group(g) => g.run(docs)?,
        Stage::Sort(keys) => stages::sort(docs, keys),
        Stage::Limit(n) => docs.into_iter().take(*n).collect(),
        Stage::Skip(n) => docs.into_iter().skip(*n).collect(),
        Stage::Count(name) if docs.is_empty() => Vec::new(),
        Stage::Count(name) => {
            let mut out = serde_json::Map::new();
            out.insert(name.clone(), Value::from(docs.len()));
            vec![Value::Object(out)]
        }
        Stage::Project(p) => docs.into_iter().map(|d| p.apply(d)).collect::<Result<_, _>>()?,
        Stage::AddFields(fields) => {
            docs.into_iter().map(|d| stages::add_fields(d, fields)).collect::<Result<_, _>>()?
        }
        Stage::Unset(paths) => docs
            .into_iter()
            .map(|d| match d {
                Value::Object(mut map) => {
                    paths.iter().for_each(|p| stages::remove_path(&mut map, p));
                    Value::Object(map)
                }
                other => other,
            })
            .collect(),
        Stage::Unwind(u) => {
            let mut out = Vec::with_capacity(docs.len());
            docs.into_iter().for_each(|d| u.apply(d, &mut out));
            out
        }
        Stage::SortByCount(expr) => {
            let mut groups = Group::by_count(expr.clone()).run(docs)?;
            groups.sort_by(|a, b| {
                let count = |v: &Value| v.get("count").and_then(Value::as_u64).unwrap_or(0);
                count(b).cmp(&count(a))
            });
            groups
        }
        Stage::ReplaceRoot(expr) => docs.iter().map(|d| stages::replace_root(d, expr)).collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(stages: Value, docs: Value) -> Result<Vec<Value>, StoreError> {
        let pipeline = Pipeline::parse(stages.as_array().unwrap())?;
        let mut docs = docs.as_array().unwrap().clone();
        for stage in &pipeline.stages {
            docs = run_stage(stage, docs)?;
        }
        Ok(docs)
    }

    #[test]
    fn stages_compose() {
        let docs = json!([
            {"_id": 1, "k": "a", "n": 1, "tags": ["x", "y"]},
            {"_id": 2, "k": "b", "n": 2.5, "tags": []},
            {"_id": 3, "k": "a", "n": 3, "tags": ["y"]},
        ]);
        let out = run(
            json!([{"$group": {"_id": "$k", "total": {"$sum": "$n"}, "avg": {"$avg": "$n"}, "c": {"$count": {}},
                    "ids": {"$push": "$_id"}, "max": {"$max": "$n"}, "min": {"$min": "$n"}}},
                   {"$sort": {"_id": 1}}]),
            docs.clone(),
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                json!({"_id": "a", "total": 4, "avg": 2.0, "c": 1 + 1, "ids": [1, 3], "max": 3, "min": 1}),
                json!({"_id": "b", "total": 2.5, "avg": 2.5, "c": 1, "ids": [2], "max": 2.5, "min": 2.5}),
            ]
        );
        let out = run(json!([{"$unwind": "$tags"}, {"$sortByCount": "$tags"}]), docs.clone()).unwrap();
        assert_eq!(out, vec![json!({"_id": "y", "count": 2}), json!({"_id": "x", "count": 1})]);
        let out = run(
            json!([{"$unwind": {"path": "$tags", "preserveNullAndEmptyArrays": true,
                                            "includeArrayIndex": "i"}}, {"$project": {"_id": 0, "tags": 1, "i": 1}}]),
            docs.clone(),
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                json!({"tags": "x", "i": 0}),
                json!({"tags": "y", "i": 1}),
                json!({"i": null}),
                json!({"tags": "y", "i": 0})
            ]
        );
        let out = run(
            json!([{"$match": {"n": {"$gt": 1}}}, {"$project": {"k": 1, "double": {"$multiply": ["$n", 2]}}},
                             {"$skip": 1}, {"$limit": 1}]),
            docs.clone(),
        )
        .unwrap();
        assert_eq!(out, vec![json!({"_id": 3, "k": "a", "double": 6})]);
        let out =
            run(json!([{"$set": {"m.x": "$k"}}, {"$unset": ["tags", "n"]}, {"$replaceWith": "$m"}]), docs.clone())
                .unwrap();
        assert_eq!(out, vec![json!({"x": "a"}), json!({"x": "b"}), json!({"x": "a"})]);
        assert_eq!(run(json!([{"$match": {"k": "z"}}, {"$count": "c"}]), docs.clone()).unwrap(), Vec::<Value>::new());
        assert_eq!(run(json!([{"$count": "c"}]), docs.clone()).unwrap(), vec![json!({"c": 3})]);
        let err = run(json!([{"$lookup": {}}]), docs).unwrap_err();
        assert_eq!(err, unsupported_stage("$lookup"));
        assert_eq!(err.to_string(), "Aggregation stage '$lookup' is not supported on the embedded store.");
    }
}
