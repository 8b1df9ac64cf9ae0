//! The REST query language of `GET /api/data/:collection`, parsed into a typed, backend-neutral
//! AST ([`ListQuery`]) and cast by the collection's [`Schema`]. Pure: no I/O, no async, no
//! database types. Store backends translate the AST (SQLite to SQL, MongoDB to filter documents);
//! user input never becomes an operator.
//!
//! ```
//! use query::{parse, FieldPath, FieldType, Op, Pagination, Scalar, Schema, SortOrder};
//!
//! let schema = Schema::new()
//!     .with("price", FieldType::Number)
//!     .with("tags", FieldType::Array(Box::new(FieldType::String)));
//! let mut q = parse("price_gt=18&tags_in=a,+b&sort=price:desc&limit=10&page=2", &schema)?;
//!
//! let ops: Vec<&Op> = q.filter.conditions().iter().map(|c| &c.op).collect();
//! assert_eq!(ops[0], &Op::Gt(Scalar::Number(18.0)));
//! assert_eq!(ops[1], &Op::In(vec![Scalar::String("a".into()), Scalar::String("b".into())]));
//! assert_eq!(q.sort[0].order, SortOrder::Desc);
//! assert_eq!(q.sort[1].path.as_str(), "_id"); // the tie-breaker
//! assert_eq!(q.pagination, Pagination::Offset { page: 2, limit: 10 });
//! assert_eq!(q.pagination.skip(), 10);
//!
//! // The caller (RLS) narrows the query; nothing the client sent can widen it.
//! q.restrict(FieldPath::new("userId")?, Scalar::String("alice".into()));
//! let doc = serde_json::json!({"userId": "alice", "price": 20, "tags": ["b"]});
//! assert!(q.filter.matches(&doc));
//!
//! // Errors are 400s with the client-facing text.
//! let err = parse("price_gt=abc", &schema).unwrap_err();
//! assert_eq!(err.to_string(), r#"Invalid value for "price_gt": expected a Number."#);
//! assert_eq!(err.status(), 400);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The language
//!
//! The query string is `application/x-www-form-urlencoded` (`+` is a space, `%XX` escapes;
//! invalid UTF-8 becomes U+FFFD). The reserved parameters `page`, `sort`, `limit`, `fields`,
//! `populate`, `expand`, `count`, `meta` and `cursor` never filter; every other parameter is a
//! filter condition, and all conditions are ANDed:
//!
//! | Parameter | Condition |
//! |---|---|
//! | `f=v` | `f` equals `v` ([`Op::Eq`]); the key repeated (`f=a&f=b`) is [`Op::In`] |
//! | `f_gt=v`, `f_gte=v`, `f_lt=v`, `f_lte=v` | comparisons within `v`'s type bracket |
//! | `f_ne=v` | not equal (also matches documents without `f`) |
//! | `f_in=a,b,c` | one of the values: comma-split, trimmed, empty entries dropped, repeated parameters flattened; an empty list matches nothing |
//! | `f_exists=true` / `false` | presence; any other value is refused |
//! | `f_regex=p` | case-insensitive regular expression on string values |
//!
//! A parameter name that is itself a declared field (say `login_in`) is plain equality on that
//! field; otherwise the suffix decides. Several operators on one field, and a repeated operator
//! parameter, are several conditions (AND). Paths may be dotted (`address.city`); on arrays they
//! match element-wise as in MongoDB (see [`Filter::matches`] for the exact semantics).
//!
//! **Values are always literals**: `{"$ne":null}` is the string `{"$ne":null}`, never an
//! operator. **Names are validated** ([`FieldPath`]): a name that is empty, has an empty segment
//! (`a..b`), has a segment starting with `$` (`$where`, `a.$ne`), uses brackets (`a[$ne]`,
//! `a[gt]`), has a segment made only of digits (`a.0`), contains a control character, or exceeds
//! the length or depth limit is refused with a 400 naming the parameter.
//!
//! `_regex` patterns are at most 128 characters, compiled with the linear-time `regex` crate
//! (so backreferences and lookaround are refused), always case-insensitive, and may not use the
//! few constructs that PCRE (MongoDB) reads differently (see [`RegexPattern`]); `_regex` on a
//! Number, Boolean, Date or Ref field is refused.
//!
//! ## Sorting, paging, projection
//!
//! - `sort`: comma list of `field[:order]`; order `desc` (any case) or `-1` is descending,
//!   anything else ascending; `-field` (without an order) is descending. Default `-createdAt`.
//!   [`ListQuery::sort`] always ends with `_id` as the tie-breaker (same direction as the key
//!   before it) unless `_id` is already a key, so every order is total.
//! - `page`: `parseInt(page) || 1` (absent, non-numeric or 0 gives 1; `1e9` parses as 1);
//!   negative is refused; `page * limit` may not exceed 1,000,000 (use cursor pagination).
//! - `limit`: `parseInt(limit) || 100`, clamped to 100; negative is refused.
//! - `cursor` (non-empty) switches to cursor pagination: `start`, `first`, `true` or `null`
//!   request the first page; any other value must be a cursor from [`cursor::encode`] (see
//!   [`cursor`]) or the query is refused with `Invalid cursor.`. Exactly one sort field is
//!   allowed (default `createdAt` descending), not an array field; `page` is ignored.
//! - `fields`: `a,b` includes, `-a,-b` excludes; only `-_id` may accompany included fields;
//!   overlapping paths (`a` and `a.b`) are refused. `meta`: `true` or `false` (else refused).
//! - `populate` (or `expand` when `populate` is absent or empty): comma list or repeated.
//! - `count=true` (exactly) asks for the count instead of a page.
//! - `page`, `limit`, `sort`, `cursor`, `count` and `meta` may appear at most once.
//!
//! # Casting
//!
//! Values are cast by the schema type of the field, as Mongoose casts them (for an array field,
//! by the item type); a value that cannot be cast is a 400
//! (`Invalid value for "price_gt": expected a Number.`), never a 500:
//!
//! | Type | Accepted text |
//! |---|---|
//! | `Number` | what JavaScript's `Number()` accepts as decimal text (`18`, ` -1.5e3 `, `.5`); empty, blank, `Infinity`, overflow and non-decimal (`0x10`) are refused |
//! | `Boolean` | `true`, `1`, `yes` / `false`, `0`, `no` (Mongoose's sets) |
//! | `Date` | ISO 8601 / RFC 3339 date or date-time (`2024`, `2024-05`, `2024-05-06`, `2024-05-06T07:08`, `…:09.123Z`, `…+02:00`; no offset means UTC), or integer milliseconds since the epoch (any integer but a bare 4-digit year) |
//! | `Ref` ([`FieldType::ObjectId`]) | 24 hexadecimal characters, any case (normalised to lowercase) |
//! | `String`, `Object`, `Mixed`, undeclared | the text as is (string semantics) |
//!
//! `_id` is always an ObjectId, `createdAt` and `updatedAt` are always Dates and `__v` is a
//! Number. `_exists` takes no cast (`true`/`false` only) and `_regex` patterns stay text.
//!
//! # Limits
//!
//! Everything is bounded (see [`limits`]): the query string (16 KiB), the parameters (200),
//! `_in` lists and repeated keys (100 values), paths (256 bytes, 16 segments), sort keys (8),
//! populate paths (16), projection fields (64), regex patterns (128 characters, 4 MiB compiled),
//! offset depth (`page * limit` ≤ 1,000,000) and cursors (2 KiB). Each over-limit is a 400.

mod ast;
pub mod cursor;
mod error;
mod eval;
pub mod limits;
mod options;
mod parse;
mod path;
mod pattern;
mod schema;
pub mod value;

pub use ast::{Condition, CursorPosition, Filter, ListQuery, Op, Pagination, Projection, Scalar, SortKey, SortOrder};
pub use error::QueryError;
pub use parse::parse;
pub use path::{FieldPath, ObjectIdHex, PathError};
pub use pattern::RegexPattern;
pub use schema::{FieldType, Schema};
