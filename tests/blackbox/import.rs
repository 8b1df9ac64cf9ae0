//! Moving a project over from urBackend (docs/MIGRATING.md): `project import` of the exported
//! project document in tests/fixtures (spec §16) and `collection import` of a user as urBackend
//! stores it, then the server answering the project's deployed apps: the kept keys (the fixture
//! holds only their SHA-256), the kept JWT secret, the allowed origins, RLS with owner injection
//! and a second user refused, and a bcrypt user logging in with a mixed-case address. The bad
//! cases: a file that is not JSON, a type we lack, an existing project id, keys another project
//! uses; each refused with a clear message and nothing left behind. And a project on its own
//! MongoDB, whose data a second platform store finds in place.

use std::process::Command;

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, MongoServer, Server, TempDir, binary, cli, workspace_root};

use crate::fixture::{backend, keyed_request};
use crate::sessions::{craft, now};

/// The fixture's project and the keys whose SHA-256 it holds.
const PROJECT: &str = "65f1c0ffee0000000000abcd";
const PK: &str = "pk_live_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
const SK: &str = "sk_live_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4Q";
const JWT_SECRET: &str = "jwt_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10aGUtZml4dHVyZQ";
const ORIGIN: &str = "https://app.example.com";
/// A user document exported from urBackend's `<projectId>_users`: the address as typed at signup,
/// a bcryptjs hash (10 rounds) of `urbackend-pass-1`, Mongoose's timestamps and `__v`.
const CAROL_ID: &str = "65f1c0ffee0000000000e001";
const CAROL_HASH: &str = "$2b$10$gXpXAiLLM7asx/blKXDigerde4Jkd3of2iIA7ESFiOrbvZEeZyHvW";

fn fixture_path() -> String {
    workspace_root().join("tests/fixtures/urbackend-project.json").display().to_string()
}

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap()
}

