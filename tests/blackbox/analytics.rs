//! The operator endpoints: admin tokens from the command line, per-project analytics computed
//! from the request log (counts per endpoint pattern, status class and day, latency percentiles,
//! users), and `/metrics` in Prometheus text format; API keys never open them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, Server, TempDir, cli};

use crate::fixture::{Project, User, backend, definition};

fn admin_token(backend: &Backend) -> (String, String) {
    let out = cli(backend, &["admin", "token"]);
    (out["token"].as_str().unwrap().to_owned(), out["id"].as_str().unwrap().to_owned())
}

fn analytics(server: &Server, project: &str, query: &str, token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    server.request(
        "GET",
        &format!("/api/admin/projects/{project}/analytics{query}"),
        &[("Authorization", &bearer)],
        None,
    )
}

/// The raw text answer of `GET /metrics`.
pub(crate) fn metrics_text(server: &Server, token: Option<&str>) -> (u16, String) {
    let mut request = ureq::get(&format!("{}/metrics", server.base));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    match request.call() {
        Ok(response) => (response.status(), response.into_string().unwrap()),
        Err(ureq::Error::Status(status, response)) => (status, response.into_string().unwrap()),
        Err(error) => panic!("{error}"),
    }
}

fn count_of(list: &Value, key: &str, name: &str) -> u64 {
    list.as_array().unwrap().iter().find(|item| item[key] == name).map_or(0, |item| item["count"].as_u64().unwrap())
}

