//! The storage layout: a catalogue table maps physical collection names (arbitrary strings) to
//! generated table names, and names the indexes.
//!
//! ```text
//! ub_meta(key TEXT PRIMARY KEY, value TEXT)                  -- format version
//! ub_collections(id INTEGER PRIMARY KEY AUTOINCREMENT,       -- never reused
//!                name TEXT UNIQUE, created_at TEXT)
//! c<id>(id TEXT PRIMARY KEY, body TEXT)                      -- one per collection: `_id`, JSON
//!   index c<id>_created   (ub_key(createdAt, desc), id)      -- the default sort
//!   index c<id>_o_<hex>   (json_extract(owner), ub_key(createdAt, desc), id)
//!   unique c<id>_u_<hex>  (ub_key(field, whole)) [WHERE field present and not null]
//! ```
//!
//! `<hex>` is the field name in hexadecimal, so index names are plain identifiers and a unique
//! violation tells which field refused. Table ids come from `AUTOINCREMENT`, so a dropped and
//! re-created collection gets a new table and no cached statement can reach a stale one.

use rusqlite::{Connection, OptionalExtension, params};
use store::StoreError;

use crate::error::SqlResultExt;
use crate::sortkey::KeyMode;
use crate::sql::{created_desc_expr, field_key_expr, json_path, lit};

/// The layout version written to `ub_meta`.
const FORMAT_VERSION: &str = "1";

/// Creates the catalogue tables (idempotent) and checks the format version.
pub(crate) fn init(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS ub_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS ub_collections (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             name TEXT NOT NULL UNIQUE,
             created_at TEXT NOT NULL
         );
         INSERT OR IGNORE INTO ub_meta (key, value) VALUES ('format', '1');",
    )
    .store()?;
    let version: String =
        conn.query_row("SELECT value FROM ub_meta WHERE key = 'format'", [], |row| row.get(0)).store()?;
    if version != FORMAT_VERSION {
        return Err(StoreError::Internal(format!("unsupported database format version {version}")));
    }
    Ok(())
}

/// The table of a collection, if it exists.
pub(crate) fn lookup(conn: &Connection, physical: &str) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM ub_collections WHERE name = ?1").store()?;
    let id: Option<i64> = stmt.query_row([physical], |row| row.get(0)).optional().store()?;
    Ok(id.map(table_name))
}

/// The table of a collection, created (with its default index) when missing. Runs in the
/// writer's transaction.
pub(crate) fn ensure(conn: &Connection, physical: &str) -> Result<String, StoreError> {
    if let Some(table) = lookup(conn, physical)? {
        return Ok(table);
    }
    conn.prepare_cached("INSERT INTO ub_collections (name, created_at) VALUES (?1, ?2)")
        .store()?
        .execute(params![physical, store::now_timestamp()])
        .store()?;
    let table = table_name(conn.last_insert_rowid());
    conn.execute_batch(&format!(
        "CREATE TABLE \"{table}\" (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
         CREATE INDEX \"{table}_created\" ON \"{table}\" ({}, id);",
        created_desc_expr()
    ))
    .store()?;
    Ok(table)
}

/// Drops a collection's table (and so its indexes) and its catalogue entry. Idempotent.
pub(crate) fn drop_collection(conn: &Connection, physical: &str) -> Result<(), StoreError> {
    if let Some(table) = lookup(conn, physical)? {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS \"{table}\";")).store()?;
        conn.prepare_cached("DELETE FROM ub_collections WHERE name = ?1").store()?.execute([physical]).store()?;
    }
    Ok(())
}

