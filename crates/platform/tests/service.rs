//! Service tests of the platform on a real store: projects and keys (only hashes stored),
//! collection definitions with their unique indexes (refusal and rollback, spec §6.5), and the
//! snapshot seen by a second `Platform` on the same database within one second.

// The cases are test code shared by the per-backend #[tokio::test]s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::{
    COLLECTION_EXISTS, CollectionDef, CreateOptions, Field, FieldKind, KeyRole, MasterKey, PROJECTS_COLLECTION,
    Platform, PlatformError, hash_key,
};
use serde_json::json;
use store::{DocumentStore, StoreError};
use support::{Pair, insert_raw, raw_documents};

fn memory_pair() -> Pair {
    let store: Arc<dyn DocumentStore> = Arc::new(support::memory::MemoryStore::default());
    (Arc::clone(&store), store)
}

/// Two opens of one SQLite file, as two processes would have.
fn sqlite_pair() -> Pair {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("platform-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sqlite3");
    let first: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
    let second: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
    (first, second)
}

async fn open(store: &Arc<dyn DocumentStore>) -> Platform {
    Platform::open(Arc::clone(store)).await.unwrap()
}

/// Polls `check` until it holds, for at most `limit`; returns how long it took.
async fn within(limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not visible within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

async fn create_project_stores_only_hashes((store, _): Pair) {
    let platform = open(&store).await;
    let (project, keys) = platform.create_project("  Demo  ", CreateOptions::default()).await.unwrap();
    assert_eq!(project.name, "Demo");
    assert_eq!(project.id.len(), 24);
    assert!(project.auth_enabled);
    assert_eq!(project.allowed_domains, vec!["*"]);
    assert!(project.jwt_secret.starts_with("jwt_") && project.jwt_secret.len() == 47);
    let users = project.collection("users").unwrap();
    assert_eq!(users.rls.owner_field, "_id");
    assert!(users.field("email").unwrap().required && users.field("password").unwrap().required);

    let (found, role) = platform.project_by_api_key(&keys.publishable).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), role), (project.id.as_str(), KeyRole::Publishable));
    let (found, role) = platform.project_by_api_key(&keys.secret).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), role), (project.id.as_str(), KeyRole::Secret));
    for wrong in
        ["", "pk_live_nope", "sk_live_nope", &keys.publishable[..50], &format!("sk_live_{}", &keys.publishable[8..])]
    {
        assert!(platform.project_by_api_key(wrong).await.unwrap().is_none(), "{wrong}");
    }

    let raw = raw_documents(store.as_ref(), PROJECTS_COLLECTION).await;
    assert_eq!(raw.len(), 1);
    let doc = &raw[0];
    assert_eq!(doc["publishableKey"], hash_key(&keys.publishable));
    assert_eq!(doc["secretKey"], hash_key(&keys.secret));
    let text = serde_json::to_string(doc).unwrap();
    assert!(!text.contains(&keys.publishable) && !text.contains(&keys.secret), "raw keys stored: {text}");
    assert!(!text.contains(&keys.publishable[8..]) && !text.contains(&keys.secret[8..]));

    let (bare, _) = platform.create_project("bare", CreateOptions { with_users_collection: false }).await.unwrap();
    assert!(!bare.auth_enabled && bare.collections.is_empty());
    let err = platform.create_project("   ", CreateOptions::default()).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (400, "Project name is required".to_owned()));
    assert_eq!(platform.projects().len(), 2);
}

