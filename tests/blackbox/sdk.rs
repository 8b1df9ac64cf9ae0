//! The official SDKs against our server, unchanged (spec §14): `tests/sdk/conformance.mjs`
//! drives the npm package `@urbackend/sdk` on Node.js and `tests/sdk/conformance.py` the PyPI
//! package `urbackend`. Each program calls every public method of its SDK and checks the value
//! it returns, and the SDK's error class and message on the error paths; it exits non-zero at
//! the first mismatch.
//!
//! The world here is what a developer sets up with the command line: a project, collections
//! with each RLS mode and a `Ref` field, a users collection with a verification flag, GitHub
//! login against the loopback provider, and a server that sends mail to a real SMTP server
//! (aiosmtpd), whose messages the programs read to find verification and reset codes.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use urbackend_tests::oauth_provider::{GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GithubUser, OAuthProvider};
use urbackend_tests::sdk::SdkProgram;
use urbackend_tests::{Backend, Lane, MongoServer, Server, SmtpSink, TempDir, cli};

use crate::fixture::{Project, backend};

const MASTER_KEY: &str = "5c0e6a2f9b1d4e7a8c3f6b2e9d1a4c7f0e3b6d9a2c5f8e1b4d7a0c3f6e9b2d5a";
const SITE: &str = "http://localhost:5173";

/// The methods each program must report as checked: a program that skipped one fails here.
const NODE_METHODS: &[&str] = &[
    "urBackend",
    "auth.signUp",
    "auth.resendVerificationOtp",
    "auth.verifyEmail",
    "auth.login",
    "auth.getToken",
    "auth.getRefreshToken",
    "auth.setRefreshToken",
    "auth.me",
    "auth.updateProfile",
    "auth.changePassword",
    "auth.publicProfile",
    "auth.refreshToken",
    "auth.requestPasswordReset",
    "auth.resetPassword",
    "auth.socialStart",
    "auth.socialExchange",
    "auth.setToken",
    "auth.logout",
    "db.insert",
    "db.getAll",
    "db.count",
    "db.getOne",
    "db.update",
    "db.patch",
    "db.delete",
    "parseApiError",
    "DatabaseModule",
    "schema.getSchema",
    "storage.requestUploadUrl",
    "StorageModule.uploadToPresignedUrl",
    "storage.confirmUpload",
    "storage.upload",
    "storage.deleteFile",
    "storage.upload/user-folder",
    "mail.send",
];

const PYTHON_METHODS: &[&str] = &[
    "UrBackendClient",
    "auth.sign_up",
    "auth.resend_verification_otp",
    "auth.verify_email",
    "auth.login",
    "auth.get_token",
    "auth.me",
    "auth.update_profile",
    "auth.change_password",
    "auth.public_profile",
    "auth.refresh_token",
    "auth.request_password_reset",
    "auth.reset_password",
    "auth.social_start_url",
    "auth.social_exchange",
    "auth.set_token",
    "auth.logout",
    "db.insert",
    "db.get_all",
    "db.count",
    "db.get_one",
    "db.update",
    "db.patch",
    "db.delete",
    "db.collection.find",
    "db.collection.insert",
    "storage.upload",
    "storage.delete_file",
    "mail.send",
    "connect",
    "close",
];

/// A server set up for one SDK program.
struct World {
    server: Server,
    sink: SmtpSink,
    provider: OAuthProvider,
    project: Project,
    /// A second project, with users' own uploads allowed.
    files_project: Project,
    _backend: Backend,
    _mongo: Option<MongoServer>,
    _dir: TempDir,
}

fn collections() -> Vec<Value> {
    let owned = |mode: &str| json!({"enabled": true, "mode": mode, "ownerField": "userId"});
    vec![
        json!({"name": "users", "model": [
            {"key": "email", "type": "String", "required": true, "unique": true},
            {"key": "password", "type": "String", "required": true},
            {"key": "username", "type": "String", "unique": true},
            {"key": "name", "type": "String"},
            {"key": "isVerified", "type": "Boolean"},
            {"key": "avatarUrl", "type": "String"}
        ]}),
        json!({"name": "authors", "model": [{"key": "name", "type": "String", "required": true}]}),
        json!({"name": "books", "model": [
            {"key": "title", "type": "String", "required": true},
            {"key": "pages", "type": "Number"},
            {"key": "genre", "type": "String"},
            {"key": "author", "type": "Ref", "ref": "authors"}
        ]}),
        json!({"name": "posts", "model": [
            {"key": "title", "type": "String", "required": true},
            {"key": "userId", "type": "String"}
        ], "rls": owned("public-read")}),
        json!({"name": "notes", "model": [
            {"key": "text", "type": "String", "required": true},
            {"key": "userId", "type": "String"}
        ], "rls": owned("private")}),
    ]
}

