//! Webhooks in the binary: `webhook add|list|remove`, and what `serve` starts — the registry
//! refresh, the delivery worker, and the [`dataplane::ChangeSink`] that writes the outbox.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use dataplane::{ChangeKind, ChangeSink};
use platform::{MasterKey, Platform, Project};
use serde_json::json;
use store::{Document, DocumentStore, SideWrites};
use webhooks::{Action, Outbox, Registry, WebhookStore, Worker, WorkerConfig};

use crate::cli::{WebhookArgs, WebhookCommand};
use crate::stores;

/// The data plane's changes into the webhooks outbox, which is in `store` (the platform store).
struct OutboxSink {
    outbox: Outbox,
    store: Arc<dyn DocumentStore>,
}

fn action(kind: ChangeKind) -> Action {
    match kind {
        ChangeKind::Insert => Action::Insert,
        ChangeKind::Update => Action::Update,
        ChangeKind::Delete => Action::Delete,
    }
}

#[async_trait]
impl ChangeSink for OutboxSink {
    async fn changed(&self, project: &Project, collection: &str, kind: ChangeKind, documents: &[Document]) {
        if let Err(e) = self.outbox.record(&project.id, collection, action(kind), documents).await {
            tracing::error!(error = %e, project = %project.id, collection, "writing a webhook event failed; it is lost");
        }
    }

    fn side_writes(
        &self,
        project: &Project,
        collection: &str,
        kind: ChangeKind,
        store: &Arc<dyn DocumentStore>,
    ) -> Option<SideWrites> {
        // Only into the store the worker reads: not a project's own database.
        if !Arc::ptr_eq(store, &self.store) {
            return None;
        }
        self.outbox.side_writes(&project.id, collection, action(kind))
    }
}

/// Starts the webhook registry refresh and the delivery worker (they run as long as the
/// server) and returns the sink the data plane announces its changes to.
pub(crate) async fn start(
    args: &WebhookArgs,
    store: Arc<dyn DocumentStore>,
    key: Option<MasterKey>,
) -> anyhow::Result<Arc<dyn ChangeSink>> {
    let registry = Arc::new(Registry::open(store.clone()).await.map_err(|e| anyhow::anyhow!("loading webhooks: {e}"))?);
    let _refresh = registry.spawn_refresh();
    let outbox = Outbox::open(store.clone(), registry).await.map_err(|e| anyhow::anyhow!("opening the outbox: {e}"))?;
    let sink_store = store.clone();
    if args.webhook_allow_private_targets {
        tracing::warn!("webhooks may reach loopback, private and link-local addresses");
    }
    let config = WorkerConfig {
        max_attempts: args.webhook_max_attempts,
        first_retry: Duration::from_secs(args.webhook_first_retry_seconds),
        retention: Duration::from_secs(args.webhook_retention_days.saturating_mul(24 * 3600)),
        allow_private: args.webhook_allow_private_targets,
        ..WorkerConfig::default()
    };
    WebhookStore::on(store.clone())
        .index_deliveries()
        .await
        .map_err(|e| anyhow::anyhow!("indexing the delivery log: {e}"))?;
    let _worker = Arc::new(Worker::new(store, key, config)).spawn();
    Ok(Arc::new(OutboxSink { outbox, store: sink_store }))
}

/// `urbackend webhook add|list|deliveries|remove`.
pub(crate) async fn run(command: WebhookCommand) -> anyhow::Result<()> {
    let (project, store_args) = match &command {
        WebhookCommand::Add { project, store, .. }
        | WebhookCommand::List { project, store }
        | WebhookCommand::Deliveries { project, store, .. }
        | WebhookCommand::Remove { project, store, .. } => (project, store),
    };
    let (store, _) = stores::open(store_args).await?;
    let platform = Platform::open(store.clone()).await.context("opening the platform")?;
    let project = platform.project(project).with_context(|| format!("no project {project}"))?;
    let hooks = WebhookStore::on(store);
    let failed = |e: webhooks::WebhookError| anyhow::anyhow!("{e}");
    match command {
        WebhookCommand::Add { url, secret, events, webhook_allow_private_targets, store: store_args, .. } => {
            let key = stores::master_key(&store_args)?
                .context("a webhook secret needs URBACKEND_MASTER_KEY (64 hex characters) to encrypt it")?;
            let events = webhooks::config::parse_events(&events).map_err(failed)?;
            let hook = hooks
                .add(&project.id, &url, &secret, events, &key, webhook_allow_private_targets)
                .await
                .map_err(failed)?;
            println!("{}", serde_json::to_value(&hook)?);
        }
        WebhookCommand::List { .. } => {
            let list = hooks.list(&project.id).await.map_err(failed)?;
            println!("{}", json!({"projectId": project.id, "webhooks": list}));
        }
        WebhookCommand::Deliveries { webhook, limit, .. } => {
            let log = hooks.deliveries(&project.id, webhook.as_deref(), limit).await.map_err(failed)?;
            println!("{}", json!({"projectId": project.id, "deliveries": log}));
        }
        WebhookCommand::Remove { id, .. } => {
            let removed = hooks.remove(&project.id, &id).await.map_err(failed)?;
            println!("{}", json!({"projectId": project.id, "removed": removed.id}));
        }
    }
    Ok(())
}
