//! Tests of collection-definition validation: every text of spec §6.4 and our stricter rules.

use serde_json::{Value, json};

use super::*;

fn key_shape(model: Value) -> Result<CollectionDef> {
    CollectionDef::from_json(&json!({"name": "posts", "model": model}))
}

fn public_shape(fields: Value) -> Result<CollectionDef> {
    CollectionDef::from_public_json(&json!({"name": "posts", "fields": fields}))
}

fn err(result: Result<CollectionDef>) -> String {
    result.expect_err("should be refused").message().to_owned()
}

#[test]
fn accepts_the_design_example() {
    let def = CollectionDef::from_json(&json!({"name": "posts",
        "model": [{"key": "title", "type": "String", "required": true}, {"key": "userId", "type": "String"}],
        "rls": {"enabled": true, "mode": "private", "ownerField": "userId"}}))
    .unwrap();
    assert_eq!(def.name, "posts");
    assert_eq!(def.model[0], Field::new("title", FieldKind::String).required());
    assert_eq!(def.rls, RlsSettings { enabled: true, mode: "private".into(), ..RlsSettings::default() });
}

#[test]
fn public_shape_takes_names_and_lower_case_types() {
    let def = public_shape(json!([
        {"name": "title", "type": "string", "required": true, "unique": true},
        {"name": "views", "type": "Number", "default": 0},
        {"name": "tags", "type": "array", "items": {"type": "string"}},
        {"name": "author", "type": "ref", "ref": "users"},
        {"name": "meta", "type": "object", "fields": [{"name": "lang", "type": "string"}]},
    ]))
    .unwrap();
    assert_eq!(def.model[0], Field::new("title", FieldKind::String).required().unique());
    assert_eq!(def.model[1].default, Some(json!(0)), "defaults are kept (spec §17.25 fixed)");
    assert_eq!(def.model[2].items, Some(Items::of(FieldKind::String)));
    assert_eq!(def.model[3].reference.as_deref(), Some("users"));
    assert_eq!(def.model[4].fields[0].key, "lang");
    assert_eq!(def.rls, RlsSettings::default());
    // Upper-case and mixed forms are not in the original's enum.
    assert!(
        err(public_shape(json!([{"name": "a", "type": "STRING"}])))
            .starts_with("Invalid option: expected one of \"string\"|")
    );
    // The key shape only takes capitalised types.
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "string"}]))),
        "Invalid option: expected one of \"String\"|\"Number\"|\"Boolean\"|\"Date\"|\"Object\"|\"Array\"|\"Ref\""
    );
}

#[test]
fn collection_name_texts() {
    assert_eq!(err(CollectionDef::from_json(&json!({"name": ""}))), COLLECTION_NAME_REQUIRED);
    assert_eq!(err(CollectionDef::from_public_json(&json!({"name": ""}))), "Collection Name is required");
    assert_eq!(err(CollectionDef::from_json(&json!({}))), "Invalid input: expected string, received undefined");
    assert_eq!(err(CollectionDef::from_json(&json!({"name": 5}))), "Invalid input: expected string, received number");
    assert_eq!(err(CollectionDef::from_json(&json!([]))), "Invalid input: expected object, received array");
}

#[test]
fn stricter_collection_names() {
    let long = "a".repeat(65);
    for bad in [
        "a$b",
        "$cmd",
        "a.b",
        "system.users",
        "a/b",
        "a\\b",
        "a\0b",
        "a\nb",
        "a\u{7f}",
        " posts",
        "posts ",
        "po\u{200b}sts",
        "Users",
        "USERS",
        " users",
        "users\u{feff}",
        "ｕｓｅｒｓ",
        &long,
    ] {
        let def = CollectionDef::new(bad, vec![]);
        assert_eq!(
            def.validated().err().map(|e| e.message().to_owned()).as_deref(),
            Some(INVALID_COLLECTION_NAME),
            "{bad:?}"
        );
        assert_eq!(err(CollectionDef::from_json(&json!({ "name": bad }))), INVALID_COLLECTION_NAME, "{bad:?}");
    }
    for good in ["posts", "my posts", "Posts-2024_v1", "données", &"a".repeat(64)] {
        assert!(CollectionDef::new(good, vec![]).validated().is_ok(), "{good:?}");
    }
}