async fn rotate_keys_and_settings((store, _): Pair) {
    let platform = open(&store).await;
    let (project, keys) = platform.create_project("p", CreateOptions::default()).await.unwrap();
    let new_secret = platform.rotate_key(&project.id, KeyRole::Secret).await.unwrap();
    assert!(new_secret.starts_with("sk_live_") && new_secret.len() == 51);
    assert!(platform.project_by_api_key(&keys.secret).await.unwrap().is_none());
    assert!(platform.project_by_api_key(&new_secret).await.unwrap().is_some());
    assert!(platform.project_by_api_key(&keys.publishable).await.unwrap().is_some());

    let updated =
        platform.set_allowed_domains(&project.id, vec![" https://a.example ".into(), "".into()]).await.unwrap();
    assert_eq!(updated.allowed_domains, vec!["https://a.example"]);
    assert!(!platform.set_auth_enabled(&project.id, false).await.unwrap().auth_enabled);
    assert!(platform.set_auth_enabled(&project.id, true).await.unwrap().auth_enabled);
    let (bare, _) = platform.create_project("bare", CreateOptions { with_users_collection: false }).await.unwrap();
    let err = platform.set_auth_enabled(&bare.id, true).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (422, "Users Collection Missing".to_owned()));
    assert!(matches!(
        platform.rotate_key("0123456789abcdef01234567", KeyRole::Secret).await,
        Err(PlatformError::ProjectNotFound)
    ));

    let key = MasterKey::generate().unwrap();
    let uri = "mongodb://user:pw@db.example.net/app";
    let byo = platform.set_byo_db(&project.id, Some(key.encrypt_db_uri(uri).unwrap())).await.unwrap();
    assert_eq!(key.decrypt_db_uri(byo.byo_db.as_ref().unwrap()).unwrap().expose(), uri);
    assert_eq!(byo.physical_name("posts"), "posts");
    assert!(!format!("{byo:?}").contains("user:pw"));
    let err = platform.put_collection(&project.id, CollectionDef::new("posts", vec![])).await.unwrap_err();
    assert_eq!(err.status(), 500, "a project with its own database needs its store");
    let plain = platform.set_byo_db(&project.id, None).await.unwrap();
    assert_eq!(plain.physical_name("posts"), format!("{}_posts", project.id));

    // The project's own bucket and its own database are set apart: one keeps the other.
    let bucket = platform::ByoStorage {
        storage_provider: "s3".into(),
        bucket: "files".into(),
        region: None,
        endpoint: None,
        access_key_id: "AKID".into(),
        secret_access_key: "bucket-secret".into(),
        public_url_host: None,
    };
    let with_bucket = platform.set_byo_storage(&project.id, Some(key.encrypt_storage(&bucket).unwrap())).await.unwrap();
    let both = platform.set_byo_db(&project.id, Some(key.encrypt_db_uri(uri).unwrap())).await.unwrap();
    assert_eq!(key.decrypt_storage(both.byo_storage.as_ref().unwrap()).unwrap(), bucket);
    assert_eq!(both.byo_storage, with_bucket.byo_storage);
    assert!(!format!("{both:?}").contains("bucket-secret"));
    let no_bucket = platform.set_byo_storage(&project.id, None).await.unwrap();
    assert!(no_bucket.byo_storage.is_none() && no_bucket.uses_own_database());
    platform.set_byo_db(&project.id, None).await.unwrap();
}

