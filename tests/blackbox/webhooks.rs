//! Webhooks end to end (spec §11): a receiver on loopback, webhooks added through the command
//! line, servers started with private targets allowed (the receiver is on loopback) and a 1 s
//! first retry. Deliveries carry the §11.2 payload signed with the secret; a 500 is retried, a
//! 400 is not; unsubscribed collections and actions send nothing; an event written while the
//! receiver is down arrives once it is back; two servers on one store send each event once; and
//! without the allow flag a loopback target is refused, at `webhook add` and when delivering.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use urbackend_tests::webhook_receiver::{Received, Receiver};
use urbackend_tests::{Backend, Lane, MongoServer, Server, TempDir, binary, cli};

use crate::fixture::{Project, backend, definition};

const MASTER_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c";
const SECRET: &str = "whsec-test-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(15);

struct Setup {
    _mongo: Option<MongoServer>,
    dir: TempDir,
    backend: Backend,
    project: Project,
}

impl Setup {
    fn new(label: &str, lane: Lane) -> Setup {
        let dir = TempDir::new(label);
        let (backend, mongo) = backend(&dir, label, lane);
        let project = Project::create(&backend, label);
        for name in ["posts", "comments", "tags"] {
            project.put_collection(&backend, &dir, &definition(name, "off"));
        }
        Setup { _mongo: mongo, dir, backend, project }
    }

    /// Adds a webhook through the command line (private targets allowed there) and returns its id.
    fn add_webhook(&self, url: &str, events: &[&str]) -> String {
        let mut args = vec!["webhook", "add", "--project", &self.project.id, "--url", url, "--secret", SECRET];
        for spec in events {
            args.extend(["--events", spec]);
        }
        args.extend(["--webhook-allow-private-targets", "--master-key", MASTER_KEY]);
        let out = cli(&self.backend, &args);
        assert!(!out.to_string().contains(SECRET), "the secret is never printed: {out}");
        out["_id"].as_str().unwrap().to_owned()
    }

    fn server(&self, extra: &[&str]) -> Server {
        let mut flags =
            vec!["--master-key", MASTER_KEY, "--rate-limit-per-ip", "0", "--webhook-first-retry-seconds", "1"];
        flags.extend_from_slice(extra);
        Server::start_with(&self.backend, &flags)
    }

    fn allowed_server(&self) -> Server {
        self.server(&["--webhook-allow-private-targets", "--metrics-public"])
    }

    fn write(&self, server: &Server, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, reply) = server.request(method, path, &[("x-api-key", &self.project.sk)], body);
        assert!((200..300).contains(&status), "{method} {path}: {status} {reply}");
        reply
    }

    fn insert(&self, server: &Server, collection: &str, title: &str) -> String {
        let doc = self.write(server, "POST", &format!("/api/data/{collection}"), Some(&json!({"title": title})));
        doc["_id"].as_str().unwrap().to_owned()
    }
}