impl World {
    fn new(label: &str, lane: Lane) -> World {
        let dir = TempDir::new(label);
        let (backend, mongo) = backend(&dir, label, lane);
        let sink = SmtpSink::start();
        let provider = OAuthProvider::start();
        let project = Project::create(&backend, "sdk-conformance");
        for definition in collections() {
            project.put_collection(&backend, &dir, &definition);
        }
        let files_project = Project::create(&backend, "sdk-user-files");
        cli(&backend, &["project", "set-user-file-uploads", "--project", &files_project.id, "--enabled", "true"]);
        let id = project.id.as_str();
        cli(&backend, &["project", "set-site-url", "--project", id, "--url", SITE]);
        let oauth = [
            "project",
            "set-oauth",
            "--project",
            id,
            "--provider",
            "github",
            "--client-id",
            GITHUB_CLIENT_ID,
            "--client-secret",
            GITHUB_CLIENT_SECRET,
            "--master-key",
            MASTER_KEY,
        ];
        assert_eq!(cli(&backend, &oauth)["enabled"], json!(true));
        let port = sink.port.to_string();
        let mut flags: Vec<String> = [
            "--rate-limit-per-ip",
            "0",
            "--master-key",
            MASTER_KEY,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-tls",
            "none",
            "--mail-from",
            "SDK Suite <noreply@sdk.test>",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        flags.extend(provider.server_flags());
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start_with(&backend, &flags);
        World { server, sink, provider, project, files_project, _backend: backend, _mongo: mongo, _dir: dir }
    }

    /// Runs a program against this world; `who` keeps its addresses apart (`js`, `py`).
    fn run(&self, program: SdkProgram, who: &str, expected: &[&str]) {
        let github_id = if who == "js" { 7001 } else { 7002 };
        let social_email = format!("octo.{who}@example.com");
        self.provider.next_github(GithubUser {
            id: github_id,
            profile_email: None,
            emails: vec![(social_email.clone(), true, true)],
        });
        let env = [
            ("URBACKEND_SDK_BASE_URL", self.server.base.clone()),
            ("URBACKEND_SDK_PK", self.project.pk.clone()),
            ("URBACKEND_SDK_SK", self.project.sk.clone()),
            ("URBACKEND_SDK_PROJECT_ID", self.project.id.clone()),
            ("URBACKEND_SDK_FILES_PK", self.files_project.pk.clone()),
            ("URBACKEND_SDK_FILES_PROJECT_ID", self.files_project.id.clone()),
            ("URBACKEND_SDK_MAIL_DIR", self.sink.dir().display().to_string()),
            ("URBACKEND_SDK_SITE", SITE.to_owned()),
            ("URBACKEND_SDK_PROVIDER", self.provider.base.clone()),
            ("URBACKEND_SDK_GITHUB_ID", github_id.to_string()),
            ("URBACKEND_SDK_SOCIAL_EMAIL", social_email),
            ("URBACKEND_SDK_WHO", who.to_owned()),
        ];
        let report = program.run(&env);
        let checked: BTreeSet<&str> = report.checked.iter().map(String::as_str).collect();
        let missing: Vec<&&str> = expected.iter().filter(|m| !checked.contains(**m)).collect();
        assert!(missing.is_empty(), "the program did not check {missing:?}; it checked {:?}", report.checked);

        // What the program did is in the store and in the mail server.
        let sk = [("x-api-key", self.project.sk.as_str())];
        let (status, books) = self.server.request("GET", "/api/data/books?sort=pages:asc", &sk, None);
        assert_eq!(status, 200, "{books}");
        let left: Vec<Value> =
            books["data"]["items"].as_array().unwrap().iter().map(|b| json!([b["title"], b["pages"]])).collect();
        let expected =
            [json!(["Lathe of Heaven", 184]), json!(["A Wizard of Earthsea", 205]), json!(["The Dispossessed", 387])];
        assert_eq!(left, expected, "the books after the program (one deleted, one updated and patched)");
        let (_, posts) = self.server.request("GET", "/api/data/posts", &sk, None);
        let titles: Vec<&Value> = posts["data"]["items"].as_array().unwrap().iter().map(|p| &p["title"]).collect();
        assert_eq!(titles, [&json!("Mine")], "the other user's patch changed nothing: {posts}");
        let messages = self.sink.messages();
        let subject = format!("SDK conformance ({who})");
        assert!(
            messages
                .iter()
                .any(|m| m["subject"] == json!(subject) && m["rcptTos"] == json!([format!("mail.{who}@example.com")])),
            "the SDK's mail.send reached the mail server: {messages:?}"
        );
    }
}

fn node_sdk_conformance(lane: Lane) {
    let program = SdkProgram::node();
    World::new("sdk-node", lane).run(program, "js", NODE_METHODS);
}

fn python_sdk_conformance(lane: Lane) {
    let program = SdkProgram::python();
    World::new("sdk-python", lane).run(program, "py", PYTHON_METHODS);
}

crate::on_both_lanes!(node_sdk_conformance, python_sdk_conformance);
