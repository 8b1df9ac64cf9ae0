//! The holes the original left open in write bodies (spec §7.6, §17; security cases 10–12, 28):
//! owner smuggling through key variants, operator keys, owner type confusion, deep nesting.

use serde_json::{Value, json};

use super::{Op, Outcome, object, rls, run};
use crate::{Caller, Target};

const ALICE: &str = "665f1c2b9d3e4a0012345678";
const BOB: &str = "665f1c2b9d3e4a0087654321";
const DOC: &str = "0123456789abcdef01234567";

fn as_alice(op: Op) -> Outcome {
    let config = rls(true, "private", "userId", true);
    run(&Caller::publishable(Some(ALICE)), &Target::existing("posts", &config), &op)
}

fn as_secret(op: Op) -> Outcome {
    let config = rls(true, "private", "userId", true);
    run(&Caller::secret(), &Target::existing("posts", &config), &op)
}

fn insert(body: Value) -> Op {
    Op::Insert(body)
}

fn patch(body: Value) -> Op {
    Op::Patch(DOC.into(), body)
}

fn status(outcome: &Outcome) -> u16 {
    outcome.status()
}

#[test]
fn owner_key_variants_are_the_owner_field_on_insert() {
    for key in [" userId", "userId ", "\u{feff}userId", "userId\u{200b}", "\u{200d}user\u{2060}Id", "\tuserId\n"] {
        let mut body = serde_json::Map::new();
        body.insert(key.to_owned(), json!(BOB));
        let outcome = as_alice(insert(Value::Object(body.clone())));
        assert_eq!(
            outcome,
            Outcome::Denied(403, "Item at index 0 must have userId equal to your user id".into()),
            "key {key:?} must be read as the owner field"
        );
        body.insert(key.to_owned(), json!(ALICE));
        assert_eq!(
            as_alice(insert(Value::Object(body))),
            Outcome::Inserted(vec![object(json!({"userId": ALICE}))]),
            "key {key:?} with the caller's id is stored under the canonical name"
        );
    }
}

#[test]
fn owner_key_variants_cannot_change_the_owner_on_update() {
    for key in [" userId", "\u{feff}userId", "userId\u{200b}", "userId.x", "userId.0"] {
        let mut body = serde_json::Map::new();
        body.insert(key.to_owned(), json!(BOB));
        assert_eq!(
            as_alice(patch(Value::Object(body))),
            Outcome::Denied(403, "userId cannot be changed under RLS.".into()),
            "key {key:?}"
        );
    }
}

#[test]
fn two_keys_that_normalise_alike_are_refused() {
    let body = json!({"userId": ALICE, " userId": BOB});
    let expected =
        Outcome::Denied(400, "Duplicate field 'userId': two keys in the body normalise to the same name.".into());
    assert_eq!(as_alice(insert(body.clone())), expected);
    assert_eq!(as_alice(patch(body.clone())), expected);
    assert_eq!(as_secret(insert(body)), expected, "the secret key's bodies are canonical too");
    assert_eq!(status(&as_alice(insert(json!({"title": 1, "title\u{feff}": 2})))), 400);
}

#[test]
fn look_alikes_of_the_owner_field_are_refused() {
    for key in ["userID", "UserId", "USERID", "ｕｓｅｒＩｄ", "userＩd.x"] {
        let mut body = serde_json::Map::new();
        body.insert(key.to_owned(), json!(BOB));
        let expected = Outcome::Denied(400, format!("Field '{key}' is ambiguous with the RLS owner field 'userId'."));
        assert_eq!(as_alice(insert(Value::Object(body.clone()))), expected, "insert {key:?}");
        assert_eq!(as_alice(patch(Value::Object(body))), expected, "patch {key:?}");
    }
}

#[test]
fn nfc_composes_keys_before_comparison() {
    // "é" written as e + combining acute accent is the same field as the precomposed "é".
    let config = rls(true, "private", "café", true);
    let alice = Caller::publishable(Some(ALICE));
    let outcome = run(&alice, &Target::existing("posts", &config), &insert(json!({"cafe\u{301}": BOB})));
    assert_eq!(outcome, Outcome::Denied(403, "Item at index 0 must have café equal to your user id".into()));
}

#[test]
fn owner_values_must_be_plain_strings() {
    let invalid = "Item at index 0 has an invalid userId; expected a string user id.";
    for value in [json!(123), json!(true), json!([ALICE]), json!([ALICE, BOB]), json!({"id": ALICE})] {
        assert_eq!(as_alice(insert(json!({"userId": value.clone()}))), Outcome::Denied(400, invalid.into()), "{value}");
        assert_eq!(
            as_alice(patch(json!({"userId": value.clone()}))),
            Outcome::Denied(400, "userId must be a string user id.".into()),
            "{value}"
        );
    }
    assert_eq!(
        as_alice(patch(json!({"userId": null}))),
        Outcome::Denied(400, "userId must be a string user id.".into())
    );
    assert_eq!(status(&as_alice(insert(json!({"userId": {"$ne": null}})))), 400, "operator object");
    let long = "a".repeat(10_000);
    assert_eq!(status(&as_alice(insert(json!({"userId": long})))), 403, "a long string is just another user");
}

#[test]
fn operator_keys_are_refused_at_any_depth_for_every_role() {
    let bodies = [
        json!({"$set": {"userId": BOB}}),
        json!({" $set": {"userId": BOB}}),
        json!({"\u{feff}$where": "1"}),
        json!({"profile": {"$gt": 1}}),
        json!({"tags": [{"ok": 1}, {"$where": "sleep(1)"}]}),
        json!({"a": {"b": {"c": [[{"$function": {}}]]}}}),
    ];
    for body in bodies {
        for outcome in [as_alice(insert(body.clone())), as_alice(patch(body.clone())), as_secret(insert(body.clone()))]
        {
            match outcome {
                Outcome::Denied(400, text) => assert!(text.contains("must not start with '$'"), "{text}"),
                other => panic!("{body} was not refused: {other:?}"),
            }
        }
    }
}

#[test]
fn empty_and_nul_keys_are_refused() {
    assert_eq!(
        as_secret(insert(json!({"": 1}))),
        Outcome::Denied(400, "Invalid field name '': field names must not be empty.".into())
    );
    assert_eq!(status(&as_secret(insert(json!({"\u{200b}": 1})))), 400);
    assert_eq!(status(&as_secret(insert(json!({"a\u{0}b": 1})))), 400);
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!({ "a": deep });
    }
    let outcome = as_secret(insert(json!({ "x": deep })));
    assert_eq!(outcome, Outcome::Denied(400, "Request body is nested too deeply (more than 64 levels).".into()));
    let mut fine = json!(1);
    for _ in 0..30 {
        fine = json!([fine]);
    }
    assert_eq!(status(&as_secret(insert(json!({ "x": fine })))), 200);
}

#[test]
fn other_keys_are_stored_under_their_normalised_names() {
    assert_eq!(
        as_alice(insert(json!({" title ": "a", "\u{feff}body": "b"}))),
        Outcome::Inserted(vec![object(json!({"title": "a", "body": "b", "userId": ALICE}))])
    );
    assert_eq!(
        as_alice(patch(json!({" title ": "a", "meta.views": 2}))),
        Outcome::Updated {
            owner: Some(("userId".into(), ALICE.into())),
            set: object(json!({"title": "a", "meta.views": 2}))
        }
    );
}
