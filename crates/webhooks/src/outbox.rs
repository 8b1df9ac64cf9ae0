//! The durable outbox: [`Outbox::record`] turns one data change into one event document per
//! matching webhook in `_urbackend_webhook_events`, with the exact body that will be sent (spec
//! §11.2) and `finalStatus: "pending"`, due at once.
//!
//! The data plane awaits it after the store acknowledged the change and before the HTTP answer
//! is sent, so an answered change has its events stored. The store has no transaction across
//! collections: the event is written in the same request, after the change, and a crash between
//! the two loses that event (the change stays). A failure to write the event is logged and does
//! not fail the request, as in the original (the change has happened).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use store::{Document, DocumentStore, new_object_id, now_timestamp};

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
        let hooks = self.registry.matching(project_id, collection, action);
        if hooks.is_empty() {
            return Ok(0);
        }
        let timestamp = now_timestamp();
        let due = now_ms();
        let mut events = Vec::with_capacity(documents.len() * hooks.len());
        for document in documents {
            let body = payload(project_id, collection, action, document, &timestamp);
            for hook in &hooks {
                events.push(object(json!({
                    "_id": new_object_id(),
                    "webhookId": hook.id,
                    "projectId": project_id,
                    "event": format!("{collection}.{}", action.as_str()),
                    "body": body,
                    "attempts": 0,
                    "finalStatus": "pending",
                    "nextAttemptAt": due,
                })));
            }
        }
        let written = events.len();
        self.system.insert_many(EVENTS_COLLECTION, events).await?;
        Ok(written)
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
