//! `/api/storage` on S3-compatible buckets, against a real S3 service (moto, started by each
//! test on loopback): the server's own bucket (`serve --s3-*`, `provider: "internal"`) and a
//! project's own bucket (`project set-storage`, `provider: "external"`). The SDKs' three-step
//! flow with a real PUT of the bytes to the presigned URL, the object checked in the bucket from
//! outside, the multipart upload streamed to the bucket, the public URLs, the checks of a direct
//! upload at confirmation (size off the declared one, above the limit, a type that is not
//! allowed, the quota: each refusal deletes the object), delete and delete-all emptying the
//! bucket, and the bad actors: another project's secret key, a publishable key, and an end user
//! (user uploads on) who tries to put more bytes than declared through their upload URL.

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, S3Service, Server, TempDir, binary, cli};

use crate::fixture::{Project, backend};
use crate::storage::{SK_ONLY, assert_answer, assert_refused, png, raw, upload};

const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const SECRET: &str = "moto-secret-access-key";
const NOT_READY: &str = "Uploaded file is not visible yet. Please retry confirmation.";
const MISMATCH: &str = "Declared file size does not match uploaded file size.";

/// A server with its own files in `bucket` of `s3` (the secret key from the environment).
fn start_on_bucket(backend: &Backend, s3: &S3Service, bucket: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--rate-limit-per-ip", "0", "--s3-bucket", bucket, "--s3-endpoint", &s3.endpoint];
    args.extend_from_slice(&["--s3-region", "us-east-1", "--s3-access-key-id", "moto-key"]);
    args.extend_from_slice(extra);
    Server::start_with_env(backend, &args, &[("URBACKEND_S3_SECRET_ACCESS_KEY", SECRET)])
}

/// The storage calls of one project.
struct Client<'a> {
    server: &'a Server,
    key: &'a str,
}

impl Client<'_> {
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.server.request("POST", path, &[("x-api-key", self.key)], Some(body))
    }

    fn request_upload(&self, filename: &str, content_type: &str, size: usize) -> (u16, Value) {
        self.post(
            "/api/storage/upload-request",
            &json!({"filename": filename, "contentType": content_type, "size": size}),
        )
    }

    fn confirm(&self, path: &str, size: usize) -> (u16, Value) {
        self.post("/api/storage/upload-confirm", &json!({"filePath": path, "size": size}))
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        self.server.request("DELETE", "/api/storage/file", &[("x-api-key", self.key)], Some(&json!({"path": path})))
    }

    /// upload-request, then the bytes PUT to the presigned URL as the SDKs do; the object path.
    fn put_direct(&self, filename: &str, content_type: &str, declared: usize, bytes: &[u8]) -> String {
        let (status, granted) = self.request_upload(filename, content_type, declared);
        assert_eq!(status, 200, "{granted}");
        let url = granted["signedUrl"].as_str().expect("signedUrl");
        let put = raw("PUT", url, &[("Content-Type", content_type)], Some(bytes));
        assert_eq!(put.status, 200, "PUT to {url}: {}", String::from_utf8_lossy(&put.body));
        granted["filePath"].as_str().expect("filePath").to_owned()
    }
}

