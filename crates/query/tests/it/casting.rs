//! The text grammars behind casting (`query::value`): JavaScript `Number()` for decimal text,
//! booleans, ISO 8601 dates and their formatting, and `Scalar::to_json`.

use query::Scalar;
use query::value::{format_date, parse_boolean, parse_date, parse_iso_date, parse_number};
use serde_json::json;

use crate::common::{ALICE, JAN_1_2024, oid};

#[test]
fn numbers_follow_js_number_for_decimal_text() {
    for (text, value) in [
        ("18", 18.0),
        (" 18 ", 18.0),
        ("\u{feff}\t18\n", 18.0),
        ("-1.5e3", -1500.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("+5", 5.0),
        ("1E+2", 100.0),
        ("00012", 12.0),
        ("0", 0.0),
        ("1e-999", 0.0),
    ] {
        assert_eq!(parse_number(text), Some(value), "{text:?}");
    }
    assert!(parse_number("-0").unwrap().is_sign_negative());
    for text in [
        "",
        " ",
        "abc",
        "Infinity",
        "-Infinity",
        "inf",
        "NaN",
        "1e999",
        "-1e999",
        "0x10",
        "0b1",
        "0o7",
        "1_000",
        "1.2.3",
        "e5",
        "1e",
        "1e+",
        "--1",
        "+-1",
        ".",
        "-.",
        "\u{661}",
        "1 2",
        "\u{85}1",
    ] {
        assert_eq!(parse_number(text), None, "{text:?}");
    }
}

#[test]
fn booleans_follow_mongoose() {
    for (text, value) in [("true", true), ("1", true), ("yes", true), ("false", false), ("0", false), ("no", false)] {
        assert_eq!(parse_boolean(text), Some(value));
    }
    for text in ["", "TRUE", "True", "on", " true", "2"] {
        assert_eq!(parse_boolean(text), None, "{text:?}");
    }
}

#[test]
fn dates() {
    let t = JAN_1_2024 + 37_230_000; // 2024-01-01T10:20:30Z
    for (text, ms) in [
        ("2024", JAN_1_2024),
        ("2024-01", JAN_1_2024),
        ("2024-01-01", JAN_1_2024),
        ("2024-02-01", 1_706_745_600_000),
        ("2024-02-29", 1_709_164_800_000),
        ("2024-01-01T10:20", JAN_1_2024 + 37_200_000),
        ("2024-01-01T10:20:30", t),
        ("2024-01-01T10:20:30Z", t),
        ("2024-01-01t10:20:30z", t),
        ("2024-01-01 10:20:30", t),
        ("2024-01-01T10:20:30.1Z", t + 100),
        ("2024-01-01T10:20:30.12Z", t + 120),
        ("2024-01-01T10:20:30.123Z", t + 123),
        ("2024-01-01T10:20:30.123456789Z", t + 123),
        ("2024-01-01T10:20:30+02:00", t - 7_200_000),
        ("2024-01-01T10:20:30-0130", t + 5_400_000),
        ("1970-01-01T00:00:00.000Z", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("0000-01-01", -62_167_219_200_000),
        ("1700000000000", 1_700_000_000_000),
        ("-5", -5),
        ("0", 0),
        ("12345", 12_345),
        ("8640000000000000", 8_640_000_000_000_000),
    ] {
        assert_eq!(parse_date(text), Some(ms), "{text}");
    }
    for text in [
        "",
        "abc",
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "2023-02-29",
        "2024-1-1",
        "2024-",
        "2024-01-01T",
        "2024-01-01T10",
        "2024-01-01T24:00",
        "2024-01-01T10:60",
        "2024-01-01T10:20:60",
        "2024-01T10:20",
        "2024-01-01T10:20:30.Z",
        "2024-01-01T10:20:30+2",
        "2024-01-01T10:20:30 Z",
        "2024-01-01T10:20:30+24:00",
        " 2024-01-01",
        "8640000000000001",
        "99999999999999999999",
        "-",
        "2024-01-01T10:20:30.1234567890Z",
    ] {
        assert_eq!(parse_date(text), None, "{text:?}");
    }
    assert_eq!(parse_iso_date("1700000000000"), None);
    assert_eq!(parse_iso_date("2024"), Some(JAN_1_2024));
}

#[test]
fn date_formatting_round_trips() {
    assert_eq!(format_date(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
    assert_eq!(format_date(-1).as_deref(), Some("1969-12-31T23:59:59.999Z"));
    assert_eq!(format_date(JAN_1_2024 + 37_230_123).as_deref(), Some("2024-01-01T10:20:30.123Z"));
    assert_eq!(format_date(253_402_300_800_000).as_deref(), Some("+010000-01-01T00:00:00.000Z"));
    assert_eq!(format_date(-62_198_755_200_000).as_deref(), Some("-000001-01-01T00:00:00.000Z"));
    assert_eq!(format_date(8_640_000_000_000_001), None);
    for ms in [0, 1, -1, JAN_1_2024, 951_782_400_000, -62_167_219_200_000, 253_402_300_799_999] {
        assert_eq!(parse_date(&format_date(ms).unwrap()), Some(ms), "{ms}");
    }
}

#[test]
fn scalars_to_json() {
    assert_eq!(Scalar::Number(18.0).to_json(), json!(18));
    assert_eq!(Scalar::Number(1.5).to_json(), json!(1.5));
    assert_eq!(Scalar::Number(-0.0).to_json(), json!(-0.0));
    assert_eq!(Scalar::String("x".into()).to_json(), json!("x"));
    assert_eq!(Scalar::Bool(true).to_json(), json!(true));
    assert_eq!(Scalar::Date(JAN_1_2024).to_json(), json!("2024-01-01T00:00:00.000Z"));
    assert_eq!(oid(ALICE).to_json(), json!(ALICE));
}
