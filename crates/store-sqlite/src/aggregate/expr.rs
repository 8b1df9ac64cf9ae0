//! Aggregation expressions: field paths (`"$a.b"`, through arrays as MongoDB does), `$$ROOT` /
//! `$$CURRENT`, literals, objects and arrays of expressions, and a few operators: `$literal`,
//! `$concat`, `$toLower`, `$toUpper`, `$add`, `$subtract`, `$multiply`, `$divide`, `$size`,
//! `$ifNull`, `$cond`, `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$and`, `$or`, `$not`.
//! Any other operator is refused as unsupported. A result is `None` when it is *missing* (a
//! missing field), which stages treat as MongoDB does (no field written).

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};
use store::StoreError;

use super::{invalid, unsupported_operator};
use crate::sortkey::compare_values;

/// A parsed expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// A constant.
    Literal(Value),
    /// A field path below the current document (`$a.b`, `$$ROOT.a.b`); empty is the document.
    Path(Vec<String>),
    /// `$$REMOVE`: always missing.
    Remove,
    /// An object of expressions.
    Object(Vec<(String, Expr)>),
    /// An array of expressions.
    Array(Vec<Expr>),
    /// An operator with its arguments.
    Op(Operator, Vec<Expr>),
    /// `$cond`.
    Cond(Box<[Expr; 3]>),
}

/// The operators implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Concat,
    ToLower,
    ToUpper,
    Add,
    Subtract,
    Multiply,
    Divide,
    Size,
    IfNull,
    Cmp(CmpOp),
    And,
    Or,
    Not,
}

/// Comparison operators of expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Expr {
    /// Parses an expression.
    pub(crate) fn parse(value: &Value) -> Result<Expr, StoreError> {
        match value {
            Value::String(s) => parse_string(s),
            Value::Array(items) => Ok(Expr::Array(items.iter().map(Expr::parse).collect::<Result<_, _>>()?)),
            Value::Object(map) => parse_object(map),
            other => Ok(Expr::Literal(other.clone())),
        }
    }

    /// Evaluates the expression against `doc`.
    pub(crate) fn eval(&self, doc: &Value) -> Result<Option<Value>, StoreError> {
        match self {
            Expr::Literal(v) => Ok(Some(v.clone())),
            Expr::Path(segments) => Ok(path_value(doc, segments)),
            Expr::Remove => Ok(None),
            Expr::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, expr) in fields {
                    if let Some(v) = expr.eval(doc)? {
                        out.insert(name.clone(), v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(item.eval(doc)?.unwrap_or(Value::Null));
                }
                Ok(Some(Value::Array(out)))
            }
            Expr::Cond(parts) => {
                let [test, then, otherwise] = parts.as_ref();
                if truthy(test.eval(doc)?.as_ref()) { then.eval(doc) } else { otherwise.eval(doc) }
            }
            Expr::Op(op, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(arg.eval(doc)?);
                }
                apply(*op, values)
            }
        }
    }
}

fn parse_string(s: &str) -> Result<Expr, StoreError> {
    if let Some(variable) = s.strip_prefix("$$") {
        let (name, rest) = variable.split_once('.').map_or((variable, None), |(n, r)| (n, Some(r)));
        return match name {
            "ROOT" | "CURRENT" => Ok(Expr::Path(rest.map(split_path).transpose()?.unwrap_or_default())),
            "REMOVE" if rest.is_none() => Ok(Expr::Remove),
            _ => Err(StoreError::Unsupported(format!(
                "Aggregation variable '$${name}' is not supported on the embedded store."
            ))),
        };
    }
    match s.strip_prefix('$') {
        Some(path) => Ok(Expr::Path(split_path(path)?)),
        None => Ok(Expr::Literal(Value::String(s.to_owned()))),
    }
}

/// Splits a field path (`a.b`), refusing empty segments and `$` names.
pub(crate) fn split_path(path: &str) -> Result<Vec<String>, StoreError> {
    if path.is_empty() || path.split('.').any(|s| s.is_empty() || s.starts_with('$')) {
        return Err(invalid(format!("Invalid field path '{path}'.")));
    }
    Ok(path.split('.').map(str::to_owned).collect())
}

