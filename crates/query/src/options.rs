//! The reserved parameters: `sort`, `page`, `limit`, `cursor`, `fields`, `populate`/`expand`,
//! `count` and `meta`. They never filter; this module turns them into the non-filter parts of
//! [`crate::ListQuery`].

use crate::ast::{Pagination, Projection, SortKey, SortOrder};
use crate::cursor;
use crate::error::QueryError;
use crate::limits::{MAX_LIMIT, MAX_OFFSET_DEPTH, MAX_POPULATE_PATHS, MAX_PROJECTION_FIELDS, MAX_SORT_FIELDS};
use crate::parse::split_list;
use crate::path::FieldPath;
use crate::schema::{FieldType, Schema};
use crate::value::{js_trim, parse_int};

/// The values of the reserved parameters, as sent (percent-decoded), in order.
#[derive(Debug, Default)]
pub(crate) struct Reserved {
    page: Vec<String>,
    sort: Vec<String>,
    limit: Vec<String>,
    fields: Vec<String>,
    populate: Vec<String>,
    expand: Vec<String>,
    count: Vec<String>,
    meta: Vec<String>,
    cursor: Vec<String>,
}

impl Reserved {
    /// Where the values of `key` go, if `key` is reserved (exact, case-sensitive).
    pub(crate) fn slot(&mut self, key: &str) -> Option<&mut Vec<String>> {
        Some(match key {
            "page" => &mut self.page,
            "sort" => &mut self.sort,
            "limit" => &mut self.limit,
            "fields" => &mut self.fields,
            "populate" => &mut self.populate,
            "expand" => &mut self.expand,
            "count" => &mut self.count,
            "meta" => &mut self.meta,
            "cursor" => &mut self.cursor,
            _ => return None,
        })
    }
}

/// The parsed reserved parameters.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) sort: Vec<SortKey>,
    pub(crate) pagination: Pagination,
    pub(crate) projection: Option<Projection>,
    pub(crate) populate: Vec<FieldPath>,
    pub(crate) count: bool,
    pub(crate) meta: Option<bool>,
}

/// The value of a parameter that may appear at most once.
fn single<'a>(values: &'a [String], param: &'static str) -> Result<Option<&'a str>, QueryError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(QueryError::RepeatedParameter { param }),
    }
}

pub(crate) fn parse_options(r: &Reserved, schema: &Schema) -> Result<Options, QueryError> {
    let sort_raw = single(&r.sort, "sort")?;
    let page_raw = single(&r.page, "page")?;
    let limit_raw = single(&r.limit, "limit")?;
    let cursor_raw = single(&r.cursor, "cursor")?;
    let count = single(&r.count, "count")? == Some("true");
    let meta = match single(&r.meta, "meta")? {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(QueryError::InvalidMeta),
    };
    let limit = parse_limit(limit_raw)?;
    let mut sort = parse_sort(sort_raw)?;
    if sort.is_empty() {
        sort.push(SortKey { path: FieldPath::known("createdAt"), order: SortOrder::Desc });
    }
    let pagination = match cursor_raw.filter(|c| !c.is_empty()) {
        Some(raw) => {
            let [primary] = sort.as_slice() else {
                return Err(QueryError::CursorSortFields);
            };
            if schema.field_type(primary.path.as_str()).is_some_and(FieldType::is_array) {
                return Err(QueryError::CursorArraySort { field: primary.path.as_str().to_owned() });
            }
            let after = cursor::decode(raw, primary, schema)?;
            Pagination::Cursor { after, limit }
        }
        None => Pagination::Offset { page: parse_page(page_raw, limit)?, limit },
    };
    if !sort.iter().any(|k| k.path.is_id()) {
        let order = sort.last().map_or(SortOrder::Desc, |k| k.order);
        sort.push(SortKey { path: FieldPath::known("_id"), order });
    }
    let projection = parse_fields(&r.fields)?;
    let mut populate = parse_paths(&r.populate, "populate")?;
    if populate.is_empty() {
        populate = parse_paths(&r.expand, "expand")?;
    }
    Ok(Options { sort, pagination, projection, populate, count, meta })
}

/// `limit`: JavaScript `parseInt(limit) || 100`, clamped to 100; negative is refused.
fn parse_limit(raw: Option<&str>) -> Result<u32, QueryError> {
    match raw.and_then(parse_int) {
        None | Some((_, 0)) => Ok(MAX_LIMIT),
        Some((true, _)) => Err(QueryError::NotPositive { param: "limit" }),
        Some((false, n)) => Ok(u32::try_from(n.min(u128::from(MAX_LIMIT))).unwrap_or(MAX_LIMIT)),
    }
}

