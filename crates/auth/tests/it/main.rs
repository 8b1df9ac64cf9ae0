//! The accounts service on a real embedded store, without HTTP: one-time codes (single use under
//! concurrency, attempt limit, expiry), password resets revoking sessions, bcrypt hashes of
//! users moved over from urBackend, and refresh rotation at the library level. Mails are
//! captured by an in-process `CodeMailer`; the black-box tests read them from a real SMTP server.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth::password::{HashCost, PasswordHasher};
use auth::{Accounts, AccountsConfig, ClientInfo, CodeMailer, CodePurpose, SignupOutcome};
use platform::{CollectionDef, CreateOptions, Platform, PlatformStoreOnly, Project};
use serde_json::{Value, json};
use store::DocumentStore;
use store_sqlite::SqliteStore;

/// Captured mails: (to, purpose, code).
#[derive(Default)]
struct Outbox(Mutex<Vec<(String, CodePurpose, String)>>);

#[async_trait]
impl CodeMailer for Outbox {
    async fn send_code(&self, _project: &Project, to: &str, purpose: CodePurpose, code: &str) -> Result<(), String> {
        self.0.lock().unwrap().push((to.to_owned(), purpose, code.to_owned()));
        Ok(())
    }
}

struct World {
    accounts: Accounts,
    platform: Arc<Platform>,
    project: Arc<Project>,
    outbox: Arc<Outbox>,
    store: Arc<dyn DocumentStore>,
}

const NOW: i64 = 1_800_000_000_000;
const CLIENT: ClientInfo<'static> = ClientInfo { ip: "127.0.0.1", user_agent: "test" };

impl World {
    async fn new() -> World {
        let store: Arc<dyn DocumentStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let platform = Arc::new(Platform::open(store.clone()).await.unwrap());
        let (project, _keys) = platform.create_project("codes", CreateOptions::default()).await.unwrap();
        let users = CollectionDef::from_json(&json!({"name": "users", "model": [
            {"key": "email", "type": "String", "required": true, "unique": true},
            {"key": "password", "type": "String", "required": true},
            {"key": "isVerified", "type": "Boolean"}
        ]}))
        .unwrap();
        platform.put_collection(&project.id, users).await.unwrap();
        let project = platform.project(&project.id).unwrap();
        let outbox = Arc::new(Outbox::default());
        let hasher = PasswordHasher::new(HashCost::DANGER_TEST_MINIMUM, 4).unwrap();
        let resolver = Arc::new(PlatformStoreOnly(store.clone()));
        let accounts = Accounts::new(store.clone(), resolver, hasher, outbox.clone(), AccountsConfig::default());
        World { accounts, platform, project, outbox, store }
    }

