//! Date values in documents: what JavaScript's `Date.parse` accepts (the original validated
//! `Date` fields with it) and Mongoose then stored. Numbers are milliseconds since the epoch (as
//! Mongoose casts them); strings are ISO 8601 (through `query::value::parse_iso_date`) or one of
//! the common legacy forms V8 reads: `Date.prototype.toString` (`Tue Mar 05 2024 10:00:00
//! GMT+0100 (Central European Standard Time)`), RFC 2822 / `toUTCString` (`Tue, 05 Mar 2024
//! 10:00:00 GMT`), `March 5, 2024 10:00 PM`, `5 March 2024`, `2024/03/05 10:00` and
//! `03/05/2024`. A date or date-time without an offset is taken as UTC (the server's local time
//! in the original; servers run in UTC). The result is milliseconds since the epoch within
//! JavaScript's date range.

use query::value::{MAX_DATE_MS, parse_iso_date};
use serde_json::Value;

/// Milliseconds since the epoch of a document value for a `Date` field, or `None` when
/// `Date.parse` would give `NaN`.
pub(crate) fn parse_js_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            let ms = n.as_f64()?.trunc();
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let within = ms.is_finite() && ms.abs() <= MAX_DATE_MS as f64;
            #[allow(clippy::cast_possible_truncation)]
            within.then_some(ms as i64)
        }
        Value::String(text) => parse_date_text(text),
        _ => None,
    }
}

/// Milliseconds since the epoch of a date text (ISO 8601 or a legacy form).
pub(crate) fn parse_date_text(text: &str) -> Option<i64> {
    let text = text.trim();
    parse_iso_date(text).or_else(|| parse_legacy(text))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

#[derive(Default)]
struct Parts {
    month_name: Option<u32>,
    numbers: Vec<(u32, usize)>,
    slash_date: Option<(u32, u32, u32)>,
    time: Option<(u32, u32, u32, u32)>,
    meridiem: Option<bool>,
    offset_minutes: Option<i32>,
}

fn parse_legacy(text: &str) -> Option<i64> {
    if text.len() > 128 {
        return None;
    }
    let mut parts = Parts::default();
    for token in strip_comments(text)?.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
        read_token(token, &mut parts)?;
    }
    let (year, month, day) = match (parts.slash_date, parts.month_name) {
        (Some(date), None) if parts.numbers.is_empty() => date,
        (None, Some(month)) => match parts.numbers.as_slice() {
            [(a, a_len), (b, b_len)] => {
                if *a_len >= 3 || *a > 31 {
                    (full_year(*a, *a_len), month, *b)
                } else {
                    (full_year(*b, *b_len), month, *a)
                }
            }
            _ => return None,
        },
        _ => return None,
    };
    let (mut hour, minute, second, millis) = parts.time.unwrap_or((0, 0, 0, 0));
    if let Some(pm) = parts.meridiem {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, h) if h < 12 => h + 12,
            (_, h) => h,
        };
    }
    if year > 9999 {
        return None;
    }
    let zone = match parts.offset_minutes {
        None | Some(0) => "Z".to_owned(),
        Some(m) => {
            format!("{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.unsigned_abs() / 60, m.unsigned_abs() % 60)
        }
    };
    parse_iso_date(&format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}{zone}"))
}

/// Removes parenthesised comments (`(Central European Standard Time)`).
fn strip_comments(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    (depth == 0).then_some(out)
}

fn full_year(year: u32, digits: usize) -> u32 {
    match (digits, year) {
        (1 | 2, y) if y < 50 => 2000 + y,
        (1 | 2, y) => 1900 + y,
        (_, y) => y,
    }
}

fn read_token(token: &str, parts: &mut Parts) -> Option<()> {
    let lower = token.to_ascii_lowercase();
    if lower.bytes().all(|b| b.is_ascii_alphabetic()) {
        return read_word(&lower, parts);
    }
    for zone in ["gmt", "utc", "ut"] {
        if let Some(rest) = lower.strip_prefix(zone).filter(|r| r.starts_with(['+', '-'])) {
            parts.offset_minutes = Some(read_offset(rest)?);
            return Some(());
        }
    }
    if token.starts_with(['+', '-']) {
        parts.offset_minutes = Some(read_offset(token)?);
    } else if token.contains(':') {
        if parts.time.is_some() {
            return None;
        }
        parts.time = Some(read_time(token)?);
    } else if token.contains('/') {
        let numbers: Vec<&str> = token.split('/').collect();
        let [a, b, c] = numbers.as_slice() else { return None };
        let (a_n, b_n, c_n) = (number(a)?, number(b)?, number(c)?);
        parts.slash_date = Some(if a.len() >= 3 { (a_n, b_n, c_n) } else { (full_year(c_n, c.len()), a_n, b_n) });
    } else {
        parts.numbers.push((number(token)?, token.len()));
    }
    Some(())
}

