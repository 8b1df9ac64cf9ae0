//! `Platform::import_project` on a real SQLite store: the imported project answers to its kept
//! key hashes with its collections, indexes and RLS; an existing id and taken key hashes are
//! refused; and a collection the store refuses (a unique index over data copied in beforehand
//! that repeats a value) rolls the whole import back, so it can be run again after a fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use platform::{KeyRole, Platform, PlatformError, ProjectImport, hash_key};
use serde_json::{Value, json};
use store::{DocumentStore, StoreError};
use support::insert_raw;

const PROJECT: &str = "65f1c0ffee0000000000abcd";
const PK: &str = "pk_live_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
const SK: &str = "sk_live_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4Q";

fn fixture() -> ProjectImport {
    let text = include_str!("../../../tests/fixtures/urbackend-project.json");
    ProjectImport::from_export(&serde_json::from_str::<Value>(text).unwrap()).unwrap()
}

fn sqlite(label: &str) -> Arc<dyn DocumentStore> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("import-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Arc::new(store_sqlite::SqliteStore::open(&dir.join("platform.sqlite3")).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_projects_answer_to_their_kept_keys() {
    let store = sqlite("kept");
    let platform = Platform::open(Arc::clone(&store)).await.unwrap();
    let project = platform.import_project(&fixture(), None).await.unwrap();
    assert_eq!(project.id, PROJECT);
    let (found, role) = platform.project_by_api_key(SK).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), role), (PROJECT, KeyRole::Secret));
    let (found, role) = platform.project_by_api_key(PK).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), role), (PROJECT, KeyRole::Publishable));
    assert_eq!(found.publishable_key_hash, hash_key(PK));
    let names: Vec<&str> = found.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["comments", "notes", "posts", "users"]);
    assert_eq!(found.collection("posts").unwrap().rls.mode, "private");
    // The unique index on `posts.slug` exists: a second document with one slug is refused.
    let insert = |doc: Value| insert_raw(store.as_ref(), "65f1c0ffee0000000000abcd_posts", vec![doc]);
    insert(json!({"title": "a", "slug": "s"})).await.unwrap();
    assert!(matches!(insert(json!({"title": "b", "slug": "s"})).await, Err(StoreError::DuplicateKey { .. })));
    // A second platform on the same store (another process) sees it after opening.
    let second = Platform::open(store).await.unwrap();
    assert!(second.project(PROJECT).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_ids_and_taken_keys_are_refused() {
    let platform = Platform::open(sqlite("refused")).await.unwrap();
    platform.import_project(&fixture(), None).await.unwrap();
    let err = platform.import_project(&fixture(), None).await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::BadRequest(format!("a project with id {PROJECT} exists already; nothing was changed"))
    );
    let mut thief = fixture();
    thief.project.id = "65f1c0ffee0000000000abce".to_owned();
    let err = platform.import_project(&thief, None).await.unwrap_err();
    assert!(err.to_string().starts_with("another project already uses this"), "{err}");
    assert!(platform.project("65f1c0ffee0000000000abce").is_none());
    assert_eq!(platform.projects().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_collection_rolls_the_import_back() {
    let store = sqlite("rollback");
    let platform = Platform::open(Arc::clone(&store)).await.unwrap();
    // Data copied in before the import, repeating a value the model declares unique.
    let posts = "65f1c0ffee0000000000abcd_posts";
    let dup = json!({"title": "t", "slug": "same"});
    insert_raw(store.as_ref(), posts, vec![dup.clone(), dup]).await.unwrap();
    let err = platform.import_project(&fixture(), None).await.unwrap_err();
    assert!(err.to_string().starts_with("Cannot create unique index on 'slug'. 1 duplicate values exist"), "{err}");
    assert!(platform.project(PROJECT).is_none());
    assert!(platform.project_by_api_key(SK).await.unwrap().is_none());
    let reopened = Platform::open(Arc::clone(&store)).await.unwrap();
    assert!(reopened.project(PROJECT).is_none() && reopened.projects().is_empty());
    // Without the duplicates the same import goes through.
    let mut without = fixture();
    without.collections.iter_mut().filter(|c| c.name == "posts").for_each(|c| c.model[1].unique = false);
    assert!(platform.import_project(&without, None).await.is_ok());
}