#[test]
fn field_name_texts() {
    assert_eq!(err(key_shape(json!([{"key": "", "type": "String"}]))), FIELD_NAME_REQUIRED);
    assert_eq!(err(key_shape(json!([{"type": "String"}]))), "Invalid input: expected string, received undefined");
    for bad in ["$where", "a.b", "a b", "a\tb", "a\u{a0}b", "\u{feff}a", "a\u{3000}"] {
        assert_eq!(err(key_shape(json!([{"key": bad, "type": "String"}]))), FIELD_NAME_INVALID, "{bad:?}");
        assert_eq!(err(public_shape(json!([{"name": bad, "type": "string"}]))), FIELD_NAME_INVALID, "{bad:?}");
    }
    assert_eq!(FIELD_NAME_INVALID, "Field name must not start with '$', contain '.', or include whitespace");
    for bad in ["a\u{0}b", "a\u{200b}b", "e\u{301}"] {
        assert_eq!(err(key_shape(json!([{"key": bad, "type": "String"}]))), FIELD_NAME_FORM, "{bad:?}");
    }
    assert_eq!(err(key_shape(json!([{"key": "_id", "type": "String"}]))), "Field name '_id' is reserved.");
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "String"}, {"key": "a", "type": "Number"}]))),
        "Duplicate field name 'a'."
    );
    // `a$` is fine: only a leading `$` is refused.
    assert!(key_shape(json!([{"key": "price$", "type": "Number"}])).is_ok());
}

#[test]
fn property_type_texts() {
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "String", "required": "yes"}]))),
        "Invalid input: expected boolean, received string"
    );
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "String", "unique": null}]))),
        "Invalid input: expected boolean, received null"
    );
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "Ref", "ref": 1}]))),
        "Invalid input: expected string, received number"
    );
    assert_eq!(err(key_shape(json!({"key": "a"}))), "Invalid input: expected array, received object");
    assert_eq!(err(key_shape(json!(["a"]))), "Invalid input: expected object, received string");
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "Array", "items": {"type": "Array"}}]))),
        "Invalid option: expected one of \"String\"|\"Number\"|\"Boolean\"|\"Date\"|\"Object\"|\"Ref\""
    );
}

