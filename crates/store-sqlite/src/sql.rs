//! Translation of the query AST and the scopes to SQL over the JSON bodies (SQLite JSON1 plus the
//! functions of [`crate::functions`]), with MongoDB's semantics as [`query::Filter::matches`]
//! defines them.
//!
//! User text never becomes SQL: values are bound parameters; field names are validated
//! [`query::FieldPath`]s or owner fields that this module quotes into JSON paths (`$."a"."b"`,
//! with `"` and `\` escaped as JSON escapes, which SQLite's path parser decodes) inside SQL
//! string literals (single quotes doubled).
//!
//! A condition on a path holds when some *candidate* satisfies it: the path is followed through
//! objects, and through arrays element-wise (object elements only); the values reached, and the
//! elements of those that are arrays, are the candidates. `Ne` is the negation of `Eq` and
//! `Exists` looks at the values reached, so both see missing fields.

use query::{Condition, CursorPosition, FieldPath, Filter, ListQuery, Op, Scalar, SortKey, SortOrder};
use rls_core::ReadScope;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::sortkey::{self, KeyMode};
use store::StoreError;

/// A piece of SQL with its positional parameters (`?1`, `?2`, … in order of [`Sql::params`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    /// The parameters, bound by number.
    pub(crate) params: Vec<SqlValue>,
    alias: usize,
}

impl Sql {
    /// A new builder.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A builder whose first parameters are already given (`?1` … `?n`).
    pub(crate) fn with_params(params: Vec<SqlValue>) -> Self {
        Sql { params, alias: 0 }
    }

    /// Adds a parameter and returns its placeholder.
    pub(crate) fn param(&mut self, value: impl Into<SqlValue>) -> String {
        self.params.push(value.into());
        format!("?{}", self.params.len())
    }

    fn alias(&mut self) -> String {
        self.alias += 1;
        format!("e{}", self.alias)
    }

    /// The SQL condition (never NULL) for a filter ANDed with a read scope.
    pub(crate) fn where_clause(&mut self, scope: &ReadScope, filter: &Filter) -> String {
        let mut parts = Vec::with_capacity(filter.conditions().len() + 1);
        if let Some(owner) = self.scope(scope) {
            parts.push(owner);
        }
        for condition in filter {
            parts.push(self.condition(condition));
        }
        if parts.is_empty() { "1".to_owned() } else { parts.join(" AND ") }
    }

    /// The owner condition of a scope (`None` for [`ReadScope::All`]): the top-level field is a
    /// string equal to the user. The `json_extract` term is the one the owner index covers.
    pub(crate) fn scope(&mut self, scope: &ReadScope) -> Option<String> {
        match scope {
            ReadScope::All => None,
            ReadScope::Owner { field, user } => Some(self.owner(field, user)),
        }
    }

    /// `doc[field] == user` as exact string equality.
    pub(crate) fn owner(&mut self, field: &str, user: &str) -> String {
        let path = lit(&json_path([field]));
        let p = self.param(user.to_owned());
        // `json_extract` yields SQL text for a JSON string and the JSON text of an array or
        // object; numbers, booleans and null never equal a text parameter. So only a user id
        // that could be the JSON text of an array or object (`[`/`{`) needs the type check, and
        // every other scope is answered from the owner index alone.
        if user.starts_with(['[', '{']) {
            format!("(json_extract(body, {path}) = {p} AND json_type(body, {path}) = 'text')")
        } else {
            format!("(json_extract(body, {path}) = {p})")
        }
    }

    /// One condition, as a 0/1 expression.
    pub(crate) fn condition(&mut self, condition: &Condition) -> String {
        let segments: Vec<&str> = condition.path.segments().collect();
        if condition.path.is_id()
            && let Some(sql) = self.id_condition(&condition.op)
        {
            return sql;
        }
        match &condition.op {
            Op::Exists(present) => {
                let sql = self.leaf_exists("body", "$", &segments);
                if *present { format!("IFNULL({sql}, 0)") } else { format!("NOT IFNULL({sql}, 0)") }
            }
            Op::Ne(value) => {
                let pred = Pred::compile(self, &Op::Eq(value.clone()));
                format!("NOT {}", self.any_candidate(&segments, &pred))
            }
            op => {
                let pred = Pred::compile(self, op);
                self.any_candidate(&segments, &pred)
            }
        }
    }