async fn put_collection_manages_unique_indexes((store, _): Pair) {
    let platform = open(&store).await;
    let (project, _) = platform.create_project("p", CreateOptions::default()).await.unwrap();
    let pid = project.id.clone();
    let posts = format!("{pid}_posts");

    let def = CollectionDef::from_json(&json!({"name": "posts", "model": [
        {"key": "slug", "type": "String", "unique": true}, {"key": "title", "type": "String", "required": true}],
        "rls": {"enabled": true, "mode": "private", "ownerField": "userId"}}))
    .unwrap();
    let saved = platform.put_collection(&pid, def.clone()).await.unwrap();
    assert_eq!(saved.id.as_ref().map(String::len), Some(24));
    assert_eq!(platform.get_collection(&pid, "posts"), Some(saved.clone()));
    insert_raw(store.as_ref(), &posts, vec![json!({"slug": "a"}), json!({"slug": null}), json!({})]).await.unwrap();
    let dup = insert_raw(store.as_ref(), &posts, vec![json!({"slug": "a"})]).await.unwrap_err();
    assert!(matches!(dup, StoreError::DuplicateKey { .. }), "{dup:?}");

    // Replacing it without `unique` drops the index.
    let mut relaxed = def.clone();
    relaxed.model[0].unique = false;
    platform.put_collection(&pid, relaxed).await.unwrap();
    insert_raw(store.as_ref(), &posts, vec![json!({"slug": "a"})]).await.unwrap();

    // Now the values repeat: declaring `unique` again is refused with the §6.5 text, and the
    // indexes created in that call (on `code`, declared first) are rolled back.
    let mut strict = def.clone();
    strict.model.insert(0, Field::new("code", FieldKind::Number).unique());
    let err = platform.put_collection(&pid, strict).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(
        err.to_string().starts_with("Cannot create unique index on 'slug'. 1 duplicate values exist. Examples: "),
        "{err}"
    );
    insert_raw(store.as_ref(), &posts, vec![json!({"code": 1}), json!({"code": 1})]).await.unwrap();
    let kept = platform.get_collection(&pid, "posts").unwrap();
    assert!(kept.field("code").is_none(), "the refused definition was not saved");

    // Creating a collection whose data already repeats is refused and leaves no definition.
    let items = format!("{pid}_items");
    insert_raw(store.as_ref(), &items, vec![json!({"sku": "x"}), json!({"sku": "x"})]).await.unwrap();
    let def = CollectionDef::new("items", vec![Field::new("sku", FieldKind::String).unique()]);
    assert_eq!(platform.put_collection(&pid, def).await.unwrap_err().status(), 400);
    assert!(platform.get_collection(&pid, "items").is_none());

    // create_collection refuses an existing name; invalid definitions are 400 with their text.
    let err = platform.create_collection(&pid, CollectionDef::new("posts", vec![])).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (400, COLLECTION_EXISTS.to_owned()));
    let err = platform.put_collection(&pid, CollectionDef::new("a.b", vec![])).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (400, "Invalid collection name.".to_owned()));
    let err = platform.put_collection(&pid, CollectionDef::new("users", vec![])).await.unwrap_err();
    assert_eq!(err.status(), 422);
    let err = platform.put_collection("0123456789abcdef01234567", CollectionDef::new("x", vec![])).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (404, "Project not found".to_owned()));

    // Deleting drops the data and the definition.
    platform.delete_collection(&pid, "posts").await.unwrap();
    assert!(platform.get_collection(&pid, "posts").is_none());
    assert!(raw_documents(store.as_ref(), &posts).await.is_empty());
    let err = platform.delete_collection(&pid, "posts").await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (404, "Schema/Collection not found".to_owned()));
}

