//! The metrics of the server, through the `metrics` facade: their names, and one function per
//! thing worth counting. Whatever recorder the binary installs (the Prometheus renderer of
//! `GET /metrics`) receives them; without a recorder they cost next to nothing.
//!
//! Other parts of the server call these functions rather than naming metrics themselves: the
//! HTTP edge ([`http_request`]), the store wrapper `TimedStore` ([`store_operation`]), and the
//! webhook queue ([`set_webhook_queue_depth`], [`webhook_delivery_failed`]).

use std::time::Duration;

/// Counter of answered HTTP requests, labels `method`, `route` (the route pattern, `unmatched`
/// for a 404 of an unknown path) and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "urbackend_http_requests_total";
/// Histogram of HTTP request durations in seconds, labels `method`, `route` and `status`.
pub const HTTP_REQUEST_DURATION: &str = "urbackend_http_request_duration_seconds";
/// Histogram of store call durations in seconds, labels `operation` and `outcome` (`ok`/`error`).
pub const STORE_OPERATION_DURATION: &str = "urbackend_store_operation_duration_seconds";
/// Gauge: webhook deliveries waiting in the queue.
pub const WEBHOOK_QUEUE_DEPTH: &str = "urbackend_webhook_queue_depth";
/// Counter of webhook deliveries that failed (each failed attempt).
pub const WEBHOOK_DELIVERY_FAILURES_TOTAL: &str = "urbackend_webhook_delivery_failures_total";
/// Counter of request log entries dropped because the log writer fell behind.
pub const REQUEST_LOG_DROPPED_TOTAL: &str = "urbackend_request_log_dropped_total";

/// Gauge: reader connections of the embedded store in use.
pub const STORE_READERS_IN_USE: &str = "urbackend_store_readers_in_use";
/// Gauge: reader connections the embedded store may use at once.
pub const STORE_READERS_MAX: &str = "urbackend_store_readers_max";
/// Gauge: connections open in this process's MongoDB pools.
pub const MONGO_CONNECTIONS_OPEN: &str = "urbackend_mongo_connections_open";
/// Gauge: MongoDB connections checked out by an operation now.
pub const MONGO_CONNECTIONS_IN_USE: &str = "urbackend_mongo_connections_in_use";
/// Counter: MongoDB connection check-outs that failed.
pub const MONGO_CHECKOUT_FAILURES_TOTAL: &str = "urbackend_mongo_connection_checkout_failures_total";

/// The bucket bounds of the duration histograms, in seconds (1 ms to 10 s).
pub const DURATION_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Describes every metric and sets the counters and gauges to 0, so that they show in the
/// export before anything happened. Call once after installing the recorder.
pub fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS_TOTAL, "HTTP requests answered");
    metrics::describe_histogram!(HTTP_REQUEST_DURATION, metrics::Unit::Seconds, "HTTP request durations");
    metrics::describe_histogram!(STORE_OPERATION_DURATION, metrics::Unit::Seconds, "Store call durations");
    metrics::describe_gauge!(WEBHOOK_QUEUE_DEPTH, "Webhook deliveries waiting");
    metrics::describe_counter!(WEBHOOK_DELIVERY_FAILURES_TOTAL, "Failed webhook delivery attempts");
    metrics::describe_counter!(REQUEST_LOG_DROPPED_TOTAL, "Request log entries dropped");
    metrics::gauge!(WEBHOOK_QUEUE_DEPTH).set(0.0);
    metrics::counter!(WEBHOOK_DELIVERY_FAILURES_TOTAL).absolute(0);
    metrics::counter!(REQUEST_LOG_DROPPED_TOTAL).absolute(0);
}

/// The `method` label: the standard methods as they are, anything else `OTHER` (a client cannot
/// grow the number of series with made-up methods; routes are patterns, statuses are numbers).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.into_iter().find(|known| *known == method).unwrap_or("OTHER")
}

/// One answered HTTP request.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels =
        [("method", method_label(method).to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    metrics::counter!(HTTP_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// One store call (`operation` is the `DocumentStore` method name).
pub fn store_operation(operation: &'static str, ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::histogram!(STORE_OPERATION_DURATION, "operation" => operation, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// The number of webhook deliveries now waiting.
pub fn set_webhook_queue_depth(depth: u64) {
    metrics::gauge!(WEBHOOK_QUEUE_DEPTH).set(depth as f64);
}

/// One failed webhook delivery attempt.
pub fn webhook_delivery_failed() {
    metrics::counter!(WEBHOOK_DELIVERY_FAILURES_TOTAL).increment(1);
}

/// The embedded store's reader pool: connections in use and the most at once.
pub fn set_store_readers(in_use: usize, max: usize) {
    metrics::gauge!(STORE_READERS_IN_USE).set(in_use as f64);
    metrics::gauge!(STORE_READERS_MAX).set(max as f64);
}

/// This process's MongoDB connection pools: connections open, in use, and failed check-outs.
pub fn set_mongo_pools(open: u64, in_use: u64, checkout_failures: u64) {
    metrics::gauge!(MONGO_CONNECTIONS_OPEN).set(open as f64);
    metrics::gauge!(MONGO_CONNECTIONS_IN_USE).set(in_use as f64);
    metrics::counter!(MONGO_CHECKOUT_FAILURES_TOTAL).absolute(checkout_failures);
}

/// One request log entry dropped.
pub fn request_log_dropped() {
    metrics::counter!(REQUEST_LOG_DROPPED_TOTAL).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label("get"), "OTHER");
    }
}
