//! The MongoDB backend of urbackend-rs: [`MongoStore`] implements [`store::DocumentStore`] over
//! the official driver, and [`MongoClients`] hands out stores for projects that bring their own
//! MongoDB URI (spec §13.6). It never knows HTTP, and it is the only place where a BSON document
//! is built.
//!
//! # Storage
//!
//! Documents are stored as BSON typed by the collection's schema (module `convert` has the mapping):
//! `_id` and `Ref` fields as ObjectIds, `createdAt`, `updatedAt` and `Date` fields as BSON dates,
//! integers as Int32/Int64, other numbers as Doubles; reads give the wire form back (24-hex ids,
//! ISO timestamps with milliseconds). A collection is created by MongoDB on its first insert or
//! index; the store never lists, creates or drops collections explicitly except in
//! [`store::DocumentStore::drop_collection`], which falls back to deleting the documents and the
//! indexes where the server has no `drop`.
//!
//! # Queries and scopes
//!
//! The `query` AST becomes filter documents whose values are always operands of explicit
//! operators (module `filter`); the RLS scope is ANDed into the same filter, and updates and deletes
//! are single `findAndModify` operations filtered by `_id` and owner. Queries with a regex are
//! bounded with `maxTimeMS(2000)`.
//!
//! # Failures
//!
//! The client selects a server for at most [`SERVER_SELECTION_TIMEOUT`] (3 s unless the URI says
//! otherwise), so a dead server fails an operation quickly with [`StoreError::Unavailable`]; the
//! driver keeps monitoring it and the same store recovers by itself when it returns. Duplicate
//! keys are [`StoreError::DuplicateKey`] with the field read from the index name.
//!
//! # Bulk inserts
//!
//! An insert of several documents is one ordered `insertMany`. When the server stops at a
//! document (say a duplicate key at the third), it names that document's index, so the documents
//! before it are exactly the ones this call inserted: they are deleted again (by `_id` and this
//! call's `createdAt`) before the error is returned. So a bulk insert is all or nothing on any
//! server, replica set or standalone, without a transaction; concurrent readers may see the first
//! documents for the moment between the two operations. When the connection breaks mid-way the
//! outcome is unknown: the documents whose ids the store generated are deleted (best effort),
//! documents with caller-given ids are left, since deleting by such an id could remove someone
//! else's document.

mod clients;
mod convert;
mod error;
mod filter;
mod indexes;
mod ops;
mod pool;
mod transaction;
mod uri;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use mongodb::bson::{Document as BsonDocument, doc};
use mongodb::{Client, Collection, Database};
use store::StoreError;

pub use clients::{DEFAULT_IDLE, MongoClients};
pub use pool::{PoolUsage, pool_usage};
pub use uri::{CONNECT_TIMEOUT, DEFAULT_DATABASE, SERVER_SELECTION_TIMEOUT, redact};

/// A [`store::DocumentStore`] on one MongoDB database. Cheap to clone (clones share the client).
#[derive(Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
    label: Arc<str>,
    activity: Option<Arc<clients::Activity>>,
    /// Set once the server refused a transaction (a standalone server; see `transaction`).
    no_transactions: Arc<AtomicBool>,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoStore").field("server", &self.label).field("database", &self.db.name()).finish()
    }
}

impl MongoStore {
    /// A store on `database` (else the database the URI's path names, else
    /// [`DEFAULT_DATABASE`]). Connects lazily: an unreachable server is reported by the first
    /// operation ([`StoreError::Unavailable`]; [`store::DocumentStore::ping`] checks it). A
    /// malformed URI or database name is [`StoreError::InvalidInput`], whose text never holds
    /// the URI's password.
    pub async fn connect(uri: &str, database: Option<&str>) -> Result<MongoStore, StoreError> {
        let (client, from_uri) = uri::client(uri).await?;
        let name = database.or(from_uri.as_deref()).unwrap_or(DEFAULT_DATABASE);
        let name = uri::checked_database(name)?;
        Ok(Self::from_parts(client, name, Arc::from(redact(uri)), None))
    }

    fn from_parts(client: Client, database: &str, label: Arc<str>, activity: Option<Arc<clients::Activity>>) -> Self {
        let db = client.database(database);
        Self { client, db, label, activity, no_transactions: Arc::new(AtomicBool::new(false)) }
    }

    /// The database's name.
    pub fn database_name(&self) -> &str {
        self.db.name()
    }

    /// The driver's database handle, for what the trait does not cover (tests, diagnostics).
    /// Documents written through it bypass the schema typing and the scopes of the trait.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Drops the whole database (test clean-up; a server without `dropDatabase` reports an error).
    pub async fn drop_database(&self) -> Result<(), StoreError> {
        self.db.drop().await.map_err(|e| error::map(&e))
    }

    /// Closes the client (every clone of this store stops working). Optional: dropping the last
    /// clone closes it too.
    pub async fn shutdown(self) {
        self.client.shutdown().immediate(true).await;
    }

    /// Records a use for the BYO cache's idle timer.
    fn touch(&self) {
        if let Some(activity) = &self.activity {
            activity.touch();
        }
    }

    /// The collection with this physical name (unchecked: see [`MongoStore::checked`]).
    fn collection(&self, physical: &str) -> Collection<BsonDocument> {
        self.db.collection(physical)
    }

    /// The collection a trait call names, checked (not empty, no `$` or NUL, not a `system.`
    /// collection), and a use recorded.
    fn checked(&self, physical: &str) -> Result<Collection<BsonDocument>, StoreError> {
        self.touch();
        if physical.is_empty() || physical.contains(['$', '\0']) || physical.starts_with("system.") {
            return Err(StoreError::InvalidInput(format!("Invalid collection name {physical:?}.")));
        }
        Ok(self.collection(physical))
    }

    async fn ping_server(&self) -> Result<(), StoreError> {
        self.touch();
        self.db.run_command(doc! { "ping": 1 }).await.map(|_| ()).map_err(|e| error::map(&e))
    }
}
