//! Casting query text to typed [`Scalar`]s by the field's schema type, the way Mongoose casts
//! query values (with the holes closed: what cannot be cast is an error, never a 500), plus the
//! small text grammars involved: JavaScript `Number()` for decimal text, JavaScript `parseInt`,
//! booleans and ISO 8601 dates.

use serde_json::Value;

use crate::ast::Scalar;
use crate::path::ObjectIdHex;
use crate::schema::FieldType;

/// Largest magnitude of a JavaScript `Date`, in milliseconds (±100,000,000 days).
pub const MAX_DATE_MS: i64 = 8_640_000_000_000_000;

/// Days from 0000-03-01 based civil calendar to 1970-01-01 (see `days_from_civil`).
const UNIX_EPOCH_DAYS: i64 = 719_468;
const MS_PER_DAY: i64 = 86_400_000;

/// A value could not be cast; `expected` completes the text "expected …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CastError {
    pub(crate) expected: &'static str,
}

const EXPECT_NUMBER: CastError = CastError { expected: "a Number" };
const EXPECT_BOOLEAN: CastError = CastError { expected: "a Boolean (true or false)" };
const EXPECT_DATE: CastError = CastError { expected: "a Date (ISO 8601 or milliseconds since the epoch)" };
const EXPECT_OBJECT_ID: CastError = CastError { expected: "an ObjectId (24 hexadecimal characters)" };

/// Casts query text by the (scalar) type of the field; `None` (undeclared) keeps the text.
pub(crate) fn cast_text(raw: &str, ty: Option<&FieldType>) -> Result<Scalar, CastError> {
    match ty.map(FieldType::scalar_type) {
        Some(FieldType::Number) => parse_number(raw).map(Scalar::Number).ok_or(EXPECT_NUMBER),
        Some(FieldType::Boolean) => parse_boolean(raw).map(Scalar::Bool).ok_or(EXPECT_BOOLEAN),
        Some(FieldType::Date) => parse_date(raw).map(Scalar::Date).ok_or(EXPECT_DATE),
        Some(FieldType::ObjectId) => ObjectIdHex::parse(raw).map(Scalar::ObjectId).ok_or(EXPECT_OBJECT_ID),
        _ => Ok(Scalar::String(raw.to_owned())),
    }
}

/// Casts a JSON scalar (a cursor's `sortValue`) by the field's type. `Ok(None)` is JSON `null`;
/// `Err(())` is an object, an array or a value that does not fit the type. Untyped fields keep
/// the JSON type (string, number or boolean), since schemaless documents may hold any of them.
pub(crate) fn cast_json(value: &Value, ty: Option<&FieldType>) -> Result<Option<Scalar>, ()> {
    let scalar = match (ty.map(FieldType::scalar_type), value) {
        (_, Value::Null) => return Ok(None),
        (_, Value::Object(_) | Value::Array(_)) => return Err(()),
        (Some(FieldType::String), Value::String(s)) => Scalar::String(s.clone()),
        (Some(FieldType::String), _) => return Err(()),
        (Some(FieldType::Number), Value::Number(n)) => Scalar::Number(n.as_f64().filter(|f| f.is_finite()).ok_or(())?),
        (Some(FieldType::Boolean), Value::Bool(b)) => Scalar::Bool(*b),
        (Some(FieldType::Date), Value::String(s)) => Scalar::Date(parse_date(s).ok_or(())?),
        (Some(FieldType::Date), Value::Number(n)) => {
            let ms = n.as_i64().filter(|ms| ms.abs() <= MAX_DATE_MS).ok_or(())?;
            Scalar::Date(ms)
        }
        (Some(FieldType::ObjectId), Value::String(s)) => Scalar::ObjectId(ObjectIdHex::parse(s).ok_or(())?),
        (Some(FieldType::Number | FieldType::Boolean | FieldType::Date | FieldType::ObjectId), _) => {
            return Err(());
        }
        (_, Value::String(s)) => Scalar::String(s.clone()),
        (_, Value::Number(n)) => Scalar::Number(n.as_f64().filter(|f| f.is_finite()).ok_or(())?),
        (_, Value::Bool(b)) => Scalar::Bool(*b),
    };
    Ok(Some(scalar))
}