fn parse_object(map: &Map<String, Value>) -> Result<Expr, StoreError> {
    let operator = map.keys().find(|k| k.starts_with('$'));
    let Some(name) = operator else {
        let fields = map.iter().map(|(k, v)| Ok((k.clone(), Expr::parse(v)?))).collect::<Result<_, StoreError>>()?;
        return Ok(Expr::Object(fields));
    };
    if map.len() != 1 {
        return Err(invalid("An expression specification must contain exactly one field, the name of the expression."));
    }
    let arg = map.get(name).unwrap_or(&Value::Null);
    let op = match name.as_str() {
        "$literal" => return Ok(Expr::Literal(arg.clone())),
        "$cond" => return parse_cond(arg),
        "$concat" => Operator::Concat,
        "$toLower" => Operator::ToLower,
        "$toUpper" => Operator::ToUpper,
        "$add" => Operator::Add,
        "$subtract" => Operator::Subtract,
        "$multiply" => Operator::Multiply,
        "$divide" => Operator::Divide,
        "$size" => Operator::Size,
        "$ifNull" => Operator::IfNull,
        "$eq" => Operator::Cmp(CmpOp::Eq),
        "$ne" => Operator::Cmp(CmpOp::Ne),
        "$gt" => Operator::Cmp(CmpOp::Gt),
        "$gte" => Operator::Cmp(CmpOp::Gte),
        "$lt" => Operator::Cmp(CmpOp::Lt),
        "$lte" => Operator::Cmp(CmpOp::Lte),
        "$and" => Operator::And,
        "$or" => Operator::Or,
        "$not" => Operator::Not,
        other => return Err(unsupported_operator(other)),
    };
    let args: Vec<Expr> = match arg {
        Value::Array(items) => items.iter().map(Expr::parse).collect::<Result<_, _>>()?,
        single => vec![Expr::parse(single)?],
    };
    let arity_ok = match op {
        Operator::ToLower | Operator::ToUpper | Operator::Size | Operator::Not => args.len() == 1,
        Operator::Subtract | Operator::Divide | Operator::Cmp(_) => args.len() == 2,
        Operator::IfNull => args.len() >= 2,
        _ => true,
    };
    if !arity_ok {
        return Err(invalid(format!("Expression {name} takes a different number of arguments.")));
    }
    Ok(Expr::Op(op, args))
}

fn parse_cond(arg: &Value) -> Result<Expr, StoreError> {
    let parts = match arg {
        Value::Array(items) if items.len() == 3 => (items.first(), items.get(1), items.get(2)),
        Value::Object(map) => (map.get("if"), map.get("then"), map.get("else")),
        _ => (None, None, None),
    };
    match parts {
        (Some(test), Some(then), Some(otherwise)) => {
            Ok(Expr::Cond(Box::new([Expr::parse(test)?, Expr::parse(then)?, Expr::parse(otherwise)?])))
        }
        _ => Err(invalid("$cond needs 'if', 'then' and 'else'.")),
    }
}

/// MongoDB's truthiness: missing, null, false and 0 are false.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(_) => true,
    }
}

/// The value of a field path in expression semantics: through arrays, collecting values.
pub(crate) fn path_value(doc: &Value, segments: &[String]) -> Option<Value> {
    let Some((head, rest)) = segments.split_first() else {
        return Some(doc.clone());
    };
    match doc {
        Value::Object(map) => map.get(head).and_then(|child| path_value(child, rest)),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter(|item| item.is_object() || item.is_array())
                .filter_map(|item| path_value(item, segments))
                .collect(),
        )),
        _ => None,
    }
}

fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "missing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn is_nullish(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null))
}

/// A number as a JSON value: integral results stay integers.
pub(crate) fn number(n: Num) -> Value {
    match n {
        Num::Int(i) => Value::from(i),
        Num::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
    }
}

/// An integer or a double, as arithmetic keeps them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    /// An integer (kept while results stay integral and in range).
    Int(i64),
    /// A double.
    Float(f64),
}

impl Num {
    /// The number of a JSON value.
    pub(crate) fn of(value: &Value) -> Option<Num> {
        let Value::Number(n) = value else { return None };
        n.as_i64().map(Num::Int).or_else(|| n.as_f64().map(Num::Float))
    }

    /// As a double.
    pub(crate) fn float(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn combine(self, other: Num, int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => int(a, b).map_or_else(|| Num::Float(float(a as f64, b as f64)), Num::Int),
            (a, b) => Num::Float(float(a.float(), b.float())),
        }
    }

    /// Sum.
    pub(crate) fn add(self, other: Num) -> Num {
        self.combine(other, i64::checked_add, |a, b| a + b)
    }
}

fn numbers(op: &str, values: &[Option<Value>]) -> Result<Option<Vec<Num>>, StoreError> {
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        if is_nullish(value.as_ref()) {
            return Ok(None);
        }
        match value.as_ref().and_then(Num::of) {
            Some(n) => out.push(n),
            None => {
                return Err(invalid(format!("{op} only supports numeric types, not {}", type_name(value.as_ref()))));
            }
        }
    }
    Ok(Some(out))
}