/// Everything a bucket-backed project does, checked in `bucket` from outside. `public` is the
/// base of the files' public URLs.
fn exercise(s3: &S3Service, bucket: &str, public: &str, provider: &str, owner: &Client<'_>, other: &Client<'_>) {
    // 1. upload-request: a presigned PUT URL of the bucket, path-style, no token.
    let (status, granted) = owner.request_upload("my photo.png", "image/png", 1000);
    assert_eq!(status, 200, "{granted}");
    let path = granted["filePath"].as_str().unwrap().to_owned();
    let signed = granted["signedUrl"].as_str().unwrap();
    assert!(signed.starts_with(&format!("{}/{bucket}/{path}?", s3.endpoint)), "{granted}");
    assert!(signed.contains("X-Amz-Signature=") && !signed.contains(SECRET), "{granted}");
    assert!(granted.get("token").is_none(), "{granted}");
    // Nothing is confirmed before the bytes are there.
    assert_answer(owner.confirm(&path, 1000), 409, NOT_READY);
    // 2. the bytes, straight to the bucket.
    let put = raw("PUT", signed, &[("Content-Type", "image/png")], Some(&png(1000)));
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    // The bad actors cannot confirm it.
    assert_answer(other.confirm(&path, 1000), 403, "Access denied.");
    // 3. confirm, twice (the second changes nothing).
    let url = format!("{public}/{path}");
    let expected = json!({"message": "Upload confirmed", "path": path, "provider": provider, "url": url});
    for _ in 0..2 {
        let (status, confirmed) = owner.confirm(&path, 1000);
        assert_eq!((status, &confirmed), (200, &expected));
    }
    let object = s3.object(bucket, &path);
    assert_eq!((object.status, object.bytes.as_slice()), (200, png(1000).as_slice()));
    assert_eq!(object.content_type.as_deref(), Some("image/png"));
    // The returned URL is the object's (read as the owner: public access is the bucket's policy).
    let served = urbackend_tests::s3_get(&url);
    assert_eq!((served.status, served.bytes.as_slice()), (200, png(1000).as_slice()));
    // Another project cannot delete it.
    assert_answer(other.delete(&path), 403, "Access denied.");
    assert_eq!(s3.object(bucket, &path).status, 200);

    // A size off the declared one by more than 64 bytes: refused, and the object deleted.
    let lied = owner.put_direct("lie.png", "image/png", 1000, &png(1200));
    assert_answer(owner.confirm(&lied, 1000), 400, MISMATCH);
    assert_eq!(s3.object(bucket, &lied).status, 404);
    // Within 64 bytes is fine (the original's tolerance).
    let close = owner.put_direct("close.png", "image/png", 1000, &png(1050));
    assert_eq!(owner.confirm(&close, 1000).0, 200);
    // Above the largest file (4096 bytes), even when declared honestly at confirmation.
    let big = owner.put_direct("big.png", "image/png", 1000, &png(5000));
    assert_answer(owner.confirm(&big, 5000), 413, "File size exceeds limit.");
    assert_eq!(s3.object(bucket, &big).status, 404);
    // A type decided from the bytes: HTML is not allowed, PNG bytes are not a JPEG.
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let page = owner.put_direct("page.html", "text/html", html.len(), html);
    assert_answer(owner.confirm(&page, html.len()), 415, "File type text/html is not allowed.");
    assert_eq!(s3.object(bucket, &page).status, 404);
    let disguised = owner.put_direct("x.jpg", "image/jpeg", 1000, &png(1000));
    let (status, body) = owner.confirm(&disguised, 1000);
    assert_refused((status, &body), 415, "File content (image/png) does not match the declared type (image/jpeg).");
    assert_eq!(s3.object(bucket, &disguised).status, 404);

    // The multipart upload goes to the bucket too.
    let sent = upload(owner.server, owner.key, "doc.png", "image/png", &png(3000));
    let answer = sent.json();
    assert_eq!(sent.status, 201, "{answer}");
    let multipart_path = answer["path"].as_str().unwrap().to_owned();
    assert_eq!(
        answer,
        json!({"message": "File uploaded successfully", "url": format!("{public}/{multipart_path}"),
            "path": multipart_path, "provider": provider})
    );
    let object = s3.object(bucket, &multipart_path);
    assert_eq!(object.bytes, png(3000));
    // The bucket serves it with the type decided from its bytes.
    assert_eq!(object.content_type.as_deref(), Some("image/png"));
    let too_big = upload(owner.server, owner.key, "big.png", "image/png", &png(5000));
    assert_eq!(too_big.status, 413);

    // delete, then delete-all, empty the project's part of the bucket.
    let (status, body) = owner.delete(&path);
    assert_eq!((status, body), (200, json!({"message": "File deleted successfully"})));
    assert_eq!(s3.object(bucket, &path).status, 404);
    let prefix = format!("{}/", path.split('/').next().unwrap());
    assert_eq!(s3.keys(bucket, &prefix).len(), 2, "{:?}", s3.keys(bucket, &prefix));
    let (status, body) = owner.server.request("DELETE", "/api/storage/all", &[("x-api-key", owner.key)], None);
    assert_eq!((status, body), (200, json!({"success": true, "deleted": 2, "provider": provider})));
    assert!(s3.keys(bucket, &prefix).is_empty(), "{:?}", s3.keys(bucket, &prefix));
}

