//! `/api/storage` end to end on the local directory backend: the SDKs' three-step flow (request,
//! PUT to the signed URL, confirm) and the multipart upload, the files served back at their URL
//! (`nosniff`, active content as attachments), size limits enforced while the bytes arrive (the
//! server answers before the body is complete, and nothing is stored), types decided from the
//! bytes, signed URLs that refuse tampering, expiry, another type and replays, the path checks of
//! delete (`403 Access denied.`), the secret-key rule on every route, and the quota.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, Server, TempDir};

use crate::fixture::{Project, backend};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
pub(crate) const SK_ONLY: &str = "Forbidden. This action requires a Secret Key (sk_live_...).";

pub(crate) fn png(size: usize) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.resize(size, 7);
    bytes
}

/// A server with its files in `<dir>/files` (on both lanes).
pub(crate) fn start(backend: &Backend, dir: &TempDir, extra: &[&str]) -> Server {
    let files = files_dir(dir).display().to_string();
    let mut args = vec!["--rate-limit-per-ip", "0", "--files-dir", files.as_str()];
    args.extend_from_slice(extra);
    Server::start_with(backend, &args)
}

fn files_dir(dir: &TempDir) -> PathBuf {
    dir.path().join("files")
}

/// Every file under the storage directory (staging files included).
fn stored_files(dir: &TempDir) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&files_dir(dir), &mut out);
    out
}

/// An answer with its headers and raw body.
pub(crate) struct Raw {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Raw {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

pub(crate) fn raw(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Raw {
    let mut request = ureq::request(method, url).timeout(Duration::from_secs(30));
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let result = match body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {url}: {error}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), response.header(&n).unwrap_or("").to_owned()))
        .collect();
    let mut bytes = Vec::new();
    response.into_reader().read_to_end(&mut bytes).unwrap();
    Raw { status, headers, body: bytes }
}

