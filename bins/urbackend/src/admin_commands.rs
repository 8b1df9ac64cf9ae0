//! `urbackend admin token`: creates (or revokes) an admin token, and the wiring of the admin
//! endpoints for `serve` (admin tokens, analytics, the Prometheus recorder of `/metrics`).

use std::sync::Arc;

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

/// Installs the process-wide Prometheus recorder (histograms with
/// [`analytics::telemetry::DURATION_BUCKETS`]) and returns its renderer.
pub(crate) fn install_metrics() -> anyhow::Result<MetricsRenderer> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), analytics::telemetry::DURATION_BUCKETS)
        .context("configuring the metric buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    analytics::telemetry::describe();
    Ok(Arc::new(move || {
        handle.run_upkeep();
        handle.render()
    }))
}

/// The admin endpoints' settings for a server on `store`.
pub(crate) async fn settings(
    store: Arc<dyn DocumentStore>,
    resolver: Arc<dyn platform::StoreResolver>,
    metrics: MetricsRenderer,
    metrics_public: bool,
) -> anyhow::Result<AdminSettings> {
    let analytics = analytics::Analytics::new(store.clone(), resolver, Arc::new(analytics::NoStorageUsage));
    analytics.ensure_index().await.context("indexing the request log")?;
    Ok(AdminSettings { tokens: AdminTokens::new(store), analytics, metrics: Some(metrics), metrics_public })
}
