//! The behaviour matrices of spec §7.3 and §7.4 (and the unit-test checklists §15.3, §15.4),
//! one table row per row of the original, with the exact status and wire text.

use serde_json::{Value, json};

use super::{Op, Outcome, object, rls, run};
use crate::{Caller, ReadScope, RlsConfig, Target};

const ALICE: &str = "665f1c2b9d3e4a0012345678";
const BOB: &str = "665f1c2b9d3e4a0087654321";
const DOC: &str = "0123456789abcdef01234567";

/// Who makes the request.
#[derive(Clone, Copy)]
enum Who {
    Secret,
    Anonymous,
    User(&'static str),
}

impl Who {
    fn caller(self) -> Caller<'static> {
        match self {
            Who::Secret => Caller::secret(),
            Who::Anonymous => Caller::publishable(None),
            Who::User(user) => Caller::publishable(Some(user)),
        }
    }
}

struct Row {
    name: &'static str,
    who: Who,
    collection: &'static str,
    rls: Option<RlsConfig>,
    op: Op,
    expect: Outcome,
}

fn row(name: &'static str, who: Who, rls: Option<RlsConfig>, op: Op, expect: Outcome) -> Row {
    Row { name, who, collection: "posts", rls, op, expect }
}

fn denied(status: u16, text: &str) -> Outcome {
    Outcome::Denied(status, text.to_owned())
}

fn own(field: &str, user: &str) -> Outcome {
    Outcome::Read(ReadScope::Owner { field: field.to_owned(), user: user.to_owned() })
}

fn inserted(docs: Vec<Value>) -> Outcome {
    Outcome::Inserted(docs.into_iter().map(object).collect())
}

fn updated(owner: Option<(&str, &str)>, set: Value) -> Outcome {
    Outcome::Updated { owner: owner.map(|(f, u)| (f.to_owned(), u.to_owned())), set: object(set) }
}

fn deleted(owner: Option<(&str, &str)>) -> Outcome {
    Outcome::Deleted { owner: owner.map(|(f, u)| (f.to_owned(), u.to_owned())) }
}

fn off() -> Option<RlsConfig> {
    Some(rls(false, "public-read", "userId", true))
}
fn public_read() -> Option<RlsConfig> {
    Some(rls(true, "public-read", "userId", true))
}
fn private() -> Option<RlsConfig> {
    Some(rls(true, "private", "userId", true))
}
fn with_mode(mode: &str) -> Option<RlsConfig> {
    Some(rls(true, mode, "userId", true))
}
fn with_owner(owner_field: &str) -> Option<RlsConfig> {
    Some(rls(true, "private", owner_field, true))
}