    /// `_id` conditions on ObjectIds use the `id` column (always equal to the body's `_id`).
    fn id_condition(&mut self, op: &Op) -> Option<String> {
        match op {
            Op::Eq(Scalar::ObjectId(id)) => Some(format!("id = {}", self.param(id.as_str().to_owned()))),
            Op::Ne(Scalar::ObjectId(id)) => Some(format!("id <> {}", self.param(id.as_str().to_owned()))),
            Op::In(list) if !list.is_empty() && list.iter().all(|s| matches!(s, Scalar::ObjectId(_))) => {
                let params: Vec<String> = list
                    .iter()
                    .filter_map(|s| match s {
                        Scalar::ObjectId(id) => Some(self.param(id.as_str().to_owned())),
                        _ => None,
                    })
                    .collect();
                Some(format!("id IN ({})", params.join(", ")))
            }
            _ => None,
        }
    }

    fn any_candidate(&mut self, segments: &[&str], pred: &Pred) -> String {
        format!("IFNULL({}, 0)", self.candidates("body", "$", segments, pred))
    }

    /// Some candidate below `src` (JSON text) at `prefix` + `segments` satisfies `pred`.
    fn candidates(&mut self, src: &str, prefix: &str, segments: &[&str], pred: &Pred) -> String {
        let Some((head, rest)) = segments.split_first() else {
            return "0".to_owned();
        };
        let path = format!("{prefix}.{}", quote_segment(head));
        let at = lit(&path);
        let e = self.alias();
        if rest.is_empty() {
            let elements = pred.sql(&format!("{e}.value"), &format!("{e}.type"));
            let scalar = pred.sql(&format!("json_extract({src}, {at})"), &format!("json_type({src}, {at})"));
            format!(
                "(CASE json_type({src}, {at}) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each({src}, {at}) AS {e} \
                 WHERE {elements}) ELSE {scalar} END)"
            )
        } else {
            let inner_object = self.candidates(src, &path, rest, pred);
            let inner_element = self.candidates(&format!("{e}.value"), "$", rest, pred);
            format!(
                "(CASE json_type({src}, {at}) WHEN 'object' THEN {inner_object} WHEN 'array' THEN EXISTS (SELECT 1 \
                 FROM json_each({src}, {at}) AS {e} WHERE {e}.type = 'object' AND {inner_element}) ELSE 0 END)"
            )
        }
    }

    /// Some value (of any type, `null` included) is reached at `prefix` + `segments`.
    fn leaf_exists(&mut self, src: &str, prefix: &str, segments: &[&str]) -> String {
        let Some((head, rest)) = segments.split_first() else {
            return "0".to_owned();
        };
        let path = format!("{prefix}.{}", quote_segment(head));
        let at = lit(&path);
        if rest.is_empty() {
            return format!("(json_type({src}, {at}) IS NOT NULL)");
        }
        let e = self.alias();
        let inner_object = self.leaf_exists(src, &path, rest);
        let inner_element = self.leaf_exists(&format!("{e}.value"), "$", rest);
        format!(
            "(CASE json_type({src}, {at}) WHEN 'object' THEN {inner_object} WHEN 'array' THEN EXISTS (SELECT 1 FROM \
             json_each({src}, {at}) AS {e} WHERE {e}.type = 'object' AND {inner_element}) ELSE 0 END)"
        )
    }

    /// `ORDER BY` terms for the query's sort keys.
    pub(crate) fn order_by(sort: &[SortKey]) -> String {
        let terms: Vec<String> = sort
            .iter()
            .map(|key| {
                let dir = match key.order {
                    SortOrder::Asc => "ASC",
                    SortOrder::Desc => "DESC",
                };
                format!("{} {dir}", sort_expr(key))
            })
            .collect();
        if terms.is_empty() { "id DESC".to_owned() } else { terms.join(", ") }
    }

