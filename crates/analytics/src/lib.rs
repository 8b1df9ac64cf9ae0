//! Operations for urbackend-rs: per-project analytics computed from the request log, and the
//! names of the metrics the server records (exported in Prometheus text format by the binary).
//!
//! * [`report`]: pure functions over request log records: status classes, nearest-rank
//!   percentiles, grouping per day and per endpoint, and the JSON shape of a [`Report`].
//! * [`Analytics`]: reads a project's request log entries from the platform store (bounded: at
//!   most [`MAX_SCANNED`] entries of at most [`MAX_DAYS`] days), counts the project's users and
//!   asks a [`StorageUsage`] hook for the bytes its files take.
//! * [`telemetry`]: the metric names and the small API that every part of the server (the HTTP
//!   edge, the store wrapper [`TimedStore`], the webhook queue) records through.
//!
//! **Invariant:** analytics read the request log only (plus the users count and the storage
//! hook); they never look at tenant documents.

mod error;
pub mod report;
mod scan;
pub mod telemetry;
mod timed;

pub use error::AnalyticsError;
pub use report::Report;
pub use scan::{
    Analytics, DEFAULT_DAYS, MAX_DAYS, MAX_SCANNED, NoStorageUsage, REQUEST_LOG_COLLECTION, StorageUsage, parse_days,
};
pub use timed::TimedStore;
