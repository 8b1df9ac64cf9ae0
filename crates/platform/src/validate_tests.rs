//! Tests of document validation: every text of spec §6.3, defaults, trimming, dates and refs.

use serde_json::{Value, json};

use super::*;
use crate::model::RlsSettings;

fn def(model: Value) -> CollectionDef {
    CollectionDef {
        id: None,
        name: "c".into(),
        model: serde_json::from_value(model).unwrap(),
        rls: RlsSettings::default(),
    }
}

fn doc(value: Value) -> Document {
    value.as_object().unwrap().clone()
}

fn insert(model: Value, body: Value) -> std::result::Result<Value, String> {
    validate_insert(&def(model), doc(body)).map(Value::Object).map_err(|e| e.message().to_owned())
}

fn update(model: Value, body: Value) -> std::result::Result<Value, String> {
    validate_update(&def(model), doc(body)).map(Value::Object).map_err(|e| e.message().to_owned())
}

#[test]
fn every_type_text() {
    let cases = [
        (json!({"key": "title", "type": "String", "required": true}), json!({}), "Field 'title' is required."),
        (
            json!({"key": "title", "type": "String", "required": true}),
            json!({"title": null}),
            "Field 'title' is required.",
        ),
        (json!({"key": "title", "type": "String"}), json!({"title": 5}), "Field 'title' must be a String."),
        (json!({"key": "n", "type": "Number"}), json!({"n": "5"}), "Field 'n' must be a Number."),
        (json!({"key": "b", "type": "Boolean"}), json!({"b": "true"}), "Field 'b' must be a Boolean."),
        (json!({"key": "d", "type": "Date"}), json!({"d": "yesterday"}), "Field 'd' must be a valid Date."),
        (json!({"key": "d", "type": "Date"}), json!({"d": true}), "Field 'd' must be a valid Date."),
        (
            json!({"key": "o", "type": "Object", "fields": [{"key": "x", "type": "String"}]}),
            json!({"o": []}),
            "Field 'o' must be an Object.",
        ),
        (
            json!({"key": "o", "type": "Object", "fields": [{"key": "x", "type": "String"}]}),
            json!({"o": "x"}),
            "Field 'o' must be an Object.",
        ),
        (
            json!({"key": "l", "type": "Array", "items": {"type": "String"}}),
            json!({"l": {}}),
            "Field 'l' must be an Array.",
        ),
        (
            json!({"key": "r", "type": "Ref", "ref": "users"}),
            json!({"r": "123"}),
            "Field 'r' must be a valid reference ID (ObjectId).",
        ),
        (
            json!({"key": "r", "type": "Ref", "ref": "users"}),
            json!({"r": 5}),
            "Field 'r' must be a valid reference ID (ObjectId).",
        ),
        (
            json!({"key": "r", "type": "Ref", "ref": "users"}),
            json!({"r": "0123456789abcdef0123456g"}),
            "Field 'r' must be a valid reference ID (ObjectId).",
        ),
    ];
    for (field, body, text) in cases {
        assert_eq!(insert(json!([field]), body.clone()), Err(text.to_owned()), "{body}");
    }
}

#[test]
fn nested_objects_and_arrays() {
    let model = json!([
        {"key": "address", "type": "Object", "fields": [
            {"key": "city", "type": "String", "required": true},
            {"key": "geo", "type": "Object", "fields": [{"key": "lat", "type": "Number"}]}]},
        {"key": "tags", "type": "Array", "items": {"type": "String"}},
        {"key": "lines", "type": "Array", "items": {"type": "Object", "fields": [{"key": "qty", "type": "Number", "required": true}]}},
        {"key": "when", "type": "Array", "items": {"type": "Date"}},
    ]);
    assert_eq!(insert(model.clone(), json!({"address": {}})), Err("Field 'city' is required.".into()));
    assert_eq!(
        insert(model.clone(), json!({"address": {"city": "x", "geo": {"lat": "1"}}})),
        Err("Field 'lat' must be a Number.".into())
    );
    assert_eq!(insert(model.clone(), json!({"tags": ["a", 2]})), Err("Field 'tags[1]' must be a String.".into()));
    assert_eq!(insert(model.clone(), json!({"lines": [{"qty": 1}, {}]})), Err("Field 'qty' is required.".into()));
    assert_eq!(insert(model.clone(), json!({"lines": [5]})), Err("Field 'lines[0]' must be an Object.".into()));
    assert_eq!(insert(model.clone(), json!({"when": [0, "x"]})), Err("Field 'when[1]' must be a valid Date.".into()));
    // Items are never required; null items pass. Nested strings are not trimmed (as the original).
    let ok =
        insert(model, json!({"address": {"city": " x "}, "tags": [null, "a"], "when": [0, "2024-01-02"]})).unwrap();
    assert_eq!(ok["address"]["city"], " x ");
    assert_eq!(ok["when"], json!(["1970-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"]));
    // Arrays without items take anything.
    assert!(insert(json!([{"key": "any", "type": "Array"}]), json!({"any": [1, "a", {}]})).is_ok());
}