/// Runs the command line expecting it to fail; returns its stderr.
fn cli_fails(backend: &Backend, args: &[&str]) -> String {
    let output = Command::new(binary()).args(args).args(backend.args()).output().unwrap();
    assert!(!output.status.success(), "urbackend {args:?} succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn import_fixture(backend: &Backend) -> Value {
    cli(backend, &["project", "import", "--file", &fixture_path()])
}

/// A request from the app's origin with a key and an optional user token.
fn call(at: &Server, method: &str, path: &str, key: &str, user: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    keyed_request(at, method, path, (key, user), &[("Origin", ORIGIN)], body)
}

fn login(server: &Server, email: &str, password: &str) -> (u16, Value) {
    call(server, "POST", "/api/userAuth/login", PK, None, Some(&json!({"email": email, "password": password})))
}

fn imported_project_serves_its_apps(lane: Lane) {
    let dir = TempDir::new("import");
    let (backend, _mongo) = backend(&dir, "import", lane);
    let out = import_fixture(&backend);
    assert_eq!(out["projectId"], PROJECT);
    assert_eq!(out["collections"], json!(["comments", "notes", "posts", "users"]));
    assert_eq!((out["authEnabled"].clone(), out["keptJwtSecret"].clone()), (json!(true), json!(true)));
    let again: Vec<&str> = out["setAgain"].as_array().unwrap().iter().map(|s| s["setting"].as_str().unwrap()).collect();
    assert_eq!(again, ["authProviders.github.clientSecret", "resendApiKey"]);
    let printed = out.to_string();
    for secret in [JWT_SECRET, "e86d7d55cb57cce13fd9faa5", "be67bea7270d483caa962aee", "9f3c1a"] {
        assert!(!printed.contains(secret), "the import printed a secret: {printed}");
    }

    let users = format!(
        r#"{{"_id":{{"$oid":"{CAROL_ID}"}},"email":"Carol@Example.com","password":"{CAROL_HASH}","username":"carol","isVerified":true,"createdAt":{{"$date":"2025-04-01T10:00:00.000Z"}},"updatedAt":{{"$date":"2025-04-01T10:00:00.000Z"}},"__v":{{"$numberInt":"0"}}}}"#
    );
    let file = write(&dir, "users.json", &format!("{users}\n"));
    let out = cli(&backend, &["collection", "import", "--project", PROJECT, "--collection", "users", "--file", &file]);
    assert_eq!(out["inserted"], 1);

    let server = Server::start_with(&backend, &["--rate-limit-per-ip", "0"]);
    // The kept keys: the secret key reads, the publishable key works from the allowed origin only.
    assert_eq!(call(&server, "GET", "/api/data/notes", SK, None, None).0, 200);
    let (status, body) = server.request("GET", "/api/data/notes", &[("x-api-key", PK)], None);
    assert_eq!(status, 403, "{body}");
    let (status, body) =
        server.request("GET", "/api/data/notes", &[("x-api-key", PK), ("Origin", "https://evil.example.net")], None);
    assert_eq!(status, 403, "{body}");
    assert_eq!(call(&server, "GET", "/api/data/notes", PK, None, None).0, 200);
    let (status, _) =
        call(&server, "GET", "/api/data/notes", "pk_live_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB", None, None);
    assert_eq!(status, 401);

    // The bcrypt user logs in unchanged, by any case of the address; a wrong password does not.
    assert_eq!(login(&server, "carol@example.com", "wrong-password").0, 400);
    let (status, body) = login(&server, "Carol@Example.com", "urbackend-pass-1");
    assert_eq!(status, 200, "{body}");
    let carol = body["accessToken"].as_str().unwrap().to_owned();
    let (status, me) = call(&server, "GET", "/api/userAuth/me", PK, Some(&carol), None);
    assert_eq!((status, me["_id"].clone(), me["email"].clone()), (200, json!(CAROL_ID), json!("carol@example.com")));
    // The hash was upgraded at that login and still opens the account.
    assert_eq!(login(&server, "carol@example.com", "urbackend-pass-1").0, 200);

    // An access token urBackend issued before the move (signed with the kept JWT secret) works.
    let claims = json!({"userId": CAROL_ID, "projectId": PROJECT, "iat": now(), "exp": now() + 600});
    let old = craft(&json!({"alg": "HS256", "typ": "JWT"}), &claims, Some(JWT_SECRET));
    assert_eq!(call(&server, "GET", "/api/userAuth/me", PK, Some(&old), None).0, 200);

    // RLS as exported: `posts` is private with owner `userId`.
    let (status, dave) = call(
        &server,
        "POST",
        "/api/userAuth/signup",
        PK,
        None,
        Some(&json!({"email": "dave@example.com", "password": "dave-pass-1"})),
    );
    assert_eq!(status, 201, "{dave}");
    let dave = dave["accessToken"].as_str().unwrap().to_owned();
    let (status, post) = call(&server, "POST", "/api/data/posts", PK, Some(&carol), Some(&json!({"title": "mine"})));
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["userId"], CAROL_ID, "the owner was injected");
    let post_id = post["_id"].as_str().unwrap();
    let (status, _) = call(&server, "GET", "/api/data/posts", PK, None, None);
    assert_eq!(status, 401, "private reads need a user");
    let (status, list) = call(&server, "GET", "/api/data/posts", PK, Some(&dave), None);
    assert_eq!((status, list["data"]["items"].as_array().map(Vec::len)), (200, Some(0)), "{list}");
    let (status, list) = call(&server, "GET", "/api/data/posts", PK, Some(&carol), None);
    assert_eq!((status, list["data"]["items"].as_array().map(Vec::len)), (200, Some(1)), "{list}");
    let path = format!("/api/data/posts/{post_id}");
    assert_eq!(call(&server, "GET", &path, PK, Some(&dave), None).0, 404);
    let (status, body) = call(&server, "PATCH", &path, PK, Some(&dave), Some(&json!({"title": "taken"})));
    assert_eq!(status, 404, "another user's private document does not exist for him: {body}");
    let (status, body) = call(
        &server,
        "POST",
        "/api/data/posts",
        PK,
        Some(&dave),
        Some(&json!({"title": "forged", "userId": CAROL_ID})),
    );
    assert_eq!(status, 403, "{body}");
    let (_, stored) = call(&server, "GET", &path, SK, None, None);
    assert_eq!((stored["title"].clone(), stored["userId"].clone()), (json!("mine"), json!(CAROL_ID)));

    // `comments` (legacy owner-write-only): everyone reads, only the owner writes.
    let (status, comment) = call(
        &server,
        "POST",
        "/api/data/comments",
        PK,
        Some(&carol),
        Some(&json!({"text": "hi", "meta": {"likes": 1}})),
    );
    assert_eq!((status, comment["ownerId"].clone()), (201, json!(CAROL_ID)), "{comment}");
    assert_eq!(call(&server, "GET", "/api/data/comments", PK, None, None).0, 200);
    let path = format!("/api/data/comments/{}", comment["_id"].as_str().unwrap());
    assert_eq!(call(&server, "DELETE", &path, PK, Some(&dave), None).0, 403);
    assert_eq!(call(&server, "GET", &path, SK, None, None).0, 200, "still there");
    // `notes` has RLS off: publishable writes are refused, the secret key's are not.
    assert_eq!(call(&server, "POST", "/api/data/notes", PK, Some(&carol), Some(&json!({}))).0, 403);
    let (status, note) = call(&server, "POST", "/api/data/notes", SK, None, Some(&json!({})));
    assert_eq!((status, note["title"].clone()), (201, json!("untitled")), "the default was kept");
}

