//! Cursor pagination tokens, compatible with the original: base64 of the JSON object
//! `{"sortValue": <the last item's sort field value>, "_id": "<its 24-hex id>"}`.
//!
//! A cursor is attacker-controlled input, so decoding is strict: the sentinels `start`, `first`,
//! `true` and `null` mean "first page"; anything else must be standard or URL-safe base64 (padding
//! optional) of a JSON object with exactly the keys `sortValue` (optional, a JSON scalar castable
//! to the sort field's type, or `null`) and `_id` (24 hex characters), or the query is refused
//! with `Invalid cursor.`. A decoded cursor only ever becomes a typed [`CursorPosition`], so a
//! forged cursor can move the position but never widen the query.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::{Map, Value};

use crate::ast::{CursorPosition, SortKey};
use crate::error::QueryError;
use crate::limits::MAX_CURSOR_BYTES;
use crate::path::ObjectIdHex;
use crate::schema::Schema;
use crate::value::cast_json;

/// The `cursor` values that start cursor pagination at the first page.
pub const FIRST_PAGE_SENTINELS: [&str; 4] = ["start", "first", "true", "null"];

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Encodes the `nextCursor` for a page whose last item has sort field value `sort_value` (the
/// value as it appears in the JSON item: `Value::Null` when missing) and id `id`. Standard base64
/// with padding, keys in the original's order, exactly as the original encodes it.
#[must_use]
pub fn encode(sort_value: &Value, id: &str) -> String {
    let mut map = Map::new();
    map.insert("sortValue".to_owned(), sort_value.clone());
    map.insert("_id".to_owned(), Value::String(id.to_owned()));
    STANDARD.encode(Value::Object(map).to_string())
}

/// Decodes a non-empty `cursor` value for the (single) primary sort key: `Ok(None)` for a
/// first-page sentinel, the position otherwise.
pub(crate) fn decode(raw: &str, sort: &SortKey, schema: &Schema) -> Result<Option<CursorPosition>, QueryError> {
    if FIRST_PAGE_SENTINELS.contains(&raw) {
        return Ok(None);
    }
    decode_position(raw, sort, schema).map(Some).ok_or(QueryError::InvalidCursor)
}

fn decode_position(raw: &str, sort: &SortKey, schema: &Schema) -> Option<CursorPosition> {
    if raw.len() > MAX_CURSOR_BYTES {
        return None;
    }
    // An unencoded `+` in a query string arrives as a space.
    let text = raw.replace(' ', "+");
    let engine = if text.contains(['-', '_']) { &URL_SAFE_LENIENT } else { &STANDARD_LENIENT };
    let bytes = engine.decode(text).ok()?;
    let Value::Object(map) = serde_json::from_slice::<Value>(&bytes).ok()? else {
        return None;
    };
    if map.keys().any(|k| k != "sortValue" && k != "_id") {
        return None;
    }
    let id = ObjectIdHex::parse(map.get("_id")?.as_str()?)?;
    let ty = schema.field_type(sort.path.as_str());
    let value = match map.get("sortValue") {
        None => None,
        Some(v) => cast_json(v, ty).ok()?,
    };
    Some(CursorPosition { sort: sort.clone(), value, id })
}
