//! Webhooks (spec §11): per-project configuration, a durable outbox of data changes in the
//! platform store, and a delivery worker that POSTs each event signed with the webhook's secret,
//! retries with exponential backoff and never connects to private addresses unless told to.
//!
//! * [`config`]: [`Webhook`] (URL, secret encrypted with the master key, events per collection),
//!   [`WebhookStore`] (add, list, remove) and [`Registry`], the snapshot the data path reads,
//!   kept fresh by polling a change token as the platform does.
//! * [`outbox`]: [`Outbox::record`] writes one event document per matching webhook to
//!   `_urbackend_webhook_events`, awaited by the request that made the change.
//! * [`worker`]: [`Worker`] polls due events, claims each (event, attempt) through an
//!   insert-if-absent of a derived `_id` (exactly one process wins), delivers, logs the attempt to
//!   `_urbackend_webhook_deliveries` and schedules the retry.
//! * [`deliveries`]: the delivery log read back, newest first.
//! * [`retention`]: [`Worker::sweep`] deletes finished events and log entries past their keeping
//!   time, and old claims.
//! * [`address`]: the SSRF classifier; [`http`]: the client that connects only to addresses the
//!   classifier allowed (checked inside the resolver, so there is no second lookup to rebind).
//! * [`signature`]: `sha256=<hex HMAC-SHA256(secret, body)>` and its constant-time check.

pub mod address;
pub mod config;
pub mod deliveries;
pub mod http;
pub mod outbox;
pub mod retention;
pub mod signature;
mod system;
pub mod worker;

pub use config::{Action, Events, Registry, Webhook, WebhookStore};
pub use outbox::Outbox;
pub use retention::Swept;
pub use worker::{Worker, WorkerConfig};

/// The reserved collection of webhook configurations.
pub const WEBHOOKS_COLLECTION: &str = "_urbackend_webhooks";
/// The change token of the webhook configurations.
pub const WEBHOOK_META_COLLECTION: &str = "_urbackend_webhook_meta";
/// The outbox: one document per (change, webhook), the delivery record of spec §16.
pub const EVENTS_COLLECTION: &str = "_urbackend_webhook_events";
/// Claims: one document per (event, attempt), inserted by the process that makes the attempt.
pub const CLAIMS_COLLECTION: &str = "_urbackend_webhook_claims";
/// The delivery log: one document per attempt.
pub const DELIVERIES_COLLECTION: &str = "_urbackend_webhook_deliveries";

/// What can go wrong with webhooks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebhookError {
    /// The configuration given is refused (bad URL, events, secret).
    #[error("{0}")]
    Invalid(String),
    /// No such project or webhook.
    #[error("{0}")]
    NotFound(String),
    /// A secret could not be encrypted or decrypted.
    #[error(transparent)]
    Secret(#[from] platform::SecretError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A failure of ours.
    #[error("internal error: {0}")]
    Internal(String),
}