pub(crate) fn multipart(name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----urbackendtestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) fn upload(server: &Server, key: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Raw {
    let (header, body) = multipart("file", filename, content_type, bytes);
    let url = format!("{}/api/storage/upload", server.base);
    raw("POST", &url, &[("x-api-key", key), ("Content-Type", &header)], Some(&body))
}

pub(crate) fn assert_refused(answer: (u16, &Value), status: u16, text: &str) {
    assert_eq!(
        (answer.0, &answer.1["error"], &answer.1["message"]),
        (status, &json!(text), &json!(text)),
        "{}",
        answer.1
    );
    assert_eq!((&answer.1["success"], &answer.1["code"]), (&json!(false), &json!(status)), "{}", answer.1);
}

pub(crate) fn assert_answer(answer: (u16, Value), status: u16, text: &str) {
    assert_refused((answer.0, &answer.1), status, text);
}

fn three_step_flow_and_signed_urls(lane: Lane) {
    let dir = TempDir::new("storage-signed");
    let (backend, _mongo) = backend(&dir, "storage_signed", lane);
    let project = Project::create(&backend, "Acme");
    let server = start(&backend, &dir, &["--max-file-bytes", "4096"]);
    let sk = project.sk.as_str();
    let request =
        |body: &Value| server.request("POST", "/api/storage/upload-request", &[("x-api-key", sk)], Some(body));

    // 1. upload-request.
    let (status, granted) = request(&json!({"filename": "my photo.png", "contentType": "image/png", "size": 1000}));
    assert_eq!(status, 200, "{granted}");
    let (signed_url, file_path) = (granted["signedUrl"].as_str().unwrap(), granted["filePath"].as_str().unwrap());
    assert!(file_path.starts_with(&format!("{}/", project.id)) && file_path.ends_with("_my_photo.png"), "{granted}");
    assert!(signed_url.starts_with(&format!("{}/api/storage/signed/", server.base)), "{granted}");
    assert!(granted["token"].is_string());
    // 2. the PUT, as the SDKs send it (only a Content-Type header); a second PUT is refused.
    let put =
        |url: &str, content_type: &str, bytes: &[u8]| raw("PUT", url, &[("Content-Type", content_type)], Some(bytes));
    let other_type = put(signed_url, "image/jpeg", &png(1000));
    assert_refused(
        (other_type.status, &other_type.json()),
        400,
        "Content-Type does not match the one given in the upload request.",
    );
    let lie = put(signed_url, "image/png", &png(1500));
    assert_refused((lie.status, &lie.json()), 413, "Upload is larger than the declared size (1000 bytes).");
    assert!(stored_files(&dir).is_empty(), "{:?}", stored_files(&dir));
    let tampered = signed_url.replacen("/signed/e", "/signed/f", 1).replacen("/signed/ey", "/signed/ez", 1);
    let tampered = if tampered == signed_url { format!("{signed_url}x") } else { tampered };
    let bad = put(&tampered, "image/png", &png(1000));
    assert_refused((bad.status, &bad.json()), 403, "Invalid or tampered upload URL.");
    let done = put(signed_url, "image/png", &png(1000));
    assert_eq!(done.status, 200, "{:?}", done.json());
    let again = put(signed_url, "image/png", &png(1000));
    assert_refused((again.status, &again.json()), 409, "This upload URL has already been used.");
    // 3. confirm.
    let confirm =
        |body: &Value| server.request("POST", "/api/storage/upload-confirm", &[("x-api-key", sk)], Some(body));
    let (status, confirmed) = confirm(&json!({"filePath": file_path, "size": 1000}));
    assert_eq!(status, 200, "{confirmed}");
    let url = format!("{}/api/storage/files/{file_path}", server.base);
    assert_eq!(
        confirmed,
        json!({"message": "Upload confirmed", "path": file_path, "provider": "internal", "url": url})
    );
    let (status, body) = confirm(&json!({"filePath": file_path, "size": 5000}));
    assert_refused((status, &body), 400, "Declared file size does not match uploaded file size.");
    // The size mismatch removed the file; a fresh upload is served back.
    assert_eq!(raw("GET", &url, &[], None).status, 404);
    let (_, granted) = request(&json!({"filename": "b.png", "contentType": "image/png", "size": 1000}));
    assert_eq!(put(granted["signedUrl"].as_str().unwrap(), "image/png", &png(1000)).status, 200);
    let path = granted["filePath"].as_str().unwrap();
    let (status, confirmed) = confirm(&json!({"filePath": path, "size": 1000}));
    assert_eq!(status, 200, "{confirmed}");
    let got = raw("GET", confirmed["url"].as_str().unwrap(), &[], None);
    assert_eq!((got.status, got.body.as_slice()), (200, png(1000).as_slice()));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.header("content-length"), Some("1000"), "streamed with its length");
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert!(got.header("content-disposition").unwrap().starts_with("inline"));

    // Texts of the original for bad requests; too large; a confirmation of nothing.
    assert_answer(
        request(&json!({"filename": "a.png", "size": 10})),
        400,
        "filename, contentType, and size are required.",
    );
    assert_answer(
        request(&json!({"filename": "a.png", "contentType": "image/png", "size": 0})),
        400,
        "filename, contentType, and size are required.",
    );
    assert_answer(
        request(&json!({"filename": "a.png", "contentType": "image/png", "size": 5000})),
        413,
        "File size exceeds limit.",
    );
    assert_answer(confirm(&json!({"filePath": file_path})), 400, "filePath and size are required.");
    assert_answer(
        confirm(&json!({"filePath": format!("{}/nothing.png", project.id), "size": 5})),
        409,
        "Uploaded file is not visible yet. Please retry confirmation.",
    );

    // An expired URL: another server (same store, so the same signing secret) signs for 0 s.
    let expiring = start(&backend, &dir, &["--upload-url-ttl", "0"]);
    let (_, granted) = expiring.request(
        "POST",
        "/api/storage/upload-request",
        &[("x-api-key", sk)],
        Some(&json!({"filename": "c.png", "contentType": "image/png", "size": 100})),
    );
    let url = granted["signedUrl"].as_str().unwrap().replace(&expiring.base, &server.base);
    let expired = put(&url, "image/png", &png(100));
    assert_refused((expired.status, &expired.json()), 403, "Upload URL has expired.");
}

