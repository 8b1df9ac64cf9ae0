//! Keeping the webhook collections bounded: events that reached their final state
//! (`delivered` or `failed`) and the delivery log are kept for [`WorkerConfig::retention`]
//! (default 30 days) and then deleted; attempt claims only matter while their event may still
//! make that attempt (hours at most), so claims older than a day are deleted whatever the
//! retention. Pending events are never deleted.
//!
//! [`Worker::sweep`] deletes at most a batch per collection per call; the worker calls it every
//! [`SWEEP_EVERY`]. Several servers sweeping at once only delete the same documents twice.

use std::time::Duration;

use query::{Condition, FieldPath, Filter, Op, Scalar};

use crate::worker::{Worker, WorkerConfig};
use crate::{CLAIMS_COLLECTION, DELIVERIES_COLLECTION, EVENTS_COLLECTION, WebhookError};

/// How often the worker sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Documents deleted per collection and sweep.
const BATCH: u32 = 1000;
/// How long an attempt claim is kept.
const CLAIM_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How many documents a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Delivered or failed events older than the retention.
    pub events: usize,
    /// Delivery log entries older than the retention.
    pub deliveries: usize,
    /// Attempt claims older than a day.
    pub claims: usize,
}

fn field(name: &str) -> Result<FieldPath, WebhookError> {
    FieldPath::new(name).map_err(|e| WebhookError::Internal(format!("field path {name}: {e}")))
}

/// Documents created before `cutoff_ms`, and with `finalStatus` equal to `status` if given.
fn created_before(cutoff_ms: i64, status: Option<&str>) -> Result<Filter, WebhookError> {
    let mut filter = Filter::new();
    if let Some(status) = status {
        filter.and(Condition::new(field("finalStatus")?, Op::Eq(Scalar::String(status.to_owned()))));
    }
    filter.and(Condition::new(field("createdAt")?, Op::Lt(Scalar::Date(cutoff_ms))));
    Ok(filter)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl WorkerConfig {
    /// The creation time before which finished events and log entries are deleted at `now_ms`.
    fn retention_cutoff(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(millis(self.retention))
    }
}

impl Worker {
    /// Deletes one batch of what is past its keeping time at `now_ms` in each collection.
    pub async fn sweep(&self, now_ms: i64) -> Result<Swept, WebhookError> {
        let system = self.system();
        let cutoff = self.config().retention_cutoff(now_ms);
        let mut swept = Swept::default();
        for status in ["delivered", "failed"] {
            let filter = created_before(cutoff, Some(status))?;
            swept.events += system.delete_matching(EVENTS_COLLECTION, filter, BATCH).await?;
        }
        let filter = created_before(cutoff, None)?;
        swept.deliveries = system.delete_matching(DELIVERIES_COLLECTION, filter, BATCH).await?;
        let filter = created_before(now_ms.saturating_sub(millis(CLAIM_LIFETIME)), None)?;
        swept.claims = system.delete_matching(CLAIMS_COLLECTION, filter, BATCH).await?;
        Ok(swept)
    }
}