fn apply(op: Operator, values: Vec<Option<Value>>) -> Result<Option<Value>, StoreError> {
    let first = values.first().cloned().flatten();
    let second = values.get(1).cloned().flatten();
    Ok(match op {
        Operator::Concat => {
            let mut out = String::new();
            for value in &values {
                match value {
                    None | Some(Value::Null) => return Ok(Some(Value::Null)),
                    Some(Value::String(s)) => out.push_str(s),
                    other => {
                        return Err(invalid(format!(
                            "$concat only supports strings, not {}",
                            type_name(other.as_ref())
                        )));
                    }
                }
            }
            Some(Value::String(out))
        }
        Operator::ToLower | Operator::ToUpper => {
            let text = match &first {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                other => {
                    return Err(invalid(format!("can't convert from {} to string", type_name(other.as_ref()))));
                }
            };
            let text = if op == Operator::ToLower { text.to_lowercase() } else { text.to_uppercase() };
            Some(Value::String(text))
        }
        Operator::Add | Operator::Multiply => {
            let Some(nums) = numbers(if op == Operator::Add { "$add" } else { "$multiply" }, &values)? else {
                return Ok(Some(Value::Null));
            };
            let start = if op == Operator::Add { Num::Int(0) } else { Num::Int(1) };
            let result = nums.into_iter().fold(start, |acc, n| {
                if op == Operator::Add { acc.add(n) } else { acc.combine(n, i64::checked_mul, |a, b| a * b) }
            });
            Some(number(result))
        }
        Operator::Subtract | Operator::Divide => {
            let name = if op == Operator::Subtract { "$subtract" } else { "$divide" };
            let Some(nums) = numbers(name, &values)? else { return Ok(Some(Value::Null)) };
            match (op, nums.as_slice()) {
                (Operator::Subtract, [a, b]) => Some(number(a.combine(*b, i64::checked_sub, |x, y| x - y))),
                (_, [a, b]) if b.float() == 0.0 => return Err(invalid("can't $divide by zero")),
                (_, [a, b]) => Some(number(Num::Float(a.float() / b.float()))),
                _ => return Err(invalid(format!("{name} takes exactly 2 arguments."))),
            }
        }
        Operator::Size => match &first {
            Some(Value::Array(items)) => Some(Value::from(items.len())),
            other => {
                return Err(invalid(format!(
                    "The argument to $size must be an array. Type of argument: {}",
                    type_name(other.as_ref())
                )));
            }
        },
        Operator::IfNull => {
            let (last, candidates) = values.split_last().map_or((None, &[][..]), |(l, c)| (l.clone(), c));
            candidates.iter().find(|v| !is_nullish(v.as_ref())).cloned().unwrap_or(last)
        }
        Operator::Cmp(cmp) => {
            let order = compare_optional(first.as_ref(), second.as_ref());
            let result = match cmp {
                CmpOp::Eq => order == Ordering::Equal,
                CmpOp::Ne => order != Ordering::Equal,
                CmpOp::Gt => order == Ordering::Greater,
                CmpOp::Gte => order != Ordering::Less,
                CmpOp::Lt => order == Ordering::Less,
                CmpOp::Lte => order != Ordering::Greater,
            };
            Some(Value::Bool(result))
        }
        Operator::And => Some(Value::Bool(values.iter().all(|v| truthy(v.as_ref())))),
        Operator::Or => Some(Value::Bool(values.iter().any(|v| truthy(v.as_ref())))),
        Operator::Not => Some(Value::Bool(!truthy(first.as_ref()))),
    })
}

/// Expression comparison: missing sorts below null, then MongoDB's order.
fn compare_optional(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare_values(a, b),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(expr: Value, doc: Value) -> Option<Value> {
        Expr::parse(&expr).unwrap().eval(&doc).unwrap()
    }

    #[test]
    fn paths_operators_and_literals() {
        let doc = json!({"a": {"b": 2}, "items": [{"p": 1}, {"p": 2}, {"q": 3}], "s": "Ab"});
        assert_eq!(eval(json!("$a.b"), doc.clone()), Some(json!(2)));
        assert_eq!(eval(json!("$items.p"), doc.clone()), Some(json!([1, 2])));
        assert_eq!(eval(json!("$nope"), doc.clone()), None);
        assert_eq!(eval(json!("$$ROOT.s"), doc.clone()), Some(json!("Ab")));
        assert_eq!(eval(json!({"$literal": "$a"}), doc.clone()), Some(json!("$a")));
        assert_eq!(eval(json!({"$add": ["$a.b", 3]}), doc.clone()), Some(json!(5)));
        assert_eq!(eval(json!({"$divide": [3, 2]}), doc.clone()), Some(json!(1.5)));
        assert_eq!(eval(json!({"$concat": ["$s", "-", {"$toLower": "$s"}]}), doc.clone()), Some(json!("Ab-ab")));
        assert_eq!(eval(json!({"$size": "$items"}), doc.clone()), Some(json!(3)));
        assert_eq!(eval(json!({"$ifNull": ["$nope", "x"]}), doc.clone()), Some(json!("x")));
        assert_eq!(eval(json!({"$cond": [{"$gt": ["$a.b", 1]}, "big", "small"]}), doc.clone()), Some(json!("big")));
        assert_eq!(eval(json!({"k": "$a.b", "gone": "$nope"}), doc), Some(json!({"k": 2})));
        assert!(matches!(Expr::parse(&json!({"$function": {}})), Err(StoreError::Unsupported(_))));
    }
}
