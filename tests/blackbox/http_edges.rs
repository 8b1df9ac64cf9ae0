//! The HTTP edges: root, health, unknown routes, malformed and oversized bodies, CORS.

use serde_json::json;
use urbackend_tests::Lane;
use urbackend_tests::{Server, TempDir};

use crate::fixture::{Project, backend};

fn edges_answer_in_the_wire_shape(lane: Lane) {
    let dir = TempDir::new("edges");
    let (backend, _mongo) = backend(&dir, "edges", lane);
    let project = Project::create(&backend, "edges");
    let server = Server::start_with(&backend, &["--max-body-bytes", "1000"]);

    assert_eq!(
        server.request("GET", "/", &[], None),
        (200, json!({"status": "success", "message": "urBackend API is running 🚀"}))
    );
    let (status, health) = server.request("GET", "/api/health", &[], None);
    assert_eq!((status, health["status"].clone()), (200, json!("ok")));
    let (status, body) = server.request("GET", "/api/nothing/here", &[], None);
    assert_eq!(
        (status, body),
        (404, json!({"success": false, "error": "Not Found", "code": 404, "message": "Not Found"}))
    );

    let raw = ureq::post(&format!("{}/api/data/users", server.base))
        .set("x-api-key", &project.sk)
        .set("content-type", "application/json")
        .send_string("{not json");
    let (status, body) = match raw {
        Err(ureq::Error::Status(code, response)) => (code, response.into_json::<serde_json::Value>().unwrap()),
        other => panic!("{other:?}"),
    };
    assert_eq!((status, body["error"].clone(), body["code"].clone()), (400, json!("Invalid JSON format"), json!(400)));

    let big = json!({"title": "x".repeat(5000)});
    let (status, body) = server.request("POST", "/api/data/users", &[("x-api-key", &project.sk)], Some(&big));
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["success"], json!(false));

    let preflight = ureq::request("OPTIONS", &format!("{}/api/data/posts", server.base))
        .set("Origin", "https://app.example")
        .set("Access-Control-Request-Headers", "x-api-key,content-type")
        .call()
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(preflight.header("access-control-allow-headers"), Some("x-api-key,content-type"));
    let response = ureq::get(&format!("{}/", server.base)).set("Origin", "https://app.example").call().unwrap();
    assert_eq!(response.header("access-control-allow-origin"), Some("https://app.example"));
}

fn rate_limits_answer_429_with_retry_after(lane: Lane) {
    let dir = TempDir::new("limits");
    let (backend, _mongo) = backend(&dir, "limits", lane);
    let server = Server::start_with(&backend, &["--rate-limit-per-ip", "5"]);
    let mut last = None;
    for _ in 0..10 {
        if let Err(ureq::Error::Status(429, response)) = ureq::get(&format!("{}/", server.base)).call() {
            last = Some((
                response.header("retry-after").map(str::to_owned),
                response.into_json::<serde_json::Value>().unwrap(),
            ));
            break;
        }
    }
    let (retry_after, body) = last.expect("a 429 within 10 requests");
    assert!(retry_after.and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s)));
    assert_eq!(body["error"], json!("Too many requests, please try again later."));
}

fn publishable_keys_are_bound_to_the_allowed_origins(lane: Lane) {
    let dir = TempDir::new("origins");
    let (backend, _mongo) = backend(&dir, "origins", lane);
    let project = Project::create(&backend, "origins");
    let out = urbackend_tests::cli(
        &backend,
        &["project", "set-origins", "--project", &project.id, "--origins", "https://app.example.com,*.example.org"],
    );
    assert_eq!(out["allowedDomains"], json!(["https://app.example.com", "*.example.org"]));
    let server = Server::start(&backend);
    let ask = |origin: Option<&str>| {
        let mut headers = vec![("x-api-key", project.pk.as_str())];
        if let Some(origin) = origin {
            headers.push(("Origin", origin));
        }
        server.request("GET", "/api/schemas/users", &headers, None)
    };
    // The change reaches the running server within a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while ask(Some("https://evil.example")).0 != 403 {
        assert!(std::time::Instant::now() < deadline, "the origin list was not applied");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(ask(Some("https://app.example.com")).0, 200);
    assert_eq!(ask(Some("https://shop.example.org")).0, 200);
    assert_eq!(ask(Some("https://example.org")).0, 200);
    for origin in ["https://app.example.com.evil.io", "https://evilexample.org", "null", "http://app.example.com"] {
        let (status, body) = ask(Some(origin));
        assert!(matches!(status, 400 | 403), "{origin}: {status} {body}");
    }
    let (status, body) = ask(None);
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("Forbidden: Origin header missing and this key is restricted to specific domains."))
    );
    let (status, _) = server.request("GET", "/api/schemas/users", &[("x-api-key", project.sk.as_str())], None);
    assert_eq!(status, 200, "the secret key is not bound to origins");
}

crate::on_both_lanes!(
    edges_answer_in_the_wire_shape,
    rate_limits_answer_429_with_retry_after,
    publishable_keys_are_bound_to_the_allowed_origins
);
