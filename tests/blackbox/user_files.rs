//! Uploads by end users (off by default): with the project's `userFileUploads` switched on
//! through `urbackend project set-user-file-uploads`, a publishable key with a valid user token
//! may upload (multipart and the three-step flow), confirm and delete, only inside
//! `<projectId>/users/<userId>/`. Another user cannot confirm or delete those files, delete-all
//! stays secret-key only, no token is 401, and switching it off brings back the 403 of the
//! original. The secret key still reaches every folder.

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, Server, TempDir, cli};

use crate::fixture::{Project, User, backend};
use crate::storage::{SK_ONLY, assert_refused, multipart, png, raw, start};

const NO_TOKEN: &str = "Provide a valid user Bearer token for write operations.";

fn set_uploads(backend: &Backend, project: &Project, enabled: bool) {
    let out = cli(
        backend,
        &["project", "set-user-file-uploads", "--project", &project.id, "--enabled", &enabled.to_string()],
    );
    assert_eq!(out["userFileUploads"], json!(enabled), "{out}");
    // A running server sees the change at its next poll of the change token (every 250 ms).
    std::thread::sleep(std::time::Duration::from_millis(750));
}

/// A caller: the publishable key with a token, or a key alone.
struct Caller<'a> {
    server: &'a Server,
    key: &'a str,
    token: Option<&'a str>,
}

impl Caller<'_> {
    fn headers(&self) -> Vec<(&str, String)> {
        let mut headers = vec![("x-api-key", self.key.to_owned())];
        if let Some(token) = self.token {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        headers
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let headers = self.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.server.request(method, path, &headers, Some(body))
    }

    fn upload(&self, filename: &str) -> (u16, Value) {
        let (content_type, body) = multipart("file", filename, "image/png", &png(300));
        let mut headers = self.headers();
        headers.push(("Content-Type", content_type));
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = raw("POST", &format!("{}/api/storage/upload", self.server.base), &headers, Some(&body));
        (answer.status, answer.json())
    }

    /// The three-step flow; the confirmed body.
    fn upload_in_three_steps(&self, filename: &str) -> Value {
        let request = json!({"filename": filename, "contentType": "image/png", "size": 300});
        let (status, granted) = self.call("POST", "/api/storage/upload-request", &request);
        assert_eq!(status, 200, "{granted}");
        let put = raw("PUT", granted["signedUrl"].as_str().unwrap(), &[("Content-Type", "image/png")], Some(&png(300)));
        assert_eq!(put.status, 200, "{:?}", put.json());
        let (status, confirmed) =
            self.call("POST", "/api/storage/upload-confirm", &json!({"filePath": granted["filePath"], "size": 300}));
        assert_eq!(status, 200, "{confirmed}");
        confirmed
    }
}

fn users_upload_into_their_own_folder_when_the_project_allows_it(lane: Lane) {
    let dir = TempDir::new("user-files");
    let (backend, _mongo) = backend(&dir, "user_files", lane);
    let project = Project::create(&backend, "Acme");
    let other = Project::create(&backend, "Other");
    let server = start(&backend, &dir, &[]);
    let alice = User::sign_up(&server, &project, "alice@example.com");
    let bob = User::sign_up(&server, &project, "bob@example.com");
    let stranger = User::sign_up(&server, &other, "eve@example.com");
    let as_alice = Caller { server: &server, key: &project.pk, token: Some(&alice.token) };
    let as_bob = Caller { server: &server, key: &project.pk, token: Some(&bob.token) };
    let secret = Caller { server: &server, key: &project.sk, token: None };

    // Off by default: the original's 403, token or not.
    let (status, body) = as_alice.upload("a.png");
    assert_refused((status, &body), 403, SK_ONLY);

    set_uploads(&backend, &project, true);
    // No token, a token of another project, a broken token: 401, nothing stored.
    for token in [None, Some(stranger.token.as_str()), Some("not.a.token")] {
        let caller = Caller { server: &server, key: &project.pk, token };
        let (status, body) = caller.upload("a.png");
        assert_refused((status, &body), 401, NO_TOKEN);
        let (status, body) = caller.call("POST", "/api/storage/upload-request", &json!({}));
        assert_refused((status, &body), 401, NO_TOKEN);
    }

    // Alice uploads both ways, into her folder; the files are served at their URLs.
    let folder = format!("{}/users/{}/", project.id, alice.id);
    let (status, uploaded) = as_alice.upload("../../escape.png");
    assert_eq!(status, 201, "{uploaded}");
    let first = uploaded["path"].as_str().unwrap().to_owned();
    assert!(first.starts_with(&folder) && first.ends_with("_escape.png"), "{uploaded}");
    let confirmed = as_alice.upload_in_three_steps("b.png");
    let second = confirmed["path"].as_str().unwrap().to_owned();
    assert!(second.starts_with(&folder), "{confirmed}");
    for answer in [&uploaded, &confirmed] {
        let got = raw("GET", answer["url"].as_str().unwrap(), &[], None);
        assert_eq!((got.status, got.body.len()), (200, 300));
    }

    // Bob can neither confirm nor delete Alice's files, nor name paths outside his folder.
    for path in [&first, &second] {
        let (status, body) = as_bob.call("DELETE", "/api/storage/file", &json!({"path": path}));
        assert_refused((status, &body), 403, "Access denied.");
        let (status, body) =
            as_bob.call("POST", "/api/storage/upload-confirm", &json!({"filePath": path, "size": 300}));
        assert_refused((status, &body), 403, "Access denied.");
    }
    let (status, body) = as_bob.call("DELETE", "/api/storage/file", &json!({"path": format!("{}/x.png", project.id)}));
    assert_refused((status, &body), 403, "Access denied.");
    assert_eq!(raw("GET", uploaded["url"].as_str().unwrap(), &[], None).status, 200, "Alice's file is still there");
    // Delete-all stays with the secret key.
    let (status, body) = as_alice.call("DELETE", "/api/storage/all", &json!({}));
    assert_refused((status, &body), 403, SK_ONLY);

    // Alice deletes her own file; the secret key deletes the other one.
    let (status, body) = as_alice.call("DELETE", "/api/storage/file", &json!({"path": first}));
    assert_eq!((status, body), (200, json!({"message": "File deleted successfully"})));
    assert_eq!(raw("GET", uploaded["url"].as_str().unwrap(), &[], None).status, 404);
    let (status, _) = secret.call("DELETE", "/api/storage/file", &json!({"path": second}));
    assert_eq!(status, 200);
    assert_eq!(raw("GET", confirmed["url"].as_str().unwrap(), &[], None).status, 404);

    // Switched off again: 403 as before.
    set_uploads(&backend, &project, false);
    let (status, body) = as_alice.upload("c.png");
    assert_refused((status, &body), 403, SK_ONLY);
}

crate::on_both_lanes!(users_upload_into_their_own_folder_when_the_project_allows_it);