fn bad_imports_are_refused_clearly(lane: Lane) {
    let dir = TempDir::new("import-bad");
    let (backend, _mongo) = backend(&dir, "import_bad", lane);

    let broken = write(&dir, "broken.json", "[{\"_id\": {\"$oid\": \"65f1c0ffee0000000000abcd\"},");
    let err = cli_fails(&backend, &["project", "import", "--file", &broken]);
    assert!(err.contains("broken.json is not JSON"), "{err}");

    let mut doc = fixture();
    doc[0]["collections"][2]["model"][2]["fields"][0]["type"] = json!("Decimal128");
    let unknown = write(&dir, "unknown.json", &doc.to_string());
    let err = cli_fails(&backend, &["project", "import", "--file", &unknown]);
    assert!(
        err.contains("collection 'comments', field 'meta.likes': type 'Decimal128' has no equivalent here"),
        "{err}"
    );

    let mut doc = fixture();
    doc[0]["resources"]["db"] = json!({"isExternal": true, "config": {"encrypted": "00", "iv": "11", "tag": "22"}});
    let external = write(&dir, "external.json", &doc.to_string());
    let err = cli_fails(&backend, &["project", "import", "--file", &external]);
    assert!(err.contains("give it with --database-uri"), "{err}");

    // An existing project id, and another id with the same key hashes: both refused.
    let out = import_fixture(&backend);
    assert_eq!(out["projectId"], PROJECT);
    let err = cli_fails(&backend, &["project", "import", "--file", &fixture_path()]);
    assert!(err.contains("a project with id 65f1c0ffee0000000000abcd exists already; nothing was changed"), "{err}");
    let mut doc = fixture();
    doc[0]["_id"] = json!({"$oid": "65f1c0ffee0000000000abce"});
    let thief = write(&dir, "thief.json", &doc.to_string());
    let err = cli_fails(&backend, &["project", "import", "--file", &thief]);
    assert!(err.contains("another project already uses this"), "{err}");

    // The first project is untouched and the refused ones left nothing: their ids are unknown.
    let server = Server::start(&backend);
    assert_eq!(call(&server, "GET", "/api/data/posts", SK, None, None).0, 200);
    let known = |project: &str| {
        Command::new(binary())
            .args(["user", "list", "--project", project])
            .args(backend.args())
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(known(PROJECT));
    assert!(!known("65f1c0ffee0000000000abce"));
}

/// A project urBackend kept on its own MongoDB: its data is used where it is. One platform store
/// imports it and brings a user into the project's database; a second, fresh platform store (the
/// server moved to) imports the same export with the same URI and serves that user at once.
fn own_database_data_stays_in_place(lane: Lane) {
    const MASTER_KEY: &str = "8f1c2d3e4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let dir = TempDir::new("import-own-db");
    let (first, _mongo_first) = backend(&dir, "import_own_a", lane);
    let own = MongoServer::start();
    let own_uri = own.database_uri(&format!("own_{}", std::process::id()));
    let mut doc = fixture();
    doc[0]["resources"]["db"] = json!({"isExternal": true, "config": {"encrypted": "00", "iv": "11", "tag": "22"}});
    let export = write(&dir, "own.json", &doc.to_string());
    let import = ["project", "import", "--file", &export, "--database-uri", &own_uri, "--master-key", MASTER_KEY];
    let out = cli(&first, &import);
    assert_eq!(out["ownDatabase"], true);
    assert!(!out.to_string().contains(&own_uri), "the URI was printed: {out}");
    assert!(!out["setAgain"].as_array().unwrap().iter().any(|s| s["setting"] == "resources.db.config"), "{out}");
    let users = format!(r#"[{{"_id":{{"$oid":"{CAROL_ID}"}},"email":"carol@example.com","password":"{CAROL_HASH}"}}]"#);
    let file = write(&dir, "users.json", &users);
    let args = ["collection", "import", "--project", PROJECT, "--collection", "users", "--file", &file];
    let out = cli(&first, &[&args[..], &["--master-key", MASTER_KEY]].concat());
    assert_eq!(out["inserted"], 1);

    let moved = TempDir::new("import-own-db-moved");
    let (second, _mongo_second) = backend(&moved, "import_own_b", lane);
    assert_eq!(cli(&second, &import)["ownDatabase"], true);
    let server = Server::start_with(&second, &["--master-key", MASTER_KEY]);
    let (status, body) = login(&server, "carol@example.com", "urbackend-pass-1");
    assert_eq!(status, 200, "the user in the project's own database logs in: {body}");
    assert_eq!(call(&server, "GET", "/api/data/posts", SK, None, None).0, 200);
}

crate::on_both_lanes!(
    imported_project_serves_its_apps,
    bad_imports_are_refused_clearly,
    own_database_data_stays_in_place
);
