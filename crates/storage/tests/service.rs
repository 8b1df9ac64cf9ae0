//! File storage on real parts: the embedded SQLite store (two opens of one file, as two server
//! processes would have) and a real directory. The concurrency cases check that the quota is
//! never overshot however reservations race, and that a check-then-write counter would be.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use serde_json::json;
use storage::{Files, Scope, StorageConfig, StorageError};
use store::DocumentStore;

const P: &str = "65a0c0de0000000a0000000b";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn temp_dir(label: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("storage-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct World {
    dir: PathBuf,
    stores: [Arc<dyn DocumentStore>; 2],
}

impl World {
    fn new(label: &str) -> World {
        let dir = temp_dir(label);
        let path = dir.join("store.sqlite3");
        let first: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
        let second: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
        World { dir, stores: [first, second] }
    }

    async fn files(&self, which: usize, max_file_bytes: u64, quota_bytes: u64) -> Files {
        let config = StorageConfig {
            root: self.dir.join("files"),
            public_url: "http://files.test".to_owned(),
            max_file_bytes,
            quota_bytes,
            allowed_types: storage::types::default_allowed(),
            upload_url_ttl_seconds: 900,
        };
        Files::local(config, self.stores[which].clone()).await.unwrap()
    }

    /// Every file under the storage root (staging files included).
    fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.join("files"), &mut out);
        out
    }
}

fn chunks(parts: Vec<Vec<u8>>) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
    stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.resize(size, 7);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reservations_racing_on_two_servers_never_exceed_the_quota() {
    let world = World::new("race");
    let servers = [Arc::new(world.files(0, 1_000, 1_000).await), Arc::new(world.files(1, 1_000, 1_000).await)];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let files = servers[i % 2].clone();
        tasks.push(tokio::spawn(async move { files.ledger().reserve(P, 100).await }));
    }
    let mut granted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => granted += 1,
            Err(StorageError::QuotaExceeded) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(granted, 10);
    assert_eq!(servers[0].ledger().used(P).await.unwrap(), 1_000);
    servers[1].ledger().release(P, 300).await.unwrap();
    assert_eq!(servers[0].ledger().used(P).await.unwrap(), 700);
}