fn check(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for row in &rows {
        let caller = row.who.caller();
        let target = match &row.rls {
            Some(config) => Target::existing(row.collection, config),
            None => Target::missing(row.collection),
        };
        let got = run(&caller, &target, &row.op);
        if got != row.expect {
            failures.push(format!("{}:\n  expected {:?}\n  got      {:?}", row.name, row.expect, got));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

#[test]
fn read_matrix_spec_7_3() {
    use Who::*;
    let all = Outcome::Read(ReadScope::All);
    check(vec![
        row("secret key reads everything, even private", Secret, private(), Op::List, all.clone()),
        row("secret key ignores an unknown mode", Secret, with_mode("weird"), Op::Get, all.clone()),
        row("unknown collection", User(ALICE), None, Op::List, denied(404, "Collection not found")),
        row("unknown collection, secret key", Secret, None, Op::Count, denied(404, "Collection not found")),
        row("RLS disabled reads everything", Anonymous, off(), Op::List, all.clone()),
        row(
            "RLS disabled with an unknown mode is still just off",
            Anonymous,
            Some(rls(false, "weird", "userId", true)),
            Op::List,
            all.clone(),
        ),
        row("public-read without auth", Anonymous, public_read(), Op::List, all.clone()),
        row("public-read with a user", User(ALICE), public_read(), Op::Get, all.clone()),
        row("owner-write-only behaves as public-read", Anonymous, with_mode("owner-write-only"), Op::List, all.clone()),
        row(
            "private without auth: list",
            Anonymous,
            private(),
            Op::List,
            denied(401, "Provide a valid user Bearer token for private reads."),
        ),
        row(
            "private without auth: get",
            Anonymous,
            private(),
            Op::Get,
            denied(401, "Provide a valid user Bearer token for private reads."),
        ),
        row(
            "private without auth: count",
            Anonymous,
            private(),
            Op::Count,
            denied(401, "Provide a valid user Bearer token for private reads."),
        ),
        row(
            "private without auth: populate",
            Anonymous,
            private(),
            Op::Populate,
            denied(401, "Provide a valid user Bearer token for private reads."),
        ),
        row("private with a user: own documents", User(ALICE), private(), Op::List, own("userId", ALICE)),
        row("private with another user: that user's documents", User(BOB), private(), Op::Get, own("userId", BOB)),
        row(
            "private with a configured owner field",
            User(ALICE),
            with_owner("ownerId"),
            Op::Count,
            own("ownerId", ALICE),
        ),
        row("populate into a private collection is scoped", User(ALICE), private(), Op::Populate, own("userId", ALICE)),
        row(
            "unknown mode denies (fail closed)",
            User(ALICE),
            with_mode("weird"),
            Op::List,
            denied(403, "Unsupported RLS mode"),
        ),
        row("mode spelling is exact", Anonymous, with_mode("Private"), Op::List, denied(403, "Unsupported RLS mode")),
        row(
            "malformed owner field denies: empty",
            User(ALICE),
            with_owner(""),
            Op::List,
            denied(403, "RLS ownerField '' is not a valid field name."),
        ),
        row(
            "malformed owner field denies: operator",
            User(ALICE),
            with_owner("$where"),
            Op::List,
            denied(403, "RLS ownerField '$where' is not a valid field name."),
        ),
        row(
            "malformed owner field denies: dotted",
            User(ALICE),
            with_owner("a.b"),
            Op::List,
            denied(403, "RLS ownerField 'a.b' is not a valid field name."),
        ),
        row(
            "malformed owner field denies: padded",
            User(ALICE),
            with_owner(" userId"),
            Op::List,
            denied(403, "RLS ownerField ' userId' is not a valid field name."),
        ),
        row(
            "private aggregate puts the scope first",
            User(ALICE),
            private(),
            Op::Aggregate(json!({"pipeline": [{"$match": {"x": 1}}]})),
            Outcome::Aggregate(vec![json!({"$match": {"userId": ALICE}}), json!({"$match": {"x": 1}})]),
        ),
        row(
            "private aggregate without auth",
            Anonymous,
            private(),
            Op::Aggregate(json!({"pipeline": [{"$count": "n"}]})),
            denied(401, "Provide a valid user Bearer token for private reads."),
        ),
    ]);
}

#[test]
fn users_collection_is_never_reachable() {
    let users_text = "Use /api/userAuth endpoints for users collection operations.";
    let mut rows = Vec::new();
    for name in ["users", "Users", " users ", "USERS", "users\u{200b}", "\u{feff}users", "ｕｓｅｒｓ"] {
        for who in [Who::Secret, Who::Anonymous, Who::User(ALICE)] {
            for op in [Op::List, Op::Get, Op::Populate, Op::Insert(json!({})), Op::Delete(DOC.into())] {
                rows.push(Row {
                    name: "users collection",
                    who,
                    collection: name,
                    rls: Some(RlsConfig::default()),
                    op,
                    expect: denied(403, users_text),
                });
            }
        }
    }
    check(rows);
}

#[test]
fn write_matrix_spec_7_4() {
    use Who::*;
    let patch = |body: Value| Op::Patch(DOC.into(), body);
    check(vec![
        row(
            "secret key writes without RLS or token",
            Secret,
            off(),
            Op::Insert(json!({"t": 1})),
            inserted(vec![json!({"t": 1})]),
        ),
        row(
            "secret key may set any owner",
            Secret,
            private(),
            Op::Insert(json!({"userId": BOB})),
            inserted(vec![json!({"userId": BOB})]),
        ),
        row(
            "secret key update has no owner scope",
            Secret,
            private(),
            patch(json!({"userId": BOB})),
            updated(None, json!({"userId": BOB})),
        ),
        row("secret key delete has no owner scope", Secret, off(), Op::Delete(DOC.into()), deleted(None)),
        row("unknown collection", User(ALICE), None, Op::Insert(json!({})), denied(404, "Collection not found")),
        row(
            "publishable write with RLS off",
            User(ALICE),
            off(),
            Op::Insert(json!({})),
            denied(403, "Enable RLS for this collection to allow publishable-key writes."),
        ),
        row(
            "publishable delete with RLS off",
            Anonymous,
            off(),
            Op::Delete(DOC.into()),
            denied(403, "Enable RLS for this collection to allow publishable-key writes."),
        ),
        row(
            "RLS on, no token",
            Anonymous,
            public_read(),
            Op::Insert(json!({})),
            denied(401, "Provide a valid user Bearer token for write operations."),
        ),
        row(
            "RLS on, no token, update",
            Anonymous,
            private(),
            patch(json!({})),
            denied(401, "Provide a valid user Bearer token for write operations."),
        ),
        row(
            "no token is checked before the mode",
            Anonymous,
            with_mode("weird"),
            Op::Insert(json!({})),
            denied(401, "Provide a valid user Bearer token for write operations."),
        ),
        row(
            "unknown mode with a user",
            User(ALICE),
            with_mode("weird"),
            Op::Insert(json!({})),
            denied(403, "Unsupported RLS mode"),
        ),
        row(
            "insert: owner injected when absent",
            User(ALICE),
            public_read(),
            Op::Insert(json!({"t": "x"})),
            inserted(vec![json!({"t": "x", "userId": ALICE})]),
        ),
        row(
            "insert: owner injected when null",
            User(ALICE),
            private(),
            Op::Insert(json!({"userId": null})),
            inserted(vec![json!({"userId": ALICE})]),
        ),
        row(
            "insert: owner injected when empty",
            User(ALICE),
            private(),
            Op::Insert(json!({"userId": ""})),
            inserted(vec![json!({"userId": ALICE})]),
        ),
        row(
            "insert: own id accepted",
            User(ALICE),
            private(),
            Op::Insert(json!({"userId": ALICE})),
            inserted(vec![json!({"userId": ALICE})]),
        ),
        row(
            "insert: another owner refused",
            User(ALICE),
            private(),
            Op::Insert(json!({"userId": BOB})),
            denied(403, "Item at index 0 must have userId equal to your user id"),
        ),
        row(
            "insert: configured owner field",
            User(ALICE),
            with_owner("ownerId"),
            Op::Insert(json!({"ownerId": BOB})),
            denied(403, "Item at index 0 must have ownerId equal to your user id"),
        ),
        row(
            "insert: owner field _id refused",
            User(ALICE),
            with_owner("_id"),
            Op::Insert(json!({})),
            denied(403, "RLS ownerField '_id' is not valid for insert ownership checks."),
        ),
        row(
            "insert: array body is not an object",
            User(ALICE),
            private(),
            Op::Insert(json!([{}])),
            denied(400, "Item at index 0 must be a valid object"),
        ),
        row(
            "insert: scalar body",
            Secret,
            private(),
            Op::Insert(json!("x")),
            denied(400, "Item at index 0 must be a valid object"),
        ),
        row(
            "bulk: empty array",
            User(ALICE),
            private(),
            Op::Bulk(json!([])),
            denied(400, "Request body cannot be an empty array."),
        ),
        row(
            "bulk: empty array, secret key",
            Secret,
            private(),
            Op::Bulk(json!([])),
            denied(400, "Request body cannot be an empty array."),
        ),
        row(
            "bulk: not an array",
            User(ALICE),
            private(),
            Op::Bulk(json!({"a": 1})),
            denied(400, "Request body must be an array of objects"),
        ),
        row(
            "bulk: item not an object",
            User(ALICE),
            private(),
            Op::Bulk(json!([{}, 3])),
            denied(400, "Item at index 1 must be a valid object"),
        ),
        row(
            "bulk: one foreign item refuses the batch",
            User(ALICE),
            private(),
            Op::Bulk(json!([{"userId": ALICE}, {"userId": BOB}])),
            denied(403, "Item at index 1 must have userId equal to your user id"),
        ),
        row(
            "bulk: owners injected",
            User(ALICE),
            private(),
            Op::Bulk(json!([{"a": 1}, {"a": 2}])),
            inserted(vec![json!({"a": 1, "userId": ALICE}), json!({"a": 2, "userId": ALICE})]),
        ),
        row(
            "bulk: more than 100",
            Secret,
            private(),
            Op::Bulk(Value::Array(vec![json!({}); 101])),
            denied(400, "Maximum 100 records allowed"),
        ),
        row(
            "bulk: owner field _id refused",
            User(ALICE),
            with_owner("_id"),
            Op::Bulk(json!([{}])),
            denied(403, "RLS ownerField '_id' is not valid for insert ownership checks."),
        ),
        row(
            "update: invalid id",
            User(ALICE),
            private(),
            Op::Put("nope".into(), json!({})),
            denied(400, "Invalid ID format."),
        ),
        row(
            "update: invalid id, secret key",
            Secret,
            private(),
            Op::Patch("0123".into(), json!({})),
            denied(400, "Invalid ID format."),
        ),
        row(
            "delete: invalid id",
            User(ALICE),
            private(),
            Op::Delete("zz3456789abcdef012345678".into()),
            denied(400, "Invalid ID format."),
        ),
        row(
            "put: own document, scoped by owner",
            User(ALICE),
            private(),
            Op::Put(DOC.into(), json!({"t": 2})),
            updated(Some(("userId", ALICE)), json!({"t": 2})),
        ),
        row(
            "patch: public-read is scoped by owner too",
            User(BOB),
            public_read(),
            patch(json!({"t": 2})),
            updated(Some(("userId", BOB)), json!({"t": 2})),
        ),
        row(
            "delete: own document, scoped by owner",
            User(ALICE),
            public_read(),
            Op::Delete(DOC.into()),
            deleted(Some(("userId", ALICE))),
        ),
        row(
            "patch: changing the owner",
            User(ALICE),
            private(),
            patch(json!({"userId": BOB})),
            denied(403, "userId cannot be changed under RLS."),
        ),
        row(
            "put: changing the owner",
            User(ALICE),
            public_read(),
            Op::Put(DOC.into(), json!({"t": 1, "userId": BOB})),
            denied(403, "userId cannot be changed under RLS."),
        ),
        row(
            "patch: restating the owner is a no-op",
            User(ALICE),
            private(),
            patch(json!({"userId": ALICE, "t": 1})),
            updated(Some(("userId", ALICE)), json!({"t": 1})),
        ),
        row(
            "patch: owner field _id scopes by _id",
            User(ALICE),
            with_owner("_id"),
            patch(json!({"t": 1})),
            updated(Some(("_id", ALICE)), json!({"t": 1})),
        ),
        row(
            "anonymous insert when auth is not required",
            Anonymous,
            Some(rls(true, "public-read", "userId", false)),
            Op::Insert(json!({"t": 1})),
            inserted(vec![json!({"t": 1})]),
        ),
        row(
            "anonymous insert may not name an owner",
            Anonymous,
            Some(rls(true, "public-read", "userId", false)),
            Op::Insert(json!({"userId": BOB})),
            denied(403, "Item at index 0 must have userId equal to your user id"),
        ),
        row(
            "anonymous insert with a null owner stores none",
            Anonymous,
            Some(rls(true, "private", "userId", false)),
            Op::Insert(json!({"userId": null, "t": 1})),
            inserted(vec![json!({"t": 1})]),
        ),
        row(
            "anonymous update is never allowed",
            Anonymous,
            Some(rls(true, "public-read", "userId", false)),
            patch(json!({})),
            denied(401, "Provide a valid user Bearer token for write operations."),
        ),
        row(
            "anonymous delete is never allowed",
            Anonymous,
            Some(rls(true, "public-read", "userId", false)),
            Op::Delete(DOC.into()),
            denied(401, "Provide a valid user Bearer token for write operations."),
        ),
        row(
            "upper-case id is accepted and normalised",
            User(ALICE),
            private(),
            Op::Delete(DOC.to_uppercase()),
            deleted(Some(("userId", ALICE))),
        ),
    ]);
}

#[test]
fn a_scoped_miss_says_404_or_403_as_the_original_where_that_is_no_oracle() {
    let private = rls(true, "private", "userId", true);
    let public = rls(true, "public-read", "userId", true);
    let alice = Caller::publishable(Some(ALICE));
    let miss = |config: &RlsConfig, exists: bool| {
        let scope = crate::authorize_delete(&alice, &Target::existing("posts", config), DOC).unwrap();
        let denial = scope.miss(exists);
        (denial.status(), denial.message().to_owned())
    };
    assert_eq!(miss(&public, true), (403, "You can only modify your own document.".to_owned()));
    assert_eq!(miss(&public, false), (404, "Document not found.".to_owned()));
    assert_eq!(miss(&private, true), (404, "Document not found.".to_owned()));
    assert_eq!(miss(&private, false), (404, "Document not found.".to_owned()));
    let secret = crate::authorize_delete(&Caller::secret(), &Target::existing("posts", &public), DOC).unwrap();
    assert!(!secret.wants_existence_probe());
    assert_eq!(secret.miss(true).status(), 404);
}

#[test]
fn write_scopes_filter_by_id_and_owner() {
    let config = rls(true, "public-read", "userId", true);
    let target = Target::existing("posts", &config);
    let scope = crate::authorize_delete(&Caller::publishable(Some(ALICE)), &target, DOC).unwrap();
    assert!(scope.permits(&json!({"_id": DOC, "userId": ALICE})));
    assert!(!scope.permits(&json!({"_id": DOC, "userId": BOB})), "another owner");
    assert!(!scope.permits(&json!({"_id": DOC})), "no owner");
    assert!(!scope.permits(&json!({"_id": DOC, "userId": [ALICE]})), "owner in an array");
    assert!(!scope.permits(&json!({"_id": "ffffffffffffffffffffffff", "userId": ALICE})), "another id");
}