fn verify(received: &Received) -> Value {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(received.body.as_bytes());
    let header = received.header("x-urbackend-signature");
    let given = hex_decode(header.strip_prefix("sha256=").unwrap_or_else(|| panic!("signature {header:?}")));
    mac.verify_slice(&given).unwrap_or_else(|_| panic!("the signature does not verify: {received:#?}"));
    assert_eq!(received.method, "POST");
    assert_eq!(received.header("content-type"), "application/json");
    let payload: Value = serde_json::from_str(&received.body).unwrap();
    assert_eq!(received.header("x-urbackend-event"), payload["event"].as_str().unwrap());
    assert_eq!(received.header("x-urbackend-delivery-id").len(), 24, "{received:#?}");
    payload
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn insert_update_delete_are_delivered_signed_and_nothing_else(lane: Lane) {
    let setup = Setup::new("wh_deliver", lane);
    let receiver = Receiver::start();
    setup.add_webhook(&receiver.url("/hook"), &["posts:insert,update,delete", "comments:insert"]);
    let server = setup.allowed_server();
    let id = setup.insert(&server, "posts", "hello");
    let comment = setup.insert(&server, "comments", "c1");
    setup.insert(&server, "tags", "not subscribed");
    let bulk = json!([{"title": "b1"}, {"title": "b2"}]);
    setup.write(&server, "POST", "/api/data/comments/bulk", Some(&bulk));
    setup.write(&server, "POST", "/api/data/tags/bulk", Some(&bulk));
    setup.write(&server, "PATCH", &format!("/api/data/posts/{id}"), Some(&json!({"title": "changed"})));
    setup.write(&server, "DELETE", &format!("/api/data/comments/{comment}"), None);
    setup.write(&server, "DELETE", &format!("/api/data/posts/{id}"), None);
    receiver.wait_for(6, WAIT);
    std::thread::sleep(Duration::from_secs(2));
    let received = receiver.received();
    let mut events: Vec<String> = received.iter().map(|r| r.header("x-urbackend-event").to_owned()).collect();
    events.sort();
    let expected =
        ["comments.insert", "comments.insert", "comments.insert", "posts.delete", "posts.insert", "posts.update"];
    assert_eq!(events, expected, "{received:#?}");
    let mut titles: Vec<String> = received
        .iter()
        .filter(|r| r.header("x-urbackend-event") == "comments.insert")
        .map(|r| verify(r)["data"]["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["b1", "b2", "c1"], "each document of a bulk insert is announced");
    for r in &received {
        assert_eq!(r.path, "/hook");
        let payload = verify(r);
        assert_eq!(payload["projectId"], json!(setup.project.id));
        let keys: Vec<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["event", "timestamp", "projectId", "collection", "action", "documentId", "data"]);
        assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(payload["data"]["_id"], payload["documentId"]);
        match payload["event"].as_str().unwrap() {
            "posts.insert" => {
                assert_eq!((&payload["data"]["title"], &payload["documentId"]), (&json!("hello"), &json!(id)))
            }
            "posts.update" => {
                assert_eq!((&payload["action"], &payload["data"]["title"]), (&json!("update"), &json!("changed")))
            }
            "posts.delete" => {
                assert_eq!((&payload["collection"], &payload["data"]["title"]), (&json!("posts"), &json!("changed")))
            }
            _ if payload["data"]["title"] == json!("c1") => assert_eq!(payload["documentId"], json!(comment)),
            _ => assert_eq!(payload["event"], json!("comments.insert")),
        }
    }
}

fn a_500_is_retried_and_a_400_is_not(lane: Lane) {
    let setup = Setup::new("wh_retry", lane);
    let receiver = Receiver::start();
    receiver.answer(&[500]);
    setup.add_webhook(&receiver.url("/hook"), &["posts:insert"]);
    let server = setup.allowed_server();
    setup.insert(&server, "posts", "first");
    let received = receiver.wait_for(2, WAIT);
    assert_eq!((received[0].answered, received[1].answered), (500, 200));
    assert_eq!(received[0].body, received[1].body, "a retry sends the same bytes");
    assert_eq!(received[0].header("x-urbackend-delivery-id"), received[1].header("x-urbackend-delivery-id"));
    verify(&received[1]);

    receiver.answer(&[400]);
    setup.insert(&server, "posts", "second");
    let received = receiver.wait_for(3, WAIT);
    assert_eq!(received[2].answered, 400);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(receiver.received().len(), 3, "a 400 is not retried (the first retry would come after 1 s)");
    // Both failed attempts (the 500 and the 400) are counted; nothing is left waiting.
    let (status, text) = crate::analytics::metrics_text(&server, None);
    assert_eq!(status, 200);
    let value = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<f64>().ok())).unwrap_or(-1.0)
    };
    assert_eq!(value("urbackend_webhook_delivery_failures_total "), 2.0, "{text}");
    assert_eq!(value("urbackend_webhook_queue_depth "), 0.0, "{text}");
    // The attempt log, newest first, through the command line.
    let log = cli(&setup.backend, &["webhook", "deliveries", "--project", &setup.project.id]);
    let entries: Vec<(&str, i64, i64)> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["status"].as_str().unwrap(), d["statusCode"].as_i64().unwrap(), d["attemptNumber"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(entries, [("failed", 400, 1), ("success", 200, 2), ("failed", 500, 1)], "{log}");
    let other = Project::create(&setup.backend, "wh_retry_other");
    let log = cli(&setup.backend, &["webhook", "deliveries", "--project", &other.id]);
    assert_eq!(log["deliveries"], json!([]), "another project sees none of them");
}