/// The same race with the check and the write as two operations (a peek, then an unconditional
/// add): it overshoots, which is what the ledger's single conditional insert prevents.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_then_write_counter_overshoots() {
    let world = World::new("naive");
    let checked = Arc::new(world.files(0, 1_000, 1_000).await);
    let unchecked = Arc::new(world.files(1, 1_000, 0).await);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (checked, unchecked) = (checked.clone(), unchecked.clone());
        tasks.push(tokio::spawn(async move {
            if checked.ledger().fits(P, 100).await.unwrap() {
                tokio::task::yield_now().await;
                unchecked.ledger().reserve(P, 100).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(checked.ledger().used(P).await.unwrap() > 1_000);
}

#[tokio::test]
async fn an_endless_upload_stops_at_the_limit_and_leaves_nothing() {
    let world = World::new("endless");
    let files = world.files(0, 64 * 1024, 0).await;
    // An endless body: only enforcement while streaming can end this.
    let endless =
        stream::iter(std::iter::once(Bytes::from(png(4096))).chain(std::iter::repeat(Bytes::from(vec![0u8; 4096]))))
            .map(Ok::<Bytes, std::io::Error>);
    let scope = Scope::project(P);
    let upload = files.upload(&scope, "big.png", "image/png", endless);
    let error = tokio::time::timeout(std::time::Duration::from_secs(20), upload)
        .await
        .expect("the upload stopped")
        .unwrap_err();
    assert!(matches!(error, StorageError::TooLarge { limit: 65_536 }), "{error}");
    assert_eq!(error.client_message(), "File size exceeds limit.");
    assert!(world.stored_files().is_empty(), "{:?}", world.stored_files());
    assert_eq!(files.ledger().used(P).await.unwrap(), 0);
}

#[tokio::test]
async fn upload_download_delete_and_the_ledger() {
    let world = World::new("cycle");
    let files = world.files(0, 10 * 1024 * 1024, 3 * 1024 * 1024).await;
    let body =
        files.upload(&Scope::project(P), "my photo.png", "image/png", chunks(vec![png(2_000_000)])).await.unwrap();
    let path = body["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with(&format!("{P}/")) && path.ends_with("_my_photo.png"), "{path}");
    assert_eq!(body["url"], json!(format!("http://files.test/api/storage/files/{path}")));
    assert_eq!(files.ledger().used(P).await.unwrap(), 2_000_000);
    // The quota (3 MiB) refuses a second 2 MB file, and leaves nothing behind.
    let error = files.upload(&Scope::project(P), "b.png", "image/png", chunks(vec![png(2_000_000)])).await.unwrap_err();
    assert!(matches!(error, StorageError::QuotaExceeded), "{error}");
    assert_eq!(files.ledger().used(P).await.unwrap(), 2_000_000);
    assert_eq!(world.stored_files().len(), 1);
    let download = files.download(&path).await.unwrap();
    assert_eq!(download.size, 2_000_000);
    let (inline, content_type) = (download.inline, download.content_type.clone());
    let chunks: Vec<_> = futures_util::StreamExt::collect(download.body).await;
    let bytes: Vec<u8> = chunks.into_iter().flat_map(|chunk| chunk.unwrap().to_vec()).collect();
    assert_eq!(bytes, png(2_000_000));
    assert!(inline);
    assert_eq!(content_type, "image/png");
    files.delete(&Scope::project(P), &json!({"path": path})).await.unwrap();
    assert!(matches!(files.download(&path).await, Err(StorageError::NotFound)));
    assert_eq!(files.ledger().used(P).await.unwrap(), 0);
    assert!(world.stored_files().is_empty());
}

#[tokio::test]
async fn signed_uploads_are_bound_to_size_type_and_one_use() {
    let world = World::new("signed");
    let files = world.files(0, 1024 * 1024, 0).await;
    let now = 1_000_000;
    let request = |size: u64| json!({"filename": "a.png", "contentType": "image/png", "size": size});
    let granted = files.upload_request(&Scope::project(P), &request(100), now).await.unwrap();
    let token = granted["token"].as_str().unwrap().to_owned();
    assert_eq!(granted["signedUrl"], json!(format!("http://files.test/api/storage/signed/{token}")));
    // More bytes than declared.
    let error = files.put_signed(&token, Some("image/png"), chunks(vec![png(100), png(100)]), now).await.unwrap_err();
    assert!(matches!(error, StorageError::MoreThanDeclared { declared: 100 }), "{error}");
    assert!(world.stored_files().is_empty());
    assert_eq!(files.ledger().used(P).await.unwrap(), 0);
    // Another content type; an expired URL.
    let error = files.put_signed(&token, Some("image/jpeg"), chunks(vec![png(100)]), now).await.unwrap_err();
    assert!(matches!(error, StorageError::ContentTypeMismatch), "{error}");
    let error = files.put_signed(&token, Some("image/png"), chunks(vec![png(100)]), now + 900).await.unwrap_err();
    assert!(matches!(error, StorageError::Expired), "{error}");
    // The real upload, then a replay.
    files.put_signed(&token, Some("image/png"), chunks(vec![png(100)]), now).await.unwrap();
    let error = files.put_signed(&token, Some("image/png"), chunks(vec![png(100)]), now).await.unwrap_err();
    assert!(matches!(error, StorageError::AlreadyUsed), "{error}");
    let path = granted["filePath"].as_str().unwrap();
    let confirmed = files.confirm(&Scope::project(P), &json!({"filePath": path, "size": 100})).await.unwrap();
    assert_eq!(confirmed["message"], json!("Upload confirmed"));
    assert_eq!(confirmed["provider"], json!("internal"));
    // Another project cannot confirm or delete it.
    let other = "65a0c0de0000000a0000000c";
    assert!(matches!(
        files.confirm(&Scope::project(other), &json!({"filePath": path, "size": 100})).await,
        Err(StorageError::AccessDenied)
    ));
    assert!(matches!(
        files.delete(&Scope::project(other), &json!({"path": path})).await,
        Err(StorageError::AccessDenied)
    ));
    let all = files.delete_all(P).await.unwrap();
    assert_eq!(all, json!({"success": true, "deleted": 1, "provider": "internal"}));
    assert!(world.stored_files().is_empty());
}

/// A server that stops in the middle of an upload (here: the upload's future dropped after its
/// first bytes) leaves a record, a reservation and maybe a partial object; a sweep a day later
/// removes them and gives the reservation back, and leaves stored files counted.
#[tokio::test]
async fn an_upload_cut_off_mid_way_is_swept_and_its_quota_given_back() {
    let world = World::new("abandoned");
    let files = world.files(0, 1 << 20, 3 << 20).await;
    let scope = Scope::project(P);
    let kept = files.upload(&scope, "kept.png", "image/png", chunks(vec![png(1000)])).await.unwrap();
    // First bytes, then nothing more: the upload waits for the rest until it is dropped.
    let stalled = stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(png(300_000)))]).chain(stream::pending());
    let upload = files.upload(&scope, "cut.png", "image/png", Box::pin(stalled));
    assert!(tokio::time::timeout(std::time::Duration::from_millis(500), upload).await.is_err(), "still waiting");
    let reserved = files.ledger().used(P).await.unwrap();
    assert!(reserved > 1000, "the cut upload holds a reservation: {reserved}");

    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(files.sweep_abandoned_uploads(now).await.unwrap(), 0, "not abandoned yet");
    assert_eq!(files.ledger().used(P).await.unwrap(), reserved);
    let a_day_later = now + storage::sweep::ABANDONED_AFTER_MS + 60_000;
    assert_eq!(files.sweep_abandoned_uploads(a_day_later).await.unwrap(), 1);
    assert_eq!(files.ledger().used(P).await.unwrap(), 1000, "only the stored file is counted");
    assert_eq!(world.stored_files().len(), 1, "no partial object is left: {:?}", world.stored_files());
    assert_eq!(files.sweep_abandoned_uploads(a_day_later).await.unwrap(), 0, "nothing left to sweep");
    let download = files.download(kept["path"].as_str().unwrap()).await.unwrap();
    assert_eq!(download.size, 1000, "the stored file is untouched");
}