fn server_bucket_three_step_multipart_and_delete(lane: Lane) {
    let dir = TempDir::new("storage-s3");
    let (backend, _mongo) = backend(&dir, "storage_s3", lane);
    let s3 = S3Service::start();
    s3.create_bucket("server-files");
    let a = Project::create(&backend, "Acme");
    let b = Project::create(&backend, "Other");
    let server = start_on_bucket(&backend, &s3, "server-files", &["--max-file-bytes", "4096"]);
    let owner = Client { server: &server, key: &a.sk };
    let other = Client { server: &server, key: &b.sk };
    // A publishable key gets nothing.
    let publishable = Client { server: &server, key: &a.pk };
    assert_answer(publishable.request_upload("a.png", "image/png", 10), 403, SK_ONLY);
    assert_answer(publishable.confirm(&format!("{}/x.png", a.id), 10), 403, SK_ONLY);
    let public = format!("{}/server-files", s3.endpoint);
    exercise(&s3, "server-files", &public, "internal", &owner, &other);
    // Nothing was written to the local files directory.
    assert!(!dir.path().join("data").join("files").exists());
}

fn server_bucket_quota_is_charged_once_at_confirmation(lane: Lane) {
    let dir = TempDir::new("storage-s3-quota");
    let (backend, _mongo) = backend(&dir, "storage_s3_quota", lane);
    let s3 = S3Service::start();
    s3.create_bucket("quota-files");
    let a = Project::create(&backend, "Acme");
    let public = "https://cdn.example.com/files";
    let server =
        start_on_bucket(&backend, &s3, "quota-files", &["--storage-quota-bytes", "2500", "--s3-public-url", public]);
    let owner = Client { server: &server, key: &a.sk };
    let first = owner.put_direct("a.png", "image/png", 1000, &png(1000));
    for _ in 0..3 {
        let (status, body) = owner.confirm(&first, 1000);
        assert_eq!((status, body["url"].clone()), (200, json!(format!("{public}/{first}"))));
    }
    // Charged once: a second file fits (2000 of 2500)...
    let second = owner.put_direct("b.png", "image/png", 1000, &png(1000));
    assert_eq!(owner.confirm(&second, 1000).0, 200);
    // ...a third does not: refused at confirmation, and deleted from the bucket (the presigned
    // PUT itself cannot be bound to the quota).
    let third = owner.put_direct("c.png", "image/png", 400, &png(1000));
    assert_answer(owner.confirm(&third, 1000), 403, "Internal storage limit exceeded.");
    assert_eq!(s3.object("quota-files", &third).status, 404);
    // The size is checked before the quota (the original's order).
    let lied = owner.put_direct("l.png", "image/png", 400, &png(1000));
    assert_answer(owner.confirm(&lied, 400), 400, "Declared file size does not match uploaded file size.");
    assert_eq!(s3.object("quota-files", &lied).status, 404);
    // The peek of upload-request, and the multipart upload, refuse too.
    assert_answer(owner.request_upload("d.png", "image/png", 1000), 403, "Internal storage limit exceeded.");
    let sent = upload(&server, &a.sk, "d.png", "image/png", &png(1000));
    assert_eq!(sent.status, 403, "{}", sent.json());
    // A delete gives the bytes back.
    assert_eq!(owner.delete(&first).0, 200);
    let fourth = owner.put_direct("e.png", "image/png", 1000, &png(1000));
    assert_eq!(owner.confirm(&fourth, 1000).0, 200);
    assert_eq!(s3.keys("quota-files", &format!("{}/", a.id)).len(), 2);
}

