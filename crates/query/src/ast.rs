//! The typed, backend-neutral result of parsing: [`ListQuery`] and its parts. Store backends
//! translate it (to SQL, to MongoDB filter documents); nothing in it is an operator a client
//! wrote, only closed enums over validated paths and typed scalars.

use serde_json::Value;

use crate::path::{FieldPath, ObjectIdHex};
use crate::pattern::RegexPattern;
use crate::value::format_date;

/// A typed literal value. Values are never operators: whatever text a client sends ends up as
/// one of these.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Text.
    String(String),
    /// A finite number (never NaN or infinite).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A point in time, milliseconds since the Unix epoch (UTC).
    Date(i64),
    /// An ObjectId.
    ObjectId(ObjectIdHex),
}

impl Scalar {
    /// The value as it appears in a JSON document: dates as RFC 3339 strings (see
    /// [`crate::value::format_date`]), ObjectIds as 24-hex strings, integral numbers as integers.
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            Scalar::String(s) => Value::String(s.clone()),
            Scalar::Number(n) => number_to_json(*n),
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Date(ms) => format_date(*ms).map_or(Value::Null, Value::String),
            Scalar::ObjectId(id) => Value::String(id.as_str().to_owned()),
        }
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn number_to_json(n: f64) -> Value {
    // 2^53: every integer of smaller magnitude is exact in an f64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT && !(n == 0.0 && n.is_sign_negative()) {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// One comparison applied to the value(s) at a path, with MongoDB semantics (see
/// [`crate::Filter::matches`] for the exact reference semantics).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Equal (`f=v`); on an array, some element is equal.
    Eq(Scalar),
    /// Equal to one of the values (`f_in=a,b` or a repeated `f=`); an empty list matches nothing.
    In(Vec<Scalar>),
    /// Not equal: exactly the negation of [`Op::Eq`], so it also matches a missing field.
    Ne(Scalar),
    /// Greater than, within the value's type bracket.
    Gt(Scalar),
    /// Greater than or equal, within the value's type bracket.
    Gte(Scalar),
    /// Less than, within the value's type bracket.
    Lt(Scalar),
    /// Less than or equal, within the value's type bracket.
    Lte(Scalar),
    /// The field is present (`true`, even when `null`) or absent (`false`).
    Exists(bool),
    /// A string value (or array element) matches the case-insensitive pattern.
    Regex(RegexPattern),
}

/// One filter condition: `op` applied at `path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field the condition applies to.
    pub path: FieldPath,
    /// The comparison.
    pub op: Op,
}

impl Condition {
    /// A condition.
    #[must_use]
    pub fn new(path: FieldPath, op: Op) -> Self {
        Self { path, op }
    }
}

/// A conjunction of conditions: a document matches when it matches every one. There is no
/// disjunction and no way to remove a condition, so a condition added with [`Filter::and`] (the
/// RLS scope) can only ever narrow the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    conditions: Vec<Condition>,
}

impl Filter {
    /// The empty filter (matches every document).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition (AND).
    pub fn and(&mut self, condition: Condition) -> &mut Self {
        self.conditions.push(condition);
        self
    }

