//! Document conventions shared by every backend: the JSON form, ObjectId generation and the
//! timestamp format.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// A document in its wire form (see the crate docs).
pub type Document = Map<String, Value>;

/// A new ObjectId as 24 lower-case hex characters: 4 bytes of seconds since the epoch, 5 random
/// bytes per process, 3 bytes of a counter (MongoDB's layout, so ids sort by creation time).
pub fn new_object_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static PROCESS: std::sync::OnceLock<[u8; 5]> = std::sync::OnceLock::new();
    let process = PROCESS.get_or_init(|| {
        let mut bytes = [0u8; 5];
        // Without an OS random source, fall back to the process id and start time: ids stay
        // unique within this process through the counter.
        if getrandom::fill(&mut bytes).is_err() {
            let seed = u64::from(std::process::id()) ^ Utc::now().timestamp_micros().unsigned_abs();
            bytes.copy_from_slice(&seed.to_be_bytes()[3..]);
        }
        bytes
    });
    let seconds = u32::try_from(Utc::now().timestamp().max(0)).unwrap_or(u32::MAX);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00FF_FFFF;
    let mut id = String::with_capacity(24);
    for byte in seconds.to_be_bytes().iter().chain(process.iter()).chain(&count.to_be_bytes()[1..]) {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// The current time as a document timestamp.
pub fn now_timestamp() -> String {
    format_timestamp(Utc::now())
}

/// The timestamp format of documents: ISO 8601 UTC with milliseconds, as JavaScript's
/// `Date.prototype.toISOString` (`2026-11-23T13:20:34.123Z`). Such strings sort in time order.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a document timestamp (any RFC 3339 form).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_and_increase() {
        let a = new_object_id();
        let b = new_object_id();
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        assert_eq!(a[8..18], b[8..18], "same process bytes");
    }

    #[test]
    fn timestamps_look_like_javascript_iso_strings() {
        let at = parse_timestamp("2026-11-23T13:20:34.5+02:00").unwrap();
        assert_eq!(format_timestamp(at), "2026-11-23T11:20:34.500Z");
    }
}