    /// The newest code sent to `to` for `purpose` (mails go out in the background).
    async fn code(&self, to: &str, purpose: CodePurpose) -> String {
        for _ in 0..200 {
            let found =
                self.outbox.0.lock().unwrap().iter().rev().find(|m| m.0 == to && m.1 == purpose).map(|m| m.2.clone());
            if let Some(code) = found {
                return code;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no {purpose:?} mail to {to}");
    }

    async fn signup(&self, email: &str) -> String {
        let body = json!({"email": email, "password": "correct horse"});
        match self.accounts.signup(&self.project, &body, CLIENT, NOW).await.unwrap() {
            SignupOutcome::Created(issued) => issued.user_id,
            other => panic!("{other:?}"),
        }
    }

    async fn verified(&self, email: &str) -> bool {
        let login = self
            .accounts
            .login(&self.project, &json!({"email": email, "password": "correct horse"}), CLIENT, NOW)
            .await
            .unwrap();
        let me = self.accounts.me(&self.project, Some(&format!("Bearer {}", login.access_token)), NOW).await.unwrap();
        me["isVerified"] == json!(true)
    }
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    (100_000 + (n - 100_000 + 1) % 900_000).to_string()
}

#[tokio::test]
async fn a_verification_code_verifies_once() {
    let w = World::new().await;
    w.signup("ann@example.com").await;
    let code = w.code("ann@example.com", CodePurpose::Verification).await;
    let verify = |otp: &str| json!({"email": "ANN@example.com", "otp": otp});
    let err = w.accounts.verify_email(&w.project, &verify(&wrong(&code)), NOW).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (400, "Invalid or expired OTP".to_owned()));
    assert!(!w.verified("ann@example.com").await);
    w.accounts.verify_email(&w.project, &verify(&code), NOW).await.unwrap();
    assert!(w.verified("ann@example.com").await);
    let err = w.accounts.verify_email(&w.project, &verify(&code), NOW).await.unwrap_err();
    assert_eq!(err.to_string(), "Invalid or expired OTP", "single use");
}

#[tokio::test]
async fn five_wrong_attempts_burn_the_code() {
    let w = World::new().await;
    w.signup("bob@example.com").await;
    let code = w.code("bob@example.com", CodePurpose::Verification).await;
    for _ in 0..5 {
        let body = json!({"email": "bob@example.com", "otp": wrong(&code)});
        assert_eq!(w.accounts.verify_email(&w.project, &body, NOW).await.unwrap_err().status(), 400);
    }
    let body = json!({"email": "bob@example.com", "otp": code});
    let err = w.accounts.verify_email(&w.project, &body, NOW).await.unwrap_err();
    assert_eq!(err.to_string(), "Invalid or expired OTP", "the right code after 5 wrong ones");
    assert!(!w.verified("bob@example.com").await);
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let w = World::new().await;
    w.signup("cat@example.com").await;
    let code = w.code("cat@example.com", CodePurpose::Verification).await;
    let body = json!({"email": "cat@example.com", "otp": code});
    let late = NOW + 5 * 60 * 1000;
    assert_eq!(w.accounts.verify_email(&w.project, &body, late).await.unwrap_err().status(), 400);
    w.accounts.verify_email(&w.project, &body, late - 1).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resets_with_one_code_succeed_once_and_revoke_sessions() {
    let w = Arc::new(World::new().await);
    w.signup("dan@example.com").await;
    let login = json!({"email": "dan@example.com", "password": "correct horse"});
    let session = w.accounts.login(&w.project, &login, CLIENT, NOW).await.unwrap();
    w.accounts.request_password_reset(&w.project, &json!({"email": "dan@example.com"}), NOW).await.unwrap();
    let code = w.code("dan@example.com", CodePurpose::PasswordReset).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let w = w.clone();
            let body = json!({"email": "dan@example.com", "otp": code, "newPassword": format!("new password {i}")});
            tokio::spawn(async move { w.accounts.reset_password(&w.project, &body, NOW).await.is_ok() })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(w.accounts.login(&w.project, &login, CLIENT, NOW).await.unwrap_err().status(), 400);
    let err = w.accounts.refresh(&w.project, Some(&session.refresh_token), CLIENT, NOW).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (403, "Refresh token is invalid or already used".to_owned()));
}

#[tokio::test]
async fn users_with_bcrypt_hashes_log_in_and_are_upgraded() {
    let w = World::new().await;
    let bcrypt_hash = bcrypt::hash("from urbackend", 4).unwrap();
    let physical = w.project.physical_name("users");
    let schema = w.platform.get_collection(&w.project.id, "users").unwrap().query_schema();
    let spec = store::CollectionSpec { physical: &physical, schema: &schema };
    let doc = json!({"email": "old@example.com", "password": bcrypt_hash, "isVerified": true});
    let Value::Object(doc) = doc else { unreachable!() };
    let stored = w.store.insert(&spec, vec![doc]).await.unwrap();
    let id = rls_core::DocId::parse(stored[0]["_id"].as_str().unwrap()).unwrap();
    let body = json!({"email": "old@example.com", "password": "from urbackend"});
    w.accounts.login(&w.project, &body, CLIENT, NOW).await.unwrap();
    let after = w.store.get(&spec, &id, &rls_core::ReadScope::All).await.unwrap().unwrap();
    assert!(after["password"].as_str().unwrap().starts_with("$argon2id$"), "{after:?}");
    w.accounts.login(&w.project, &body, CLIENT, NOW).await.unwrap();
    let bad = json!({"email": "old@example.com", "password": "not it at all"});
    assert_eq!(w.accounts.login(&w.project, &bad, CLIENT, NOW).await.unwrap_err().status(), 400);
}

#[tokio::test]
async fn sweeps_remove_what_expired_and_nothing_alive() {
    let w = World::new().await;
    // Latches carry the store's own timestamp, so this test runs at the real time.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let signup = json!({"email": "eve@example.com", "password": "correct horse"});
    w.accounts.signup(&w.project, &signup, CLIENT, now).await.unwrap();
    let login = json!({"email": "eve@example.com", "password": "correct horse"});
    let session = w.accounts.login(&w.project, &login, CLIENT, now).await.unwrap();
    let rotated = w.accounts.refresh(&w.project, Some(&session.refresh_token), CLIENT, now).await.unwrap();
    // Nothing has expired yet.
    assert_eq!(w.accounts.sweep(now).await.unwrap(), auth::Swept::default());
    // Ten minutes on: the signup's verification code is gone, the sessions live.
    let swept = w.accounts.sweep(now + 10 * 60 * 1000).await.unwrap();
    assert_eq!(swept.expired, 1, "{swept:?}");
    w.accounts.refresh(&w.project, Some(&rotated.refresh_token), CLIENT, now + 10 * 60 * 1000).await.unwrap();
    // Past the refresh lifetime and a day: the four sessions (signup, login, two rotations) and
    // every latch are gone.
    let later = now + 9 * 24 * 60 * 60 * 1000;
    let swept = w.accounts.sweep(later).await.unwrap();
    assert_eq!(swept.expired, 4, "{swept:?}");
    assert!(swept.latches >= 2, "{swept:?}");
    assert_eq!(w.accounts.sweep(later).await.unwrap(), auth::Swept::default());
}