    /// The conditions, in query order (conditions added by [`Filter::and`] last).
    #[must_use]
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Whether there is no condition.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Whether any condition is a regex (the MongoDB backend bounds such queries with
    /// `maxTimeMS`, as the original does).
    #[must_use]
    pub fn has_regex(&self) -> bool {
        self.conditions.iter().any(|c| matches!(c.op, Op::Regex(_)))
    }
}

impl<'a> IntoIterator for &'a Filter {
    type Item = &'a Condition;
    type IntoIter = std::slice::Iter<'a, Condition>;
    fn into_iter(self) -> Self::IntoIter {
        self.conditions.iter()
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl SortOrder {
    /// MongoDB's numeric form: `1` or `-1`.
    #[must_use]
    pub fn as_i32(self) -> i32 {
        match self {
            SortOrder::Asc => 1,
            SortOrder::Desc => -1,
        }
    }
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// The field sorted by.
    pub path: FieldPath,
    /// The direction.
    pub order: SortOrder,
}

/// Where a cursor page starts: strictly after the document whose sort value is `value` and whose
/// id is `id`, in the order (`sort`, then `_id` in the same direction).
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPosition {
    /// The primary sort key the cursor was decoded against.
    pub sort: SortKey,
    /// The last item's sort value, cast to the sort field's type; `None` when it was null or
    /// missing.
    pub value: Option<Scalar>,
    /// The last item's id.
    pub id: ObjectIdHex,
}

/// How the result is paged.
#[derive(Debug, Clone, PartialEq)]
pub enum Pagination {
    /// `page` / `limit`: skip `(page - 1) * limit` documents.
    Offset {
        /// 1-based page number.
        page: u64,
        /// Page size, `1..=100`.
        limit: u32,
    },
    /// `cursor` / `limit`: keyset pagination.
    Cursor {
        /// The position to continue after; `None` for the first page.
        after: Option<CursorPosition>,
        /// Page size, `1..=100`.
        limit: u32,
    },
}

impl Pagination {
    /// The page size.
    #[must_use]
    pub fn limit(&self) -> u32 {
        match self {
            Pagination::Offset { limit, .. } | Pagination::Cursor { limit, .. } => *limit,
        }
    }

    /// Documents to skip: `(page - 1) * limit` in offset mode, `0` in cursor mode.
    #[must_use]
    pub fn skip(&self) -> u64 {
        match self {
            Pagination::Offset { page, limit } => page.saturating_sub(1).saturating_mul(u64::from(*limit)),
            Pagination::Cursor { .. } => 0,
        }
    }

    /// Whether this is cursor pagination.
    #[must_use]
    pub fn is_cursor(&self) -> bool {
        matches!(self, Pagination::Cursor { .. })
    }
}

/// Field selection from `fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Only these fields (and `_id`, unless `exclude_id`).
    Include {
        /// The included fields (never overlapping; `_id` may be among them).
        fields: Vec<FieldPath>,
        /// `-_id` was given as well.
        exclude_id: bool,
    },
    /// Every field except these (never overlapping).
    Exclude(Vec<FieldPath>),
}

/// A parsed `GET /api/data/:collection` query.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The filter (a conjunction).
    pub filter: Filter,
    /// The sort keys, most significant first. Never empty and always ends with `_id` (the
    /// tie-breaker, in the direction of the key before it) unless `_id` is already a key.
    pub sort: Vec<SortKey>,
    /// Paging.
    pub pagination: Pagination,
    /// Field selection, if `fields` was given.
    pub projection: Option<Projection>,
    /// Paths to populate (`populate`, or `expand` when `populate` is absent or empty).
    pub populate: Vec<FieldPath>,
    /// `count=true`: answer the number of matching documents instead of a page.
    pub count: bool,
    /// `meta=true|false` when given; `false` asks the caller to drop `createdAt`, `updatedAt`,
    /// `schemaVersion` and `__v` from the items.
    pub meta: Option<bool>,
}

impl ListQuery {
    /// The first `limit` documents matching `filter` in `sort` order: no projection, no
    /// populate, no count (the query the server's own lookups and scans make).
    #[must_use]
    pub fn first(filter: Filter, sort: Vec<SortKey>, limit: u32) -> ListQuery {
        ListQuery {
            filter,
            sort,
            pagination: Pagination::Offset { page: 1, limit },
            projection: None,
            populate: Vec::new(),
            count: false,
            meta: None,
        }
    }

    /// Narrows the query with a mandatory equality (the RLS scope, e.g. `userId == caller`).
    /// Conditions only ever AND, so nothing in the client's query can widen it.
    pub fn restrict(&mut self, path: FieldPath, value: Scalar) -> &mut Self {
        self.filter.and(Condition::new(path, Op::Eq(value)));
        self
    }

    /// Whether the filter uses a regex (see [`Filter::has_regex`]).
    #[must_use]
    pub fn has_regex(&self) -> bool {
        self.filter.has_regex()
    }
}