async fn changes_reach_a_second_platform_within_a_second((first, second): Pair) {
    let a = Arc::new(open(&first).await);
    let b = Arc::new(open(&second).await);
    let _refresh = b.spawn_refresh();

    let (project, keys) = a.create_project("shared", CreateOptions::default()).await.unwrap();
    // An API-key miss refreshes at once.
    assert!(b.project_by_api_key(&keys.secret).await.unwrap().is_some());

    let pid = project.id.clone();
    let def = CollectionDef::from_json(&json!({"name": "notes", "model": [{"key": "text", "type": "String"}],
        "rls": {"enabled": false}}))
    .unwrap();
    a.put_collection(&pid, def.clone()).await.unwrap();
    within(Duration::from_secs(1), || b.get_collection(&pid, "notes").is_some()).await;

    // An RLS toggle made elsewhere shows within a second, without a restart.
    let mut private = def;
    private.rls.enabled = true;
    private.rls.mode = "private".into();
    a.put_collection(&pid, private).await.unwrap();
    within(Duration::from_secs(1), || b.get_collection(&pid, "notes").is_some_and(|c| c.rls.enabled)).await;

    // A rotated key stops working in the other process within a second.
    let fresh = a.rotate_key(&pid, KeyRole::Publishable).await.unwrap();
    let start = Instant::now();
    loop {
        if b.project_by_api_key(&keys.publishable).await.unwrap().is_none() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "old key still accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(b.project_by_api_key(&fresh).await.unwrap().is_some());

    // And the other way round: B's writes reach A through A's own refresh.
    let _refresh_a = a.spawn_refresh();
    let (other, _) = b.create_project("from-b", CreateOptions::default()).await.unwrap();
    within(Duration::from_secs(1), || a.project(&other.id).is_some()).await;
    assert!(a.last_refresh_error().is_none(), "{:?}", a.last_refresh_error());
}

async fn concurrent_writers_of_one_project((first, second): Pair) {
    let a = Arc::new(open(&first).await);
    let b = Arc::new(open(&second).await);
    let (project, _) = a.create_project("p", CreateOptions::default()).await.unwrap();
    let pid = project.id.clone();
    b.refresh().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let platform = if i % 2 == 0 { Arc::clone(&a) } else { Arc::clone(&b) };
        let pid = pid.clone();
        tasks.push(tokio::spawn(async move {
            platform.put_collection(&pid, CollectionDef::new(format!("c{i}"), vec![])).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    a.refresh().await.unwrap();
    let names: Vec<String> = a.project(&pid).unwrap().collections.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4", "c5", "users"]);
}

#[tokio::test]
async fn indexes_follow_the_definition_exactly() {
    let memory = Arc::new(support::memory::MemoryStore::default());
    let store: Arc<dyn DocumentStore> = memory.clone();
    let platform = open(&store).await;
    let (project, _) = platform.create_project("p", CreateOptions::default()).await.unwrap();
    let users = format!("{}_users", project.id);
    assert_eq!(memory.unique_indexes(&users), vec![store::UniqueIndex { field: "email".into(), required: true }]);

    let physical = format!("{}_posts", project.id);
    let mut def = CollectionDef::new("posts", vec![Field::new("slug", FieldKind::String).unique()]);
    def.rls.enabled = true;
    def.rls.owner_field = "authorId".into();
    platform.put_collection(&project.id, def.clone()).await.unwrap();
    assert_eq!(memory.unique_indexes(&physical), vec![store::UniqueIndex { field: "slug".into(), required: false }]);
    assert_eq!(memory.owner_indexes(&physical), vec!["authorId"]);
    // Making the field required re-creates its index without the partial filter.
    def.model[0].required = true;
    platform.put_collection(&project.id, def).await.unwrap();
    assert_eq!(memory.unique_indexes(&physical), vec![store::UniqueIndex { field: "slug".into(), required: true }]);
}

async fn loads_many_projects_page_by_page((store, second): Pair) {
    let platform = open(&store).await;
    let mut ids = Vec::new();
    for i in 0..230 {
        let (project, _) = platform
            .create_project(&format!("p{i}"), CreateOptions { with_users_collection: i % 50 == 0 })
            .await
            .unwrap();
        ids.push(project.id.clone());
    }
    let fresh = open(&second).await;
    let mut loaded: Vec<String> = fresh.projects().iter().map(|p| p.id.clone()).collect();
    ids.sort();
    loaded.sort();
    assert_eq!(loaded, ids);
    assert_eq!(fresh.projects().iter().filter(|p| p.collection("users").is_some()).count(), 5);
}

async fn malformed_documents_fail_closed((store, _): Pair) {
    let broken = json!({"_id": "0123456789abcdef01234567", "name": "broken", "publishableKey": "x", "secretKey": "y"});
    insert_raw(store.as_ref(), PROJECTS_COLLECTION, vec![broken]).await.unwrap();
    let platform = open(&store).await;
    assert!(platform.project("0123456789abcdef01234567").is_none());
    assert!(platform.projects().is_empty());
    assert_eq!(platform.last_refresh_error().as_deref(), Some("1 malformed platform document(s) skipped"));
    // The rest of the platform works on.
    let (_, keys) = platform.create_project("ok", CreateOptions::default()).await.unwrap();
    assert!(platform.project_by_api_key(&keys.publishable).await.unwrap().is_some());
}

macro_rules! on_backend {
    ($module:ident, $pair:path, [$($case:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($pair()).await
                }
            )*
        }
    };
}

on_backend!(
    memory,
    super::memory_pair,
    [
        create_project_stores_only_hashes,
        rotate_keys_and_settings,
        put_collection_manages_unique_indexes,
        changes_reach_a_second_platform_within_a_second,
        concurrent_writers_of_one_project,
        loads_many_projects_page_by_page,
        malformed_documents_fail_closed,
    ]
);

on_backend!(
    sqlite,
    super::sqlite_pair,
    [
        create_project_stores_only_hashes,
        rotate_keys_and_settings,
        put_collection_manages_unique_indexes,
        changes_reach_a_second_platform_within_a_second,
        concurrent_writers_of_one_project,
        loads_many_projects_page_by_page,
        malformed_documents_fail_closed,
    ]
);
