//! The delivery worker `serve` starts: it polls the outbox for due events, claims each attempt,
//! sends it, logs it and schedules what comes next.
//!
//! **Exactly one attempt per (event, attempt number), across processes.** Before sending, a
//! process inserts the claim document whose `_id` is derived from (event id, attempt number)
//! into `_urbackend_webhook_claims`; both store backends refuse a duplicate `_id` atomically, so
//! of all the servers that saw the event due, exactly one sends that attempt. The attempt's
//! result then moves the event on (`attempts`, `nextAttemptAt`, `finalStatus`), and the next
//! attempt has a new claim id. A process that dies between its claim and that update leaves a
//! claim without a result: once it is older than the request timeout plus a minute, one process
//! (through a second derived claim) records that attempt as failed and the event goes on to its
//! next attempt. Only a process that stalls for that long after claiming could then make its
//! attempt as well (a duplicate, never a loss).
//!
//! **Retries.** 2xx delivers; 4xx (and 3xx, redirects are not followed) fails for good; 5xx,
//! network errors and timeouts are retried after [`WorkerConfig::retry_delay`] (the first retry
//! after `first_retry`, each next one four times later, capped at four hours) until
//! `max_attempts` attempts were made. A target the SSRF guard refuses is never called and not
//! retried. Every attempt is logged in `_urbackend_webhook_deliveries`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::MasterKey;
use serde_json::{Value, json};
use store::{Document, DocumentStore, now_timestamp};
use tokio::task::{JoinHandle, JoinSet};

use crate::config::WebhookStore;
use crate::http::{self, Delivery, Outcome};
use crate::outbox::now_ms;
use crate::retention::SWEEP_EVERY;
use crate::signature;
use crate::system::{SystemStore, derived_id, filter, object, text};
use crate::{CLAIMS_COLLECTION, DELIVERIES_COLLECTION, EVENTS_COLLECTION, WebhookError};

/// How often the queue-depth gauge is refreshed.
const GAUGE_EVERY: Duration = Duration::from_secs(1);
/// Events claimed per poll.
const BATCH: u32 = 20;
/// How long after its request's timeout an unrecorded claim counts as abandoned.
const STALE_AFTER: Duration = Duration::from_secs(60);
/// The error of an attempt whose process stopped before recording it.
const STOPPED: &str = "The server making this attempt stopped before recording its result.";
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(4 * 3600);

/// Settings of the worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Attempts per event, the first included (default 6).
    pub max_attempts: u32,
    /// The wait before the first retry (default 30 s).
    pub first_retry: Duration,
    /// Whether private, loopback and link-local targets may be called.
    pub allow_private: bool,
    /// The timeout of one request (default 10 s).
    pub timeout: Duration,
    /// How often the outbox is polled (default 250 ms).
    pub poll: Duration,
    /// How long finished events and the delivery log are kept (default 30 days).
    pub retention: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            max_attempts: 6,
            first_retry: Duration::from_secs(30),
            allow_private: false,
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl WorkerConfig {
    /// The wait after failed attempt number `attempt` (1-based): `first_retry × 4^(attempt-1)`,
    /// at most four hours.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let factor = 4u32.checked_pow(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.first_retry.checked_mul(factor).map_or(MAX_DELAY, |d| d.min(MAX_DELAY))
    }
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Delivered,
    Failed,
    Retry,
}

/// The delivery worker.
pub struct Worker {
    system: SystemStore,
    hooks: WebhookStore,
    key: Option<MasterKey>,
    config: WorkerConfig,
}

impl Worker {
    /// A worker over the platform store; without a master key no secret can be read, and every
    /// event fails with `Secret decryption failed`.
    pub fn new(store: Arc<dyn DocumentStore>, key: Option<MasterKey>, config: WorkerConfig) -> Worker {
        Worker { system: SystemStore::new(store.clone()), hooks: WebhookStore::on(store), key, config }
    }

    pub(crate) fn system(&self) -> &SystemStore {
        &self.system
    }

