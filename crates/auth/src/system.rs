//! The accounts' own documents in reserved collections of the platform store, read and written
//! through the ordinary [`DocumentStore`] interface with secret-key scopes.
//!
//! Atomicity comes from one primitive both backends guarantee: inserting a document whose `_id`
//! exists fails with `StoreError::DuplicateKey`. A *latch* is such a document: its id is derived
//! from a name (`used:<session>`, `revoked:<family>`, `consumed:<code>`, `attempt:<code>:<n>`),
//! and setting it succeeds for exactly one caller, whatever the number of concurrent requests
//! or server processes. Single use of refresh tokens and one-time codes, and the attempt limit of
//! codes, are built on latches, so they need neither transactions nor Redis.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, Op, Scalar};
use rls_core::WriteScope;
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{Document, DocumentStore, ReservedStore};

use crate::error::AuthError;

/// Refresh sessions, one document per issued refresh token.
pub const SESSIONS_COLLECTION: &str = "_urbackend_refresh_sessions";
/// One-time codes (verification, password reset).
pub const CODES_COLLECTION: &str = "_urbackend_auth_codes";
/// Latches (see the module documentation).
pub const LATCHES_COLLECTION: &str = "_urbackend_auth_latches";

/// The 24-hex document id derived from a name (the first 96 bits of its SHA-256).
pub(crate) fn derived_id(name: &str) -> String {
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    digest.chars().take(24).collect()
}

/// The name the accounts service asks rls-core for its write scopes under.
const ACCOUNTS_TARGET: &str = "_urbackend_accounts";

/// A secret-key write scope for one user document (no owner condition). The scope holds the id
/// only, so the collection's name takes no part in it; it is asked under the accounts service's
/// own name because rls-core refuses the name `users` to guard the data API, and a project on
/// its own MongoDB keeps its users in a collection physically named `users`.
pub(crate) fn secret_scope(id: &str) -> Result<WriteScope, AuthError> {
    Ok(store::secret_write_scope(ACCOUNTS_TARGET, id)?)
}

/// A filter of string equalities.
pub(crate) fn equalities(pairs: &[(&str, &str)]) -> Result<Filter, AuthError> {
    let mut filter = Filter::new();
    for (field, value) in pairs {
        let path = FieldPath::new(field).map_err(|e| AuthError::Internal(format!("field path {field}: {e}")))?;
        filter.and(Condition::new(path, Op::Eq(Scalar::String((*value).to_owned()))));
    }
    Ok(filter)
}

/// The reserved collections of the accounts: the store's shared helper ([`ReservedStore`], which
/// it dereferences to) plus latches.
#[derive(Clone)]
pub(crate) struct SystemStore(ReservedStore);

impl std::ops::Deref for SystemStore {
    type Target = ReservedStore;

    fn deref(&self) -> &ReservedStore {
        &self.0
    }
}

impl SystemStore {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> SystemStore {
        SystemStore(ReservedStore::new(store))
    }

    /// Sets the latch `name`; `true` for the one caller that set it, `false` when it was set.
    pub(crate) async fn set_latch(&self, name: &str, group: &str) -> Result<bool, AuthError> {
        let mut doc = Document::new();
        doc.insert("_id".to_owned(), Value::String(derived_id(name)));
        doc.insert("group".to_owned(), Value::String(group.to_owned()));
        Ok(self.insert_if_absent(LATCHES_COLLECTION, doc).await?)
    }

    /// Whether the latch `name` is set.
    pub(crate) async fn latch_is_set(&self, name: &str) -> Result<bool, AuthError> {
        Ok(self.get(LATCHES_COLLECTION, &derived_id(name)).await?.is_some())
    }

    /// Takes the next of `max` numbered latches `<prefix>:<n>` (group `prefix`); `false` when
    /// all are taken. Concurrent callers each get a different number.
    pub(crate) async fn take_numbered_latch(&self, prefix: &str, max: u32) -> Result<bool, AuthError> {
        let taken = self.count(LATCHES_COLLECTION, &equalities(&[("group", prefix)])?).await?;
        let mut n = u32::try_from(taken).unwrap_or(u32::MAX).saturating_add(1);
        while n <= max {
            if self.set_latch(&format!("{prefix}:{n}"), prefix).await? {
                return Ok(true);
            }
            n += 1;
        }
        Ok(false)
    }
}

pub(crate) use store::object;
