//! The embedded default backend of urbackend-rs: bundled SQLite in WAL mode behind the
//! [`store::DocumentStore`] trait, with MongoDB's semantics for every query operator the REST
//! query language offers, so that `urbackend serve` runs with zero setup.
//!
//! ```no_run
//! # async fn demo() -> Result<(), store::StoreError> {
//! let store = store_sqlite::SqliteStore::open(std::path::Path::new("data/urbackend.sqlite3"))?;
//! store::DocumentStore::ping(&store).await?;
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! - **Storage** (module `catalog`): one table per collection, `id TEXT PRIMARY KEY, body TEXT` (the
//!   document as JSON), named through a catalogue table; expression indexes on the sort key of
//!   `createdAt` (the default order), on (owner, `createdAt`) for RLS reads, and unique indexes.
//! - **Writes** (module `writer`): one thread owns the write connection and commits queued requests
//!   together (group commit, one fsync with `synchronous=FULL`), each request inside its own
//!   savepoint so that it stays all-or-nothing; a caller hears back only after the commit.
//! - **Reads** (module `pool`): a few reader connections on Tokio's blocking threads; WAL lets them
//!   read committed snapshots while the writer writes.
//! - **Queries** (module `sql`): the query AST becomes SQL over JSON1 with MongoDB's semantics (array
//!   fields match by element, `Ne` matches missing fields, comparisons stay within a type
//!   bracket); sorting uses an order-preserving binary key (module `sortkey`) that follows MongoDB's
//!   order across types; regular expressions use the linear-time `regex` crate.
//! - **Scopes**: a [`rls_core::ReadScope`] is ANDed into every read statement; a
//!   [`rls_core::WriteScope`] is the `WHERE` of the one `UPDATE … RETURNING` or
//!   `DELETE … RETURNING` statement that performs the write, never a read-then-write.
//! - **Aggregation** (module `aggregate`): the publishable subset of MongoDB's stages, in Rust, over
//!   the scoped documents.
//!
//! # Differences from MongoDB
//!
//! - Documents are JSON: dates and ObjectIds are strings. A `Date` query value compares with
//!   ISO 8601 strings by instant and a `Ref` value with 24-hex strings case-insensitively, as the
//!   reference evaluator says; in a *sort* they order as strings (MongoDB puts ObjectIds and
//!   dates in brackets of their own, after booleans). Keyset pages on a date field assume
//!   canonical timestamps (`2026-01-02T03:04:05.678Z`), which is what the platform stores.
//! - Numbers compare as doubles: integers beyond ±2^53 lose precision in comparisons.
//! - Sorting on a path through an array of objects uses the smallest (ascending) or largest
//!   (descending) value reached; an element without the field contributes nothing (MongoDB
//!   counts it as `null`).
//! - A unique index compares a field's whole value (an array is one value, not one key per
//!   element as in a MongoDB multikey index); `1` and `1.0` are the same value, as in MongoDB.
//! - Updates: `createdAt` cannot be set (Mongoose's immutable timestamps; it is ignored), and a
//!   dotted path may address array elements up to index 10,000. Documents may be nested at most
//!   100 levels deep (`InvalidInput` beyond).
//! - Aggregation runs the publishable subset in Rust over the scoped documents, in memory: the
//!   stages `$match $group $sort $limit $skip $count $project $addFields $set $unset $unwind
//!   $sortByCount $replaceRoot $replaceWith`, the accumulators `$sum $avg $min $max $count $first
//!   $last $push $addToSet`, and a few expression operators; anything else is
//!   `StoreError::Unsupported` (`Aggregation stage '$lookup' is not supported on the embedded
//!   store.`). `$group` emits groups in the order first met and `$sort` is stable (MongoDB leaves
//!   both unspecified). `$regex` uses the linear-time `regex` crate (no backreferences or
//!   lookaround).
//!
//! It must never know HTTP, and it must never widen a scope handed to it by `rls-core`.

mod aggregate;
mod catalog;
mod error;
mod functions;
mod ops;
mod plans;
mod pool;
mod sortkey;
mod sql;
mod update;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use query::{Filter, ListQuery};
use rls_core::{AggregatePlan, DocId, ReadScope, WriteScope};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use store::{Change, Changed, CollectionSpec, Document, DocumentStore, Page, SideWrites, StoreError, UniqueIndex};

use crate::pool::{Readers, Role};
use crate::sql::Sql;
use crate::writer::Writer;

/// The file name used when [`SqliteStore::open`] is given a directory.
pub const DEFAULT_FILE_NAME: &str = "urbackend.sqlite3";

/// The embedded store. Cheap to clone (all clones share the connections); the writer thread stops
/// when the last clone is dropped, after finishing the requests already queued.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Readers>,
    /// Set for throwaway stores: the files to remove on drop.
    temporary: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.shutdown();
        self.readers.close();
        if self.temporary {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = self.path.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(name));
            }
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`: a file path, or an existing directory in
    /// which [`DEFAULT_FILE_NAME`] is used. Missing parent directories are created. Commits are
    /// durable (`synchronous=FULL` in WAL mode).
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be created or opened, `Internal` when it is not a
    /// database of this format.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let file = if path.is_dir() { path.join(DEFAULT_FILE_NAME) } else { path.to_path_buf() };
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        Self::start(file, true, false)
    }

    /// A throwaway store for tests: a private database file in the system's temporary directory,
    /// removed when the store is dropped, with non-durable (fast) commits. It behaves like
    /// [`SqliteStore::open`] in every other respect (several connections, WAL, group commit).
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "urbackend-tmp-{}-{}-{}.sqlite3",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            store::new_object_id()
        );
        Self::start(std::env::temp_dir().join(name), false, true)
    }

    fn start(file: PathBuf, durable: bool, temporary: bool) -> Result<SqliteStore, StoreError> {
        let conn = pool::open(&file, Role::Writer { durable })?;
        catalog::init(&conn)?;
        let writer = Writer::start(conn)?;
        let readers = Arc::new(Readers::new(file.clone(), Readers::capacity()));
        Ok(SqliteStore { inner: Arc::new(Inner { path: file, writer, readers, temporary }) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The reader pool: reads running now, and the most that may run at once (for metrics).
    pub fn readers_in_use(&self) -> (usize, usize) {
        self.inner.readers.usage()
    }

    async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(read).await
    }

    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }
}

/// Prepares a document for insertion: `_id` (kept when valid 24-hex, lower-cased), the client's
/// fields, then `createdAt`, `updatedAt` and `__v: 0`.
fn prepare_insert(doc: Document, now: &str) -> Result<Document, StoreError> {
    let id = match doc.get("_id") {
        None => store::new_object_id(),
        Some(Value::String(id)) if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            id.to_ascii_lowercase()
        }
        Some(_) => return Err(StoreError::InvalidInput("Invalid _id: expected 24 hexadecimal characters.".to_owned())),
    };
    if doc.values().any(|v| update::depth(v) + 1 >= update::MAX_DEPTH) {
        return Err(update::too_deep());
    }
    let mut out = Document::with_capacity(doc.len() + 4);
    out.insert("_id".to_owned(), Value::String(id));
    for (key, value) in doc {
        if !matches!(key.as_str(), "_id" | "createdAt" | "updatedAt" | "__v") {
            out.insert(key, value);
        }
    }
    out.insert("createdAt".to_owned(), Value::String(now.to_owned()));
    out.insert("updatedAt".to_owned(), Value::String(now.to_owned()));
    out.insert("__v".to_owned(), Value::from(0));
    Ok(out)
}

fn write_target(scope: &WriteScope) -> ops::Target {
    ops::Target { id: scope.id().as_str().to_owned(), owner: scope.owner().map(|o| (o.field.clone(), o.user.clone())) }
}

fn check_field(field: &str) -> Result<(), StoreError> {
    if field.is_empty() {
        return Err(StoreError::InvalidInput("An index needs a field name.".to_owned()));
    }
    Ok(())
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn insert(&self, coll: &CollectionSpec<'_>, docs: Vec<Document>) -> Result<Vec<Document>, StoreError> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let now = store::now_timestamp();
        let docs = docs.into_iter().map(|d| prepare_insert(d, &now)).collect::<Result<Vec<_>, _>>()?;
        let physical = coll.physical.to_owned();
        self.write(move |conn| {
            ops::insert(conn, &physical, &docs)?;
            Ok(docs)
        })
        .await
    }

    async fn get(
        &self,
        coll: &CollectionSpec<'_>,
        id: &DocId,
        scope: &ReadScope,
    ) -> Result<Option<Document>, StoreError> {
        let mut sql = Sql::with_params(vec![SqlValue::Text(id.as_str().to_owned())]);
        let tail = match sql.scope(scope) {
            Some(owner) => format!("id = ?1 AND {owner}"),
            None => "id = ?1".to_owned(),
        };
        let physical = coll.physical.to_owned();
        self.read(move |conn| {
            ops::with_table(conn, &physical, None, |conn, table| {
                Ok(ops::select(conn, table, &tail, &sql.params)?.into_iter().next())
            })
        })
        .await
    }

    async fn get_many(
        &self,
        coll: &CollectionSpec<'_>,
        ids: &[DocId],
        scope: &ReadScope,
    ) -> Result<Vec<Document>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = Value::Array(ids.iter().map(|id| Value::String(id.as_str().to_owned())).collect()).to_string();
        let mut sql = Sql::with_params(vec![SqlValue::Text(ids_json)]);
        let tail = match sql.scope(scope) {
            Some(owner) => format!("id IN (SELECT value FROM json_each(?1)) AND {owner}"),
            None => "id IN (SELECT value FROM json_each(?1))".to_owned(),
        };
        let physical = coll.physical.to_owned();
        self.read(move |conn| {
            ops::with_table(conn, &physical, Vec::new(), |conn, table| ops::select(conn, table, &tail, &sql.params))
        })
        .await
    }

    async fn find(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, query: &ListQuery) -> Result<Page, StoreError> {
        let find = sql::find_sql(scope, query)?;
        let physical = coll.physical.to_owned();
        self.read(move |conn| {
            ops::with_table(conn, &physical, Page::default(), |conn, table| ops::find(conn, table, &find))
        })
        .await
    }

    async fn count(&self, coll: &CollectionSpec<'_>, scope: &ReadScope, filter: &Filter) -> Result<u64, StoreError> {
        let mut sql = Sql::new();
        let condition = sql.where_clause(scope, filter);
        let physical = coll.physical.to_owned();
        self.read(move |conn| {
            ops::with_table(conn, &physical, 0, |conn, table| ops::count(conn, table, &condition, &sql.params))
        })
        .await
    }

    async fn update(
        &self,
        coll: &CollectionSpec<'_>,
        scope: &WriteScope,
        set: &Document,
    ) -> Result<Option<Document>, StoreError> {
        let target = write_target(scope);
        let set = update::prepare_set(set, &target.id)?;
        let set_json = Value::Object(set).to_string();
        let now = store::now_timestamp();
        let physical = coll.physical.to_owned();
        self.write(move |conn| ops::update(conn, &physical, &target, &set_json, &now)).await
    }

    async fn delete(&self, coll: &CollectionSpec<'_>, scope: &WriteScope) -> Result<Option<Document>, StoreError> {
        let target = write_target(scope);
        let physical = coll.physical.to_owned();
        self.write(move |conn| ops::delete(conn, &physical, &target)).await
    }

    async fn write_with(
        &self,
        coll: &CollectionSpec<'_>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, StoreError> {
        let now = store::now_timestamp();
        let physical = coll.physical.to_owned();
        let side = side.clone();
        // The change and its side documents run as one request of the writer: one savepoint,
        // so both stand or neither does.
        let with_side = move |conn: &rusqlite::Connection, written: &[Document]| -> Result<(), StoreError> {
            let extra = written.iter().flat_map(|doc| (side.build)(doc)).map(|d| prepare_insert(d, &now));
            let extra = extra.collect::<Result<Vec<_>, _>>()?;
            if extra.is_empty() { Ok(()) } else { ops::insert(conn, &side.physical, &extra) }
        };
        match change {
            Change::Insert(docs) => {
                let stamp = store::now_timestamp();
                let docs = docs.into_iter().map(|d| prepare_insert(d, &stamp)).collect::<Result<Vec<_>, _>>()?;
                self.write(move |conn| {
                    ops::insert(conn, &physical, &docs)?;
                    with_side(conn, &docs)?;
                    Ok(Changed::Inserted(docs))
                })
                .await
            }
            Change::Update { scope, set } => {
                let target = write_target(scope);
                let set_json = Value::Object(update::prepare_set(set, &target.id)?).to_string();
                let stamp = store::now_timestamp();
                self.write(move |conn| {
                    let updated = ops::update(conn, &physical, &target, &set_json, &stamp)?;
                    with_side(conn, updated.as_slice())?;
                    Ok(Changed::Updated(updated))
                })
                .await
            }
            Change::Delete { scope } => {
                let target = write_target(scope);
                self.write(move |conn| {
                    let deleted = ops::delete(conn, &physical, &target)?;
                    with_side(conn, deleted.as_slice())?;
                    Ok(Changed::Deleted(deleted))
                })
                .await
            }
        }
    }

    async fn exists(&self, coll: &CollectionSpec<'_>, id: &DocId) -> Result<bool, StoreError> {
        let id = id.as_str().to_owned();
        let physical = coll.physical.to_owned();
        self.read(move |conn| ops::with_table(conn, &physical, false, |conn, table| ops::exists(conn, table, &id)))
            .await
    }

    async fn aggregate(&self, coll: &CollectionSpec<'_>, plan: &AggregatePlan) -> Result<Vec<Value>, StoreError> {
        let pipeline = aggregate::Pipeline::parse(&plan.stages)?;
        let scope = plan.scope.clone();
        let physical = coll.physical.to_owned();
        self.read(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred).map_err(error::map)?;
            let table = catalog::lookup(&tx, &physical)?;
            pipeline.run(&tx, table.as_deref(), &scope)
        })
        .await
    }

    async fn create_unique_index(&self, coll: &CollectionSpec<'_>, index: &UniqueIndex) -> Result<(), StoreError> {
        check_field(&index.field)?;
        let (physical, field, required) = (coll.physical.to_owned(), index.field.clone(), index.required);
        self.write(move |conn| catalog::create_unique_index(conn, &physical, &field, required)).await
    }

    async fn drop_unique_index(&self, coll: &CollectionSpec<'_>, field: &str) -> Result<(), StoreError> {
        let (physical, field) = (coll.physical.to_owned(), field.to_owned());
        self.write(move |conn| catalog::drop_unique_index(conn, &physical, &field)).await
    }

    async fn create_owner_index(&self, coll: &CollectionSpec<'_>, owner_field: &str) -> Result<(), StoreError> {
        check_field(owner_field)?;
        let (physical, field) = (coll.physical.to_owned(), owner_field.to_owned());
        self.write(move |conn| catalog::create_owner_index(conn, &physical, &field)).await
    }

    async fn drop_collection(&self, coll: &CollectionSpec<'_>) -> Result<(), StoreError> {
        let physical = coll.physical.to_owned();
        self.write(move |conn| catalog::drop_collection(conn, &physical)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(error::map)).await
    }
}
