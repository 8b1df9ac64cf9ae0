//! `urbackend admin token`: creates (or revokes) an admin token, and the wiring of the admin
//! endpoints for `serve` (admin tokens, analytics with the files' bytes from the storage quota
//! ledger, the Prometheus recorder of `/metrics`).

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use api_actix::{AdminSettings, MetricsRenderer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use platform::AdminTokens;
use serde_json::json;
use store::DocumentStore;

use crate::cli::AdminCommand;
use crate::stores;

pub(crate) async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Token { revoke, store } => {
            let (store, _) = stores::open(&store).await?;
            let tokens = AdminTokens::new(store);
            match revoke {
                Some(id) => {
                    let revoked = tokens.revoke(&id).await.context("revoking the admin token")?;
                    println!("{}", json!({"id": id, "revoked": revoked}));
                }
                None => {
                    let made = tokens.create().await.context("creating the admin token")?;
                    println!("{}", json!({"token": made.token, "id": made.id}));
                }
            }
            Ok(())
        }
    }
}

/// The embedded store whose reader pool `/metrics` reports (the MongoDB driver keeps its pool
/// to itself).
static EMBEDDED: OnceLock<store_sqlite::SqliteStore> = OnceLock::new();

/// Whether this process serves `/metrics` ([`install_metrics`] ran).
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Reports this store's reader pool in `/metrics` (the first embedded store a server opens;
/// command-line subcommands keep no reference to their store).
pub(crate) fn watch_readers(store: &store_sqlite::SqliteStore) {
    if INSTALLED.get().is_some() {
        let _ = EMBEDDED.set(store.clone());
    }
}

/// Installs the process-wide Prometheus recorder (histograms with
/// [`analytics::telemetry::DURATION_BUCKETS`]) and returns its renderer.
pub(crate) fn install_metrics() -> anyhow::Result<MetricsRenderer> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), analytics::telemetry::DURATION_BUCKETS)
        .context("configuring the metric buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    analytics::telemetry::describe();
    let _ = INSTALLED.set(());
    Ok(Arc::new(move || {
        if let Some(store) = EMBEDDED.get() {
            let (in_use, max) = store.readers_in_use();
            analytics::telemetry::set_store_readers(in_use, max);
        }
        // All MongoDB clients of the process (0 on the embedded store alone).
        let pools = store_mongo::pool_usage();
        analytics::telemetry::set_mongo_pools(pools.open, pools.in_use, pools.checkout_failures);
        handle.run_upkeep();
        handle.render()
    }))
}

/// The admin endpoints' settings for a server on `store`.
pub(crate) async fn settings(
    store: Arc<dyn DocumentStore>,
    resolver: Arc<dyn platform::StoreResolver>,
    usage: Arc<dyn analytics::StorageUsage>,
    metrics: MetricsRenderer,
    metrics_public: bool,
) -> anyhow::Result<AdminSettings> {
    let analytics = analytics::Analytics::new(store.clone(), resolver, usage);
    analytics.ensure_index().await.context("indexing the request log")?;
    Ok(AdminSettings { tokens: AdminTokens::new(store), analytics, metrics: Some(metrics), metrics_public })
}

/// The bytes of a project's files, from the storage quota ledger (`storageBytes` of the analytics).
pub(crate) struct FilesUsage(pub(crate) Arc<storage::Files>);

#[async_trait::async_trait]
impl analytics::StorageUsage for FilesUsage {
    async fn bytes_used(&self, project: &platform::Project) -> Result<u64, store::StoreError> {
        self.0.ledger().used(&project.id).await.map_err(|e| store::StoreError::Internal(e.to_string()))
    }
}