fn read_word(word: &str, parts: &mut Parts) -> Option<()> {
    let offset = match word {
        "am" | "pm" => {
            parts.meridiem = Some(word == "pm");
            return Some(());
        }
        "z" | "gmt" | "utc" | "ut" => 0,
        "edt" => -240,
        "est" | "cdt" => -300,
        "cst" | "mdt" => -360,
        "mst" | "pdt" => -420,
        "pst" => -480,
        _ => {
            let prefix_of = |name: &&str| word.len() >= 3 && name.starts_with(word);
            if WEEKDAYS.iter().any(&prefix_of) {
                return Some(());
            }
            let month = MONTHS.iter().position(prefix_of)?;
            if parts.month_name.is_some() {
                return None;
            }
            parts.month_name = Some(u32::try_from(month).ok()? + 1);
            return Some(());
        }
    };
    parts.offset_minutes = Some(offset);
    Some(())
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn read_offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (number(h)?, number(m)?),
        None if rest.len() <= 2 => (number(rest)?, 0),
        None if rest.len() == 4 => (number(rest)? / 100, number(rest)? % 100),
        None => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i32::try_from(hours * 60 + minutes).ok()?)
}

fn read_time(text: &str) -> Option<(u32, u32, u32, u32)> {
    let mut pieces = text.split(':');
    let hour = number(pieces.next()?)?;
    let minute = number(pieces.next()?)?;
    let (second, millis) = match pieces.next() {
        None => (0, 0),
        Some(sec) => match sec.split_once('.') {
            None => (number(sec)?, 0),
            Some((s, frac)) => {
                let digits: String = frac.chars().take(3).collect();
                let scale = 10u32.pow(u32::try_from(3usize.checked_sub(digits.len())?).ok()?);
                if !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (number(s)?, number(&digits)? * scale)
            }
        },
    };
    if pieces.next().is_some() || hour > 24 || minute > 59 || second > 59 {
        return None;
    }
    Some((hour, minute, second, millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use query::value::format_date;
    use serde_json::json;

    fn iso(value: Value) -> Option<String> {
        parse_js_date(&value).and_then(format_date)
    }

    #[test]
    fn iso_strings_and_numbers() {
        assert_eq!(iso(json!("2024-03-05T10:00:00Z")).as_deref(), Some("2024-03-05T10:00:00.000Z"));
        assert_eq!(iso(json!("2024-03-05T10:00:00.123456+02:00")).as_deref(), Some("2024-03-05T08:00:00.123Z"));
        assert_eq!(iso(json!("2024-03-05")).as_deref(), Some("2024-03-05T00:00:00.000Z"));
        assert_eq!(iso(json!("2024")).as_deref(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(iso(json!(0)).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(iso(json!(1_700_000_000_000_i64)).as_deref(), Some("2023-11-14T22:13:20.000Z"));
        assert_eq!(iso(json!(1.9)).as_deref(), Some("1970-01-01T00:00:00.001Z"));
        assert_eq!(iso(json!(8.64e15)).as_deref(), Some("+275760-09-13T00:00:00.000Z"));
        assert_eq!(iso(json!(8.7e15)), None);
    }

    #[test]
    fn legacy_forms() {
        let cases = [
            ("Tue Mar 05 2024 10:00:00 GMT+0100 (Central European Standard Time)", "2024-03-05T09:00:00.000Z"),
            ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00.000Z"),
            ("March 5, 2024 10:00 PM", "2024-03-05T22:00:00.000Z"),
            ("5 March 2024", "2024-03-05T00:00:00.000Z"),
            ("2024/03/05 10:00", "2024-03-05T10:00:00.000Z"),
            ("03/05/2024", "2024-03-05T00:00:00.000Z"),
            ("Mar 5 24 12:30:15.5 am EST", "2024-03-05T05:30:15.500Z"),
            ("Dec 31 1999 23:59:59 +05:30", "1999-12-31T18:29:59.000Z"),
        ];
        for (text, want) in cases {
            assert_eq!(iso(json!(text)).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn rejects_what_date_parse_rejects() {
        for bad in [
            json!(""),
            json!("not a date"),
            json!("2024-13-01"),
            json!("2024-02-30"),
            json!("Feb 30 2024"),
            json!("12345"),
            json!("13/45/2024"),
            json!("Mar 2024"),
            json!("10:00"),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
            json!("(unclosed"),
        ] {
            assert_eq!(parse_js_date(&bad), None, "{bad}");
        }
    }
}