/// `project set-storage` without the master key fails and stores nothing.
fn set_storage_fails_without_master_key(backend: &Backend, project: &str, s3: &S3Service) {
    let output = std::process::Command::new(binary())
        .args(["project", "set-storage", "--project", project, "--bucket", "b", "--endpoint", &s3.endpoint])
        .args(["--access-key-id", "k"])
        .env("URBACKEND_PROJECT_S3_SECRET_ACCESS_KEY", SECRET)
        .env_remove("URBACKEND_MASTER_KEY")
        .args(backend.args())
        .output()
        .expect("running urbackend");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("URBACKEND_MASTER_KEY"));
}

fn project_bucket_through_the_cli(lane: Lane) {
    let dir = TempDir::new("storage-byo");
    let (backend, _mongo) = backend(&dir, "storage_byo", lane);
    let s3 = S3Service::start();
    s3.create_bucket("acme-files");
    let a = Project::create(&backend, "Acme");
    let b = Project::create(&backend, "Other");
    set_storage_fails_without_master_key(&backend, &a.id, &s3);
    let out = cli(
        &backend,
        &[
            "project",
            "set-storage",
            "--project",
            &a.id,
            "--bucket",
            "acme-files",
            "--endpoint",
            &s3.endpoint,
            "--region",
            "us-east-1",
            "--access-key-id",
            "moto-key",
            "--secret-access-key",
            SECRET,
            "--master-key",
            MASTER_KEY,
        ],
    );
    assert_eq!(out["ownStorage"], true, "{out}");
    assert!(!out.to_string().contains(SECRET) && !out.to_string().contains("moto-key"), "{out}");
    let files = dir.path().join("files").display().to_string();
    let args = ["--rate-limit-per-ip", "0", "--max-file-bytes", "4096", "--files-dir", files.as_str()];
    let mut with_key = args.to_vec();
    with_key.extend(["--master-key", MASTER_KEY, "--storage-quota-bytes", "2000"]);
    let server = Server::start_with(&backend, &with_key);
    let owner = Client { server: &server, key: &a.sk };
    let other = Client { server: &server, key: &b.sk };
    let publishable = Client { server: &server, key: &a.pk };
    assert_answer(publishable.request_upload("a.png", "image/png", 10), 403, SK_ONLY);
    // Project B still uses the server's own storage (signed URLs of this server).
    let (status, granted) = other.request_upload("b.png", "image/png", 10);
    assert_eq!(status, 200);
    assert!(granted["signedUrl"].as_str().unwrap().starts_with(&server.base), "{granted}");
    // The project's bucket is not charged to the server's quota (2000 bytes here): its own.
    let public = format!("{}/acme-files", s3.endpoint);
    exercise(&s3, "acme-files", &public, "external", &owner, &other);
    let big = owner.put_direct("big.png", "image/png", 3000, &png(3000));
    assert_eq!(owner.confirm(&big, 3000).0, 200);
    assert!(!dir.path().join("files").join(&a.id).exists(), "nothing of A in the local directory");

    // --clear: back to the server's storage, picked up by the running server.
    let out = cli(&backend, &["project", "set-storage", "--project", &a.id, "--clear"]);
    assert_eq!(out["ownStorage"], false, "{out}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, granted) = owner.request_upload("a.png", "image/png", 10);
        assert_eq!(status, 200, "{granted}");
        if granted["signedUrl"].as_str().unwrap().starts_with(&server.base) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server still uses the project's bucket");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A server without the master key cannot use the bucket, and says so without details.
    cli(
        &backend,
        &[
            "project",
            "set-storage",
            "--project",
            &a.id,
            "--bucket",
            "acme-files",
            "--endpoint",
            &s3.endpoint,
            "--access-key-id",
            "moto-key",
            "--secret-access-key",
            SECRET,
            "--master-key",
            MASTER_KEY,
        ],
    );
    let keyless = Server::start_with(&backend, &args);
    let (status, body) = Client { server: &keyless, key: &a.sk }.request_upload("a.png", "image/png", 10);
    assert_eq!((status, body["error"].clone()), (500, json!("File storage failed")), "{body}");
}

/// End users' uploads (the project's `userFileUploads` on) go through this server even when the
/// files live in a bucket: a presigned URL cannot bind the size, so an end user holding one could
/// put any number of bytes into the operator's bucket. The secret key still gets presigned URLs.
fn users_upload_to_a_bucket_through_this_server(lane: Lane) {
    let dir = TempDir::new("storage-s3-users");
    let (backend, _mongo) = backend(&dir, "storage_s3_users", lane);
    let s3 = S3Service::start();
    s3.create_bucket("user-files");
    let a = Project::create(&backend, "Acme");
    cli(&backend, &["project", "set-user-file-uploads", "--project", &a.id, "--enabled", "true"]);
    let server = start_on_bucket(&backend, &s3, "user-files", &[]);
    let alice = crate::fixture::User::sign_up(&server, &a, "alice@example.com");
    let bearer = format!("Bearer {}", alice.token);
    let as_alice = |path: &str, body: &Value| {
        server.request("POST", path, &[("x-api-key", a.pk.as_str()), ("Authorization", bearer.as_str())], Some(body))
    };
    let request = json!({"filename": "me.png", "contentType": "image/png", "size": 300});
    let folder = format!("{}/users/{}/", a.id, alice.id);

    // A URL of this server, bound to the declared size: more bytes are refused, none stored.
    let (status, granted) = as_alice("/api/storage/upload-request", &request);
    assert_eq!(status, 200, "{granted}");
    let signed = granted["signedUrl"].as_str().expect("signedUrl");
    assert!(signed.starts_with(&format!("{}/api/storage/signed/", server.base)), "{granted}");
    assert!(granted["filePath"].as_str().is_some_and(|p| p.starts_with(&folder)), "{granted}");
    let flood = raw("PUT", signed, &[("Content-Type", "image/png")], Some(&png(5000)));
    assert_eq!(flood.status, 413, "{:?}", flood.json());
    assert!(s3.keys("user-files", &folder).is_empty(), "{:?}", s3.keys("user-files", &folder));

    // The declared bytes reach the bucket, typed, and confirm to the bucket's URL.
    let (status, granted) = as_alice("/api/storage/upload-request", &request);
    assert_eq!(status, 200, "{granted}");
    let path = granted["filePath"].as_str().expect("filePath").to_owned();
    let put = raw("PUT", granted["signedUrl"].as_str().unwrap(), &[("Content-Type", "image/png")], Some(&png(300)));
    assert_eq!(put.status, 200, "{:?}", put.json());
    let (status, confirmed) = as_alice("/api/storage/upload-confirm", &json!({"filePath": path, "size": 300}));
    let url = format!("{}/user-files/{path}", s3.endpoint);
    assert_eq!(
        (status, confirmed),
        (200, json!({"message": "Upload confirmed", "path": path, "provider": "internal", "url": url}))
    );
    let object = s3.object("user-files", &path);
    assert_eq!((object.bytes, object.content_type.as_deref()), (png(300), Some("image/png")));

    // The secret key is trusted with a presigned URL of the bucket.
    let (status, granted) = Client { server: &server, key: &a.sk }.request_upload("x.png", "image/png", 300);
    assert_eq!(status, 200, "{granted}");
    assert!(granted["signedUrl"].as_str().is_some_and(|u| u.starts_with(&s3.endpoint)), "{granted}");
}

crate::on_both_lanes!(
    server_bucket_three_step_multipart_and_delete,
    server_bucket_quota_is_charged_once_at_confirmation,
    project_bucket_through_the_cli,
    users_upload_to_a_bucket_through_this_server,
);