/// JavaScript's white space and line terminators (what `String.prototype.trim` removes).
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// JavaScript's `String.prototype.trim`.
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// Parses decimal text the way JavaScript's `Number()` does (surrounding white space ignored,
/// optional sign, digits with an optional fraction and exponent, `.5` and `5.` included), but
/// refuses what would not be a finite number: empty or blank text, `Infinity`, overflow (`1e999`),
/// and non-decimal forms (`0x1f`, `0b1`, `0o7`).
#[must_use]
pub fn parse_number(raw: &str) -> Option<f64> {
    let s = js_trim(raw);
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let count_digits = |from: usize| b.iter().skip(from).take_while(|c| c.is_ascii_digit()).count();
    let int_digits = count_digits(i);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(i);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(i);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Mongoose's boolean casting: `true`, `1`, `yes` are true; `false`, `0`, `no` are false (exact,
/// case-sensitive); anything else is `None`.
#[must_use]
pub fn parse_boolean(raw: &str) -> Option<bool> {
    match raw {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// JavaScript `parseInt(text)` (radix 10, or 16 after `0x`): leading white space skipped,
/// optional sign, then as many digits as there are. Returns `(negative, magnitude)` with the
/// magnitude saturated, or `None` when there are no digits (JavaScript's `NaN`).
pub(crate) fn parse_int(raw: &str) -> Option<(bool, u128)> {
    let s = raw.trim_start_matches(is_js_whitespace);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, s) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(rest) => (16, rest),
        None => (10, s),
    };
    let mut magnitude: u128 = 0;
    let mut any = false;
    for digit in s.chars().map_while(|c| c.to_digit(radix)) {
        any = true;
        magnitude = magnitude.saturating_mul(u128::from(radix)).saturating_add(u128::from(digit));
    }
    any.then_some((negative, magnitude))
}

/// Parses a query value for a Date field into milliseconds since the Unix epoch (UTC).
///
/// Accepted: integer milliseconds (`1700000000000`, `-5`; any integer except a bare 4-digit one),
/// and ISO 8601 / RFC 3339 in the forms JavaScript's `Date` parses: `YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, optionally followed by `T` (or a space) and `HH:MM`, `HH:MM:SS` or
/// `HH:MM:SS.fff…`, optionally followed by `Z` or an offset `±HH:MM` / `±HHMM`. A date-time without
/// an offset is taken as UTC. Out-of-range components and values beyond JavaScript's date range
/// are `None`.
#[must_use]
pub fn parse_date(raw: &str) -> Option<i64> {
    let b = raw.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let bare_year = b.len() == 4 && b.iter().all(u8::is_ascii_digit);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) && !bare_year {
        return raw.parse::<i64>().ok().filter(|ms| ms.abs() <= MAX_DATE_MS);
    }
    parse_iso_date(raw)
}

/// The ISO 8601 part of [`parse_date`] (no integer milliseconds); also how the reference
/// evaluator reads dates stored in JSON documents.
#[must_use]
pub fn parse_iso_date(raw: &str) -> Option<i64> {
    let mut p = Cursor { b: raw.as_bytes(), i: 0 };
    let year = i64::from(p.digits(4)?);
    let (mut month, mut day, mut full_date) = (1, 1, false);
    if p.eat(b'-') {
        month = p.digits(2)?;
        if p.eat(b'-') {
            day = p.digits(2)?;
            full_date = true;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * MS_PER_DAY;
    if !p.done() {
        if !full_date || !(p.eat(b'T') || p.eat(b't') || p.eat(b' ')) {
            return None;
        }
        let hour = p.digits(2)?;
        if !p.eat(b':') {
            return None;
        }
        let minute = p.digits(2)?;
        let (mut second, mut millis) = (0, 0);
        if p.eat(b':') {
            second = p.digits(2)?;
            if p.eat(b'.') {
                let start = p.i;
                let fraction = p.digit_run(9)?;
                let len = p.i - start;
                millis = match len {
                    1 => fraction * 100,
                    2 => fraction * 10,
                    3 => fraction,
                    _ => fraction / 10u32.pow(u32::try_from(len - 3).ok()?),
                };
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        ms += i64::from(((hour * 60 + minute) * 60 + second) * 1000 + millis);
        let utc = p.eat(b'Z') || p.eat(b'z');
        if let Some(sign) = if utc { None } else { p.sign() } {
            let off_h = p.digits(2)?;
            p.eat(b':');
            let off_m = p.digits(2)?;
            if off_h > 23 || off_m > 59 {
                return None;
            }
            ms -= sign * i64::from((off_h * 60 + off_m) * 60_000);
        }
        if !p.done() {
            return None;
        }
    }
    (ms.abs() <= MAX_DATE_MS).then_some(ms)
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC with milliseconds, like JavaScript's
/// `Date.prototype.toISOString` (`2024-01-02T03:04:05.006Z`; years outside 0..=9999 use the
/// six-digit signed form). `None` beyond JavaScript's date range.
#[must_use]
pub fn format_date(ms: i64) -> Option<String> {
    if ms.abs() > MAX_DATE_MS {
        return None;
    }
    let days = ms.div_euclid(MS_PER_DAY);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, f) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    Some(format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{f:03}Z"))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }
    fn sign(&mut self) -> Option<i64> {
        if self.eat(b'+') {
            Some(1)
        } else if self.eat(b'-') {
            Some(-1)
        } else {
            None
        }
    }
    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let start = self.i;
        let value = self.digit_run(n)?;
        (self.i - start == n).then_some(value)
    }
    /// One to `max` ASCII digits (as many as present).
    fn digit_run(&mut self, max: usize) -> Option<u32> {
        let mut value = 0u32;
        let mut n = 0;
        while n < max {
            match self.b.get(self.i) {
                Some(c) if c.is_ascii_digit() => {
                    value = value * 10 + u32::from(c - b'0');
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (n > 0).then_some(value)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - UNIX_EPOCH_DAYS
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_EPOCH_DAYS;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // The ranges are guaranteed by the algorithm (day 1..=31, month 1..=12).
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}
