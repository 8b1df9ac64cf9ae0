//! The delivery log read back: one entry per attempt (`_urbackend_webhook_deliveries`, written
//! by the worker), newest first, for `urbackend webhook deliveries`. Entries are kept for the
//! worker's retention (see [`crate::retention`]).

use serde_json::Value;
use store::Document;

use crate::config::WebhookStore;
use crate::system::filter;
use crate::{DELIVERIES_COLLECTION, WebhookError};

/// The most entries one read returns.
pub const MAX_ENTRIES: u32 = 1000;

impl WebhookStore {
    /// The newest `limit` (at most [`MAX_ENTRIES`]) attempts of the project's webhooks, or of one
    /// of them, newest first.
    pub async fn deliveries(
        &self,
        project_id: &str,
        webhook_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Document>, WebhookError> {
        let mut equal = vec![("projectId", project_id)];
        if let Some(id) = webhook_id {
            equal.push(("webhookId", id));
        }
        let limit = limit.clamp(1, MAX_ENTRIES);
        let docs = self.system().find(
            DELIVERIES_COLLECTION,
            filter(&equal, None)?,
            "createdAt",
            query::SortOrder::Desc,
            limit,
        );
        let mut docs = docs.await?;
        // Only this project's entries, whatever the store's filter did.
        docs.retain(|d| d.get("projectId").and_then(Value::as_str) == Some(project_id));
        Ok(docs)
    }

    /// Indexes the log by project (for [`WebhookStore::deliveries`]). Idempotent.
    pub async fn index_deliveries(&self) -> Result<(), WebhookError> {
        Ok(self.system().index(DELIVERIES_COLLECTION, "projectId").await?)
    }
}
