//! What an operator does from the command line while servers run (security cases 18 and 21):
//! a rotated API key is refused at once (within a second on every server) while its
//! replacement works; a deleted user's access tokens are refused on every server within a
//! second, exactly as a forged token, their refresh sessions are revoked, and everyone else
//! keeps working.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, Server, TempDir, binary, cli};

use crate::fixture::{Project, World, backend, definition, keyed_request};

/// How long a change made by the command line may take to reach a running server.
const PROPAGATION: Duration = Duration::from_millis(1_500);

/// Polls `ok` until it holds, failing after [`PROPAGATION`]; returns how long it took.
fn within_propagation(what: &str, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < PROPAGATION, "{what}: not within {PROPAGATION:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// Runs the command line and returns its exit status and stdout lines as JSON.
fn cli_lines(backend: &Backend, args: &[&str]) -> (bool, Vec<Value>) {
    let output = Command::new(binary()).args(args).args(backend.args()).output().expect("running urbackend");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    (output.status.success(), lines)
}

fn rotated_keys_are_refused_within_a_second(lane: Lane) {
    let dir = TempDir::new("rotate");
    let (backend, _mongo) = backend(&dir, "rotate", lane);
    let project = Project::create(&backend, "rotating");
    let other = Project::create(&backend, "bystander");
    for p in [&project, &other] {
        p.put_collection(&backend, &dir, &definition("posts", "public-read"));
    }
    let server = Server::start_with(&backend, &["--rate-limit-per-ip", "0"]);
    let get = |key: &str| server.request("GET", "/api/data/posts", &[("x-api-key", key)], None);
    for key in [&project.pk, &project.sk, &other.pk, &other.sk] {
        assert_eq!(get(key).0, 200);
    }

    let rotate = |which: &str| {
        let out = cli(&backend, &["project", "rotate-key", "--project", &project.id, "--key", which]);
        assert_eq!(out["projectId"], json!(project.id), "{out}");
        out["key"].as_str().expect("the new key").to_owned()
    };
    let publishable = rotate("publishable");
    assert!(publishable.starts_with("pk_live_") && publishable != project.pk, "{publishable}");
    // The new key works at once (a miss reloads the configuration); the old one stops.
    assert_eq!(get(&publishable).0, 200);
    within_propagation("the old publishable key refused", || get(&project.pk).0 == 401);
    let (status, body) = get(&project.pk);
    assert_eq!((status, &body["error"]), (401, &json!("API key is expired or invalid.")), "{body}");
    // The other key of the project and the other project's keys are untouched.
    for key in [&project.sk, &other.pk, &other.sk] {
        assert_eq!(get(key).0, 200);
    }

    let secret = rotate("secret");
    assert!(secret.starts_with("sk_live_") && secret != project.sk, "{secret}");
    assert_eq!(get(&secret).0, 200);
    within_propagation("the old secret key refused", || get(&project.sk).0 == 401);
    assert_eq!(get(&publishable).0, 200);

    // Bad requests change nothing.
    let (ok, _) = cli_lines(&backend, &["project", "rotate-key", "--project", &project.id, "--key", "admin"]);
    assert!(!ok, "an unknown key kind is refused");
    let (ok, _) =
        cli_lines(&backend, &["project", "rotate-key", "--project", "0123456789abcdef01234567", "--key", "secret"]);
    assert!(!ok, "an unknown project is refused");
    assert_eq!((get(&publishable).0, get(&secret).0), (200, 200));
}

fn a_deleted_user_loses_access_within_a_second(lane: Lane) {
    let world = World::new("deleted-user", lane);
    let second = Server::start_with(&world.backend, &["--rate-limit-per-ip", "0"]);
    let (a, alice, bob) = (&world.a, &world.alice, &world.bob);
    let key = [("x-api-key", a.pk.as_str()), ("x-refresh-token-mode", "header")];
    let credentials = json!({"email": "alice@example.com", "password": "correct horse"});
    let (status, login) = world.server.request("POST", "/api/userAuth/login", &key, Some(&credentials));
    assert_eq!(status, 200, "{login}");
    let refresh = login["refreshToken"].as_str().expect("refresh token in header mode").to_owned();
    let (status, own) = keyed_request(
        &world.server,
        "POST",
        "/api/data/secrets",
        (&a.pk, Some(&alice.token)),
        &[],
        Some(&json!({"title": "mine"})),
    );
    assert_eq!(status, 201, "{own}");
    let own_id = own["_id"].as_str().expect("id").to_owned();
    for server in [&world.server, &second] {
        let (status, list) = keyed_request(server, "GET", "/api/data/secrets", (&a.pk, Some(&alice.token)), &[], None);
        assert_eq!((status, list["data"]["items"].as_array().map(Vec::len)), (200, Some(1)), "{list}");
    }

    // The operator's list: both users, never a password hash.
    let (ok, users) = cli_lines(&world.backend, &["user", "list", "--project", &a.id]);
    assert!(ok);
    let emails: Vec<&str> = users.iter().filter_map(|u| u["email"].as_str()).collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
    assert!(users.iter().all(|u| u.get("password").is_none()), "{users:?}");
    let (ok, page) =
        cli_lines(&world.backend, &["user", "list", "--project", &a.id, "--after", &alice.id, "--limit", "1"]);
    assert!(ok);
    assert_eq!(page.iter().map(|u| u["_id"].clone()).collect::<Vec<_>>(), [json!(bob.id)]);

    // Delete alice (the e-mail as typed, in any case).
    let out = cli(&world.backend, &["user", "delete", "--project", &a.id, "--email", " Alice@Example.com "]);
    assert_eq!((&out["deleted"], &out["user"]["_id"]), (&json!(true), &json!(alice.id)), "{out}");
    assert!(out["user"].get("password").is_none(), "{out}");

    // Every server answers her token as it answers a forged one, within a second.
    let forged = Some(world.stranger.token.as_str());
    let requests: [(&str, String, Option<Value>); 6] = [
        ("POST", "/api/data/secrets".to_owned(), Some(json!({"title": "after"}))),
        ("GET", "/api/data/secrets".to_owned(), None),
        ("GET", format!("/api/data/secrets/{own_id}"), None),
        ("PATCH", format!("/api/data/secrets/{own_id}"), Some(json!({"title": "changed"}))),
        ("POST", "/api/data/posts".to_owned(), Some(json!({"title": "after"}))),
        ("GET", "/api/data/posts".to_owned(), None),
    ];
    for server in [&world.server, &second] {
        let waited = within_propagation("her token refused", || {
            keyed_request(
                server,
                "POST",
                "/api/data/secrets",
                (&a.pk, Some(&alice.token)),
                &[],
                Some(&json!({"title": "x"})),
            )
            .0 == 401
        });
        eprintln!("refused after {waited:?}");
        for (method, path, body) in &requests {
            let hers = keyed_request(server, method, path, (&a.pk, Some(&alice.token)), &[], body.as_ref());
            let theirs = keyed_request(server, method, path, (&a.pk, forged), &[], body.as_ref());
            assert_eq!(hers, theirs, "{method} {path}");
            assert!(hers.0 == 401 || (method == &"GET" && path.ends_with("/posts")), "{method} {path}: {hers:?}");
        }
    }
    // Her refresh session is revoked and she cannot log in; her documents stay.
    let (status, body) = world.server.request(
        "POST",
        "/api/userAuth/refresh-token",
        &[("x-api-key", a.pk.as_str()), ("x-refresh-token", refresh.as_str())],
        None,
    );
    assert_eq!((status, &body["error"]), (403, &json!("Refresh token is invalid or already used")), "{body}");
    let (status, _) = world.server.request("POST", "/api/userAuth/login", &key, Some(&credentials));
    assert_ne!(status, 200);
    assert_eq!(world.stored(a, "secrets", &own_id).map(|d| d["title"].clone()), Some(json!("mine")));
    let (ok, users) = cli_lines(&world.backend, &["user", "list", "--project", &a.id]);
    assert!(ok);
    assert_eq!(users.iter().map(|u| u["_id"].clone()).collect::<Vec<_>>(), [json!(bob.id)]);

    // Bob, on both servers, and the other project's user with the same address, are untouched.
    for server in [&world.server, &second] {
        let (status, body) = keyed_request(
            server,
            "POST",
            "/api/data/secrets",
            (&a.pk, Some(&bob.token)),
            &[],
            Some(&json!({"title": "bob"})),
        );
        assert_eq!((status, &body["userId"]), (201, &json!(bob.id)), "{body}");
    }
    let stranger = Some(world.stranger.token.as_str());
    let (status, _) = keyed_request(&world.server, "GET", "/api/data/secrets", (&world.b.pk, stranger), &[], None);
    assert_eq!(status, 200);

    // `project token` signs only for users the project has.
    let token = cli(&world.backend, &["project", "token", "--project", &a.id, "--user", &bob.id]);
    let (status, _) =
        keyed_request(&world.server, "GET", "/api/data/secrets", (&a.pk, token["token"].as_str()), &[], None);
    assert_eq!(status, 200);
    let (ok, _) = cli_lines(&world.backend, &["project", "token", "--project", &a.id, "--user", &alice.id]);
    assert!(!ok, "no token for a deleted user");

    // Deleting again finds nobody; deleting by id works; a delete without a user is refused.
    let again = cli(&world.backend, &["user", "delete", "--project", &a.id, "--id", &alice.id]);
    assert_eq!(again, json!({"deleted": false}));
    let by_id = cli(&world.backend, &["user", "delete", "--project", &a.id, "--id", &bob.id]);
    assert_eq!(by_id["deleted"], json!(true));
    let (ok, _) = cli_lines(&world.backend, &["user", "delete", "--project", &a.id]);
    assert!(!ok);
}

crate::on_both_lanes!(rotated_keys_are_refused_within_a_second, a_deleted_user_loses_access_within_a_second);
