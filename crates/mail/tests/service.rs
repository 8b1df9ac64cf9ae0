//! The mail service on real parts: the embedded SQLite store (two opens of one file, as two
//! server processes would have), the folder transport writing real `.eml` files, and an SMTP
//! port nobody listens on. The concurrency case checks that the monthly quota is never
//! overshot however sends race.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail::{AuthCodeKind, Delivery, MailConfig, MailError, MailService, Scope, SmtpConfig, Template, TlsMode};
use platform::{CreateOptions, Platform, Project};
use serde_json::{Value, json};
use store::DocumentStore;

/// A fresh directory under cargo's test temporary directory.
fn temp_dir(label: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mail-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct World {
    dir: PathBuf,
    stores: [Arc<dyn DocumentStore>; 2],
    project: Arc<Project>,
}

impl World {
    async fn new(label: &str) -> World {
        let dir = temp_dir(label);
        let path = dir.join("store.sqlite3");
        let first: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
        let second: Arc<dyn DocumentStore> = Arc::new(store_sqlite::SqliteStore::open(&path).unwrap());
        let platform = Platform::open(first.clone()).await.unwrap();
        let (project, _keys) = platform.create_project("Acme <App>", CreateOptions::default()).await.unwrap();
        World { dir, stores: [first, second], project }
    }

    fn outbox(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// A service on store handle `which`, writing into the outbox.
    async fn service(&self, which: usize, limit: u32) -> MailService {
        let config = MailConfig {
            monthly_limit: limit,
            from: mail::DEFAULT_FROM.into(),
            delivery: Delivery::Folder(self.outbox()),
        };
        MailService::open(self.stores[which].clone(), config).await.unwrap()
    }

    /// The `.eml` files written so far, oldest first.
    fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.outbox())
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files.iter().map(|p| quoted_printable_decoded(&std::fs::read_to_string(p).unwrap())).collect()
    }
}

/// The message with quoted-printable soft breaks and `=XX` escapes undone (headers untouched in
/// practice: they hold no `=` followed by two hex digits).
fn quoted_printable_decoded(eml: &str) -> String {
    let joined = eml.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn refusal(result: Result<mail::Sent, MailError>) -> (u16, String) {
    let error = result.expect_err("the send was refused");
    (error.status(), error.client_message())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_never_exceed_the_monthly_limit() {
    let world = World::new("quota").await;
    let services = [Arc::new(world.service(0, 25).await), Arc::new(world.service(1, 25).await)];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let service = services[i % 2].clone();
        let project = world.project.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"to": format!("user{i}@example.com"), "subject": "Hi", "text": "Hello"});
            service.send(&project, &body).await
        }));
    }
    let (mut sent, mut refused, mut usages) = (0, 0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => {
                sent += 1;
                assert_eq!(outcome.monthly_limit, 25);
                usages.push(outcome.monthly_usage);
            }
            Err(MailError::QuotaExceeded) => refused += 1,
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    eprintln!("40 concurrent sends with a limit of 25: {sent} sent, {refused} refused");
    assert_eq!((sent, refused), (25, 15));
    assert!(usages.iter().all(|u| (1..=25).contains(u)), "{usages:?}");
    assert_eq!(world.mails().len(), 25, "one file per accepted mail");
    let period = mail::quota::period_of(chrono::Utc::now());
    assert_eq!(services[1].quota().usage(&world.project.id, &period).await.unwrap(), 25);
    let body = json!({"to": "late@example.com", "subject": "Hi", "text": "Hello"});
    assert_eq!(refusal(services[0].send(&world.project, &body).await), (429, "Monthly mail limit exceeded.".into()));
}