#[test]
fn field_configuration_text() {
    let cases = [
        json!([{"key": "o", "type": "Object"}]),
        json!([{"key": "o", "type": "Object", "fields": []}]),
        json!([{"key": "l", "type": "Array"}]),
        json!([{"key": "r", "type": "Ref"}]),
        json!([{"key": "r", "type": "Ref", "ref": ""}]),
        json!([{"key": "o", "type": "Object", "unique": true, "fields": [{"key": "x", "type": "String"}]}]),
        json!([{"key": "l", "type": "Array", "unique": true, "items": {"type": "String"}}]),
        json!([{"key": "r", "type": "Ref", "unique": true, "ref": "users"}]),
        json!([{"key": "o", "type": "Object", "fields": [{"key": "x", "type": "String", "unique": true}]}]),
        // Depth: level 3 may not be an Object, nor an Array of objects, nor have sub-fields.
        json!([{"key": "a", "type": "Object", "fields": [{"key": "b", "type": "Object", "fields": [
            {"key": "c", "type": "Object", "fields": [{"key": "d", "type": "String"}]}]}]}]),
        json!([{"key": "a", "type": "Object", "fields": [{"key": "b", "type": "Object", "fields": [
            {"key": "c", "type": "Array", "items": {"type": "Object"}}]}]}]),
        json!([{"key": "a", "type": "Object", "fields": [{"key": "b", "type": "Object", "fields": [
            {"key": "c", "type": "String", "fields": []}]}]}]),
    ];
    for model in cases {
        assert_eq!(err(key_shape(model.clone())), INVALID_FIELD_CONFIGURATION, "{model}");
    }
    assert_eq!(
        INVALID_FIELD_CONFIGURATION,
        "Invalid field configuration, nesting depth exceeded (max 3 levels), or unique is only supported for top-level primitive fields."
    );
    // Three levels are fine.
    let ok = key_shape(json!([{"key": "a", "type": "Object", "fields": [{"key": "b", "type": "Object", "fields": [
        {"key": "c", "type": "String"}, {"key": "d", "type": "Array", "items": {"type": "String"}}]}]},
        {"key": "u", "type": "Date", "unique": true}]));
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn default_text() {
    for field in [
        json!({"key": "a", "type": "String", "required": true, "default": "x"}),
        json!({"key": "a", "type": "String", "default": 1}),
        json!({"key": "a", "type": "Number", "default": "1"}),
        json!({"key": "a", "type": "Boolean", "default": 0}),
        json!({"key": "a", "type": "String", "default": null}),
        json!({"key": "a", "type": "Date", "default": "2024-01-01"}),
        json!({"key": "a", "type": "Ref", "ref": "users", "default": "0123456789abcdef01234567"}),
        json!({"key": "a", "type": "Array", "items": {"type": "String"}, "default": []}),
        json!({"key": "a", "type": "Object", "fields": [{"key": "b", "type": "String"}], "default": {}}),
    ] {
        assert_eq!(err(key_shape(json!([field]))), INVALID_DEFAULT, "{field}");
    }
    assert_eq!(INVALID_DEFAULT, "Default value type must match field type, and required fields cannot have defaults");
    assert!(key_shape(json!([{"key": "a", "type": "Boolean", "default": false}])).is_ok());
}

#[test]
fn first_failure_wins_in_zod_order() {
    // The key is checked before the type, a nested field before the parent's refinements.
    assert_eq!(err(key_shape(json!([{"key": "a.b", "type": "Nope"}]))), FIELD_NAME_INVALID);
    assert_eq!(
        err(key_shape(
            json!([{"key": "o", "type": "Object", "unique": true, "fields": [{"key": "", "type": "String"}]}])
        )),
        FIELD_NAME_REQUIRED
    );
    assert_eq!(
        err(key_shape(json!([{"key": "a", "type": "String", "default": 1}, {"key": "$b", "type": "String"}]))),
        INVALID_DEFAULT
    );
}

#[test]
fn rls_rules() {
    let with_rls = |rls: Value| {
        CollectionDef::from_json(&json!({"name": "posts", "model": [{"key": "userId", "type": "String"},
            {"key": "count", "type": "Number"}, {"key": "author", "type": "Ref", "ref": "users"}], "rls": rls}))
    };
    assert_eq!(err(with_rls(json!({"enabled": true, "mode": "everyone"}))), UNSUPPORTED_RLS_MODE);
    assert_eq!(UNSUPPORTED_RLS_MODE, "Unsupported RLS mode. Allowed: public-read, private, owner-write-only (legacy).");
    assert_eq!(err(with_rls(json!({"ownerField": "_id"}))), OWNER_ID_ONLY_FOR_USERS);
    for bad in ["", "$where", "a.b", " userId", "user Id", "user\u{200b}Id"] {
        assert_eq!(err(with_rls(json!({"ownerField": bad}))), format!("ownerField '{bad}' is not a valid field name."));
    }
    assert_eq!(
        err(with_rls(json!({"enabled": true, "mode": "private", "ownerField": "count"}))),
        "ownerField 'count' must be a String or Ref field (it is declared as Number)."
    );
    assert_eq!(with_rls(json!({"enabled": false, "ownerField": "count"})).unwrap().rls.owner_field, "count");
    assert_eq!(err(with_rls(json!({"enabled": "yes"}))), "RLS setting 'enabled' must be a boolean.");
    assert_eq!(err(with_rls(json!("on"))), "'rls' must be an object, not string.");
    // Undeclared owner fields are fine (the owner is injected); declared ones keep their spelling.
    assert_eq!(with_rls(json!({"enabled": true, "ownerField": "ownerId"})).unwrap().rls.owner_field, "ownerId");
    assert_eq!(with_rls(json!({"enabled": true, "ownerField": "userid"})).unwrap().rls.owner_field, "userId");
    assert_eq!(with_rls(json!({"ownerField": "author"})).unwrap().rls.owner_field, "author");
    for mode in ["public-read", "private", "owner-write-only"] {
        assert_eq!(with_rls(json!({"enabled": true, "mode": mode})).unwrap().rls.mode, mode);
    }
}

#[test]
fn rls_defaults_follow_the_dashboard() {
    let def =
        CollectionDef::from_json(&json!({"name": "notes", "model": [{"key": "ownerId", "type": "String"}]})).unwrap();
    assert_eq!(def.rls.owner_field, "ownerId");
    assert!(!def.rls.enabled);
    let def = CollectionDef::from_json(&json!({"name": "notes", "rls": {"enabled": true}})).unwrap();
    assert_eq!(def.rls.owner_field, "userId");
}

#[test]
fn users_contract() {
    let err = CollectionDef::from_json(
        &json!({"name": "users", "model": [{"key": "email", "type": "String", "required": true}]}),
    )
    .unwrap_err();
    assert_eq!((err.status(), err.message()), (422, USERS_CONTRACT));
    assert_eq!(USERS_CONTRACT, "The 'users' collection must have required 'email' and 'password' string fields.");
    let def = CollectionDef::default_users().validated().unwrap();
    assert_eq!(def.rls.owner_field, "_id");
    assert!(CollectionDef::from_json(&serde_json::to_value(&def).unwrap()).is_ok());
}

#[test]
fn typed_validation_matches_json_validation() {
    let mut def = CollectionDef::new("posts", vec![Field::new("o", FieldKind::Object)]);
    assert_eq!(def.clone().validated().unwrap_err().message(), INVALID_FIELD_CONFIGURATION);
    def.model = vec![Field::new("a", FieldKind::String).required().with_default(json!("x"))];
    assert_eq!(def.clone().validated().unwrap_err().message(), INVALID_DEFAULT);
    def.model = vec![Field::new("o", FieldKind::Object).with_fields(vec![Field::new("$x", FieldKind::String)])];
    assert_eq!(def.clone().validated().unwrap_err().message(), FIELD_NAME_INVALID);
    def.model = vec![Field::new("l", FieldKind::Array).with_items(Items::of(FieldKind::Array))];
    assert_eq!(def.clone().validated().unwrap_err().message(), INVALID_FIELD_CONFIGURATION);
    def.model = vec![Field::new("a", FieldKind::String)];
    def.rls.mode = "nope".into();
    assert_eq!(def.validated().unwrap_err().message(), UNSUPPORTED_RLS_MODE);
}
