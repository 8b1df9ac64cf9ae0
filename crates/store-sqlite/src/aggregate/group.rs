//! `$group` (and `$sortByCount`): groups by the `_id` expression (values equal in MongoDB's sense
//! share a group; groups come out in the order they were first met) with the accumulators
//! `$sum $avg $min $max $count $first $last $push $addToSet`.

use std::collections::HashMap;

use serde_json::{Map, Value};
use store::StoreError;

use super::expr::{Expr, Num, number};
use super::{invalid, unsupported_operator};
use crate::sortkey::{compare_values, encode};

/// A parsed `$group` specification.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    id: Expr,
    fields: Vec<(String, Accumulator, Expr)>,
}

/// The accumulators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accumulator {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    First,
    Last,
    Push,
    AddToSet,
}

/// The running state of one accumulator in one group.
enum State {
    Sum(Num),
    Avg(f64, u64),
    Extreme(Option<Value>, bool),
    Count(u64),
    First(Option<Value>),
    Last(Value),
    Push(Vec<Value>),
    Set(Vec<Value>, std::collections::HashSet<Vec<u8>>),
}

impl Group {
    /// Parses `{_id: <expr>, <field>: {<accumulator>: <expr>}, …}`.
    pub(crate) fn parse(spec: &Value) -> Result<Group, StoreError> {
        let Value::Object(map) = spec else {
            return Err(invalid("a group's fields must be specified in an object"));
        };
        let id = match map.get("_id") {
            Some(id) => Expr::parse(id)?,
            None => return Err(invalid("a group specification must include an _id")),
        };
        let mut fields = Vec::with_capacity(map.len());
        for (name, value) in map.iter().filter(|(k, _)| *k != "_id") {
            if name.contains('.') || name.starts_with('$') {
                return Err(invalid(format!("The field name '{name}' cannot be an operator name or contain '.'")));
            }
            let Some((op, arg)) = value.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
                return Err(invalid(format!("The field '{name}' must be an accumulator object")));
            };
            let accumulator = match op.as_str() {
                "$sum" => Accumulator::Sum,
                "$avg" => Accumulator::Avg,
                "$min" => Accumulator::Min,
                "$max" => Accumulator::Max,
                "$count" => Accumulator::Count,
                "$first" => Accumulator::First,
                "$last" => Accumulator::Last,
                "$push" => Accumulator::Push,
                "$addToSet" => Accumulator::AddToSet,
                other => return Err(unsupported_operator(other)),
            };
            let expr = if accumulator == Accumulator::Count {
                if !arg.as_object().is_some_and(Map::is_empty) {
                    return Err(invalid("$count takes no arguments, i.e. $count: {}"));
                }
                Expr::Literal(Value::Null)
            } else {
                Expr::parse(arg)?
            };
            fields.push((name.clone(), accumulator, expr));
        }
        Ok(Group { id, fields })
    }

    /// A `$sortByCount` grouping: `{_id: <expr>, count: {$sum: 1}}`.
    pub(crate) fn by_count(expr: Expr) -> Group {
        Group { id: expr, fields: vec![("count".to_owned(), Accumulator::Count, Expr::Literal(Value::Null))] }
    }

    /// Runs the grouping.
    pub(crate) fn run(&self, docs: Vec<Value>) -> Result<Vec<Value>, StoreError> {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut groups: Vec<(Value, Vec<State>)> = Vec::new();
        for doc in &docs {
            let key = self.id.eval(doc)?.unwrap_or(Value::Null);
            let slot = match index.get(&encode(&key)) {
                Some(&slot) => slot,
                None => {
                    index.insert(encode(&key), groups.len());
                    groups.push((key, self.fields.iter().map(|(_, acc, _)| State::new(*acc)).collect()));
                    groups.len() - 1
                }
            };
            let Some((_, states)) = groups.get_mut(slot) else { continue };
            for ((_, _, expr), state) in self.fields.iter().zip(states.iter_mut()) {
                state.add(expr.eval(doc)?);
            }
        }
        Ok(groups
            .into_iter()
            .map(|(key, states)| {
                let mut out = Map::with_capacity(states.len() + 1);
                out.insert("_id".to_owned(), key);
                for ((name, _, _), state) in self.fields.iter().zip(states) {
                    out.insert(name.clone(), state.finish());
                }
                Value::Object(out)
            })
            .collect())
    }
}

impl State {
    fn new(accumulator: Accumulator) -> State {
        match accumulator {
            Accumulator::Sum => State::Sum(Num::Int(0)),
            Accumulator::Avg => State::Avg(0.0, 0),
            Accumulator::Min => State::Extreme(None, false),
            Accumulator::Max => State::Extreme(None, true),
            Accumulator::Count => State::Count(0),
            Accumulator::First => State::First(None),
            Accumulator::Last => State::Last(Value::Null),
            Accumulator::Push => State::Push(Vec::new()),
            Accumulator::AddToSet => State::Set(Vec::new(), std::collections::HashSet::new()),
        }
    }

    fn add(&mut self, value: Option<Value>) {
        match self {
            State::Sum(total) => {
                if let Some(n) = value.as_ref().and_then(Num::of) {
                    *total = total.add(n);
                }
            }
            State::Avg(total, count) => {
                if let Some(n) = value.as_ref().and_then(Num::of) {
                    *total += n.float();
                    *count += 1;
                }
            }
            State::Extreme(current, max) => fold_extreme(current, value, *max),
            State::Count(n) => *n += 1,
            State::First(first) => {
                if first.is_none() {
                    *first = Some(value.unwrap_or(Value::Null));
                }
            }
            State::Last(last) => *last = value.unwrap_or(Value::Null),
            State::Push(items) => items.extend(value),
            State::Set(items, seen) => {
                if let Some(value) = value
                    && seen.insert(encode(&value))
                {
                    items.push(value);
                }
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            State::Sum(total) => number(total),
            State::Avg(_, 0) => Value::Null,
            State::Avg(total, count) => number(Num::Float(total / count as f64)),
            State::Extreme(value, _) | State::First(value) => value.unwrap_or(Value::Null),
            State::Count(n) => Value::from(n),
            State::Last(value) => value,
            State::Push(items) | State::Set(items, _) => Value::Array(items),
        }
    }
}

/// Folds a value into a `$min`/`$max` (null and missing are ignored).
fn fold_extreme(current: &mut Option<Value>, value: Option<Value>, max: bool) {
    let Some(value) = value.filter(|v| !v.is_null()) else { return };
    let replace = match current {
        None => true,
        Some(existing) => {
            let order = compare_values(&value, existing);
            if max { order.is_gt() } else { order.is_lt() }
        }
    };
    if replace {
        *current = Some(value);
    }
}
