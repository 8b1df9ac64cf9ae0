//! The SQL functions every connection registers (all deterministic, so that indexes may use
//! `ub_key`):
//!
//! - `ub_key(value_json, rest_path, mode)`: the order-preserving sort key of [`crate::sortkey`]
//!   for the JSON text `value_json` (a top-level field, `NULL` when missing) and the rest of the
//!   path below it; `mode` 0 ascending, 1 descending, 2 whole value.
//! - `ub_date(text)`: milliseconds since the epoch of an ISO 8601 string, as the reference
//!   evaluator reads dates in documents (`query::value::parse_iso_date`); `NULL` otherwise.
//! - `ub_regexp(pattern, text)`: whether the case-insensitive pattern finds a match in `text`,
//!   compiled once per statement with the linear-time `regex` crate and the same settings as
//!   `query::RegexPattern`.
//! - `ub_merge(body, set_json, now)`: the update merge of [`crate::update`]; a refusal is an SQL
//!   error whose text starts with [`INVALID_PREFIX`].

use regex::{Regex, RegexBuilder};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error};
use serde_json::Value;

use crate::sortkey::{self, KeyMode};

/// The prefix of `ub_merge` errors that are the client's (mapped to `StoreError::InvalidInput`).
pub(crate) const INVALID_PREFIX: &str = "ub_invalid: ";

/// A message-only error for user functions.
#[derive(Debug)]
struct FnError(String);

impl std::fmt::Display for FnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FnError {}

fn fail(message: impl Into<String>) -> Error {
    Error::UserFunctionError(Box::new(FnError(message.into())))
}

/// Registers the functions on a connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let pure = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("ub_key", 3, pure, ub_key)?;
    conn.create_scalar_function("ub_date", 1, pure, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(text) => std::str::from_utf8(text).ok().and_then(query::value::parse_iso_date),
            _ => None,
        })
    })?;
    conn.create_scalar_function("ub_regexp", 2, pure, ub_regexp)?;
    conn.create_scalar_function("ub_merge", 3, pure, ub_merge)?;
    Ok(())
}

fn text_arg<'a>(ctx: &'a Context<'_>, index: usize) -> rusqlite::Result<Option<&'a str>> {
    match ctx.get_raw(index) {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).map(Some).map_err(|e| fail(e.to_string())),
        _ => Err(fail(format!("argument {index} must be text"))),
    }
}

fn ub_key(ctx: &Context<'_>) -> rusqlite::Result<Vec<u8>> {
    let top = match text_arg(ctx, 0)? {
        Some(json) => Some(serde_json::from_str::<Value>(json).map_err(|e| fail(e.to_string()))?),
        None => None,
    };
    let rest = text_arg(ctx, 1)?.unwrap_or_default();
    let mode = KeyMode::from_sql(ctx.get::<i64>(2)?).ok_or_else(|| fail("bad key mode"))?;
    Ok(sortkey::sort_key(top.as_ref(), rest, mode))
}

/// Compiles a pattern exactly as `query::RegexPattern` does.
pub(crate) fn compile_pattern(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .case_insensitive(true)
        .size_limit(query::limits::REGEX_SIZE_LIMIT)
        .dfa_size_limit(query::limits::REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
}

fn ub_regexp(ctx: &Context<'_>) -> rusqlite::Result<bool> {
    let regex = ctx.get_or_create_aux(0, |pattern| -> Result<Regex, FnError> {
        let source = pattern.as_str().map_err(|e| FnError(e.to_string()))?;
        compile_pattern(source).map_err(|e| FnError(e.to_string()))
    })?;
    Ok(match ctx.get_raw(1) {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).is_ok_and(|text| regex.is_match(text)),
        _ => false,
    })
}

fn ub_merge(ctx: &Context<'_>) -> rusqlite::Result<String> {
    let body = text_arg(ctx, 0)?.ok_or_else(|| fail("body is NULL"))?;
    let set = text_arg(ctx, 1)?.ok_or_else(|| fail("set is NULL"))?;
    let now = text_arg(ctx, 2)?.ok_or_else(|| fail("now is NULL"))?;
    let Ok(Value::Object(mut doc)) = serde_json::from_str::<Value>(body) else {
        return Err(fail("stored document is not a JSON object"));
    };
    let Ok(Value::Object(set)) = serde_json::from_str::<Value>(set) else {
        return Err(fail("update is not a JSON object"));
    };
    crate::update::apply_set(&mut doc, &set, now).map_err(|message| fail(format!("{INVALID_PREFIX}{message}")))?;
    serde_json::to_string(&doc).map_err(|e| fail(e.to_string()))
}