fn multipart_types_and_serving(lane: Lane) {
    let dir = TempDir::new("storage-multipart");
    let (backend, _mongo) = backend(&dir, "storage_multipart", lane);
    let project = Project::create(&backend, "Acme");
    let server = start(&backend, &dir, &["--max-file-bytes", "262144"]);
    let sk = project.sk.as_str();

    let answer = upload(&server, sk, "cat pic.png", "image/png", &png(5000));
    let body = answer.json();
    assert_eq!(answer.status, 201, "{body}");
    let path = body["path"].as_str().unwrap();
    assert_eq!(body["message"], json!("File uploaded successfully"));
    assert_eq!(body["provider"], json!("internal"));
    assert_eq!(body["url"], json!(format!("{}/api/storage/files/{path}", server.base)));
    let got = raw("GET", body["url"].as_str().unwrap(), &[], None);
    assert_eq!((got.status, got.body.len()), (200, 5000));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));

    // HTML claiming to be a PNG, bytes of no known type, a missing file part.
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let refused = upload(&server, sk, "x.png", "image/png", html);
    assert_refused(
        (refused.status, &refused.json()),
        415,
        "File content (text/html) does not match the declared type (image/png).",
    );
    let refused = upload(&server, sk, "x.html", "text/html", html);
    assert_refused((refused.status, &refused.json()), 415, "File type text/html is not allowed.");
    let refused = upload(&server, sk, "x.png", "image/png", b"not really an image");
    assert_refused(
        (refused.status, &refused.json()),
        415,
        "File content does not match the declared type (image/png).",
    );
    let refused = upload(&server, sk, "page.bin", "application/octet-stream", html);
    assert_refused((refused.status, &refused.json()), 415, "File type text/html is not allowed.");
    let (header, body) = multipart("other", "x.png", "image/png", &png(100));
    let url = format!("{}/api/storage/upload", server.base);
    let refused = raw("POST", &url, &[("x-api-key", sk), ("Content-Type", &header)], Some(&body));
    assert_refused((refused.status, &refused.json()), 400, "No file uploaded.");
    assert_eq!(stored_files(&dir).len(), 1);
    // Untyped bytes (the TypeScript SDK's default type) are kept, and only ever downloaded.
    let untyped = upload(&server, sk, "data.bin", "application/octet-stream", b"not really an image");
    assert_eq!(untyped.status, 201, "{}", untyped.json());
    let got = raw("GET", untyped.json()["url"].as_str().unwrap(), &[], None);
    assert_eq!((got.status, got.header("content-type")), (200, Some("application/octet-stream")));
    assert!(got.header("content-disposition").unwrap().starts_with("attachment"));
    let (status, _) = server.request(
        "DELETE",
        "/api/storage/file",
        &[("x-api-key", sk)],
        Some(&json!({"path": untyped.json()["path"]})),
    );
    assert_eq!(status, 200);

    // Too large, refused while streaming: the request announces 100 MB and sends a little more
    // than the limit; the answer comes before the body is complete, and nothing is stored.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (header, mut body) = multipart("file", "big.png", "image/png", &png(262_144 + 65_536));
    body.truncate(body.len() - 40);
    let head = format!(
        "POST /api/storage/upload HTTP/1.1\r\nHost: {address}\r\nx-api-key: {sk}\r\nContent-Type: {header}\r\nContent-Length: 104857600\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).expect("an answer before the body is complete");
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("File size exceeds limit."), "{answer}");
    drop(stream);
    assert_eq!(stored_files(&dir).len(), 1, "{:?}", stored_files(&dir));

    // Active content, when a server allows it, is only ever served as an attachment.
    let permissive =
        start(&backend, &dir, &["--storage-allowed-types", "image/png,text/html,image/svg+xml,text/plain"]);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    for (name, kind, bytes) in [("x.html", "text/html", &html[..]), ("x.svg", "image/svg+xml", &svg[..])] {
        let answer = upload(&permissive, sk, name, kind, bytes);
        assert_eq!(answer.status, 201, "{}", answer.json());
        let got = raw("GET", answer.json()["url"].as_str().unwrap(), &[], None);
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-type"), Some("application/octet-stream"), "{name}");
        assert!(got.header("content-disposition").unwrap().starts_with("attachment"), "{name}");
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    }
    let text = upload(&permissive, sk, "notes.txt", "text/plain", b"hello");
    let got = raw("GET", text.json()["url"].as_str().unwrap(), &[], None);
    assert_eq!((got.header("content-type"), got.body.as_slice()), (Some("text/plain; charset=utf-8"), &b"hello"[..]));
}

