//! Presigned uploads to a real S3 service (moto on loopback) that are never confirmed: a sweep a
//! day later removes their objects from the bucket and leaves confirmed ones alone, and a late
//! confirmation of a swept upload finds nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use serde_json::{Value, json};
use storage::s3::S3Settings;
use storage::{Files, Scope, StorageConfig, StorageError};
use store::DocumentStore;
use urbackend_tests::{S3Service, TempDir};

const P: &str = "65a0c0de0000000a0000000b";
const BUCKET: &str = "unconfirmed";

fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(len, 0);
    bytes
}

/// upload-request and the PUT of the bytes to the presigned URL; the object path.
async fn put_direct(files: &Files, name: &str) -> String {
    let request = json!({"filename": name, "contentType": "image/png", "size": 500});
    let granted = files.upload_request(&Scope::project(P), &request, chrono::Utc::now().timestamp()).await.unwrap();
    let url = granted["signedUrl"].as_str().unwrap().to_owned();
    let put = tokio::task::spawn_blocking(move || {
        ureq::put(&url)
            .set("Content-Type", "image/png")
            .send_bytes(&png(500))
            .map(|answer| answer.status())
            .map_err(|e| e.to_string())
    });
    assert_eq!(put.await.unwrap(), Ok(200));
    granted["filePath"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_presigned_uploads_are_swept_after_a_day() {
    let s3 = S3Service::start();
    s3.create_bucket(BUCKET);
    let dir = TempDir::new("unconfirmed");
    let platform: Arc<dyn DocumentStore> =
        Arc::new(store_sqlite::SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap());
    let settings = S3Settings {
        bucket: BUCKET.into(),
        endpoint: Some(s3.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: "moto-key".into(),
        secret_access_key: "moto-secret".into(),
        public_url_host: None,
    };
    let config = StorageConfig {
        root: dir.path().join("files"),
        public_url: "http://files.test".to_owned(),
        max_file_bytes: 1 << 20,
        quota_bytes: 1 << 20,
        allowed_types: storage::types::default_allowed(),
        upload_url_ttl_seconds: 900,
    };
    let files = Files::s3(&settings, config, platform).await.unwrap();
    let scope = Scope::project(P);
    let forgotten = put_direct(&files, "forgotten.png").await;
    let kept = put_direct(&files, "kept.png").await;
    let confirmed = files.confirm(&scope, &json!({"filePath": kept, "size": 500})).await.unwrap();
    assert_eq!(confirmed["path"], json!(kept));
    let in_bucket = |path: &str| s3.object(BUCKET, path).status == 200;
    assert!(in_bucket(&forgotten) && in_bucket(&kept));

    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(files.sweep_unconfirmed_uploads(now).await.unwrap(), 0, "not a day old yet");
    assert!(in_bucket(&forgotten));
    let a_day_later = now + storage::sweep::UNCONFIRMED_AFTER_MS + 60_000;
    assert_eq!(files.sweep_unconfirmed_uploads(a_day_later).await.unwrap(), 1);
    assert!(!in_bucket(&forgotten), "the unconfirmed object is gone");
    assert!(in_bucket(&kept), "the confirmed one stays");
    assert_eq!(files.ledger().used(P).await.unwrap(), 500, "only the confirmed file is charged");
    assert_eq!(files.sweep_unconfirmed_uploads(a_day_later).await.unwrap(), 0, "nothing left to sweep");
    // Confirming the swept upload now finds no object, and leaves no record behind.
    let late = files.confirm(&scope, &json!({"filePath": forgotten, "size": 500})).await;
    assert!(matches!(late, Err(StorageError::NotReady)), "{late:?}");
    let again: Value = files.confirm(&scope, &json!({"filePath": kept, "size": 500})).await.unwrap();
    assert_eq!(again, confirmed, "the confirmed upload answers as before");
}
