//! `/api/schemas`, populate through rls-core, and projects that bring their own MongoDB.

use serde_json::{Value, json};
use urbackend_tests::{Lane, MongoServer, cli};

use crate::fixture::World;

fn schemas_and_populate(lane: Lane) {
    let world = World::new("schemas", lane);
    let (status, body) = world.call("GET", "/api/schemas/posts", &world.a.pk, None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], json!("Schema exists"));
    assert_eq!(body["collection"]["name"], json!("posts"));
    assert_eq!(body["collection"]["rls"]["mode"], json!("public-read"));
    let (status, body) = world.call("GET", "/api/schemas/nope", &world.a.pk, None, None);
    assert_eq!((status, body["error"].clone()), (404, json!("Schema/Collection not found")));

    let authors = json!({"name": "authors", "fields": [{"name": "name", "type": "string", "required": true}]});
    let (status, body) = world.call("POST", "/api/schemas", &world.a.pk, None, Some(&authors));
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("Forbidden. This action requires a Secret Key (sk_live_...)."))
    );
    let (status, body) = world.call("POST", "/api/schemas", &world.a.sk, None, Some(&authors));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], json!("Schema created successfully"));
    let text = body.to_string();
    assert!(!text.contains(&world.a.jwt_secret) && !text.contains("secretKey"), "the project leaks secrets: {text}");
    let (status, body) = world.call("POST", "/api/schemas", &world.a.sk, None, Some(&authors));
    assert_eq!((status, body["error"].clone()), (400, json!("Collection/Schema already exists")));

    // A Ref into the private collection: populate fills in only what the caller may read.
    let books = json!({"name": "books", "fields": [
        {"name": "title", "type": "string"},
        {"name": "note", "type": "ref", "ref": "secrets"}
    ]});
    let (status, body) = world.call("POST", "/api/schemas", &world.a.sk, None, Some(&books));
    assert_eq!(status, 201, "{body}");
    let alices = world.seed(&world.a, "secrets", json!({"title": "alice's note", "userId": world.alice.id}));
    let bobs = world.seed(&world.a, "secrets", json!({"title": "bob's note", "userId": world.bob.id}));
    world.seed(&world.a, "books", json!({"title": "one", "note": alices}));
    world.seed(&world.a, "books", json!({"title": "two", "note": bobs}));
    let alice = world.alice.token.clone();
    let (status, body) = world.call("GET", "/api/data/books?populate=note&sort=title", &world.a.pk, Some(&alice), None);
    assert_eq!(status, 200, "{body}");
    let notes: Vec<Value> = body["data"]["items"].as_array().unwrap().iter().map(|b| b["note"].clone()).collect();
    assert_eq!(notes[0]["title"], json!("alice's note"));
    assert_eq!(notes[1], Value::Null, "bob's note must not be revealed to alice");
    let (status, _) = world.call("GET", "/api/data/books?populate=note", &world.a.pk, None, None);
    assert_eq!(status, 401, "anonymous callers cannot follow a reference into a private collection");
    let (status, body) = world.call("GET", "/api/data/books?populate=title", &world.a.sk, None, None);
    assert_eq!((status, body["error"].clone()), (400, json!("Cannot populate 'title': it is not a Ref field.")));
}

fn a_project_can_bring_its_own_mongodb(lane: Lane) {
    let world = World::new("byo", lane);
    let own = MongoServer::start();
    let uri = own.database_uri(&format!("own_{}", std::process::id()));
    let master_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let mut args = vec!["project", "set-database", "--project", world.a.id.as_str(), "--uri", uri.as_str()];
    args.extend(["--master-key", master_key]);
    let out = cli(&world.backend, &args);
    assert_eq!(out["ownDatabase"], json!(true));
    let server = urbackend_tests::Server::start_with(&world.backend, &["--master-key", master_key]);
    let key = [("x-api-key", world.a.sk.as_str())];
    let (status, body) = server.request("POST", "/api/data/notes", &key, Some(&json!({"title": "in my db"})));
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request("GET", "/api/data/notes", &key, None);
    assert_eq!((status, body["data"]["total"].clone()), (200, json!(1)));
    // The other project is untouched, and a server without the master key cannot reach the data.
    let (_, body) = server.request("GET", "/api/data/notes", &[("x-api-key", world.b.sk.as_str())], None);
    assert_eq!(body["data"]["total"], json!(0));
    let keyless = urbackend_tests::Server::start(&world.backend);
    let (status, _) = keyless.request("GET", "/api/data/notes", &key, None);
    assert_eq!(status, 503);
}

crate::on_both_lanes!(schemas_and_populate, a_project_can_bring_its_own_mongodb);
