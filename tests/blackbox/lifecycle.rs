//! Configuration and data over time: RLS toggled while the server runs (seen within a second),
//! two servers on one store, and a restart without losing acknowledged writes.

use std::time::{Duration, Instant};
use urbackend_tests::Lane;

use serde_json::json;
use urbackend_tests::Server;

use crate::fixture::{World, definition};

fn rls_changes_reach_a_running_server_within_a_second(lane: Lane) {
    let world = World::new("toggle", lane);
    let second = Server::start_with(&world.backend, &["--rate-limit-per-ip", "0"]);
    let alice = world.alice.token.clone();
    let bearer = format!("Bearer {alice}");
    let headers = [("x-api-key", world.a.pk.as_str()), ("Authorization", bearer.as_str())];
    for server in [&world.server, &second] {
        let (status, _) = server.request("POST", "/api/data/notes", &headers, Some(&json!({"title": "x"})));
        assert_eq!(status, 403, "RLS off: publishable writes are blocked");
    }
    world.a.put_collection(&world.backend, &world.dir, &definition("notes", "private"));
    let changed = Instant::now();
    for server in [&world.server, &second] {
        loop {
            let (status, body) = server.request("POST", "/api/data/notes", &headers, Some(&json!({"title": "x"})));
            if status == 201 {
                assert_eq!(body["userId"], json!(world.alice.id));
                break;
            }
            assert!(changed.elapsed() < Duration::from_secs(1), "a server did not see the change within a second");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (status, _) = second.request("GET", "/api/data/notes", &[("x-api-key", world.a.pk.as_str())], None);
    assert_eq!(status, 401, "now private: anonymous reads need a token");
}

fn two_servers_share_one_store_and_a_restart_loses_nothing(lane: Lane) {
    let world = World::new("shared", lane);
    let second = Server::start_with(&world.backend, &["--rate-limit-per-ip", "0"]);
    let mut ids = Vec::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &world.server } else { &second };
        let (status, body) = server.request(
            "POST",
            "/api/data/notes",
            &[("x-api-key", &world.a.sk)],
            Some(&json!({"title": format!("n{i}")})),
        );
        assert_eq!(status, 201, "{body}");
        ids.push(body["_id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let (status, _) = second.request("GET", &format!("/api/data/notes/{id}"), &[("x-api-key", &world.a.sk)], None);
        assert_eq!(status, 200);
    }
    second.kill();
    let World { server, backend, a, dir, mongo, .. } = world;
    server.kill();
    let restarted = Server::start(&backend);
    let (status, body) = restarted.request("GET", "/api/data/notes?count=true", &[("x-api-key", &a.sk)], None);
    assert_eq!((status, body["data"]["count"].clone()), (200, json!(20)));
    drop(restarted);
    drop((dir, mongo));
}

crate::on_both_lanes!(
    rls_changes_reach_a_running_server_within_a_second,
    two_servers_share_one_store_and_a_restart_loses_nothing
);

/// A lost MongoDB connection is a 503 in the error shape, and the server recovers by itself when
/// the database returns (jongodb keeps its data in memory, so it comes back empty).
#[test]
fn a_lost_database_is_a_503_and_the_server_recovers() {
    let mut mongo = urbackend_tests::MongoServer::jongodb(0);
    let port = mongo.port();
    let backend = urbackend_tests::Backend::Mongo(mongo.database_uri("recovery"));
    let dir = urbackend_tests::TempDir::new("recovery");
    let project = crate::fixture::Project::create(&backend, "recovery");
    project.put_collection(&backend, &dir, &definition("notes", "off"));
    let server = Server::start(&backend);
    let key = [("x-api-key", project.sk.as_str())];
    assert_eq!(server.request("GET", "/api/data/notes", &key, None).0, 200);

    mongo.kill();
    let (status, body) = server.request("GET", "/api/data/notes", &key, None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["error"], json!("Database unavailable. Please retry shortly."));
    let (status, _) = server.request("GET", "/api/health", &[], None);
    assert_eq!(status, 503, "readiness reports the lost database");

    let _again = urbackend_tests::MongoServer::jongodb(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = server.request("GET", "/api/data/notes", &key, None);
        if status == 200 {
            assert_eq!(body["data"]["total"], json!(0));
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover: {status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
