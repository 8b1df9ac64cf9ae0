//! Pure computations over request log records: the status class of a status, nearest-rank
//! percentiles, the endpoint label of an entry, and the grouping into a [`Report`].
//!
//! A record comes from one stored request log document ([`Record::from_document`]); a document
//! that lacks the fields is skipped rather than failing the whole report.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use store::Document;

/// One request log entry, as the analytics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// `METHOD /route/{pattern}` (never a raw path with ids).
    pub endpoint: String,
    /// The HTTP status.
    pub status: u16,
    /// The latency in milliseconds.
    pub latency_ms: f64,
}

impl Record {
    /// Reads a stored request log document (`method`, `endpoint` or `path`, `status`,
    /// `responseTimeMs`, `timestamp`). Entries written before the route pattern was logged fall
    /// back to the path with every 24-hex segment replaced by `{id}`.
    pub fn from_document(doc: &Document) -> Option<Record> {
        let timestamp = doc.get("timestamp").and_then(Value::as_str)?;
        let date = timestamp.get(..10)?.to_owned();
        let method = doc.get("method").and_then(Value::as_str).unwrap_or("?");
        let route = match doc.get("endpoint").and_then(Value::as_str) {
            Some(pattern) => pattern.to_owned(),
            None => route_of_path(doc.get("path").and_then(Value::as_str).unwrap_or("")),
        };
        let status = u16::try_from(doc.get("status").and_then(Value::as_u64)?).ok()?;
        let latency_ms = doc.get("responseTimeMs").and_then(Value::as_f64).unwrap_or(0.0);
        Some(Record { date, endpoint: format!("{method} {route}"), status, latency_ms })
    }
}

