//! The query language end to end: filters cast by the schema, sort, paging, cursor paging
//! through a whole collection, fields, count, and the refusals.

use serde_json::{Value, json};
use urbackend_tests::Lane;

use crate::fixture::World;

fn titles(body: &Value) -> Vec<String> {
    body["data"]["items"]
        .as_array()
        .map_or_else(Vec::new, |items| items.iter().filter_map(|d| d["title"].as_str().map(str::to_owned)).collect())
}

fn filters_sort_paging_and_cursors(lane: Lane) {
    let world = World::new("queries", lane);
    let sk = world.a.sk.clone();
    for (i, title) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        world.seed(&world.a, "notes", json!({"title": title, "views": i * 10}));
    }
    let get = |q: &str| world.call("GET", &format!("/api/data/notes?{q}"), &sk, None, None);

    let (status, body) = get("views_gte=20&sort=views:asc");
    assert_eq!(status, 200, "{body}");
    assert_eq!(titles(&body), ["c", "d", "e"]);
    assert_eq!(body["data"]["total"], json!(3));

    let (_, body) = get("sort=-views&limit=2&page=2");
    assert_eq!(titles(&body), ["c", "b"]);
    assert_eq!((body["data"]["page"].clone(), body["data"]["limit"].clone()), (json!(2), json!(2)));

    let (_, body) = get("title_in=a,e&count=true");
    assert_eq!(body, json!({"success": true, "data": {"count": 2}, "message": "Count fetched successfully."}));

    let (_, body) = get("title_regex=^[bc]$&sort=title");
    assert_eq!(titles(&body), ["b", "c"]);

    let (_, body) = get("views_ne=0&views_lt=30&fields=title");
    let items = body["data"]["items"].as_array().unwrap();
    assert!(items.iter().all(|d| d.as_object().unwrap().keys().all(|k| k == "_id" || k == "title")), "{body}");

    // Cursor paging visits every document once, newest first.
    let mut seen = Vec::new();
    let mut cursor = "start".to_owned();
    loop {
        let (status, body) = get(&format!("limit=2&cursor={cursor}"));
        assert_eq!(status, 200, "{body}");
        seen.extend(titles(&body));
        match body["data"]["nextCursor"].as_str() {
            Some(next) => cursor = next.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"),
            None => break,
        }
    }
    assert_eq!(seen, ["e", "d", "c", "b", "a"]);

    for (q, text) in [
        ("views_gt=abc", r#"Invalid value for "views_gt": expected a Number."#),
        ("title_exists=maybe", r#"Invalid value for "title_exists"; expected "true" or "false"."#),
        ("cursor=eyJzb3J0VmFsdWUiOnsiJGd0IjoiIn0sIl9pZCI6IjEyMyJ9", "Invalid cursor."),
    ] {
        let (status, body) = get(q);
        assert_eq!((status, body["error"].clone()), (400, json!(text)), "{q}");
    }
    let (status, body) = get("%24where=1");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&format!("title_regex={}", "a".repeat(129)));
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!(r#"Regex pattern for "title_regex" exceeds 128 characters."#))
    );
}

fn filters_cannot_widen_the_rls_scope(lane: Lane) {
    let world = World::new("widen", lane);
    world.seed(&world.a, "secrets", json!({"title": "mine", "userId": world.alice.id}));
    world.seed(&world.a, "secrets", json!({"title": "theirs", "userId": world.bob.id}));
    let alice = world.alice.token.clone();
    for q in ["userId=bob", "userId_ne=alice", "userId_in=bob,alice", "userId_exists=false", "userId_regex=.*"] {
        let (status, body) = world.call("GET", &format!("/api/data/secrets?{q}"), &world.a.pk, Some(&alice), None);
        assert_eq!(status, 200, "{q}: {body}");
        assert!(!titles(&body).contains(&"theirs".to_owned()), "{q} widened the scope: {body}");
    }
}

crate::on_both_lanes!(filters_sort_paging_and_cursors, filters_cannot_widen_the_rls_scope);
