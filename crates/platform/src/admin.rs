//! Admin tokens: the credentials of the operator endpoints (`/api/admin/…`, `/metrics`).
//!
//! A token is `adm_` followed by 32 random bytes in unpadded base64url (47 characters). It is
//! shown once, when made (`urbackend admin token`); the reserved collection
//! `_urbackend_admin_tokens` keeps only its SHA-256 (`tokenHash`, lower-case hex). Verification
//! looks the hash up and confirms the match in constant time. API keys never pass: their
//! prefixes differ and their hashes live elsewhere.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Scalar, Schema};
use rls_core::{Caller, ReadScope, RlsConfig, Target};
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore};

use crate::error::PlatformError;
use crate::keys::{generate_admin_token, hash_key, hashes_equal};

/// The reserved collection of admin token hashes.
pub const ADMIN_TOKENS_COLLECTION: &str = "_urbackend_admin_tokens";
/// The admin token prefix.
pub const ADMIN_TOKEN_PREFIX: &str = "adm_";

/// A token just made: the plain token (shown once) and the id of its stored hash.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAdminToken {
    /// The token, `adm_…`.
    pub token: String,
    /// The id to revoke it by.
    pub id: String,
}

impl std::fmt::Debug for NewAdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAdminToken").field("token", &"adm_<redacted>").field("id", &self.id).finish()
    }
}

/// Admin tokens in the platform store.
pub struct AdminTokens {
    store: Arc<dyn DocumentStore>,
    schema: Schema,
}

impl AdminTokens {
    /// Admin tokens kept in `store` (the platform store).
    pub fn new(store: Arc<dyn DocumentStore>) -> AdminTokens {
        AdminTokens { store, schema: Schema::new() }
    }

    fn spec(&self) -> CollectionSpec<'_> {
        CollectionSpec { physical: ADMIN_TOKENS_COLLECTION, schema: &self.schema }
    }

    /// Makes a token and stores its hash.
    pub async fn create(&self) -> Result<NewAdminToken, PlatformError> {
        let token = generate_admin_token()?;
        let mut doc = Document::new();
        doc.insert("tokenHash".into(), Value::String(hash_key(&token)));
        let stored = self.store.insert(&self.spec(), vec![doc]).await?;
        let id = stored
            .first()
            .and_then(|d| d.get("_id"))
            .and_then(Value::as_str)
            .ok_or_else(|| PlatformError::Internal("admin token insert returned no id".to_owned()))?;
        Ok(NewAdminToken { token, id: id.to_owned() })
    }

    /// Whether `token` is a stored admin token.
    pub async fn verify(&self, token: &str) -> Result<bool, PlatformError> {
        if !token.starts_with(ADMIN_TOKEN_PREFIX) {
            return Ok(false);
        }
        let hash = hash_key(token);
        let field = FieldPath::new("tokenHash").map_err(|e| PlatformError::Internal(e.to_string()))?;
        let mut filter = Filter::new();
        filter.and(Condition::new(field, Op::Eq(Scalar::String(hash.clone()))));
        let query = ListQuery::first(filter, Vec::new(), 1);
        let page = self.store.find(&self.spec(), &ReadScope::All, &query).await?;
        Ok(page.items.iter().filter_map(|d| d.get("tokenHash").and_then(Value::as_str)).any(|h| hashes_equal(h, &hash)))
    }

    /// Deletes the token with this id; whether it existed.
    pub async fn revoke(&self, id: &str) -> Result<bool, PlatformError> {
        let rls = RlsConfig::default();
        let Ok(scope) =
            rls_core::authorize_delete(&Caller::secret(), &Target::existing(ADMIN_TOKENS_COLLECTION, &rls), id)
        else {
            return Ok(false);
        };
        Ok(self.store.delete(&self.spec(), &scope).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn tokens_verify_by_hash_and_can_be_revoked() {
        let store: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open_in_memory().unwrap());
        let tokens = AdminTokens::new(store.clone());
        let made = tokens.create().await.unwrap();
        assert!(made.token.starts_with("adm_") && made.token.len() == 47, "{}", made.token);
        assert!(tokens.verify(&made.token).await.unwrap());
        assert!(!tokens.verify("adm_wrong").await.unwrap());
        assert!(!tokens.verify(&made.token.replace("adm_", "sk_live_")).await.unwrap());
        let schema = Schema::new();
        let spec = CollectionSpec { physical: ADMIN_TOKENS_COLLECTION, schema: &schema };
        let query = query::parse("", &schema).unwrap();
        let stored = store.find(&spec, &ReadScope::All, &query).await.unwrap();
        let text = serde_json::to_string(&stored.items).unwrap();
        assert!(!text.contains(&made.token), "only the hash is stored");
        assert!(text.contains(&hash_key(&made.token)));
        assert!(tokens.revoke(&made.id).await.unwrap());
        assert!(!tokens.verify(&made.token).await.unwrap());
        assert!(!tokens.revoke(&made.id).await.unwrap());
        assert!(!tokens.revoke("not-an-id").await.unwrap());
    }
}
