//! Data changes announced to the outside: after the store acknowledged an insert, a bulk
//! insert, an update or a delete of the public data API, and before the answer goes back, the
//! data plane awaits its [`ChangeSink`] (the binary wires the webhooks outbox). A bulk insert
//! announces each of its documents in one call (the original announced none, spec §5.5: a
//! webhook then missed data that arrived in bulk).
//!
//! The sink is a trait here so that the data plane depends on no consumer of changes; a sink
//! handles its own failures (the change has happened and the request succeeds).

use async_trait::async_trait;
use platform::Project;
use store::Document;

use crate::DataPlane;

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Inserted.
    Insert,
    /// Updated (PUT or PATCH).
    Update,
    /// Deleted.
    Delete,
}

/// Receives every acknowledged change of the data API.
#[async_trait]
pub trait ChangeSink: Send + Sync + 'static {
    /// The documents (as stored, as updated, or as they were before the delete) of `collection`
    /// in `project` changed, each in the same way.
    async fn changed(&self, project: &Project, collection: &str, kind: ChangeKind, documents: &[Document]);
}

impl DataPlane {
    /// Announces every acknowledged change to `sink` from now on.
    #[must_use]
    pub fn with_change_sink(mut self, sink: std::sync::Arc<dyn ChangeSink>) -> DataPlane {
        self.changes = Some(sink);
        self
    }

    pub(crate) async fn announce(&self, project: &Project, collection: &str, kind: ChangeKind, documents: &[Document]) {
        if let Some(sink) = &self.changes {
            sink.changed(project, collection, kind, documents).await;
        }
    }
}