fn table_name(id: i64) -> String {
    format!("c{id}")
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The unique index of a field.
pub(crate) fn unique_index_name(table: &str, field: &str) -> String {
    format!("{table}_u_{}", hex(field))
}

/// The owner index of a field.
pub(crate) fn owner_index_name(table: &str, field: &str) -> String {
    format!("{table}_o_{}", hex(field))
}

/// The field a unique-constraint message names: `c3.id` is `_id`, index `c3_u_<hex>` its field.
pub(crate) fn field_of_constraint(message: &str) -> Option<String> {
    let detail = message.rsplit("failed: ").next()?;
    if detail.ends_with(".id") {
        return Some("_id".to_owned());
    }
    let name = detail.trim_start_matches("index ").trim_matches('\'');
    let (_, hex_field) = name.split_once("_u_")?;
    unhex(hex_field)
}

/// The `ub_key` expression a unique index on `field` covers.
fn unique_expr(field: &str) -> String {
    field_key_expr(field, KeyMode::Whole)
}

/// The partial-index condition: the field is present and not null.
fn present_expr(field: &str) -> String {
    let path = lit(&json_path([field]));
    format!("json_type(body, {path}) IS NOT NULL AND json_type(body, {path}) <> 'null'")
}

/// Creates a unique index after checking for duplicates (spec §6.5). Runs in the writer.
pub(crate) fn create_unique_index(
    conn: &Connection,
    physical: &str,
    field: &str,
    required: bool,
) -> Result<(), StoreError> {
    let table = ensure(conn, physical)?;
    let name = unique_index_name(&table, field);
    let existing: Option<bool> = conn
        .query_row("SELECT partial FROM pragma_index_list(?1) WHERE name = ?2", [&table, &name], |row| row.get(0))
        .optional()
        .store()?;
    if let Some(partial) = existing {
        // An index is partial exactly when its field is not required: same definition, nothing to do.
        if partial != required {
            return Ok(());
        }
        conn.execute_batch(&format!("DROP INDEX \"{name}\";")).store()?;
    }
    let filter = if required { String::new() } else { format!(" WHERE {}", present_expr(field)) };
    let value = format!("body -> {}", lit(&json_path([field])));
    let check = format!(
        "SELECT min({value}) FROM \"{table}\"{filter} GROUP BY {} HAVING count(*) > 1 ORDER BY {}",
        unique_expr(field),
        unique_expr(field)
    );
    let mut stmt = conn.prepare(&check).store()?;
    let groups: Vec<Option<String>> =
        stmt.query_map([], |row| row.get(0)).store()?.collect::<Result<_, _>>().store()?;
    if !groups.is_empty() {
        let examples: Vec<String> = groups
            .iter()
            .take(3)
            .map(|text| {
                text.as_deref()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                    .map_or_else(|| "null".to_owned(), |v| v.to_string())
            })
            .collect();
        return Err(StoreError::DuplicatesExist {
            field: field.to_owned(),
            count: u64::try_from(groups.len()).unwrap_or(u64::MAX),
            examples: examples.join(", "),
        });
    }
    conn.execute_batch(&format!("CREATE UNIQUE INDEX \"{name}\" ON \"{table}\" ({}){filter};", unique_expr(field)))
        .store()
}

/// Drops a unique index. Idempotent.
pub(crate) fn drop_unique_index(conn: &Connection, physical: &str, field: &str) -> Result<(), StoreError> {
    if let Some(table) = lookup(conn, physical)? {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS \"{}\";", unique_index_name(&table, field))).store()?;
    }
    Ok(())
}

/// Creates the (owner, `createdAt` descending, id) index. Idempotent.
pub(crate) fn create_owner_index(conn: &Connection, physical: &str, field: &str) -> Result<(), StoreError> {
    let table = ensure(conn, physical)?;
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS \"{}\" ON \"{table}\" (json_extract(body, {}), {}, id);",
        owner_index_name(&table, field),
        lit(&json_path([field])),
        created_desc_expr()
    ))
    .store()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_messages_name_fields() {
        assert_eq!(field_of_constraint("UNIQUE constraint failed: c3.id").as_deref(), Some("_id"));
        let name = unique_index_name("c3", "e-mail");
        assert_eq!(
            field_of_constraint(&format!("UNIQUE constraint failed: index '{name}'")).as_deref(),
            Some("e-mail")
        );
        assert_eq!(field_of_constraint("something else"), None);
    }
}