fn analytics_count_requests_per_endpoint_status_class_and_day(lane: Lane) {
    let dir = TempDir::new("analytics");
    let (backend, _mongo) = backend(&dir, "analytics", lane);
    let project = Project::create(&backend, "measured");
    project.put_collection(&backend, &dir, &definition("notes", "off"));
    let server = crate::storage::start(&backend, &dir, &[]);
    let pk = [("x-api-key", project.pk.as_str())];
    let (status, _) =
        server.request("POST", "/api/data/notes", &[("x-api-key", &project.sk)], Some(&json!({"title": "a"})));
    assert_eq!(status, 201);
    for _ in 0..5 {
        assert_eq!(server.request("GET", "/api/data/notes", &pk, None).0, 200);
    }
    for _ in 0..2 {
        assert_eq!(server.request("GET", "/api/data/notes/0123456789abcdef01234567", &pk, None).0, 404);
    }
    assert_eq!(server.request("GET", "/api/userAuth/me", &pk, None).0, 401);
    User::sign_up(&server, &project, "one@example.com");
    User::sign_up(&server, &project, "two@example.com");
    // 1 insert, 5 lists, 2 misses, 1 refused, 2 signups and 2 logins.
    let total = 13;
    let (token, token_id) = admin_token(&backend);
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (status, body) = analytics(&server, &project.id, "", &token);
        assert_eq!(status, 200, "{body}");
        if body["requests"]["total"] == total {
            break body;
        }
        assert!(Instant::now() < deadline, "the request log was not flushed: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(body["projectId"], json!(project.id));
    let endpoints = &body["requests"]["perEndpoint"];
    assert_eq!(count_of(endpoints, "endpoint", "GET /api/data/{collection}"), 5, "{body}");
    assert_eq!(count_of(endpoints, "endpoint", "GET /api/data/{collection}/{id}"), 2, "{body}");
    assert_eq!(count_of(endpoints, "endpoint", "POST /api/data/{collection}"), 1, "{body}");
    assert_eq!(count_of(endpoints, "endpoint", "GET /api/userAuth/me"), 1, "{body}");
    assert_eq!(count_of(endpoints, "endpoint", "POST /api/userAuth/signup"), 2, "{body}");
    assert_eq!(count_of(endpoints, "endpoint", "POST /api/userAuth/login"), 2, "{body}");
    assert_eq!(body["requests"]["perStatusClass"], json!({"2xx": 10, "3xx": 0, "4xx": 3, "5xx": 0}), "{body}");
    let days = body["requests"]["perDay"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the default window is 30 days");
    assert_eq!(days.last().unwrap(), &json!({"date": body["to"], "count": total}));
    assert_eq!(days.first().unwrap()["date"], body["from"]);
    assert_eq!(days.iter().map(|d| d["count"].as_u64().unwrap()).sum::<u64>(), total);
    let (p50, p95) = (body["latencyMs"]["p50"].as_f64().unwrap(), body["latencyMs"]["p95"].as_f64().unwrap());
    assert!(p50 >= 0.0 && p50 <= p95, "{body}");
    assert_eq!((body["users"].clone(), body["storageBytes"].clone()), (json!(2), json!(0)));
    let (status, week) = analytics(&server, &project.id, "?days=7", &token);
    assert_eq!((status, week["requests"]["perDay"].as_array().unwrap().len()), (200, 7));
    for bad in ["?days=0", "?days=367", "?days=x"] {
        assert_eq!(analytics(&server, &project.id, bad, &token).0, 400, "{bad}");
    }
    // The bytes of the project's files come from the storage quota ledger.
    let uploaded = crate::storage::upload(&server, &project.sk, "a.png", "image/png", &crate::storage::png(5000));
    assert_eq!(uploaded.status, 201);
    let (status, body) = analytics(&server, &project.id, "", &token);
    assert_eq!((status, body["storageBytes"].clone()), (200, json!(5000)), "{body}");
    let (status, body) = analytics(&server, "0123456789abcdef01234567", "", &token);
    assert_eq!((status, body["success"].clone(), body["code"].clone()), (404, json!(false), json!(404)));
    // A revoked token opens nothing.
    cli(&backend, &["admin", "token", "--revoke", &token_id]);
    assert_eq!(analytics(&server, &project.id, "", &token).0, 401);
}

fn admin_endpoints_refuse_missing_wrong_and_api_key_credentials(lane: Lane) {
    let dir = TempDir::new("admin-auth");
    let (backend, _mongo) = backend(&dir, "admin_auth", lane);
    let project = Project::create(&backend, "guarded");
    let server = Server::start(&backend);
    let (token, _) = admin_token(&backend);
    let path = format!("/api/admin/projects/{}/analytics", project.id);
    let wrong = format!("{}x", &token);
    let attempts: [&[(&str, &str)]; 6] = [
        &[],
        &[("Authorization", "Bearer ")],
        &[("Authorization", &format!("Bearer {wrong}"))],
        &[("Authorization", &format!("Bearer {}", project.sk))],
        &[("Authorization", &format!("Bearer {}", project.pk))],
        &[("x-api-key", &project.sk)],
    ];
    for headers in attempts {
        let (status, body) = server.request("GET", &path, headers, None);
        assert_eq!(status, 401, "{headers:?}: {body}");
        assert_eq!((body["success"].clone(), body["code"].clone()), (json!(false), json!(401)), "{body}");
        assert!(body["error"].as_str().unwrap().contains("admin token"), "{body}");
    }
    assert_eq!(analytics(&server, &project.id, "", &token).0, 200);
    assert_eq!(metrics_text(&server, None).0, 401);
    assert_eq!(metrics_text(&server, Some(&project.sk)).0, 401);
}

fn metrics_count_requests_by_route_and_status(lane: Lane) {
    let dir = TempDir::new("metrics");
    let (backend, _mongo) = backend(&dir, "metrics", lane);
    let project = Project::create(&backend, "metered");
    project.put_collection(&backend, &dir, &definition("notes", "off"));
    let server = Server::start(&backend);
    for _ in 0..3 {
        assert_eq!(server.request("GET", "/api/data/notes", &[("x-api-key", &project.pk)], None).0, 200);
    }
    let (token, _) = admin_token(&backend);
    let (status, text) = metrics_text(&server, Some(&token));
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(r#"urbackend_http_requests_total{method="GET",route="/api/data/{collection}",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains("# TYPE urbackend_http_request_duration_seconds histogram"), "{text}");
    assert!(text.contains(r#"urbackend_http_request_duration_seconds_bucket{method="GET",route="/api/data/{collection}",status="200",le="10"} 3"#), "{text}");
    assert!(
        text.contains(r#"urbackend_store_operation_duration_seconds_count{operation="find",outcome="ok"}"#),
        "{text}"
    );
    assert!(text.contains("urbackend_webhook_queue_depth 0"), "{text}");
    assert!(text.contains("urbackend_webhook_delivery_failures_total 0"), "{text}");
    if matches!(lane, Lane::Embedded) {
        assert!(text.contains("urbackend_store_readers_in_use "), "{text}");
        assert!(text.lines().any(|l| l.starts_with("urbackend_store_readers_max ") && !l.ends_with(" 0")), "{text}");
    } else {
        let open = text.lines().find_map(|l| l.strip_prefix("urbackend_mongo_connections_open "));
        assert!(open.is_some_and(|n| n.parse::<f64>().is_ok_and(|n| n >= 1.0)), "the pool has connections: {text}");
        assert!(text.contains("urbackend_mongo_connections_in_use "), "{text}");
        assert!(text.contains("urbackend_mongo_connection_checkout_failures_total 0"), "{text}");
    }
    drop(server);
    let open = Server::start_with(&backend, &["--metrics-public"]);
    let (status, text) = metrics_text(&open, None);
    assert_eq!(status, 200, "--metrics-public opens /metrics: {text}");
    assert!(text.contains("urbackend_webhook_queue_depth"), "{text}");
}

crate::on_both_lanes!(
    analytics_count_requests_per_endpoint_status_class_and_day,
    admin_endpoints_refuse_missing_wrong_and_api_key_credentials,
    metrics_count_requests_by_route_and_status
);