    /// The keyset condition of cursor pagination: rows strictly after `after` in the order `sort`.
    pub(crate) fn after(&mut self, sort: &[SortKey], after: &CursorPosition) -> Result<String, StoreError> {
        let mut terms: Vec<(String, String, SortOrder)> = Vec::with_capacity(sort.len());
        for key in sort {
            let value = if key.path.is_id() {
                self.param(after.id.as_str().to_owned())
            } else if key.path == after.sort.path {
                let json = after.value.as_ref().map(Scalar::to_json);
                self.param(sortkey::sort_key(json.as_ref(), "", KeyMode::Asc))
            } else {
                return Err(StoreError::InvalidInput("Invalid cursor.".to_owned()));
            };
            terms.push((sort_expr(key), value, key.order));
        }
        let Some(first) = terms.first() else {
            return Ok("1".to_owned());
        };
        let op = |order: SortOrder| if order == SortOrder::Asc { ">" } else { "<" };
        if terms.iter().all(|(_, _, order)| *order == first.2) {
            let left: Vec<&str> = terms.iter().map(|(e, _, _)| e.as_str()).collect();
            let right: Vec<&str> = terms.iter().map(|(_, v, _)| v.as_str()).collect();
            // The redundant bound on the first key lets SQLite range-scan an index on it.
            let bound = format!("{} {}= {}", first.0, op(first.2), first.1);
            return Ok(format!("({bound} AND ({}) {} ({}))", left.join(", "), op(first.2), right.join(", ")));
        }
        // Mixed directions: (a > x) OR (a = x AND b < y) OR …
        let mut alternatives = Vec::with_capacity(terms.len());
        for (i, (expr, value, order)) in terms.iter().enumerate() {
            let mut conj: Vec<String> = terms.iter().take(i).map(|(e, v, _)| format!("{e} = {v}")).collect();
            conj.push(format!("{expr} {} {value}", op(*order)));
            alternatives.push(format!("({})", conj.join(" AND ")));
        }
        Ok(format!("({})", alternatives.join(" OR ")))
    }
}

/// The expression a sort key orders by: the `id` column for `_id`, else the sort key of the path.
pub(crate) fn sort_expr(key: &SortKey) -> String {
    if key.path.is_id() {
        return "id".to_owned();
    }
    let mode = match key.order {
        SortOrder::Asc => KeyMode::Asc,
        SortOrder::Desc => KeyMode::Desc,
    };
    key_expr(&key.path, mode)
}

/// `ub_key(body -> '$."top"', 'rest.of.path', mode)`: the indexable sort key of a path.
pub(crate) fn key_expr(path: &FieldPath, mode: KeyMode) -> String {
    let mut segments = path.segments();
    let top = segments.next().unwrap_or_default();
    let rest: Vec<&str> = segments.collect();
    format!("ub_key(body -> {}, {}, {})", lit(&json_path([top])), lit(&rest.join(".")), mode.as_sql())
}

/// The sort key of a single top-level field (used for indexes on owner and `createdAt`).
pub(crate) fn field_key_expr(field: &str, mode: KeyMode) -> String {
    format!("ub_key(body -> {}, '', {})", lit(&json_path([field])), mode.as_sql())
}

/// The `createdAt` descending key: the default sort, covered by an index in every collection.
pub(crate) fn created_desc_expr() -> String {
    field_key_expr("createdAt", KeyMode::Desc)
}

/// A JSON path of quoted segments: `$."a"."b"`.
pub(crate) fn json_path<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut path = String::from("$");
    for segment in segments {
        path.push('.');
        path.push_str(&quote_segment(segment));
    }
    path
}

