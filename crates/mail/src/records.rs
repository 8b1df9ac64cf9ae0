//! The mail service's own documents in the platform store (reserved collections
//! `_urbackend_mail_templates` and `_urbackend_mail_usage`), read and written through the
//! ordinary [`DocumentStore`] interface with secret-key scopes from rls-core, as the platform
//! does for its own documents.

use std::sync::Arc;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Pagination, Scalar, Schema, SortKey, SortOrder};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, Target, WriteScope};
use store::{CollectionSpec, Document, DocumentStore, StoreError};

use crate::error::MailError;

/// Project mail templates, one document each.
pub const TEMPLATES_COLLECTION: &str = "_urbackend_mail_templates";
/// Monthly quota slots, one document per sent mail.
pub const USAGE_COLLECTION: &str = "_urbackend_mail_usage";

/// Access to the mail service's reserved collections.
pub(crate) struct Records {
    store: Arc<dyn DocumentStore>,
    schema: Schema,
}

impl Records {
    pub(crate) fn new(store: Arc<dyn DocumentStore>) -> Records {
        Records { store, schema: Schema::new() }
    }

    fn spec<'a>(&'a self, physical: &'a str) -> CollectionSpec<'a> {
        CollectionSpec { physical, schema: &self.schema }
    }

    /// The (projectId, createdAt) indexes that serve the per-project lookups.
    pub(crate) async fn ensure_indexes(&self) -> Result<(), StoreError> {
        for physical in [TEMPLATES_COLLECTION, USAGE_COLLECTION] {
            self.store.create_owner_index(&self.spec(physical), "projectId").await?;
        }
        Ok(())
    }

    /// Inserts one document (with its `_id` when it carries one: a taken id is
    /// [`StoreError::DuplicateKey`], atomically, in both backends).
    pub(crate) async fn insert(&self, physical: &str, doc: Document) -> Result<Document, StoreError> {
        let mut stored = self.store.insert(&self.spec(physical), vec![doc]).await?;
        stored.pop().ok_or_else(|| StoreError::Internal("insert returned no document".to_owned()))
    }

    pub(crate) async fn get(&self, physical: &str, id: &str) -> Result<Option<Document>, StoreError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        self.store.get(&self.spec(physical), &id, &ReadScope::All).await
    }

    /// Merges `set` into the document; `None` when there is none.
    pub(crate) async fn update(&self, physical: &str, id: &str, set: &Document) -> Result<Option<Document>, MailError> {
        Ok(self.store.update(&self.spec(physical), &scope(physical, id)?, set).await?)
    }

    pub(crate) async fn delete(&self, physical: &str, id: &str) -> Result<Option<Document>, MailError> {
        Ok(self.store.delete(&self.spec(physical), &scope(physical, id)?).await?)
    }

    pub(crate) async fn count(&self, physical: &str, filter: &Filter) -> Result<u64, StoreError> {
        self.store.count(&self.spec(physical), &ReadScope::All, filter).await
    }

    /// The first `limit` documents matching the filter, oldest first.
    pub(crate) async fn find(&self, physical: &str, filter: Filter, limit: u32) -> Result<Vec<Document>, MailError> {
        let sort = vec![SortKey { path: path("createdAt")?, order: SortOrder::Asc }];
        let pagination = Pagination::Offset { page: 1, limit };
        let query =
            ListQuery { filter, sort, pagination, projection: None, populate: Vec::new(), count: false, meta: None };
        Ok(self.store.find(&self.spec(physical), &ReadScope::All, &query).await?.items)
    }
}

/// A secret-key write scope for one document (no owner condition).
fn scope(physical: &str, id: &str) -> Result<WriteScope, MailError> {
    rls_core::authorize_delete(&Caller::secret(), &Target::existing(physical, &RlsConfig::default()), id)
        .map_err(|denial| MailError::Internal(format!("{physical}/{id}: {}", denial.message())))
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
