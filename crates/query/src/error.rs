//! The typed error of the parser. Every variant is a client error (HTTP 400) and its `Display`
//! text is the exact client-facing message (the `error` of the wire error body).

use crate::limits::{MAX_OFFSET_DEPTH, MAX_PARAMS, MAX_QUERY_BYTES, MAX_REGEX_LEN};
use crate::path::PathError;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The raw query string is longer than [`MAX_QUERY_BYTES`].
    #[error("Query string is too long (max {MAX_QUERY_BYTES} bytes).")]
    QueryTooLong,
    /// More than [`MAX_PARAMS`] parameters.
    #[error("Too many query parameters (max {MAX_PARAMS}).")]
    TooManyParameters,
    /// A filter parameter's name is not a valid field path (`$where`, `a[$ne]`, `a..b`, …).
    #[error("Invalid query parameter \"{param}\": {reason}.")]
    InvalidParameterName {
        /// The parameter name as sent (percent-decoded).
        param: String,
        /// What is wrong with it.
        reason: PathError,
    },
    /// A parameter that takes one value was given several times.
    #[error("Query parameter \"{param}\" must not be repeated.")]
    RepeatedParameter {
        /// The parameter name.
        param: &'static str,
    },
    /// A filter value cannot be cast to the field's type.
    #[error("Invalid value for \"{param}\": expected {expected}.")]
    InvalidValue {
        /// The parameter name as sent (`price_gt`).
        param: String,
        /// What was expected (`a Number`).
        expected: &'static str,
    },
    /// Too many values in an `_in` list (or repetitions of a plain key).
    #[error("Too many values for \"{param}\" (max {max}).")]
    TooManyValues {
        /// The parameter name as sent.
        param: String,
        /// The limit.
        max: usize,
    },
    /// `<f>_exists` with a value other than `true` / `false`.
    #[error("Invalid value for \"{field}_exists\"; expected \"true\" or \"false\".")]
    InvalidExists {
        /// The field part of the parameter name.
        field: String,
    },
    /// A `_regex` pattern longer than [`MAX_REGEX_LEN`].
    #[error("Regex pattern for \"{field}_regex\" exceeds {MAX_REGEX_LEN} characters.")]
    RegexTooLong {
        /// The field part of the parameter name.
        field: String,
    },
    /// A `_regex` pattern that does not compile or uses an unsupported construct.
    #[error("Invalid regex pattern for \"{field}_regex\".")]
    InvalidRegex {
        /// The field part of the parameter name.
        field: String,
    },
    /// `_regex` on a field whose values are not text.
    #[error("Invalid query parameter \"{param}\": \"_regex\" cannot be used on a {field_type} field.")]
    RegexOnNonText {
        /// The parameter name as sent.
        param: String,
        /// The field's type name (`Number`, `Boolean`, `Date`, `Ref`).
        field_type: &'static str,
    },
    /// Negative `page` or `limit`.
    #[error("Invalid value for \"{param}\": expected a positive integer.")]
    NotPositive {
        /// `page` or `limit`.
        param: &'static str,
    },
    /// `page * limit` beyond [`MAX_OFFSET_DEPTH`].
    #[error(
        "Invalid value for \"page\": page * limit must not exceed {MAX_OFFSET_DEPTH}; use cursor pagination to read further."
    )]
    PageTooDeep,
    /// An entry of `sort`, `fields`, `populate` or `expand` is not a valid field path.
    #[error("Invalid field \"{entry}\" in \"{param}\": {reason}.")]
    InvalidFieldEntry {
        /// The parameter name.
        param: &'static str,
        /// The entry as sent.
        entry: String,
        /// What is wrong with it.
        reason: PathError,
    },
    /// Too many entries in `sort`, `fields`, `populate` or `expand`.
    #[error("Too many entries in \"{param}\" (max {max}).")]
    TooManyEntries {
        /// The parameter name.
        param: &'static str,
        /// The limit.
        max: usize,
    },
    /// `fields` mixes included and excluded fields.
    #[error(
        "Invalid value for \"fields\": cannot mix included and excluded fields (only \"-_id\" may accompany included fields)."
    )]
    MixedProjection,
    /// `fields` names a path and one of its ancestors.
    #[error("Invalid value for \"fields\": \"{first}\" and \"{second}\" overlap.")]
    ProjectionCollision {
        /// The ancestor path.
        first: String,
        /// The descendant path.
        second: String,
    },
    /// `meta` with a value other than `true` / `false`.
    #[error("Invalid value for \"meta\"; expected \"true\" or \"false\".")]
    InvalidMeta,
    /// Cursor pagination with several sort fields.
    #[error("Cursor pagination supports exactly one sort field.")]
    CursorSortFields,
    /// Cursor pagination sorted by an array field.
    #[error("Cursor pagination cannot sort by the array field \"{field}\".")]
    CursorArraySort {
        /// The sort field.
        field: String,
    },
    /// A `cursor` that is neither a sentinel nor a well-formed cursor for this sort (also when it
    /// is longer than [`MAX_CURSOR_BYTES`](crate::limits::MAX_CURSOR_BYTES)).
    #[error("Invalid cursor.")]
    InvalidCursor,
}

impl QueryError {
    /// The HTTP status for this error: always 400.
    #[must_use]
    pub fn status(&self) -> u16 {
        400
    }
}