#[test]
fn first_failure_wins_in_model_order() {
    let model = json!([{"key": "a", "type": "Number"}, {"key": "b", "type": "Number", "required": true}]);
    assert_eq!(insert(model.clone(), json!({"b": "x", "a": "y"})), Err("Field 'a' must be a Number.".into()));
    assert_eq!(insert(model, json!({"a": 1})), Err("Field 'b' is required.".into()));
}

#[test]
fn defaults_apply_to_missing_and_null_optional_fields() {
    let model = json!([
        {"key": "status", "type": "String", "default": "  draft "},
        {"key": "views", "type": "Number", "default": 0},
        {"key": "public", "type": "Boolean", "default": false},
        {"key": "meta", "type": "Object", "fields": [{"key": "lang", "type": "String", "default": "en"}]},
    ]);
    let out = insert(model.clone(), json!({"views": null, "meta": {}})).unwrap();
    assert_eq!(out, json!({"views": 0, "meta": {"lang": "en"}, "status": "draft", "public": false}));
    let out = insert(model.clone(), json!({"status": "live", "views": 3, "public": true})).unwrap();
    assert_eq!(out, json!({"status": "live", "views": 3, "public": true}));
    // Updates never apply defaults.
    assert_eq!(update(model, json!({"views": null})).unwrap(), json!({"views": null}));
}

#[test]
fn values_come_out_canonical() {
    let model = json!([
        {"key": "title", "type": "String", "required": true},
        {"key": "at", "type": "Date"},
        {"key": "author", "type": "Ref", "ref": "users"},
    ]);
    let out = insert(
        model.clone(),
        json!({"title": "  Hello \n", "at": "2024-03-05T10:00:00+02:00", "author": "0123456789ABCDEF01234567", "extra": {"$x": 1}}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"title": "Hello", "at": "2024-03-05T08:00:00.000Z", "author": "0123456789abcdef01234567", "extra": {"$x": 1}})
    );
    let out = insert(model.clone(), json!({"title": "t", "at": 1_700_000_000_000_i64})).unwrap();
    assert_eq!(out["at"], "2023-11-14T22:13:20.000Z");
    // A blank required String trims to "" and passes, as in the original.
    assert_eq!(insert(model, json!({"title": "   "})).unwrap()["title"], "");
}

#[test]
fn updates_check_only_present_declared_keys() {
    let model = json!([
        {"key": "title", "type": "String", "required": true},
        {"key": "n", "type": "Number"},
        {"key": "address", "type": "Object", "fields": [{"key": "zip", "type": "Number"}, {"key": "at", "type": "Date"}]},
    ]);
    assert_eq!(update(model.clone(), json!({"n": 1})).unwrap(), json!({"n": 1}));
    assert_eq!(update(model.clone(), json!({"title": null})).unwrap(), json!({"title": null}));
    assert_eq!(update(model.clone(), json!({"title": " t "})).unwrap(), json!({"title": "t"}));
    assert_eq!(update(model.clone(), json!({"n": "1"})), Err("Field 'n' must be a Number.".into()));
    assert_eq!(update(model.clone(), json!({"other": "x"})).unwrap(), json!({"other": "x"}));
    assert_eq!(update(model.clone(), json!({"address.zip": "x"})), Err("Field 'address.zip' must be a Number.".into()));
    assert_eq!(
        update(model.clone(), json!({"address.at": "2024-01-01"})).unwrap(),
        json!({"address.at": "2024-01-01T00:00:00.000Z"})
    );
    assert_eq!(update(model.clone(), json!({"address.nope": 1})).unwrap(), json!({"address.nope": 1}));
    assert_eq!(update(model, json!({"title.x": 1})).unwrap(), json!({"title.x": 1}));
}
