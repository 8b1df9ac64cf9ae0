//! [`Analytics`]: a project's report from the request log of the platform store.
//!
//! Cost: one indexed `find` per 100 entries of the project within the window (filter
//! `projectId = id AND createdAt >= first day`, keyset-paged by `_id`), so a report reads
//! O(entries) documents; the scan stops after [`MAX_SCANNED`] entries (the report then says
//! `truncated`) and the window is at most [`MAX_DAYS`] days. Then one `count` of the project's
//! `users` collection and one call of the [`StorageUsage`] hook.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use platform::{Project, StoreResolver};
use query::{Condition, FieldPath, Filter, ListQuery, ObjectIdHex, Op, Scalar, Schema, SortKey, SortOrder};
use rls_core::ReadScope;
use serde_json::Value;
use store::{CollectionSpec, DocumentStore, StoreError};

use crate::error::AnalyticsError;
use crate::report::{Record, Report};

/// The physical collection of request log entries in the platform store.
pub const REQUEST_LOG_COLLECTION: &str = "_urbackend_request_logs";
/// The window when `days` is not given.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest window.
pub const MAX_DAYS: u32 = 366;
/// The most request log entries one report reads.
pub const MAX_SCANNED: usize = 100_000;
/// Entries per store call.
const PAGE: u32 = 100;

/// Parses the `days` query parameter: absent is [`DEFAULT_DAYS`], otherwise `1..=`[`MAX_DAYS`].
pub fn parse_days(raw: Option<&str>) -> Result<u32, AnalyticsError> {
    match raw {
        None => Ok(DEFAULT_DAYS),
        Some(text) => match text.trim().parse::<u32>() {
            Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(days),
            _ => Err(AnalyticsError::BadDays { max: MAX_DAYS }),
        },
    }
}

/// How many bytes of files a project stores. The files feature provides the real one; until
/// then [`NoStorageUsage`] answers 0.
#[async_trait]
pub trait StorageUsage: Send + Sync + 'static {
    /// The bytes the project's files take.
    async fn bytes_used(&self, project: &Project) -> Result<u64, StoreError>;
}

/// The storage hook of a server without file storage: always 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStorageUsage;

#[async_trait]
impl StorageUsage for NoStorageUsage {
    async fn bytes_used(&self, _project: &Project) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// Computes project reports.
pub struct Analytics {
    platform_store: Arc<dyn DocumentStore>,
    resolver: Arc<dyn StoreResolver>,
    storage: Arc<dyn StorageUsage>,
    schema: Schema,
}

fn path(name: &str) -> Result<FieldPath, AnalyticsError> {
    FieldPath::new(name).map_err(|e| AnalyticsError::Store(StoreError::Internal(e.to_string())))
}

impl Analytics {
    /// Analytics over the request log in `platform_store`; users are counted in the store the
    /// resolver names, storage comes from the hook.
    pub fn new(
        platform_store: Arc<dyn DocumentStore>,
        resolver: Arc<dyn StoreResolver>,
        storage: Arc<dyn StorageUsage>,
    ) -> Analytics {
        Analytics { platform_store, resolver, storage, schema: Schema::new() }
    }

    /// Creates the (projectId, createdAt) index the scan uses. Idempotent.
    pub async fn ensure_index(&self) -> Result<(), AnalyticsError> {
        let spec = CollectionSpec { physical: REQUEST_LOG_COLLECTION, schema: &self.schema };
        Ok(self.platform_store.create_owner_index(&spec, "projectId").await?)
    }

    /// The report of `project` over the `days` UTC days ending on the day of `now`.
    pub async fn report(&self, project: &Project, days: u32, now: DateTime<Utc>) -> Result<Report, AnalyticsError> {
        let days = days.clamp(1, MAX_DAYS);
        let first_day = (now - Duration::days(i64::from(days) - 1)).date_naive().and_time(NaiveTime::MIN).and_utc();
        let (records, truncated) = self.scan(&project.id, first_day).await?;
        let mut report = Report::build(&project.id, &records, days, now);
        report.truncated = truncated;
        report.users = self.users(project).await?;
        report.storage_bytes = self.storage.bytes_used(project).await?;
        Ok(report)
    }

    async fn scan(&self, project_id: &str, since: DateTime<Utc>) -> Result<(Vec<Record>, bool), AnalyticsError> {
        let spec = CollectionSpec { physical: REQUEST_LOG_COLLECTION, schema: &self.schema };
        let id_path = path("_id")?;
        let mut base = Filter::new();
        base.and(Condition::new(path("projectId")?, Op::Eq(Scalar::String(project_id.to_owned()))));
        base.and(Condition::new(path("createdAt")?, Op::Gte(Scalar::Date(since.timestamp_millis()))));
        let mut records = Vec::new();
        let mut scanned = 0usize;
        let mut after: Option<ObjectIdHex> = None;
        loop {
            let mut filter = base.clone();
            if let Some(last) = &after {
                filter.and(Condition::new(id_path.clone(), Op::Gt(Scalar::ObjectId(last.clone()))));
            }
            let query = ListQuery::first(filter, vec![SortKey { path: id_path.clone(), order: SortOrder::Asc }], PAGE);
            let page = self.platform_store.find(&spec, &ReadScope::All, &query).await?;
            let next =
                page.items.last().and_then(|d| d.get("_id")).and_then(Value::as_str).and_then(ObjectIdHex::parse);
            scanned += page.items.len();
            records.extend(page.items.iter().filter_map(Record::from_document));
            if !page.has_more || next.is_none() {
                return Ok((records, false));
            }
            if scanned >= MAX_SCANNED {
                return Ok((records, true));
            }
            after = next;
        }
    }

    async fn users(&self, project: &Project) -> Result<u64, AnalyticsError> {
        if project.collection("users").is_none() {
            return Ok(0);
        }
        let store = self.resolver.store_for(project).await?;
        let physical = project.physical_name("users");
        let spec = CollectionSpec { physical: &physical, schema: &self.schema };
        Ok(store.count(&spec, &ReadScope::All, &Filter::new()).await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use platform::PlatformStoreOnly;
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn the_scan_reads_one_projects_entries_across_pages() {
        let store: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open_in_memory().unwrap());
        let analytics =
            Analytics::new(store.clone(), Arc::new(PlatformStoreOnly(store.clone())), Arc::new(NoStorageUsage));
        analytics.ensure_index().await.unwrap();
        let schema = Schema::new();
        let spec = CollectionSpec { physical: REQUEST_LOG_COLLECTION, schema: &schema };
        let docs = (0..250)
            .map(|i| {
                let project = if i % 5 == 0 { "other" } else { "p1" };
                let entry = json!({"projectId": project, "method": "GET", "endpoint": "/api/data/{collection}",
                    "status": 200, "responseTimeMs": f64::from(i), "timestamp": store::now_timestamp()});
                entry.as_object().cloned().unwrap()
            })
            .collect();
        store.insert(&spec, docs).await.unwrap();
        let (records, truncated) = analytics.scan("p1", Utc::now() - Duration::days(1)).await.unwrap();
        assert_eq!((records.len(), truncated), (200, false));
        let (later, _) = analytics.scan("p1", Utc::now() + Duration::days(1)).await.unwrap();
        assert!(later.is_empty(), "entries before the window are not read");
    }
}