/// A path with every 24-hex segment (a document id) replaced by `{id}`.
pub fn route_of_path(path: &str) -> String {
    path.split('/')
        .map(
            |segment| {
                if segment.len() == 24 && segment.bytes().all(|b| b.is_ascii_hexdigit()) { "{id}" } else { segment }
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// `2xx`, `3xx`, `4xx` or `5xx`; `None` for anything else.
pub fn status_class(status: u16) -> Option<&'static str> {
    match status {
        200..=299 => Some("2xx"),
        300..=399 => Some("3xx"),
        400..=499 => Some("4xx"),
        500..=599 => Some("5xx"),
        _ => None,
    }
}

/// The nearest-rank percentile `p` (0–100) of ascending `sorted` values: the smallest value with
/// at least `p`% of the values at or below it. `None` for no values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// The analytics of one project over a window of whole UTC days.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The project.
    pub project_id: String,
    /// The first day of the window (`YYYY-MM-DD`).
    pub from: String,
    /// The last day of the window, today (`YYYY-MM-DD`).
    pub to: String,
    /// Requests in the window.
    pub total: u64,
    /// Every day of the window with its count (zero days included), oldest first.
    pub per_day: Vec<(String, u64)>,
    /// Per endpoint, most requested first (ties by name).
    pub per_endpoint: Vec<(String, u64)>,
    /// Per status class, the four classes always present.
    pub per_status_class: BTreeMap<&'static str, u64>,
    /// Latency percentiles in milliseconds (`None` without requests).
    pub p50_ms: Option<f64>,
    /// See `p50_ms`.
    pub p95_ms: Option<f64>,
    /// Whether the scan stopped at its cap before reaching the end of the window.
    pub truncated: bool,
    /// Bytes of files the project stores.
    pub storage_bytes: u64,
    /// Documents in the project's `users` collection.
    pub users: u64,
}

impl Report {
    /// Groups `records` of the window `days` days ending on the day of `now`.
    pub fn build(project_id: &str, records: &[Record], days: u32, now: DateTime<Utc>) -> Report {
        let first = now - Duration::days(i64::from(days.max(1)) - 1);
        let mut per_day: BTreeMap<String, u64> = (0..days.max(1))
            .map(|offset| ((first + Duration::days(i64::from(offset))).format("%Y-%m-%d").to_string(), 0))
            .collect();
        let mut per_endpoint: BTreeMap<&str, u64> = BTreeMap::new();
        let mut per_status_class: BTreeMap<&'static str, u64> =
            ["2xx", "3xx", "4xx", "5xx"].into_iter().map(|class| (class, 0)).collect();
        let mut latencies = Vec::with_capacity(records.len());
        for record in records {
            if let Some(count) = per_day.get_mut(&record.date) {
                *count += 1;
            }
            *per_endpoint.entry(record.endpoint.as_str()).or_default() += 1;
            if let Some(class) = status_class(record.status) {
                *per_status_class.entry(class).or_default() += 1;
            }
            latencies.push(record.latency_ms);
        }
        latencies.sort_by(f64::total_cmp);
        let mut per_endpoint: Vec<(String, u64)> =
            per_endpoint.into_iter().map(|(endpoint, count)| (endpoint.to_owned(), count)).collect();
        per_endpoint.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Report {
            project_id: project_id.to_owned(),
            from: first.format("%Y-%m-%d").to_string(),
            to: now.format("%Y-%m-%d").to_string(),
            total: records.len() as u64,
            per_day: per_day.into_iter().collect(),
            per_endpoint,
            per_status_class,
            p50_ms: percentile(&latencies, 50.0),
            p95_ms: percentile(&latencies, 95.0),
            truncated: false,
            storage_bytes: 0,
            users: 0,
        }
    }

    /// The JSON answer of `GET /api/admin/projects/:id/analytics` (documented in the README).
    pub fn to_json(&self) -> Value {
        json!({
            "projectId": self.project_id,
            "from": self.from,
            "to": self.to,
            "requests": {
                "total": self.total,
                "perDay": self.per_day.iter().map(|(date, count)| json!({"date": date, "count": count})).collect::<Vec<_>>(),
                "perEndpoint": self.per_endpoint.iter()
                    .map(|(endpoint, count)| json!({"endpoint": endpoint, "count": count})).collect::<Vec<_>>(),
                "perStatusClass": self.per_status_class,
                "truncated": self.truncated,
            },
            "latencyMs": {"p50": self.p50_ms, "p95": self.p95_ms},
            "storageBytes": self.storage_bytes,
            "users": self.users,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use chrono::TimeZone;

    use super::*;

    fn record(date: &str, endpoint: &str, status: u16, latency_ms: f64) -> Record {
        Record { date: date.into(), endpoint: endpoint.into(), status, latency_ms }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 95.0), Some(95.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), Some("2xx"));
        assert_eq!(status_class(304), Some("3xx"));
        assert_eq!(status_class(404), Some("4xx"));
        assert_eq!(status_class(503), Some("5xx"));
        assert_eq!(status_class(101), None);
    }

    #[test]
    fn raw_paths_become_route_patterns() {
        assert_eq!(route_of_path("/api/data/posts/0123456789abcdef01234567"), "/api/data/posts/{id}");
        assert_eq!(route_of_path("/api/userAuth/me"), "/api/userAuth/me");
    }

    #[test]
    fn documents_become_records() {
        let doc = serde_json::json!({"method": "GET", "endpoint": "/api/data/{collection}/{id}",
            "path": "/api/data/posts/x", "status": 404, "responseTimeMs": 1.5,
            "timestamp": "2026-11-23T10:00:00.000Z"});
        let record = Record::from_document(doc.as_object().unwrap()).unwrap();
        assert_eq!(record, super::tests::record("2026-11-23", "GET /api/data/{collection}/{id}", 404, 1.5));
        let old = serde_json::json!({"method": "DELETE", "path": "/api/data/posts/0123456789abcdef01234567",
            "status": 200, "timestamp": "2026-11-23T10:00:00.000Z"});
        assert_eq!(Record::from_document(old.as_object().unwrap()).unwrap().endpoint, "DELETE /api/data/posts/{id}");
        let broken = serde_json::json!({"method": "GET", "status": "x", "timestamp": "2026-11-23T10:00:00.000Z"});
        assert_eq!(Record::from_document(broken.as_object().unwrap()), None);
    }

    #[test]
    fn records_are_grouped_per_day_endpoint_and_class() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let records = vec![
            record("2026-11-21", "GET /a", 200, 10.0),
            record("2026-11-23", "GET /a", 200, 30.0),
            record("2026-11-23", "GET /b", 404, 20.0),
            record("2026-11-23", "POST /c", 500, 40.0),
        ];
        let report = Report::build("p", &records, 3, now);
        assert_eq!((report.from.as_str(), report.to.as_str()), ("2026-11-21", "2026-11-23"));
        assert_eq!(report.total, 4);
        assert_eq!(report.per_day, vec![("2026-11-21".into(), 1), ("2026-11-22".into(), 0), ("2026-11-23".into(), 3)]);
        assert_eq!(report.per_endpoint, vec![("GET /a".into(), 2), ("GET /b".into(), 1), ("POST /c".into(), 1)]);
        assert_eq!(report.per_status_class.get("2xx"), Some(&2));
        assert_eq!(report.per_status_class.get("3xx"), Some(&0));
        assert_eq!(report.per_status_class.get("4xx"), Some(&1));
        assert_eq!(report.per_status_class.get("5xx"), Some(&1));
        assert_eq!((report.p50_ms, report.p95_ms), (Some(20.0), Some(40.0)));
        let json = report.to_json();
        assert_eq!(json["requests"]["perDay"][2], serde_json::json!({"date": "2026-11-23", "count": 3}));
        assert_eq!(json["requests"]["perStatusClass"]["4xx"], 1);
        assert_eq!(json["latencyMs"]["p95"], 40.0);
    }

    #[test]
    fn an_empty_window_has_zero_days_and_no_latencies() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let report = Report::build("p", &[], 2, now);
        assert_eq!(report.per_day, vec![("2025-12-31".into(), 0), ("2026-01-01".into(), 0)]);
        assert_eq!(report.to_json()["latencyMs"], serde_json::json!({"p50": null, "p95": null}));
    }
}