fn delete_paths_and_keys(lane: Lane) {
    let dir = TempDir::new("storage-delete");
    let (backend, _mongo) = backend(&dir, "storage_delete", lane);
    let project = Project::create(&backend, "Acme");
    let other = Project::create(&backend, "Other");
    let server = start(&backend, &dir, &[]);
    let (sk, pk) = (project.sk.as_str(), project.pk.as_str());

    // The publishable key gets 403 on every storage route.
    for (method, path) in [
        ("POST", "/api/storage/upload"),
        ("POST", "/api/storage/upload-request"),
        ("POST", "/api/storage/upload-confirm"),
        ("DELETE", "/api/storage/file"),
        ("DELETE", "/api/storage/all"),
    ] {
        let (status, body) = server.request(method, path, &[("x-api-key", pk)], Some(&json!({})));
        assert_refused((status, &body), 403, SK_ONLY);
    }
    let answer = upload(&server, pk, "a.png", "image/png", &png(100));
    assert_refused((answer.status, &answer.json()), 403, SK_ONLY);

    let first = upload(&server, sk, "a.png", "image/png", &png(100)).json();
    let second = upload(&server, sk, "b.png", "image/png", &png(100)).json();
    let path = first["path"].as_str().unwrap();
    let delete =
        |key: &str, body: &Value| server.request("DELETE", "/api/storage/file", &[("x-api-key", key)], Some(body));

    // Another project's secret key, and every traversal: 403 Access denied.
    assert_answer(delete(&other.sk, &json!({"path": path})), 403, "Access denied.");
    let id = &project.id;
    let name = path.rsplit('/').next().unwrap();
    for bad in [
        format!("{}/{name}", other.id),
        format!("{id}/../{}/{name}", other.id),
        format!("{id}/%2e%2e/{}/{name}", other.id),
        format!("{id}/..%2f{name}"),
        format!("{id}\\..\\{name}"),
        format!("{id}/{name}%00.html"),
        "/etc/passwd".to_owned(),
        "../../etc/passwd".to_owned(),
        id.to_owned(),
    ] {
        assert_answer(delete(sk, &json!({"path": bad})), 403, "Access denied.");
    }
    assert_answer(delete(sk, &json!({})), 400, "File path is required.");
    assert_eq!(raw("GET", first["url"].as_str().unwrap(), &[], None).status, 200);

    // Delete, then 404; deleting again still answers 200 (as the original).
    let (status, body) = delete(sk, &json!({"path": path}));
    assert_eq!((status, body), (200, json!({"message": "File deleted successfully"})));
    let gone = raw("GET", first["url"].as_str().unwrap(), &[], None);
    assert_refused((gone.status, &gone.json()), 404, "File not found.");
    assert_eq!(delete(sk, &json!({"path": path})).0, 200);

    // Another project's files survive this project's delete-all.
    let foreign = upload(&server, &other.sk, "c.png", "image/png", &png(100)).json();
    let (status, body) = server.request("DELETE", "/api/storage/all", &[("x-api-key", sk)], None);
    assert_eq!((status, body), (200, json!({"success": true, "deleted": 1, "provider": "internal"})));
    assert_eq!(raw("GET", second["url"].as_str().unwrap(), &[], None).status, 404);
    assert_eq!(raw("GET", foreign["url"].as_str().unwrap(), &[], None).status, 200);
}

fn quota_is_shared_and_released(lane: Lane) {
    let dir = TempDir::new("storage-quota");
    let (backend, _mongo) = backend(&dir, "storage_quota", lane);
    let project = Project::create(&backend, "Acme");
    let quota = ["--storage-quota-bytes", "3000000", "--max-file-bytes", "2000000"];
    let (a, b) = (start(&backend, &dir, &quota), start(&backend, &dir, &quota));
    let sk = project.sk.as_str();
    let first = upload(&a, sk, "a.png", "image/png", &png(1_500_000));
    assert_eq!(first.status, 201, "{}", first.json());
    // The second server sees the first's bytes.
    let refused = upload(&b, sk, "b.png", "image/png", &png(1_600_000));
    assert_refused(
        (refused.status, &refused.json()),
        403,
        "Storage limit exceeded. Please upgrade your plan or delete some files.",
    );
    let body = json!({"filename": "b.png", "contentType": "image/png", "size": 1_600_000});
    let (status, body) = b.request("POST", "/api/storage/upload-request", &[("x-api-key", sk)], Some(&body));
    assert_refused((status, &body), 403, "Storage limit exceeded. Please upgrade your plan or delete some files.");
    assert_eq!(stored_files(&dir).len(), 1);
    let path = first.json()["path"].as_str().unwrap().to_owned();
    let (status, _) = b.request("DELETE", "/api/storage/file", &[("x-api-key", sk)], Some(&json!({"path": path})));
    assert_eq!(status, 200);
    assert_eq!(upload(&a, sk, "b.png", "image/png", &png(1_600_000)).status, 201);
}

crate::on_both_lanes!(
    three_step_flow_and_signed_urls,
    multipart_types_and_serving,
    delete_paths_and_keys,
    quota_is_shared_and_released,
);