#[tokio::test]
async fn builtin_templates_render_with_escaped_variables() {
    let world = World::new("builtin").await;
    let service = world.service(0, 0).await;
    let body = json!({"to": "ana@example.com", "templateName": " WELCOME ", "variables": {
        "name": "<b>Ana</b>", "projectName": "Acme", "appUrl": "javascript:alert(1)"}});
    let sent = service.send(&world.project, &body).await.unwrap();
    let data = serde_json::to_value(&sent).unwrap();
    assert_eq!(data["provider"], json!("folder"));
    assert_eq!((data["monthlyUsage"].clone(), data["monthlyLimit"].clone()), (json!(1), json!(-1)), "0 is unlimited");
    assert_eq!(
        data["templateUsed"],
        json!({"id": "00000000000000000000c001", "scope": "global", "key": "welcome", "name": "Welcome"})
    );
    assert_eq!(data["id"].as_str().unwrap().len(), 24);
    let mails = world.mails();
    let eml = &mails[0];
    assert!(eml.contains("To: ana@example.com\r\n"), "{eml}");
    assert!(eml.contains("Subject: Welcome to Acme\r\n"), "{eml}");
    assert!(eml.contains("Welcome, &lt;b&gt;Ana&lt;/b&gt;!"), "escaped in HTML: {eml}");
    assert!(eml.contains("Welcome, <b>Ana</b>!"), "raw in the text part: {eml}");
    assert!(eml.contains("href=\"\""), "the javascript: URL is dropped: {eml}");
    assert!(!eml.contains("javascript:"), "{eml}");
    assert!(eml.contains(&format!("Message-ID: <{}@localhost>", data["id"].as_str().unwrap())), "{eml}");

    // By id, with an explicit subject overriding the template's; the text part only.
    let body = json!({"to": "ana@example.com", "templateId": "00000000000000000000C003", "subject": "Code {{otp}}",
        "variables": {"otp": "123456", "expiresInMinutes": 10}});
    let sent = service.send(&world.project, &body).await.unwrap();
    assert_eq!(sent.template_used.unwrap().key, "otp");
    let eml = &world.mails()[1];
    assert!(eml.contains("Subject: Code 123456\r\n") && eml.contains("expires in 10 minutes"), "{eml}");
}

#[tokio::test]
async fn project_templates_come_first_and_are_stored_in_the_shared_store() {
    let world = World::new("project").await;
    let writer = world.service(0, 0).await;
    let reader = world.service(1, 0).await;
    let pid = world.project.id.clone();
    let definition = json!({"name": "Welcome", "subject": "Hello {{name}}", "html": "<p>{{{banner}}} {{name}}</p>"});
    let template = Template::definition(&pid, &definition).unwrap();
    let stored = writer.templates().put(&pid, &template).await.unwrap();
    assert_eq!((stored.key.as_str(), stored.scope), ("welcome", Scope::Project));
    let listed = reader.templates().list(&pid).await.unwrap();
    assert_eq!(listed, vec![stored.clone()], "seen through the other store handle");

    let body = json!({"to": "bo@example.com", "templateName": "welcome",
        "variables": {"name": "Bo & Co", "banner": "<hr>"}});
    let sent = reader.send(&world.project, &body).await.unwrap();
    let used = sent.template_used.unwrap();
    assert_eq!((used.id, used.scope, used.key), (stored.id.clone(), Scope::Project, "welcome".into()));
    let eml = &world.mails()[0];
    assert!(eml.contains("Subject: Hello Bo & Co\r\n") && eml.contains("<p><hr> Bo &amp; Co</p>"), "{eml}");
    assert!(eml.contains("Content-Type: text/html"), "html only: {eml}");

    // Replaced by key; another template may not take its name; another project cannot use it.
    let replaced = Template::definition(&pid, &json!({"name": "Welcome", "subject": "v2", "text": "t"})).unwrap();
    assert_eq!(writer.templates().put(&pid, &replaced).await.unwrap().id, stored.id);
    let clash = Template::definition(&pid, &json!({"name": "welcome", "key": "other", "subject": "s", "text": "t"}));
    let clash = writer.templates().put(&pid, &clash.unwrap()).await.unwrap_err();
    assert_eq!((clash.status(), clash.client_message()), (409, "Template name/key already exists.".into()));
    let body = json!({"to": "bo@example.com", "templateId": stored.id});
    let sent = reader.send(&world.project, &body).await.unwrap();
    assert_eq!(sent.template_used.unwrap().scope, Scope::Project);
    let platform = Platform::open(world.stores[0].clone()).await.unwrap();
    let (other, _) = platform.create_project("other", CreateOptions::default()).await.unwrap();
    assert_eq!(refusal(reader.send(&other, &body).await), (400, "Template not found.".into()));
    let body = json!({"to": "bo@example.com", "templateName": "welcome"});
    assert_eq!(reader.send(&other, &body).await.unwrap().template_used.unwrap().scope, Scope::Global);
}

