//! The durable outbox: one event document per changed document and matching webhook in
//! `_urbackend_webhook_events`, with the exact body that will be sent (spec §11.2) and
//! `finalStatus: "pending"`, due at once.
//!
//! Where the project's data is in the store the outbox is in and the store writes atomically
//! (the embedded store), [`Outbox::side_writes`] hands the events to the store, which writes them
//! in the same operation as the change: both stand or neither does, so no event is lost when
//! the server stops. Elsewhere (a MongoDB store, a project's own database) the data plane awaits
//! [`Outbox::record`] after the store acknowledged the change and before the HTTP answer is sent;
//! a crash between the two loses that event (the change stays), and a failure to write it is
//! logged and does not fail the request, as in the original (the change has happened).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use store::{Document, DocumentStore, SideBuilder, SideWrites, new_object_id, now_timestamp};

use crate::config::{Action, Registry};
use crate::system::{SystemStore, object};
use crate::{EVENTS_COLLECTION, WebhookError};

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The payload of spec §11.2, as the exact JSON text that is signed and sent.
pub fn payload(project_id: &str, collection: &str, action: Action, document: &Document, timestamp: &str) -> String {
    let document_id = document.get("_id").cloned().unwrap_or(Value::Null);
    json!({
        "event": format!("{collection}.{}", action.as_str()),
        "timestamp": timestamp,
        "projectId": project_id,
        "collection": collection,
        "action": action.as_str(),
        "documentId": document_id,
        "data": document,
    })
    .to_string()
}

/// Writes events for data changes.
pub struct Outbox {
    system: SystemStore,
    registry: Arc<Registry>,
}

impl Outbox {
    /// An outbox in the platform store, matching changes against the registry's webhooks.
    pub async fn open(store: Arc<dyn DocumentStore>, registry: Arc<Registry>) -> Result<Outbox, WebhookError> {
        let system = SystemStore::new(store);
        system.index(crate::EVENTS_COLLECTION, "finalStatus").await?;
        Ok(Outbox { system, registry })
    }

    /// Records changes of documents of one collection: one event per document and webhook of
    /// the project that wants them, written in one store operation. Returns how many.
    pub async fn record(
        &self,
        project_id: &str,
        collection: &str,
        action: Action,
        documents: &[Document],
    ) -> Result<usize, WebhookError> {
        let Some(events) = self.events(project_id, collection, action) else { return Ok(0) };
        let written: Vec<Document> = documents.iter().flat_map(|doc| events(doc)).collect();
        let count = written.len();
        self.system.insert_many(EVENTS_COLLECTION, written).await?;
        Ok(count)
    }

    /// The events to write with a change, for the store to write in the same operation as the
    /// change ([`store::DocumentStore::write_with`]); `None` when no webhook wants it.
    pub fn side_writes(&self, project_id: &str, collection: &str, action: Action) -> Option<SideWrites> {
        let events = self.events(project_id, collection, action)?;
        Some(SideWrites { physical: EVENTS_COLLECTION.to_owned(), build: events })
    }

    /// What turns one changed document into its event documents (one per matching webhook,
    /// due at once), or `None` when no webhook of the project wants the change.
    fn events(&self, project_id: &str, collection: &str, action: Action) -> Option<SideBuilder> {
        let hooks: Vec<String> =
            self.registry.matching(project_id, collection, action).into_iter().map(|hook| hook.id).collect();
        if hooks.is_empty() {
            return None;
        }
        let (project_id, collection) = (project_id.to_owned(), collection.to_owned());
        let event = format!("{collection}.{}", action.as_str());
        Some(Arc::new(move |document: &Document| {
            let body = payload(&project_id, &collection, action, document, &now_timestamp());
            let due = now_ms();
            hooks
                .iter()
                .map(|hook| {
                    object(json!({
                        "_id": new_object_id(),
                        "webhookId": hook,
                        "projectId": project_id,
                        "event": event,
                        "body": body,
                        "attempts": 0,
                        "finalStatus": "pending",
                        "nextAttemptAt": due,
                    }))
                })
                .collect()
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_original_shape_and_order() {
        let doc = object(json!({"_id": "64b7f0c2a1b2c3d4e5f60718", "title": "Hi"}));
        let text = payload("p1", "posts", Action::Insert, &doc, "2026-11-23T10:00:00.000Z");
        assert_eq!(
            text,
            r#"{"event":"posts.insert","timestamp":"2026-11-23T10:00:00.000Z","projectId":"p1","collection":"posts","action":"insert","documentId":"64b7f0c2a1b2c3d4e5f60718","data":{"_id":"64b7f0c2a1b2c3d4e5f60718","title":"Hi"}}"#
        );
    }
}