/// `page`: JavaScript `parseInt(page) || 1`; negative is refused, and so is a page whose
/// `page * limit` exceeds [`MAX_OFFSET_DEPTH`].
fn parse_page(raw: Option<&str>, limit: u32) -> Result<u64, QueryError> {
    let page = match raw.and_then(parse_int) {
        None | Some((_, 0)) => 1,
        Some((true, _)) => return Err(QueryError::NotPositive { param: "page" }),
        Some((false, n)) => u64::try_from(n).unwrap_or(u64::MAX),
    };
    if page.saturating_mul(u64::from(limit)) > MAX_OFFSET_DEPTH {
        return Err(QueryError::PageTooDeep);
    }
    Ok(page)
}

/// `sort`: a comma list of `field[:order]`; `desc` (any case) or `-1` is descending, any other
/// order ascending; without an order, `-field` is descending. A field named twice keeps its
/// first position and its last direction (as a JavaScript sort object would).
fn parse_sort(raw: Option<&str>) -> Result<Vec<SortKey>, QueryError> {
    let mut keys: Vec<SortKey> = Vec::new();
    for part in raw.unwrap_or_default().split(',').map(js_trim) {
        if part.is_empty() {
            continue;
        }
        let (field, order) = match part.split_once(':') {
            Some((field, order)) => (js_trim(field), Some(js_trim(order))),
            None => (part, None),
        };
        let (field, dash) = match field.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (field, false),
        };
        let desc = order.map_or(dash, |o| o.eq_ignore_ascii_case("desc") || o == "-1");
        let order = if desc { SortOrder::Desc } else { SortOrder::Asc };
        let path = FieldPath::new(field).map_err(|reason| QueryError::InvalidFieldEntry {
            param: "sort",
            entry: part.to_owned(),
            reason,
        })?;
        if let Some(existing) = keys.iter_mut().find(|k| k.path == path) {
            existing.order = order;
        } else if keys.len() == MAX_SORT_FIELDS {
            return Err(QueryError::TooManyEntries { param: "sort", max: MAX_SORT_FIELDS });
        } else {
            keys.push(SortKey { path, order });
        }
    }
    Ok(keys)
}

/// `fields`: `a,b` includes, `-a` excludes; only `-_id` may accompany included fields.
fn parse_fields(values: &[String]) -> Result<Option<Projection>, QueryError> {
    let mut include: Vec<FieldPath> = Vec::new();
    let mut exclude: Vec<FieldPath> = Vec::new();
    for entry in split_list(values) {
        let (name, excluded) = match entry.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (entry, false),
        };
        let path = FieldPath::new(name).map_err(|reason| QueryError::InvalidFieldEntry {
            param: "fields",
            entry: entry.to_owned(),
            reason,
        })?;
        if include.contains(&path) || exclude.contains(&path) {
            if include.contains(&path) == excluded {
                return Err(QueryError::MixedProjection);
            }
            continue;
        }
        if include.len() + exclude.len() == MAX_PROJECTION_FIELDS {
            return Err(QueryError::TooManyEntries { param: "fields", max: MAX_PROJECTION_FIELDS });
        }
        if excluded {
            exclude.push(path);
        } else {
            include.push(path);
        }
    }
    if include.is_empty() {
        if exclude.is_empty() {
            return Ok(None);
        }
        check_overlap(&exclude)?;
        return Ok(Some(Projection::Exclude(exclude)));
    }
    if exclude.iter().any(|p| !p.is_id()) {
        return Err(QueryError::MixedProjection);
    }
    check_overlap(&include)?;
    Ok(Some(Projection::Include { fields: include, exclude_id: !exclude.is_empty() }))
}

/// Refuses a list in which one path is an ancestor of another (MongoDB's "path collision").
fn check_overlap(paths: &[FieldPath]) -> Result<(), QueryError> {
    for a in paths {
        if let Some(b) = paths.iter().find(|b| *b != a && a.covers(b)) {
            return Err(QueryError::ProjectionCollision {
                first: a.as_str().to_owned(),
                second: b.as_str().to_owned(),
            });
        }
    }
    Ok(())
}

/// `populate` / `expand`: comma lists or repeated; validated, de-duplicated, bounded.
fn parse_paths(values: &[String], param: &'static str) -> Result<Vec<FieldPath>, QueryError> {
    let mut paths: Vec<FieldPath> = Vec::new();
    for entry in split_list(values) {
        let path = FieldPath::new(entry).map_err(|reason| QueryError::InvalidFieldEntry {
            param,
            entry: entry.to_owned(),
            reason,
        })?;
        if paths.contains(&path) {
            continue;
        }
        if paths.len() == MAX_POPULATE_PATHS {
            return Err(QueryError::TooManyEntries { param, max: MAX_POPULATE_PATHS });
        }
        paths.push(path);
    }
    Ok(paths)
}
