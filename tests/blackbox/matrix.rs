//! The authorization table: every data route × every identity × every RLS mode, with the exact
//! status, and for writes the database state afterwards (read back with the secret key). For
//! every allowed case the same request by someone else is in the table too, and must fail.

use serde_json::{Value, json};
use urbackend_tests::Lane;

use crate::fixture::{MODES, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Alice,
    Bob,
    Secret,
    /// Alice's id in a token signed by the other project.
    Forged,
    OtherPublishable,
    OtherSecret,
}

const EVERYONE: [Who; 7] =
    [Who::Anonymous, Who::Alice, Who::Bob, Who::Secret, Who::Forged, Who::OtherPublishable, Who::OtherSecret];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Count,
    Get,
    Aggregate,
    Insert,
    Patch,
    Put,
    Delete,
}

const OPS: [Op; 8] = [Op::List, Op::Count, Op::Get, Op::Aggregate, Op::Insert, Op::Patch, Op::Put, Op::Delete];

fn credentials(world: &World, who: Who) -> (String, Option<String>) {
    match who {
        Who::Anonymous => (world.a.pk.clone(), None),
        Who::Alice => (world.a.pk.clone(), Some(world.alice.token.clone())),
        Who::Bob => (world.a.pk.clone(), Some(world.bob.token.clone())),
        Who::Secret => (world.a.sk.clone(), None),
        Who::Forged => (world.a.pk.clone(), Some(world.stranger.token.clone())),
        Who::OtherPublishable => (world.b.pk.clone(), None),
        Who::OtherSecret => (world.b.sk.clone(), None),
    }
}

/// The user a publishable request acts for, when its token verifies in project A.
fn user(who: Who) -> Option<&'static str> {
    match who {
        Who::Alice => Some("alice"),
        Who::Bob => Some("bob"),
        _ => None,
    }
}

/// The id of that user.
fn user_id(world: &World, who: Who) -> Option<&str> {
    match who {
        Who::Alice => Some(&world.alice.id),
        Who::Bob => Some(&world.bob.id),
        _ => None,
    }
}

/// The expected status of `op` on alice's document (or the collection) in `mode`.
fn expected(mode: &str, op: Op, who: Who) -> u16 {
    let other_project = matches!(who, Who::OtherPublishable | Who::OtherSecret);
    let secret = matches!(who, Who::Secret | Who::OtherSecret);
    let reads = matches!(op, Op::List | Op::Count | Op::Get | Op::Aggregate);
    if reads {
        if !secret && mode == "private" && user(who).is_none() {
            return 401;
        }
        if op == Op::Get && (other_project || (mode == "private" && who == Who::Bob)) {
            return 404;
        }
        return 200;
    }
    let created_or_ok = if op == Op::Insert { 201 } else { 200 };
    if secret {
        return if other_project && op != Op::Insert { 404 } else { created_or_ok };
    }
    if mode == "off" {
        return 403;
    }
    match user(who) {
        None => 401,
        Some("alice") => created_or_ok,
        Some(_) if op == Op::Insert => 201,
        Some(_) => {
            if mode == "private" {
                404
            } else {
                403
            }
        }
    }
}

fn request(world: &World, collection: &str, op: Op, who: Who, doc_id: &str) -> (u16, Value) {
    let (key, token) = credentials(world, who);
    let token = token.as_deref();
    let item = format!("/api/data/{collection}/{doc_id}");
    let list = format!("/api/data/{collection}");
    match op {
        Op::List => world.call("GET", &list, &key, token, None),
        Op::Count => world.call("GET", &format!("{list}?count=true"), &key, token, None),
        Op::Get => world.call("GET", &item, &key, token, None),
        Op::Aggregate => {
            let body = json!({"pipeline": [{"$match": {"title": "a"}}, {"$sort": {"createdAt": -1}}, {"$limit": 50}]});
            world.call("POST", &format!("{list}/aggregate"), &key, token, Some(&body))
        }
        Op::Insert => world.call("POST", &list, &key, token, Some(&json!({"title": "new"}))),
        Op::Patch => world.call("PATCH", &item, &key, token, Some(&json!({"title": "changed"}))),
        Op::Put => world.call("PUT", &item, &key, token, Some(&json!({"title": "changed"}))),
        Op::Delete => world.call("DELETE", &item, &key, token, None),
    }
}

/// The documents a read returned.
fn returned(op: Op, body: &Value) -> Vec<Value> {
    match op {
        Op::List => body["data"]["items"].as_array().cloned().unwrap_or_default(),
        Op::Aggregate => body["data"].as_array().cloned().unwrap_or_default(),
        Op::Get => vec![body.clone()],
        _ => Vec::new(),
    }
}