    pub(crate) fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Polls until the task is aborted; counts the queue for `/metrics` every [`GAUGE_EVERY`]
    /// and sweeps old documents every [`SWEEP_EVERY`] (the first time at once).
    pub fn spawn(self: Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let (mut counted, mut swept): (Option<Instant>, Option<Instant>) = (None, None);
            loop {
                if counted.is_none_or(|at| at.elapsed() >= GAUGE_EVERY) {
                    counted = Some(Instant::now());
                    if let Err(e) = self.count_queue().await {
                        tracing::warn!(error = %e, "counting the webhook queue failed");
                    }
                }
                if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                    swept = Some(Instant::now());
                    match self.sweep(now_ms()).await {
                        Ok(swept) => tracing::debug!(?swept, "swept old webhook documents"),
                        Err(e) => tracing::warn!(error = %e, "sweeping old webhook documents failed"),
                    }
                }
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "webhook delivery poll failed");
                }
                tokio::time::sleep(self.config.poll).await;
            }
        })
    }

    /// Sets the queue-depth gauge to the number of pending events.
    pub async fn count_queue(&self) -> Result<u64, WebhookError> {
        let pending = filter(&[("finalStatus", "pending")], None)?;
        let depth = self.system.count(EVENTS_COLLECTION, &pending).await?;
        analytics::telemetry::set_webhook_queue_depth(depth);
        Ok(depth)
    }

    /// One poll: attempts every due event this process claims (concurrently) and waits for them.
    /// Returns how many attempts it made.
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, WebhookError> {
        let due = filter(&[("finalStatus", "pending")], Some(("nextAttemptAt", now_ms())))?;
        let events = self.system.find(EVENTS_COLLECTION, due, "nextAttemptAt", query::SortOrder::Asc, BATCH).await?;
        let mut tasks = JoinSet::new();
        for event in events {
            let worker = self.clone();
            tasks.spawn(async move { worker.attempt(&event).await });
        }
        let mut made = 0;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(true)) => made += 1,
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "webhook delivery failed"),
                Err(e) => tracing::warn!(error = %e, "webhook delivery task failed"),
            }
        }
        Ok(made)
    }

    /// Claims and makes the next attempt of one event; `false` when another process has it.
    async fn attempt(&self, event: &Document) -> Result<bool, WebhookError> {
        let id = text(event, "_id").ok_or_else(|| WebhookError::Internal("event without _id".into()))?;
        let attempts = event.get("attempts").and_then(Value::as_u64).unwrap_or(0);
        let number = u32::try_from(attempts).unwrap_or(u32::MAX).saturating_add(1);
        let claim = object(json!({"_id": derived_id(&format!("{id}:{number}")), "eventId": id, "attempt": number,
            "claimedAt": now_ms()}));
        if !self.system.insert_if_absent(CLAIMS_COLLECTION, claim).await? {
            return self.recover(event, id, number).await;
        }
        let attempted_at = now_timestamp();
        let outcome = self.send(event, id).await;
        self.finish(event, id, number, &outcome, &attempted_at).await?;
        Ok(true)
    }

    /// An attempt claimed by a process that never recorded its result (it stopped): once the
    /// claim is older than the timeout and [`STALE_AFTER`], one process (a second claim, derived
    /// from the first) records the attempt as failed, so the event moves on to its next attempt.
    async fn recover(&self, event: &Document, id: &str, number: u32) -> Result<bool, WebhookError> {
        let claim = self.system.get(CLAIMS_COLLECTION, &derived_id(&format!("{id}:{number}"))).await?;
        let claimed_at = claim.as_ref().and_then(|c| c.get("claimedAt")).and_then(Value::as_i64).unwrap_or(i64::MAX);
        let stale = i64::try_from((self.config.timeout + STALE_AFTER).as_millis()).unwrap_or(i64::MAX);
        if now_ms().saturating_sub(claimed_at) < stale {
            return Ok(false);
        }
        let takeover = object(json!({"_id": derived_id(&format!("{id}:{number}:stale")), "eventId": id}));
        if !self.system.insert_if_absent(CLAIMS_COLLECTION, takeover).await? {
            return Ok(false);
        }
        let outcome =
            Outcome { status: None, body: String::new(), error: Some(STOPPED.into()), refused: false, duration_ms: 0 };
        self.finish(event, id, number, &outcome, &now_timestamp()).await?;
        Ok(true)
    }

    /// Logs an attempt and moves the event on: delivered, failed, or due again later.
    async fn finish(
        &self,
        event: &Document,
        id: &str,
        number: u32,
        outcome: &Outcome,
        attempted_at: &str,
    ) -> Result<(), WebhookError> {
        let next = match outcome.status {
            Some(200..=299) => Next::Delivered,
            Some(500..=599) | None if !outcome.refused && number < self.config.max_attempts => Next::Retry,
            _ => Next::Failed,
        };
        let success = next == Next::Delivered;
        if !success {
            analytics::telemetry::webhook_delivery_failed();
        }
        let error = outcome.error.as_deref().map(|e| e.chars().take(500).collect::<String>());
        let doc = object(json!({
            "eventId": id,
            "webhookId": event.get("webhookId"),
            "projectId": event.get("projectId"),
            "event": event.get("event"),
            "attemptNumber": number,
            "status": if success { "success" } else { "failed" },
            "statusCode": outcome.status,
            "responseBody": outcome.body,
            "error": error,
            "attemptedAt": attempted_at,
            "durationMs": outcome.duration_ms,
        }));
        self.system.insert(DELIVERIES_COLLECTION, doc).await?;
        let (status, due) = match next {
            Next::Delivered => ("delivered", Value::Null),
            Next::Failed => ("failed", Value::Null),
            Next::Retry => {
                let delay = i64::try_from(self.config.retry_delay(number).as_millis()).unwrap_or(i64::MAX);
                ("pending", json!(now_ms().saturating_add(delay)))
            }
        };
        let set = object(json!({
            "attempts": number,
            "finalStatus": status,
            "nextAttemptAt": due,
            "lastStatusCode": outcome.status,
            "lastError": outcome.error,
        }));
        self.system.update(EVENTS_COLLECTION, id, &set).await?;
        Ok(())
    }

    /// Sends the event to its webhook, or says why it cannot be sent.
    async fn send(&self, event: &Document, id: &str) -> Outcome {
        let failed = |error: &str| Outcome {
            status: None,
            body: String::new(),
            error: Some(error.to_owned()),
            refused: true,
            duration_ms: 0,
        };
        let hook = match text(event, "webhookId") {
            Some(hook_id) => self.hooks.get(hook_id).await.ok().flatten().filter(|h| h.enabled),
            None => None,
        };
        let Some(hook) = hook else { return failed("Webhook disabled or not found") };
        let Some(secret) = self.key.as_ref().and_then(|key| hook.secret(key).ok()) else {
            return failed("Secret decryption failed");
        };
        let body = text(event, "body").unwrap_or_default().to_owned();
        let event_name = text(event, "event").unwrap_or_default().to_owned();
        let signature = signature::sign(secret.expose().as_bytes(), body.as_bytes());
        let (url, delivery_id) = (hook.url.clone(), id.to_owned());
        let (timeout, allow_private) = (self.config.timeout, self.config.allow_private);
        let sent = tokio::task::spawn_blocking(move || {
            let delivery = Delivery {
                url: &url,
                body: &body,
                signature: &signature,
                event: &event_name,
                delivery_id: &delivery_id,
            };
            http::post(&delivery, timeout, allow_private)
        })
        .await;
        sent.unwrap_or_else(|e| Outcome {
            status: None,
            body: String::new(),
            error: Some(format!("delivery task failed: {e}")),
            refused: false,
            duration_ms: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule() {
        let config = WorkerConfig::default();
        let secs: Vec<u64> = (1..=6).map(|n| config.retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [30, 120, 480, 1920, 7680, 14_400]);
        assert_eq!(config.retry_delay(40), MAX_DELAY);
        let fast = WorkerConfig { first_retry: Duration::from_secs(1), ..WorkerConfig::default() };
        assert_eq!(fast.retry_delay(1), Duration::from_secs(1));
        assert_eq!(fast.retry_delay(2), Duration::from_secs(4));
    }
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod claim_tests;
