//! MongoDB Extended JSON, as `mongoexport` and Compass write it, turned into the plain JSON wire
//! form the rest of the server works with: `{"$oid": "…"}` becomes the 24-hex string,
//! `{"$date": …}` (an ISO string, milliseconds, or `{"$numberLong": "…"}`) the ISO 8601 string
//! with milliseconds, `{"$numberInt"|"$numberLong"|"$numberDouble"|"$numberDecimal": "…"}` a JSON
//! number. Plain (relaxed) JSON passes through unchanged, so a hand-written file works too. A
//! wrapper that cannot be converted (a date out of range, `NaN`, binary data) is left as it is,
//! for the validation that follows to refuse with the field's name.

use query::value::{format_date, parse_iso_date};
use serde_json::{Map, Number, Value};

/// `value` with every convertible extended JSON wrapper replaced by its plain form.
pub fn to_plain(value: Value) -> Value {
    match value {
        Value::Object(map) => match unwrap_single(&map) {
            Some(plain) => plain,
            None => Value::Object(map.into_iter().map(|(key, member)| (key, to_plain(member))).collect()),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(to_plain).collect()),
        other => other,
    }
}

/// The plain value of a one-member wrapper object, if it is one we convert.
fn unwrap_single(map: &Map<String, Value>) -> Option<Value> {
    if map.len() != 1 {
        return None;
    }
    let (key, inner) = map.iter().next()?;
    match key.as_str() {
        "$oid" => inner
            .as_str()
            .filter(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|s| Value::String(s.to_ascii_lowercase())),
        "$date" => date_millis(inner).and_then(format_date).map(Value::String),
        "$numberInt" | "$numberLong" => inner.as_str()?.parse::<i64>().ok().map(|n| Value::Number(n.into())),
        "$numberDouble" | "$numberDecimal" => {
            let text = inner.as_str()?;
            match text.parse::<i64>() {
                Ok(n) => Some(Value::Number(n.into())),
                Err(_) => text.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number),
            }
        }
        _ => None,
    }
}

/// Milliseconds since the epoch of a `$date` payload: canonical (`{"$numberLong": "…"}`), relaxed
/// (an ISO string) or legacy (a number).
fn date_millis(inner: &Value) -> Option<i64> {
    match inner {
        Value::String(text) => parse_iso_date(text),
        Value::Number(n) => n.as_i64(),
        Value::Object(map) if map.len() == 1 => map.get("$numberLong")?.as_str()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrappers_become_plain_values() {
        let input = json!({
            "_id": {"$oid": "65A1B2C3D4E5F60718293A4B"},
            "createdAt": {"$date": "2025-01-02T03:04:05.678Z"},
            "canonical": {"$date": {"$numberLong": "0"}},
            "legacy": {"$date": 86_400_000},
            "n": {"$numberInt": "7"}, "big": {"$numberLong": "9007199254740993"},
            "x": {"$numberDouble": "1.5"}, "d": {"$numberDecimal": "10"},
            "nested": [{"ref": {"$oid": "65a1b2c3d4e5f60718293a4c"}}],
            "plain": "text"
        });
        assert_eq!(
            to_plain(input),
            json!({
                "_id": "65a1b2c3d4e5f60718293a4b",
                "createdAt": "2025-01-02T03:04:05.678Z",
                "canonical": "1970-01-01T00:00:00.000Z",
                "legacy": "1970-01-02T00:00:00.000Z",
                "n": 7, "big": 9_007_199_254_740_993_i64, "x": 1.5, "d": 10,
                "nested": [{"ref": "65a1b2c3d4e5f60718293a4c"}],
                "plain": "text"
            })
        );
    }

    #[test]
    fn what_cannot_be_converted_stays() {
        for kept in [
            json!({"$oid": "not-hex"}),
            json!({"$date": "yesterday"}),
            json!({"$numberDouble": "NaN"}),
            json!({"$binary": {"base64": "AA==", "subType": "00"}}),
            json!({"$oid": "65a1b2c3d4e5f60718293a4b", "other": 1}),
        ] {
            let converted = to_plain(kept.clone());
            // Only the members are converted, never the object's own shape.
            assert_eq!(converted.as_object().map(Map::len), kept.as_object().map(Map::len), "{kept}");
        }
        assert_eq!(to_plain(json!({"$oid": "bad"})), json!({"$oid": "bad"}));
    }
}