fn every_route_every_identity_every_mode(lane: Lane) {
    let world = World::new("matrix", lane);
    let mut failures = Vec::new();
    for (collection, mode) in MODES {
        for op in OPS {
            for who in EVERYONE {
                let alice_doc = world.seed(&world.a, collection, json!({"title": "a", "userId": world.alice.id}));
                let _bob_doc = world.seed(&world.a, collection, json!({"title": "a", "userId": world.bob.id}));
                let (status, body) = request(&world, collection, op, who, &alice_doc);
                let want = expected(mode, op, who);
                let case = format!("{mode} {op:?} by {who:?}");
                if status != want {
                    failures.push(format!("{case}: expected {want}, got {status} {body}"));
                    continue;
                }
                if status >= 400 {
                    assert_eq!(body["success"], json!(false), "{case}: error shape {body}");
                    assert_eq!(body["code"], json!(status), "{case}: error shape {body}");
                    assert_eq!(body["error"], body["message"], "{case}: error shape {body}");
                }
                check_effect(&world, collection, mode, op, who, &alice_doc, status, &body, &case, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[allow(clippy::too_many_arguments)]
fn check_effect(
    world: &World,
    collection: &str,
    mode: &str,
    op: Op,
    who: Who,
    alice_doc: &str,
    status: u16,
    body: &Value,
    case: &str,
    failures: &mut Vec<String>,
) {
    let stored = world.stored(&world.a, collection, alice_doc);
    let secret = matches!(who, Who::Secret | Who::OtherSecret);
    let other_project = matches!(who, Who::OtherPublishable | Who::OtherSecret);
    match op {
        Op::List | Op::Aggregate | Op::Get if status == 200 => {
            let docs = returned(op, body);
            if mode == "private" && !secret {
                if let Some(user) = user_id(world, who) {
                    for doc in &docs {
                        if doc["userId"] != json!(user) {
                            failures.push(format!("{case}: saw a document of {}", doc["userId"]));
                        }
                    }
                }
            }
            let sees_alice_doc = docs.iter().any(|d| d["_id"] == json!(alice_doc));
            let may_see = !other_project && (secret || mode != "private" || user(who) == Some("alice"));
            if sees_alice_doc != may_see {
                failures.push(format!("{case}: alice's document visible = {sees_alice_doc}, expected {may_see}"));
            }
        }
        Op::Count if status == 200 => {
            let (_, listed) = request(world, collection, Op::List, who, alice_doc);
            if body["data"]["count"] != listed["data"]["total"] {
                failures.push(format!(
                    "{case}: count {} differs from list total {}",
                    body["data"]["count"], listed["data"]["total"]
                ));
            }
        }
        Op::Insert if status == 201 => {
            let id = body["_id"].as_str().unwrap_or_default();
            let project = if other_project { &world.b } else { &world.a };
            let stored = world.stored(project, collection, id);
            let owner = stored.as_ref().map(|d| d["userId"].clone());
            let want = match user_id(world, who) {
                Some(user) => json!(user),
                None => Value::Null,
            };
            if owner != Some(want.clone()) {
                failures.push(format!("{case}: stored owner {owner:?}, expected {want}"));
            }
        }
        Op::Patch | Op::Put => {
            let title = stored.as_ref().map(|d| d["title"].clone());
            let want = if status == 200 { "changed" } else { "a" };
            if title != Some(json!(want)) {
                failures.push(format!("{case}: stored title {title:?}, expected {want}"));
            }
            if stored.as_ref().map(|d| d["userId"].clone()) != Some(json!(world.alice.id)) {
                failures.push(format!("{case}: the owner changed: {stored:?}"));
            }
        }
        Op::Delete if stored.is_some() == (status == 200) => {
            failures.push(format!("{case}: deleted = {}, status {status}", stored.is_none()));
        }
        _ => {}
    }
}

fn the_users_collection_and_unknown_collections_are_refused(lane: Lane) {
    let world = World::new("users", lane);
    for path in ["/api/data/users", "/api/data/Users", "/api/data/%75sers", "/api/data/users%E2%80%8B"] {
        for key in [&world.a.pk, &world.a.sk] {
            let (status, body) = world.call("GET", path, key, None, None);
            assert_eq!(status, 403, "{path}: {body}");
            assert_eq!(body["error"], json!("Use /api/userAuth endpoints for users collection operations."));
        }
    }
    let (status, body) = world.call("GET", "/api/data/nope", &world.a.sk, None, None);
    assert_eq!((status, body["error"].clone()), (404, json!("Collection not found")));
    let (status, body) = world.call("GET", "/api/data/notes", "pk_live_unknown", None, None);
    assert_eq!((status, body["error"].clone()), (401, json!("API key is expired or invalid.")));
    let (status, body) = world.server.request("GET", "/api/data/notes", &[], None);
    assert_eq!((status, body["error"].clone()), (401, json!("API key not found")));
}

fn owner_smuggling_through_key_variants_is_refused_end_to_end(lane: Lane) {
    let world = World::new("smuggle", lane);
    let alice = world.alice.token.clone();
    for key in [" userId", "\u{feff}userId", "userId\u{200b}"] {
        let mut body = serde_json::Map::new();
        body.insert("title".into(), json!("x"));
        body.insert(key.into(), json!(world.bob.id));
        let (status, response) =
            world.call("POST", "/api/data/posts", &world.a.pk, Some(&alice), Some(&Value::Object(body)));
        assert_eq!(status, 403, "{key:?}: {response}");
    }
    let doc = world.seed(&world.a, "posts", json!({"title": "a", "userId": world.alice.id}));
    let body: Value = serde_json::from_str(r#"{"\ufeffuserId": "bob"}"#).unwrap();
    let (status, _) = world.call("PATCH", &format!("/api/data/posts/{doc}"), &world.a.pk, Some(&alice), Some(&body));
    assert_eq!(status, 403);
    assert_eq!(world.stored(&world.a, "posts", &doc).unwrap()["userId"], json!(world.alice.id));
    let (status, body) = world.call(
        "POST",
        "/api/data/posts/aggregate",
        &world.a.pk,
        Some(&alice),
        Some(
            &json!({"pipeline": [{"$lookup": {"from": "secrets", "as": "s", "localField": "a", "foreignField": "b"}}]}),
        ),
    );
    assert_eq!((status, body["error"].clone()), (400, json!("Aggregation pipeline contains blocked stage.")));
}

crate::on_both_lanes!(
    every_route_every_identity_every_mode,
    the_users_collection_and_unknown_collections_are_refused,
    owner_smuggling_through_key_variants_is_refused_end_to_end
);