#[tokio::test]
async fn refusals_before_and_after_rendering() {
    let world = World::new("refusals").await;
    let service = world.service(0, 5).await;
    let cases: &[(Value, &str)] = &[
        (json!({"to": "a@example.com", "templateName": "nope"}), "Template not found."),
        (json!({"to": "a@example.com", "templateId": "65a0c0de0000000a0000000b"}), "Template not found."),
        (json!({"to": "a@example.com", "subject": "{{missing}}", "text": "t"}), "Subject is required."),
        (
            json!({"to": "a@example.com", "subject": "s", "html": "{{{x}}} ", "text": "{{y.z}}"}),
            "Provide at least one of html or text content.",
        ),
        (
            json!({"to": ["a@example.com"], "subject": "s", "text": "t"}),
            "Invalid input: expected string, received array",
        ),
    ];
    for (body, text) in cases {
        assert_eq!(refusal(service.send(&world.project, body).await), (400, (*text).to_owned()), "{body}");
    }
    let period = mail::quota::period_of(chrono::Utc::now());
    assert_eq!(service.quota().usage(&world.project.id, &period).await.unwrap(), 0, "refusals use no quota");
    assert!(world.mails().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_gives_its_slot_back() {
    let world = World::new("smtp-down").await;
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let smtp =
        SmtpConfig { host: "127.0.0.1".into(), port: Some(port), tls: TlsMode::None, username: None, password: None };
    let config = MailConfig { monthly_limit: 1, from: "App <app@example.com>".into(), delivery: Delivery::Smtp(smtp) };
    let down = MailService::open(world.stores[0].clone(), config).await.unwrap();
    let body = json!({"to": "a@example.com", "subject": "s", "text": "t"});
    for _ in 0..3 {
        let (status, text) = refusal(down.send(&world.project, &body).await);
        assert_eq!((status, text.as_str()), (500, "Mail delivery failed: the mail server could not be reached."));
    }
    // The single slot of the month is still free.
    let up = world.service(0, 1).await;
    assert_eq!(up.send(&world.project, &body).await.unwrap().monthly_usage, 1);
    assert_eq!(refusal(up.send(&world.project, &body).await).0, 429);
}

#[tokio::test]
async fn auth_code_mails_use_the_builtin_templates_outside_the_quota() {
    let world = World::new("auth").await;
    let service = world.service(0, 1).await;
    service.send_auth_code(&world.project, "eve@example.com", AuthCodeKind::Verification, "482913").await.unwrap();
    service.send_auth_code(&world.project, "eve@example.com", AuthCodeKind::PasswordReset, "777001").await.unwrap();
    let mails = world.mails();
    assert_eq!(mails.len(), 2);
    let (verify, reset) = if mails[0].contains("482913") { (&mails[0], &mails[1]) } else { (&mails[1], &mails[0]) };
    assert!(verify.contains("Subject: Verify your account\r\n"), "{verify}");
    // The project's name as the sender's, as an encoded word (base64 of `Acme <App>`).
    assert!(verify.contains("From: =?utf-8?b?QWNtZSA8QXBwPg==?= <urbackend@localhost>\r\n"), "{verify}");
    assert!(verify.contains("expires in 5 minutes") && verify.contains("Acme &lt;App&gt;"), "{verify}");
    assert!(reset.contains("Subject: Reset your password\r\n") && reset.contains("777001"), "{reset}");
    assert!(reset.contains("expires in 5 minutes"), "{reset}");
    let refused = service.send_auth_code(&world.project, "not an address", AuthCodeKind::Verification, "1").await;
    assert_eq!(refused.unwrap_err().status(), 400);
    let body = json!({"to": "a@example.com", "subject": "s", "text": "t"});
    assert_eq!(service.send(&world.project, &body).await.unwrap().monthly_usage, 1, "auth mails are not counted");
}

#[test]
fn the_service_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<MailService>();
    shareable::<Arc<MailService>>();
}

#[tokio::test]
async fn a_bad_sender_is_a_configuration_error() {
    let world = World::new("config").await;
    let config =
        MailConfig { monthly_limit: 0, from: "not an address".into(), delivery: Delivery::Folder(world.outbox()) };
    let error = MailService::open(world.stores[0].clone(), config).await.unwrap_err();
    assert!(matches!(error, MailError::Config(_)), "{error:?}");
}
