//! Cursor pagination: sentinels, the original's encoding, strict decoding of forged cursors, and
//! the sort rules of cursor mode.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use query::{CursorPosition, FieldPath, ObjectIdHex, Pagination, Scalar, SortKey, SortOrder, cursor};
use serde_json::json;

use crate::common::{ALICE, ID, JAN_1_2024, enc, n, oid, parse_err, parse_ok};

const INVALID: &str = "Invalid cursor.";

fn after(q: &str) -> Option<CursorPosition> {
    match parse_ok(q).pagination {
        Pagination::Cursor { after, .. } => after,
        Pagination::Offset { .. } => panic!("{q}: cursor mode expected"),
    }
}

fn key(path: &str, order: SortOrder) -> SortKey {
    SortKey { path: FieldPath::new(path).unwrap(), order }
}

fn raw_cursor(json: &str) -> String {
    enc(&STANDARD.encode(json))
}

#[test]
fn encode_matches_the_original_format() {
    let token = cursor::encode(&json!(42), ID);
    assert_eq!(STANDARD.decode(&token).unwrap(), format!(r#"{{"sortValue":42,"_id":"{ID}"}}"#).into_bytes());
    // Buffer.from(JSON.stringify({sortValue: null, _id})).toString("base64")
    assert_eq!(
        cursor::encode(&json!(null), ALICE),
        "eyJzb3J0VmFsdWUiOm51bGwsIl9pZCI6ImFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSJ9"
    );
}

#[test]
fn sentinels_start_cursor_mode_at_the_first_page() {
    for sentinel in ["start", "first", "true", "null"] {
        let q = parse_ok(&format!("cursor={sentinel}&limit=7&page=-3"));
        assert_eq!(q.pagination, Pagination::Cursor { after: None, limit: 7 });
        assert_eq!(q.pagination.skip(), 0);
        // Default cursor order: createdAt descending, then _id descending.
        assert_eq!(q.sort, vec![key("createdAt", SortOrder::Desc), key("_id", SortOrder::Desc)]);
    }
    assert!(!parse_ok("cursor=").pagination.is_cursor());
    assert_eq!(parse_err("cursor=START"), INVALID);
}

#[test]
fn round_trips_typed_positions() {
    let price = cursor::encode(&json!(19.5), ID);
    assert_eq!(
        after(&format!("sort=price:desc&cursor={}", enc(&price))),
        Some(CursorPosition {
            sort: key("price", SortOrder::Desc),
            value: Some(n(19.5)),
            id: ObjectIdHex::parse(ID).unwrap()
        })
    );
    let q = parse_ok(&format!("sort=price:desc&cursor={}", enc(&price)));
    assert_eq!(q.sort, vec![key("price", SortOrder::Desc), key("_id", SortOrder::Desc)]);

    let created = cursor::encode(&json!("2024-01-01T00:00:00.000Z"), ID);
    let pos = after(&format!("cursor={}", enc(&created))).unwrap();
    assert_eq!(pos.sort, key("createdAt", SortOrder::Desc));
    assert_eq!(pos.value, Some(Scalar::Date(JAN_1_2024)));

    let by_id = cursor::encode(&json!(ALICE), ALICE);
    let q = parse_ok(&format!("sort=_id&cursor={}", enc(&by_id)));
    assert_eq!(q.sort, vec![key("_id", SortOrder::Asc)]);
    assert_eq!(after(&format!("sort=_id&cursor={}", enc(&by_id))).unwrap().value, Some(oid(ALICE)));

    let by_ref = cursor::encode(&json!(ALICE.to_ascii_uppercase()), &ID.to_ascii_uppercase());
    let pos = after(&format!("sort=author&cursor={}", enc(&by_ref))).unwrap();
    assert_eq!(pos.value, Some(oid(ALICE)));
    assert_eq!(pos.id, ObjectIdHex::parse(ID).unwrap());
    assert_eq!(pos.id.as_str(), ID);

    let flag = cursor::encode(&json!(true), ID);
    assert_eq!(after(&format!("sort=active&cursor={}", enc(&flag))).unwrap().value, Some(Scalar::Bool(true)));
    let ms = cursor::encode(&json!(JAN_1_2024), ID);
    assert_eq!(after(&format!("sort=birthday&cursor={}", enc(&ms))).unwrap().value, Some(Scalar::Date(JAN_1_2024)));
    // Undeclared fields keep the JSON type of the value.
    for (v, expected) in
        [(json!("x"), Scalar::String("x".into())), (json!(3), n(3.0)), (json!(false), Scalar::Bool(false))]
    {
        let token = cursor::encode(&v, ID);
        assert_eq!(after(&format!("sort=other&cursor={}", enc(&token))).unwrap().value, Some(expected));
    }
    // null, or no sortValue at all (JSON.stringify drops an undefined value): position at null.
    let null = cursor::encode(&json!(null), ID);
    assert_eq!(after(&format!("sort=price&cursor={}", enc(&null))).unwrap().value, None);
    let missing = raw_cursor(&format!(r#"{{"_id":"{ID}"}}"#));
    assert_eq!(after(&format!("sort=price&cursor={missing}")).unwrap().value, None);
}

#[test]
fn accepts_every_base64_flavour() {
    let json = format!(r#"{{"sortValue":"??>>","_id":"{ID}"}}"#);
    for token in [
        STANDARD.encode(&json),
        STANDARD_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(&json),
        base64::engine::general_purpose::URL_SAFE.encode(&json),
    ] {
        let pos = after(&format!("sort=name&cursor={}", enc(&token))).unwrap();
        assert_eq!(pos.value, Some(Scalar::String("??>>".into())), "{token}");
    }
    // An unencoded `+` arrives as a space and is still understood.
    let token = STANDARD.encode(&json);
    assert!(token.contains('+'));
    assert!(after(&format!("sort=name&cursor={token}")).is_some());
}

#[test]
fn forged_or_malformed_cursors_are_refused() {
    let id = ID;
    let cases = [
        raw_cursor(&format!(r#"{{"sortValue":{{"$gt":""}},"_id":"{id}"}}"#)),
        raw_cursor(&format!(r#"{{"sortValue":[1],"_id":"{id}"}}"#)),
        raw_cursor(&format!(r#"{{"sortValue":1,"_id":"{id}","userId":"x"}}"#)),
        raw_cursor(r#"{"sortValue":1,"_id":"nope"}"#),
        raw_cursor(r#"{"sortValue":1,"_id":{"$ne":null}}"#),
        raw_cursor(r#"{"sortValue":1}"#),
        raw_cursor(&format!(r#"{{"sortValue":"abc","_id":"{id}"}}"#)), // price is a Number
        raw_cursor(&format!(r#"{{"sortValue":"12","_id":"{id}"}}"#)),
        raw_cursor(&format!(r#"{{"sortValue":true,"_id":"{id}"}}"#)),
        raw_cursor(&format!(r#"["{id}"]"#)),
        raw_cursor("not json"),
        raw_cursor(r#""just a string""#),
        "!!!".to_owned(),
        "eyJ".to_owned(),
        "%00".to_owned(),
        enc(&format!("{}+_", STANDARD.encode("{}"))),
        "A".repeat(2049),
    ];
    for token in &cases {
        assert_eq!(parse_err(&format!("sort=price&cursor={token}")), INVALID, "{token}");
    }
    for (sort, value) in [("createdAt", "\"yesterday\""), ("author", "\"xyz\""), ("active", "1"), ("name", "5")] {
        let token = raw_cursor(&format!(r#"{{"sortValue":{value},"_id":"{id}"}}"#));
        assert_eq!(parse_err(&format!("sort={sort}&cursor={token}")), INVALID, "{sort} {value}");
    }
}

#[test]
fn cursor_mode_sort_rules() {
    assert_eq!(parse_err("sort=a,b&cursor=start"), "Cursor pagination supports exactly one sort field.");
    assert_eq!(parse_err("sort=a,_id&cursor=start"), "Cursor pagination supports exactly one sort field.");
    assert_eq!(parse_err("sort=tags&cursor=start"), r#"Cursor pagination cannot sort by the array field "tags"."#);
    assert_eq!(
        parse_ok("sort=a,a:desc&cursor=start").sort,
        vec![key("a", SortOrder::Desc), key("_id", SortOrder::Desc)]
    );
    // The sort check comes before decoding; the cursor is then checked against that sort.
    assert_eq!(parse_err("sort=a,b&cursor=garbage"), "Cursor pagination supports exactly one sort field.");
    assert_eq!(parse_err("cursor=garbage"), INVALID);
}
