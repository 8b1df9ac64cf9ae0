//! The bounds the parser enforces. Every input dimension a client controls is capped here, so a
//! query string can never cause unbounded allocation, unbounded database work or a panic; going
//! over any of them is a 400 with a text that names the limit.

/// Longest accepted raw query string (the part after `?`, before percent-decoding), in bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

/// Most `key=value` pairs accepted in one query string (reserved ones included).
pub const MAX_PARAMS: usize = 200;

/// Most values in one `_in` list (after comma-splitting and flattening repeated parameters), and
/// most repetitions of one plain `f=v` key (which becomes an `In` list).
pub const MAX_IN_VALUES: usize = 100;

/// Longest field path, in bytes.
pub const MAX_PATH_BYTES: usize = 256;

/// Most segments in a dotted field path.
pub const MAX_PATH_DEPTH: usize = 16;

/// Most sort fields in `sort` (the implicit `_id` tie-breaker is not counted).
pub const MAX_SORT_FIELDS: usize = 8;

/// Most paths in `populate` / `expand`.
pub const MAX_POPULATE_PATHS: usize = 16;

/// Most fields in `fields`.
pub const MAX_PROJECTION_FIELDS: usize = 64;

/// Longest `_regex` pattern, in UTF-16 code units (JavaScript's `String.length`, as the original).
pub const MAX_REGEX_LEN: usize = 128;

/// Size limit handed to the `regex` crate for one compiled pattern (and its lazy DFA), in bytes.
pub const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Largest (and default) page size.
pub const MAX_LIMIT: u32 = 100;

/// Deepest offset page: `page * limit` may not exceed this (use cursor pagination beyond).
pub const MAX_OFFSET_DEPTH: u64 = 1_000_000;

/// Longest accepted `cursor` value, in bytes.
pub const MAX_CURSOR_BYTES: usize = 2048;