fn an_event_written_while_the_receiver_is_down_arrives_when_it_is_back(lane: Lane) {
    let setup = Setup::new("wh_down", lane);
    let mut receiver = Receiver::stopped();
    setup.add_webhook(&receiver.url("/hook"), &["posts:insert"]);
    let server = setup.allowed_server();
    let id = setup.insert(&server, "posts", "while down");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(receiver.received().is_empty());
    receiver.restart();
    let received = receiver.wait_for(1, WAIT);
    assert_eq!(verify(&received[0])["documentId"], json!(id));
}

fn two_servers_on_one_store_deliver_each_event_exactly_once(lane: Lane) {
    let setup = Setup::new("wh_once", lane);
    let receiver = Receiver::start();
    // A slow target: each delivery stays in flight while the other server polls.
    receiver.delay(Duration::from_millis(150));
    setup.add_webhook(&receiver.url("/hook"), &["posts:insert"]);
    let first = setup.allowed_server();
    let second = setup.allowed_server();
    let total = 24;
    for i in 0..total {
        setup.insert(if i % 2 == 0 { &first } else { &second }, "posts", &format!("p{i}"));
    }
    let per_delivery = || {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for r in receiver.received() {
            *counts.entry(r.header("x-urbackend-delivery-id").to_owned()).or_default() += 1;
        }
        counts
    };
    let deadline = std::time::Instant::now() + WAIT;
    while per_delivery().len() < total {
        assert!(std::time::Instant::now() < deadline, "not every event arrived: {:?}", per_delivery());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let counts = per_delivery();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(counts.len(), total, "one delivery id per event");
}

fn a_loopback_target_is_refused_without_the_allow_flag(lane: Lane) {
    let setup = Setup::new("wh_ssrf", lane);
    let receiver = Receiver::start();
    let output = Command::new(binary())
        .args(["webhook", "add", "--project", &setup.project.id, "--url", &receiver.url("/hook")])
        .args(["--secret", SECRET, "--events", "posts:insert", "--master-key", MASTER_KEY])
        .args(setup.backend.args())
        .env_remove("URBACKEND_WEBHOOK_ALLOW_PRIVATE_TARGETS")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"), "{output:?}");
    let listed = cli(&setup.backend, &["webhook", "list", "--project", &setup.project.id]);
    assert_eq!(listed["webhooks"], json!([]));

    // A host name is checked when delivering, on the addresses it resolves to.
    let url = format!("http://localhost:{}/hook", receiver.port());
    let id = setup.add_webhook(&url, &["posts:insert"]);
    let listed = cli(&setup.backend, &["webhook", "list", "--project", &setup.project.id]);
    assert_eq!(listed["webhooks"][0]["_id"], json!(id));
    assert_eq!(listed["webhooks"][0]["url"], json!(url));
    let server = setup.server(&[]);
    setup.insert(&server, "posts", "never sent");
    std::thread::sleep(Duration::from_secs(3));
    assert!(receiver.received().is_empty(), "the loopback target was called");

    let removed = cli(&setup.backend, &["webhook", "remove", "--project", &setup.project.id, "--id", &id]);
    assert_eq!(removed["removed"], json!(id));
    drop(setup.dir);
}

crate::on_both_lanes!(
    insert_update_delete_are_delivered_signed_and_nothing_else,
    a_500_is_retried_and_a_400_is_not,
    an_event_written_while_the_receiver_is_down_arrives_when_it_is_back,
    two_servers_on_one_store_deliver_each_event_exactly_once,
    a_loopback_target_is_refused_without_the_allow_flag,
);
