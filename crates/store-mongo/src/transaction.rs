//! [`DocumentStore::write_with`](store::DocumentStore::write_with) on MongoDB: the change and the
//! side documents built from what it wrote (the webhooks outbox) in one multi-document
//! transaction, so both stand or neither does.
//!
//! Transactions need a replica set or a sharded cluster. A standalone server refuses the first
//! operation of one (`IllegalOperation`, code 20) before anything is written; the store then
//! answers [`StoreError::Unsupported`], so the caller writes the two separately, and remembers it
//! for the life of the client (one refused attempt per process, not one per write). A transaction
//! that meets a transient error (a write conflict with a concurrent writer, an election) is run
//! again from the start, a few times, as the driver's own `with_transaction` would.

use mongodb::bson::{DateTime as BsonDateTime, Document as BsonDocument};
use mongodb::error::{Error, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use query::Schema;
use store::{Change, Changed, CollectionSpec, Document, SideWrites, StoreError};

use crate::ops::{prepare, update_document};
use crate::{MongoStore, convert, error, filter};

/// Server code `IllegalOperation`: what a standalone server answers to a transaction.
const ILLEGAL_OPERATION: i32 = 20;
/// How many times a transaction is run in all when it keeps meeting transient errors.
const ATTEMPTS: usize = 5;

/// Why one attempt failed.
enum Failed {
    /// The server has no transactions; nothing was written.
    NoTransactions,
    /// The attempt may succeed when run again (nothing of it stands).
    Transient(Error),
    /// The answer to give.
    Final(StoreError),
}

fn classify(e: &Error, map: fn(&Error) -> StoreError) -> Failed {
    if error::server_code(e).is_some_and(|(code, _)| code == ILLEGAL_OPERATION) {
        Failed::NoTransactions
    } else if e.contains_label(TRANSIENT_TRANSACTION_ERROR) {
        Failed::Transient(e.clone())
    } else {
        Failed::Final(map(e))
    }
}

impl MongoStore {
    pub(crate) async fn write_in_transaction(
        &self,
        spec: &CollectionSpec<'_>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, StoreError> {
        let unsupported = || StoreError::Unsupported("transactions (the MongoDB server is standalone)".to_owned());
        if self.no_transactions.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(unsupported());
        }
        let coll = self.checked(spec.physical)?;
        let side_coll = self.checked(&side.physical)?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let mut session = self.client.start_session().await.map_err(|e| error::map(&e))?;
            session.start_transaction().await.map_err(|e| error::map(&e))?;
            let attempt = self.attempt(&mut session, (&coll, spec), &side_coll, change.clone(), side).await;
            let outcome = match attempt {
                Ok(changed) => match commit(&mut session).await {
                    Ok(()) => return Ok(changed),
                    Err(failed) => failed,
                },
                Err(failed) => {
                    // A failed abort changes nothing: the server drops an unfinished
                    // transaction when its session ends.
                    let _ = session.abort_transaction().await;
                    failed
                }
            };
            match outcome {
                Failed::NoTransactions => {
                    self.no_transactions.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(unsupported());
                }
                Failed::Final(e) => return Err(e),
                Failed::Transient(e) => last = Some(e),
            }
        }
        Err(last.map_or_else(|| StoreError::Internal("transaction not attempted".to_owned()), |e| error::map(&e)))
    }

    /// One run of the transaction, up to (not including) the commit.
    async fn attempt(
        &self,
        session: &mut ClientSession,
        (coll, spec): (&Collection<BsonDocument>, &CollectionSpec<'_>),
        side_coll: &Collection<BsonDocument>,
        change: Change<'_>,
        side: &SideWrites,
    ) -> Result<Changed, Failed> {
        let now = BsonDateTime::now();
        let changed = match change {
            Change::Insert(docs) => {
                let stored = docs
                    .iter()
                    .map(|doc| prepare(doc, spec, now).map(|(_, _, stored)| stored))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(Failed::Final)?;
                if !stored.is_empty() {
                    coll.insert_many(&stored)
                        .session(&mut *session)
                        .await
                        .map_err(|e| classify(&e, error::map_insert))?;
                }
                Changed::Inserted(stored.into_iter().map(convert::from_bson_document).collect())
            }
            Change::Update { scope, set } => {
                let filter = filter::write_scope(scope, spec.schema).map_err(Failed::Final)?;
                let update = update_document(spec, scope, set).map_err(Failed::Final)?;
                let updated = coll
                    .find_one_and_update(filter, update)
                    .return_document(ReturnDocument::After)
                    .session(&mut *session)
                    .await
                    .map_err(|e| classify(&e, error::map_update))?;
                Changed::Updated(updated.map(convert::from_bson_document))
            }
            Change::Delete { scope } => {
                let filter = filter::write_scope(scope, spec.schema).map_err(Failed::Final)?;
                let deleted = coll
                    .find_one_and_delete(filter)
                    .session(&mut *session)
                    .await
                    .map_err(|e| classify(&e, error::map))?;
                Changed::Deleted(deleted.map(convert::from_bson_document))
            }
        };
        let written: &[Document] = match &changed {
            Changed::Inserted(docs) => docs,
            Changed::Updated(doc) | Changed::Deleted(doc) => doc.as_slice(),
        };
        let schema = Schema::new();
        let side_spec = CollectionSpec { physical: &side.physical, schema: &schema };
        let extra = written
            .iter()
            .flat_map(|doc| (side.build)(doc))
            .map(|doc| prepare(&doc, &side_spec, now).map(|(_, _, stored)| stored))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failed::Final)?;
        if !extra.is_empty() {
            side_coll.insert_many(&extra).session(&mut *session).await.map_err(|e| classify(&e, error::map_insert))?;
        }
        Ok(changed)
    }
}

/// Commits, retrying a commit whose result is unknown (the driver makes that retry safe).
async fn commit(session: &mut ClientSession) -> Result<(), Failed> {
    let mut tries = 0;
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && tries < 2 => tries += 1,
            Err(e) => return Err(classify(&e, error::map)),
        }
    }
}
