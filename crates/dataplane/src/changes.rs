//! Data changes announced to the outside (the binary wires the webhooks outbox as the
//! [`ChangeSink`]). Where the sink can have its records written together with the change
//! ([`ChangeSink::side_writes`]: the project's data lives in the store the outbox is in) and the
//! store can do it atomically ([`store::DocumentStore::write_with`]: the embedded store), the
//! change and its records are one operation: a change is never without its events. Otherwise,
//! after the store acknowledged the change and before the answer goes back, the data plane awaits
//! [`ChangeSink::changed`]. A bulk insert announces each of its documents (the original announced
//! none, spec §5.5: a webhook then missed data that arrived in bulk).
//!
//! The sink is a trait here so that the data plane depends on no consumer of changes; a sink
//! handles its own failures (the change has happened and the request succeeds).

use std::sync::Arc;

use async_trait::async_trait;
use platform::Project;
use store::{Change, Changed, CollectionSpec, Document, DocumentStore, SideWrites, StoreError};

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

    /// The records to write together with a change of `collection` in `project` when its data
    /// lives in `store`; `None` when there are none to write, or not into that store (then
    /// [`ChangeSink::changed`] is called after the change).
    fn side_writes(
        &self,
        project: &Project,
        collection: &str,
        kind: ChangeKind,
        store: &Arc<dyn DocumentStore>,
    ) -> Option<SideWrites>;
}

impl DataPlane {
    /// Announces every acknowledged change to `sink` from now on.
    #[must_use]
    pub fn with_change_sink(mut self, sink: std::sync::Arc<dyn ChangeSink>) -> DataPlane {
        self.changes = Some(sink);
        self
    }

    /// Applies `change`, with the sink's records in the same operation where the sink and the
    /// store allow; otherwise the change alone, then [`ChangeSink::changed`] for what it wrote.
    pub(crate) async fn apply(
        &self,
        project: &Project,
        collection: &str,
        store: &Arc<dyn DocumentStore>,
        spec: &CollectionSpec<'_>,
        change: Change<'_>,
    ) -> Result<Changed, StoreError> {
        let kind = match &change {
            Change::Insert(_) => ChangeKind::Insert,
            Change::Update { .. } => ChangeKind::Update,
            Change::Delete { .. } => ChangeKind::Delete,
        };
        let side = self.changes.as_ref().and_then(|sink| sink.side_writes(project, collection, kind, store));
        let change = match side {
            Some(side) => {
                let retry = change.clone();
                match store.write_with(spec, change, &side).await {
                    Err(StoreError::Unsupported(_)) => retry,
                    written => return written,
                }
            }
            None => change,
        };
        let changed = match change {
            Change::Insert(docs) => Changed::Inserted(store.insert(spec, docs).await?),
            Change::Update { scope, set } => Changed::Updated(store.update(spec, scope, set).await?),
            Change::Delete { scope } => Changed::Deleted(store.delete(spec, scope).await?),
        };
        let written = match &changed {
            Changed::Inserted(docs) => docs.as_slice(),
            Changed::Updated(doc) | Changed::Deleted(doc) => doc.as_slice(),
        };
        if !written.is_empty() {
            self.announce(project, collection, kind, written).await;
        }
        Ok(changed)
    }

    pub(crate) async fn announce(&self, project: &Project, collection: &str, kind: ChangeKind, documents: &[Document]) {
        if let Some(sink) = &self.changes {
            sink.changed(project, collection, kind, documents).await;
        }
    }
}
