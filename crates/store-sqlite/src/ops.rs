//! The store operations as synchronous functions on a connection: reads run on a reader (inside
//! one read transaction, so the catalogue lookup and the query see one snapshot), writes run in
//! the writer's batch. Scopes are part of each statement's `WHERE`.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};
use serde_json::Value;
use store::{Document, Page, StoreError};

use crate::catalog;
use crate::error::SqlResultExt;
use crate::sql::{FindSql, Sql, parse_body};

/// Runs `f` with the collection's table inside a read transaction; `missing` when the
/// collection does not exist.
pub(crate) fn with_table<T>(
    conn: &mut Connection,
    physical: &str,
    missing: T,
    f: impl FnOnce(&Connection, &str) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).store()?;
    let result = match catalog::lookup(&tx, physical)? {
        Some(table) => f(&tx, &table),
        None => Ok(missing),
    };
    drop(tx);
    result
}

/// The documents of `SELECT body FROM "<table>" WHERE <tail>`.
pub(crate) fn select(
    conn: &Connection,
    table: &str,
    tail: &str,
    params: &[SqlValue],
) -> Result<Vec<Document>, StoreError> {
    statement_documents(conn, &format!("SELECT body FROM \"{table}\" WHERE {tail}"), params)
}

/// The documents of a statement returning `body`.
fn statement_documents(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<Document>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).store()?;
    let mut rows = stmt.query(params_from_iter(params)).store()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().store()? {
        let text: String = row.get(0).store()?;
        out.push(parse_body(&text)?);
    }
    Ok(out)
}

/// One page of a find.
pub(crate) fn find(conn: &Connection, table: &str, find: &FindSql) -> Result<Page, StoreError> {
    let mut items = select(conn, table, &find.tail, &find.params)?;
    let has_more = items.len() > find.limit;
    items.truncate(find.limit);
    Ok(Page { items, has_more })
}

/// The number of documents matching a condition.
pub(crate) fn count(conn: &Connection, table: &str, condition: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
    let sql = format!("SELECT count(*) FROM \"{table}\" WHERE {condition}");
    let mut stmt = conn.prepare_cached(&sql).store()?;
    let n: i64 = stmt.query_row(params_from_iter(params), |row| row.get(0)).store()?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether a document with this id exists.
pub(crate) fn exists(conn: &Connection, table: &str, id: &str) -> Result<bool, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT 1 FROM \"{table}\" WHERE id = ?1")).store()?;
    stmt.query_row([id], |_| Ok(())).optional().store().map(|hit| hit.is_some())
}

/// Inserts prepared documents (ids and timestamps set); all or nothing through the savepoint.
pub(crate) fn insert(conn: &Connection, physical: &str, docs: &[Document]) -> Result<(), StoreError> {
    let table = catalog::ensure(conn, physical)?;
    let mut stmt = conn.prepare_cached(&format!("INSERT INTO \"{table}\" (id, body) VALUES (?1, ?2)")).store()?;
    for doc in docs {
        let id = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
        let body = serde_json::to_string(doc).map_err(|e| StoreError::Internal(e.to_string()))?;
        stmt.execute([id, body.as_str()]).store()?;
    }
    Ok(())
}

/// A write's target: the id and, for publishable keys, the owner (field, user).
pub(crate) struct Target {
    /// The document id (lower-case hex).
    pub(crate) id: String,
    /// The owner condition.
    pub(crate) owner: Option<(String, String)>,
}

impl Target {
    /// `id = ?n [AND owner]` with its parameters appended to `sql`.
    fn condition(&self, sql: &mut Sql) -> String {
        let id = sql.param(self.id.clone());
        match &self.owner {
            None => format!("id = {id}"),
            Some((field, user)) => format!("id = {id} AND {}", sql.owner(field, user)),
        }
    }
}

/// Merges `set_json` into the document the target designates, in one `UPDATE … RETURNING`.
pub(crate) fn update(
    conn: &Connection,
    physical: &str,
    target: &Target,
    set_json: &str,
    now: &str,
) -> Result<Option<Document>, StoreError> {
    let Some(table) = catalog::lookup(conn, physical)? else {
        return Ok(None);
    };
    let mut sql = Sql::with_params(vec![SqlValue::Text(set_json.to_owned()), SqlValue::Text(now.to_owned())]);
    let condition = target.condition(&mut sql);
    let text = format!("UPDATE \"{table}\" SET body = ub_merge(body, ?1, ?2) WHERE {condition} RETURNING body");
    Ok(statement_documents(conn, &text, &sql.params)?.into_iter().next())
}

/// Deletes the document the target designates, in one `DELETE … RETURNING`.
pub(crate) fn delete(conn: &Connection, physical: &str, target: &Target) -> Result<Option<Document>, StoreError> {
    let Some(table) = catalog::lookup(conn, physical)? else {
        return Ok(None);
    };
    let mut sql = Sql::new();
    let condition = target.condition(&mut sql);
    let text = format!("DELETE FROM \"{table}\" WHERE {condition} RETURNING body");
    Ok(statement_documents(conn, &text, &sql.params)?.into_iter().next())
}
