//! The mail service's own documents in the platform store (reserved collections
//! `_urbackend_mail_templates` and `_urbackend_mail_usage`), read and written through the
//! ordinary [`DocumentStore`] interface with secret-key scopes from rls-core, as the platform
//! does for its own documents.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, Op, Scalar, SortOrder};
use store::{Document, DocumentStore, ReservedStore, StoreError};

use crate::error::MailError;

/// Project mail templates, one document each.
pub const TEMPLATES_COLLECTION: &str = "_urbackend_mail_templates";
/// Monthly quota slots, one document per sent mail.
pub const USAGE_COLLECTION: &str = "_urbackend_mail_usage";

/// Access to the mail service's reserved collections (over the store's shared [`ReservedStore`]).
pub(crate) struct Records(ReservedStore);

impl Records {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> Records {
        Records(ReservedStore::new(store))
    }

    /// The (projectId, createdAt) indexes that serve the per-project lookups.
    pub(crate) async fn ensure_indexes(&self) -> Result<(), StoreError> {
        for physical in [TEMPLATES_COLLECTION, USAGE_COLLECTION] {
            self.0.index(physical, "projectId").await?;
        }
        Ok(())
    }

    /// Inserts one document (with its `_id` when it carries one: a taken id is
    /// [`StoreError::DuplicateKey`], atomically, in both backends).
    pub(crate) async fn insert(&self, physical: &str, doc: Document) -> Result<Document, StoreError> {
        self.0.insert(physical, doc).await
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, StoreError> {
        self.0.get(physical, id).await
    }

    /// Merges `set` into the document; `None` when there is none.
    pub(crate) async fn update(&self, physical: &str, id: &str, set: &Document) -> Result<Option<Document>, MailError> {
        Ok(self.0.update(physical, id, set).await?)
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, MailError> {
        Ok(self.0.delete(physical, id).await?)
    }

    pub(crate) async fn count(&self, physical: &str, filter: &Filter) -> Result<u64, StoreError> {
        self.0.count(physical, filter).await
    }

    /// The first `limit` documents matching the filter, oldest first.
    pub(crate) async fn find(&self, physical: &str, filter: Filter, limit: u32) -> Result<Vec<Document>, MailError> {
        Ok(self.0.find(physical, filter, "createdAt", SortOrder::Asc, limit).await?)
    }
}

fn path(name: &str) -> Result<FieldPath, MailError> {
    FieldPath::new(name).map_err(|e| MailError::Internal(e.to_string()))
}

/// The filter `field1 == value1 AND field2 == value2 …` on string fields.
pub(crate) fn equal(pairs: &[(&str, &str)]) -> Result<Filter, MailError> {
    let mut filter = Filter::new();
    for (field, value) in pairs {
        filter.and(Condition::new(path(field)?, Op::Eq(Scalar::String((*value).to_owned()))));
    }
    Ok(filter)
}