/// One quoted path label; `"` and `\` become JSON escapes (SQLite decodes them in labels).
fn quote_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 2);
    out.push('"');
    for c in segment.chars() {
        match c {
            '"' => out.push_str("\\u0022"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An SQL string literal.
pub(crate) fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A compiled predicate on one candidate: SQL text with `{v}` (the SQL value) and `{t}` (its
/// `json_type`) to fill in, and its parameters already bound.
struct Pred {
    template: String,
}

impl Pred {
    fn compile(sql: &mut Sql, op: &Op) -> Pred {
        let template = match op {
            Op::Eq(s) | Op::Ne(s) => compare(sql, s, "="),
            Op::In(list) if list.is_empty() => "0".to_owned(),
            Op::In(list) => {
                let alternatives: Vec<String> = list.iter().map(|s| compare(sql, s, "=")).collect();
                format!("({})", alternatives.join(" OR "))
            }
            Op::Gt(s) => compare(sql, s, ">"),
            Op::Gte(s) => compare(sql, s, ">="),
            Op::Lt(s) => compare(sql, s, "<"),
            Op::Lte(s) => compare(sql, s, "<="),
            Op::Regex(pattern) => {
                let p = sql.param(pattern.source().to_owned());
                format!("({{t}} = 'text' AND ub_regexp({p}, {{v}}))")
            }
            Op::Exists(_) => "1".to_owned(),
        };
        Pred { template }
    }

    fn sql(&self, value: &str, ty: &str) -> String {
        self.template.replace("{v}", value).replace("{t}", ty)
    }
}

/// A comparison of the candidate with a scalar, within the scalar's type bracket.
fn compare(sql: &mut Sql, scalar: &Scalar, op: &str) -> String {
    match scalar {
        Scalar::String(s) => {
            let p = sql.param(s.clone());
            format!("({{t}} = 'text' AND {{v}} {op} {p})")
        }
        Scalar::Number(n) => {
            let p = sql.param(*n);
            format!("({{t}} IN ('integer', 'real') AND {{v}} {op} {p})")
        }
        Scalar::Bool(b) => {
            let p = sql.param(i64::from(*b));
            format!("({{t}} IN ('true', 'false') AND ({{t}} = 'true') {op} {p})")
        }
        Scalar::Date(ms) => {
            let p = sql.param(*ms);
            format!("({{t}} = 'text' AND ub_date({{v}}) {op} {p})")
        }
        Scalar::ObjectId(id) => {
            let p = sql.param(id.as_str().to_owned());
            format!(
                "({{t}} = 'text' AND length({{v}}) = 24 AND {{v}} NOT GLOB '*[^0-9a-fA-F]*' AND lower({{v}}) {op} {p})"
            )
        }
    }
}

/// The SQL `WHERE`, `ORDER BY` and `LIMIT` of a find, with parameters (the table is filled in
/// by the caller).
pub(crate) struct FindSql {
    /// What follows `SELECT body FROM "<table>" WHERE `: the condition, `ORDER BY` and `LIMIT`.
    pub(crate) tail: String,
    /// Its parameters.
    pub(crate) params: Vec<SqlValue>,
    /// The page size asked for (the query fetches one more to learn `has_more`).
    pub(crate) limit: usize,
}

/// Builds the SQL of a find.
pub(crate) fn find_sql(scope: &ReadScope, query: &ListQuery) -> Result<FindSql, StoreError> {
    let mut sql = Sql::new();
    let mut condition = sql.where_clause(scope, &query.filter);
    if let query::Pagination::Cursor { after: Some(after), .. } = &query.pagination {
        let keyset = sql.after(&query.sort, after)?;
        condition = format!("{condition} AND {keyset}");
    }
    let limit = usize::try_from(query.pagination.limit()).unwrap_or(100);
    let fetch = sql.param(i64::try_from(limit).unwrap_or(100) + 1);
    let skip = sql.param(i64::try_from(query.pagination.skip()).unwrap_or(i64::MAX));
    let tail = format!("{condition} ORDER BY {} LIMIT {fetch} OFFSET {skip}", Sql::order_by(&query.sort));
    Ok(FindSql { tail, params: sql.params, limit })
}

/// The body column as a document.
pub(crate) fn parse_body(text: &str) -> Result<store::Document, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Internal("stored document is not an object".to_owned())),
        Err(e) => Err(StoreError::Internal(format!("stored document is not JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_and_escaped() {
        assert_eq!(json_path(["a", "b c"]), r#"$."a"."b c""#);
        assert_eq!(json_path([r#"a"b\c"#]), r#"$."a\u0022b\\c""#);
        assert_eq!(lit("it's"), "'it''s'");
    }
}
