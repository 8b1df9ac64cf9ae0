//! Reads: list (offset or cursor pages), count, and get one.

use query::{ListQuery, Pagination};
use rls_core::{DocId, ReadOp, authorize_read};
use serde_json::Value;
use store::Document;

use crate::shape::{self, Shape};
use crate::{Access, DataError, DataPlane, Resolved, populate};

/// The answer to `GET /api/data/:collection`.
#[derive(Debug, Clone, PartialEq)]
pub enum ListOutcome {
    /// An offset page: `{items, total, page, limit}`.
    Page {
        /// The documents.
        items: Vec<Document>,
        /// Matching documents in all.
        total: u64,
        /// The page number.
        page: u64,
        /// The page size.
        limit: u32,
    },
    /// A cursor page: `{items, total, cursor, nextCursor, limit}`.
    Cursor {
        /// The documents.
        items: Vec<Document>,
        /// Matching documents in all.
        total: u64,
        /// The cursor the client sent.
        cursor: String,
        /// The cursor of the next page, if there is one.
        next_cursor: Option<String>,
        /// The page size.
        limit: u32,
    },
    /// `count=true`: `{count}`.
    Count(u64),
}

impl DataPlane {
    /// Lists a collection: `raw_query` is the query string (without `?`).
    pub async fn list(&self, access: &Access<'_>, collection: &str, raw_query: &str) -> Result<ListOutcome, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let scope = authorize_read(&access.caller(), &resolved.target(), ReadOp::List)?;
        let def = resolved.def()?;
        let placed = self.place(access.project, def).await?;
        let query = query::parse(raw_query, &placed.schema)?;
        let (store, spec) = (&placed.store, placed.spec());
        if query.count {
            return Ok(ListOutcome::Count(store.count(&spec, &scope, &query.filter).await?));
        }
        let page = store.find(&spec, &scope, &query).await?;
        let total = store.count(&spec, &scope, &query.filter).await?;
        let mut items = page.items;
        let next_cursor = match (&query.pagination, page.has_more, items.last()) {
            (Pagination::Cursor { .. }, true, Some(last)) => Some(next_cursor(&query, last)),
            _ => None,
        };
        populate::populate(self, access, def, &query.populate, &mut items).await?;
        let shape = Shape { projection: query.projection.as_ref(), meta: query.meta, hide_version: false };
        items.iter_mut().for_each(|doc| shape::apply(doc, &shape));
        Ok(match query.pagination {
            Pagination::Offset { page, limit } => ListOutcome::Page { items, total, page, limit },
            Pagination::Cursor { limit, .. } => {
                ListOutcome::Cursor { items, total, cursor: cursor_param(raw_query), next_cursor, limit }
            }
        })
    }

    /// Gets one document; `raw_query` may carry `fields`, `meta`, `populate`/`expand`.
    pub async fn get(
        &self,
        access: &Access<'_>,
        collection: &str,
        id: &str,
        raw_query: &str,
    ) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let scope = authorize_read(&access.caller(), &resolved.target(), ReadOp::Get)?;
        let def = resolved.def()?;
        let id = DocId::parse(id)?;
        let placed = self.place(access.project, def).await?;
        let query = query::parse(raw_query, &placed.schema)?;
        let mut doc = placed.store.get(&placed.spec(), &id, &scope).await?.ok_or(DataError::DocumentNotFound)?;
        populate::populate(self, access, def, &query.populate, std::slice::from_mut(&mut doc)).await?;
        shape::apply(&mut doc, &Shape { projection: query.projection.as_ref(), meta: query.meta, hide_version: true });
        Ok(doc)
    }
}

/// The cursor after the last item of a page: its primary sort value and id.
fn next_cursor(query: &ListQuery, last: &Document) -> String {
    let value = query.sort.first().and_then(|key| shape::get_path(last, key.path.as_str())).cloned();
    let id = last.get("_id").and_then(Value::as_str).unwrap_or_default();
    query::cursor::encode(&value.unwrap_or(Value::Null), id)
}

/// The `cursor` parameter as the client sent it (echoed back).
fn cursor_param(raw_query: &str) -> String {
    form_urlencoded::parse(raw_query.as_bytes())
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
