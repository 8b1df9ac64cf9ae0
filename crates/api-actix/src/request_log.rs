//! The request log: one entry per API request (method, path, status, latency, key role,
//! project), handed to a background task through a bounded channel and written in batches, so
//! that a request never waits for a log write. When the channel is full, entries are dropped
//! and counted rather than slowing requests down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use query::Schema;
use serde_json::{Value, json};
use store::{CollectionSpec, Document, DocumentStore};
use tokio::sync::mpsc;

/// The physical collection of request log entries in the platform store.
pub const REQUEST_LOG_COLLECTION: &str = analytics::REQUEST_LOG_COLLECTION;

const CHANNEL_CAPACITY: usize = 16_384;
const BATCH: usize = 512;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// One logged request.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// HTTP method.
    pub method: String,
    /// Path without the query string (which may carry a key).
    pub path: String,
    /// The route pattern (`/api/data/{collection}/{id}`), when a route matched.
    pub endpoint: Option<String>,
    /// Response status.
    pub status: u16,
    /// Latency in milliseconds.
    pub latency_ms: f64,
    /// `publishable` or `secret`, when a key was resolved.
    pub key_role: Option<&'static str>,
    /// The project, when a key was resolved.
    pub project_id: Option<String>,
    /// When the request ended (ISO 8601).
    pub timestamp: String,
}

impl LogEntry {
    fn to_document(&self) -> Document {
        let value = json!({
            "projectId": self.project_id,
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "status": self.status,
            "responseTimeMs": (self.latency_ms * 100.0).round() / 100.0,
            "keyRole": self.key_role,
            "timestamp": self.timestamp,
        });
        match value {
            Value::Object(map) => map,
            _ => Document::new(),
        }
    }
}

/// The sending side of the request log.
#[derive(Clone, Debug)]
pub struct RequestLog {
    tx: Option<mpsc::Sender<LogEntry>>,
    dropped: Arc<AtomicU64>,
}

impl RequestLog {
    /// A log that records nothing (tests that do not look at it).
    pub fn disabled() -> RequestLog {
        RequestLog { tx: None, dropped: Arc::new(AtomicU64::new(0)) }
    }

    /// Starts the writer task on the current Tokio runtime, writing to `store`.
    pub fn spawn(store: Arc<dyn DocumentStore>) -> RequestLog {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        tokio::spawn(write_batches(store, rx));
        RequestLog { tx: Some(tx), dropped: Arc::new(AtomicU64::new(0)) }
    }

    /// Records an entry without waiting.
    pub fn record(&self, entry: LogEntry) {
        if let Some(tx) = &self.tx {
            if tx.try_send(entry).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                analytics::telemetry::request_log_dropped();
            }
        }
    }

    /// How many entries were dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_batches(store: Arc<dyn DocumentStore>, mut rx: mpsc::Receiver<LogEntry>) {
    let schema = Schema::new();
    let spec = CollectionSpec { physical: REQUEST_LOG_COLLECTION, schema: &schema };
    let mut batch = Vec::with_capacity(BATCH);
    // Wait for the first entry, give the others `FLUSH_EVERY` to arrive, then write them all in
    // one store call: one commit per flush interval under load, not one per request.
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        tokio::time::sleep(FLUSH_EVERY).await;
        while batch.len() < CHANNEL_CAPACITY {
            match rx.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        let docs: Vec<Document> = batch.drain(..).map(|entry: LogEntry| entry.to_document()).collect();
        if let Err(error) = store.insert(&spec, docs).await {
            tracing::warn!(%error, "request log batch not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use query::Pagination;
    use rls_core::ReadScope;

    use super::*;

    fn entry(path: &str) -> LogEntry {
        LogEntry {
            method: "GET".into(),
            path: path.into(),
            endpoint: Some("/api/data/{collection}/{id}".into()),
            status: 200,
            latency_ms: 1.234,
            key_role: Some("publishable"),
            project_id: Some("p1".into()),
            timestamp: store::now_timestamp(),
        }
    }

    #[tokio::test]
    async fn entries_are_written_in_batches_off_the_request_path() {
        let store: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open_in_memory().unwrap());
        let log = RequestLog::spawn(store.clone());
        for i in 0..700 {
            log.record(entry(&format!("/api/data/posts/{i}")));
        }
        let schema = Schema::new();
        let spec = CollectionSpec { physical: REQUEST_LOG_COLLECTION, schema: &schema };
        let mut query = query::parse("limit=1", &schema).unwrap();
        query.pagination = Pagination::Offset { page: 1, limit: 1 };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let count = store.count(&spec, &ReadScope::All, &query.filter).await.unwrap();
            if count == 700 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "only {count} of 700 entries written");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let page = store.find(&spec, &ReadScope::All, &query).await.unwrap();
        let doc = &page.items[0];
        assert_eq!(doc["projectId"], "p1");
        assert_eq!(doc["keyRole"], "publishable");
        assert_eq!(doc["status"], 200);
        assert_eq!(doc["responseTimeMs"], 1.23);
        assert_eq!(log.dropped(), 0);
    }
}
