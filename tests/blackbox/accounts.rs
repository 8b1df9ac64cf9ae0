//! Accounts end to end (spec §8): signup with the users schema's own fields, login with any
//! case of the address, me, public profiles, profile updates that cannot touch protected
//! fields, change-password (a 500 in the original), the §8.1 preconditions, and login
//! throttling and timing.

use std::time::Instant;

use serde_json::{Value, json};
use urbackend_tests::{Lane, Server, TempDir};

use crate::fixture::{Project, backend};

/// A users collection with custom fields and a verification flag.
pub(crate) fn users_definition() -> Value {
    json!({
        "name": "users",
        "model": [
            {"key": "email", "type": "String", "required": true, "unique": true},
            {"key": "password", "type": "String", "required": true},
            {"key": "username", "type": "String", "unique": true},
            {"key": "bio", "type": "String"},
            {"key": "age", "type": "Number"},
            {"key": "role", "type": "String", "default": "member"},
            {"key": "isVerified", "type": "Boolean"}
        ]
    })
}

/// A server and one project whose users collection is [`users_definition`].
pub(crate) struct Accounts {
    pub(crate) server: Server,
    pub(crate) project: Project,
    pub(crate) backend: urbackend_tests::Backend,
    _mongo: Option<urbackend_tests::MongoServer>,
    _dir: TempDir,
}

impl Accounts {
    pub(crate) fn new(label: &str, lane: Lane, flags: &[&str]) -> Accounts {
        let dir = TempDir::new(label);
        let (backend, mongo) = backend(&dir, label, lane);
        let project = Project::create(&backend, "accounts");
        project.put_collection(&backend, &dir, &users_definition());
        let mut all_flags = vec!["--rate-limit-per-ip", "0"];
        all_flags.extend_from_slice(flags);
        let server = Server::start_with(&backend, &all_flags);
        Accounts { server, project, backend, _mongo: mongo, _dir: dir }
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.server.request("POST", &format!("/api/userAuth{path}"), &[("x-api-key", &self.project.pk)], Some(body))
    }

    pub(crate) fn with_token(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        let bearer = format!("Bearer {token}");
        let headers = [("x-api-key", self.project.pk.as_str()), ("Authorization", bearer.as_str())];
        self.server.request(method, &format!("/api/userAuth{path}"), &headers, body)
    }

    pub(crate) fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.post("/login", &json!({"email": email, "password": password}))
    }
}

pub(crate) fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

fn signup_login_me_and_profiles(lane: Lane) {
    let t = Accounts::new("signup", lane, &[]);
    let signup = json!({"email": "  Ann@Example.COM ", "password": "hunter22", "username": "ann",
        "bio": "hello", "age": 41, "undeclared": "dropped", "role": "admin", "isVerified": true});
    let reply = t.server.exchange("POST", "/api/userAuth/signup", &[("x-api-key", &t.project.pk)], Some(&signup));
    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(body["message"], json!("User registered successfully. Please verify your email."));
    assert_eq!(body["expiresIn"], json!("15m"));
    assert_eq!(body["token"], body["accessToken"]);
    assert!(body.get("refreshToken").is_none(), "refresh token only in header mode: {body}");
    let cookie = reply.cookies.iter().find(|c| c.starts_with("refreshToken=")).expect("refresh cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/") && cookie.contains("Max-Age=604800"), "{cookie}");
    let user_id = body["userId"].as_str().unwrap().to_owned();
    let token = body["accessToken"].as_str().unwrap().to_owned();

    // The address is stored normalised; the declared custom fields are kept, validated; the
    // protected ones (role, verification) are the server's.
    let (status, me) = t.with_token("GET", "/me", &token, None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["_id"], json!(user_id));
    assert_eq!(me["email"], json!("ann@example.com"));
    assert_eq!(
        (me["bio"].clone(), me["age"].clone(), me["username"].clone()),
        (json!("hello"), json!(41), json!("ann"))
    );
    assert_eq!(me["role"], json!("member"));
    assert_eq!(me["isVerified"], json!(false));
    assert!(me.get("password").is_none() && me.get("undeclared").is_none(), "{me}");

    // Another case of the same address is the same account: still unverified, so signup sends a
    // new code instead of tokens, once the cooldown of the first one has passed.
    let (status, body) = t.post("/signup", &json!({"email": "ANN@example.com", "password": "whatever1"}));
    assert_eq!((status, error_of(&body)), (429, "Please wait 60 seconds before requesting another code."));
    let (status, body) = t.login("ann@EXAMPLE.com", "hunter22");
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refreshToken").is_none());

    // Validation errors carry their real text (the original: `Unknown error`).
    let (status, body) = t.post("/login", &json!({"email": "not-an-address", "password": "hunter22"}));
    assert_eq!((status, error_of(&body)), (400, "Invalid email format."));
    let (status, body) = t.post("/signup", &json!({"email": "bob@example.com", "password": "hunter22", "age": "old"}));
    assert_eq!((status, error_of(&body)), (400, "Field 'age' must be a Number."));
    let (status, body) = t.post("/signup", &json!({"email": "bob@example.com", "password": "short"}));
    assert_eq!((status, error_of(&body)), (400, "Password must be at least 6 characters."));

    // Public profile: declared, non-secret fields only.
    let (status, profile) = t.server.request("GET", "/api/userAuth/public/ann", &[("x-api-key", &t.project.pk)], None);
    assert_eq!(status, 200, "{profile}");
    assert_eq!((profile["username"].clone(), profile["bio"].clone()), (json!("ann"), json!("hello")));
    assert!(profile.get("email").is_none() && profile.get("password").is_none(), "{profile}");
    let (status, _) = t.server.request("GET", "/api/userAuth/public/nobody", &[("x-api-key", &t.project.pk)], None);
    assert_eq!(status, 404);

    // Profile updates change declared fields and nothing the server owns.
    let update = json!({"bio": "updated", "email": "evil@example.com", "password": "x", "isVerified": true,
        "role": "admin", "_id": "000000000000000000000000", "githubId": "1"});
    let (status, body) = t.with_token("PUT", "/update-profile", &token, Some(&update));
    assert_eq!((status, body["message"].clone()), (200, json!("Profile updated successfully")));
    let (_, me) = t.with_token("GET", "/me", &token, None);
    assert_eq!((me["bio"].clone(), me["email"].clone()), (json!("updated"), json!("ann@example.com")));
    assert_eq!(
        (me["isVerified"].clone(), me["role"].clone(), me["_id"].clone()),
        (json!(false), json!("member"), json!(user_id))
    );
    assert!(me.get("githubId").is_none());
    let (status, body) = t.with_token("PUT", "/update-profile", &token, Some(&json!({"username": "x"})));
    assert_eq!((status, error_of(&body)), (400, "Username must be between 3 and 50 characters."));
    let (status, body) = t.with_token("PUT", "/update-profile", &token, Some(&json!({"age": "old"})));
    assert_eq!((status, error_of(&body)), (400, "Field 'age' must be a Number."));

    // Change password: the original always answered 500.
    let wrong = json!({"currentPassword": "nope-nope", "newPassword": "brand-new-1"});
    let (status, body) = t.with_token("PUT", "/change-password", &token, Some(&wrong));
    assert_eq!((status, error_of(&body)), (400, "Invalid current password"));
    let right = json!({"currentPassword": "hunter22", "newPassword": "brand-new-1"});
    let (status, body) = t.with_token("PUT", "/change-password", &token, Some(&right));
    assert_eq!((status, body["message"].clone()), (200, json!("Password changed successfully")));
    assert_eq!(t.login("ann@example.com", "hunter22").0, 400);
    assert_eq!(t.login("ann@example.com", "brand-new-1").0, 200);

    // Someone else's token never reaches this account's data; no token is 401.
    let (status, body) = t.server.request("GET", "/api/userAuth/me", &[("x-api-key", &t.project.pk)], None);
    assert_eq!((status, error_of(&body)), (401, "Access Denied: No Token Provided"));
    let (status, body) = t.with_token("PUT", "/update-profile", "garbage", Some(&json!({"bio": "x"})));
    assert_eq!((status, error_of(&body)), (401, "Access Denied: Invalid or expired token"));
}

fn the_preconditions_of_every_account_route(lane: Lane) {
    let dir = TempDir::new("preconditions");
    let (backend, _mongo) = backend(&dir, "preconditions", lane);
    let no_auth = Project::create_with(&backend, "no-auth", &["--no-users"]);
    let server = Server::start_with(&backend, &["--rate-limit-per-ip", "0"]);
    let credentials = json!({"email": "a@example.com", "password": "secret12"});
    for path in ["/signup", "/login", "/verify-email", "/request-password-reset"] {
        let (status, body) =
            server.request("POST", &format!("/api/userAuth{path}"), &[("x-api-key", &no_auth.pk)], Some(&credentials));
        assert_eq!(
            (status, error_of(&body)),
            (403, "Please enable Auth in the urBackend dashboard for this project to use this endpoint."),
            "{path}"
        );
    }
    let (status, body) = server.request("POST", "/api/userAuth/signup", &[], Some(&credentials));
    assert_eq!((status, error_of(&body)), (401, "API key not found"));
}

fn login_failures_are_throttled_per_account(lane: Lane) {
    let t = Accounts::new("throttle", lane, &["--login-failures-per-account", "3"]);
    for email in ["carol@example.com", "dave@example.com"] {
        assert_eq!(t.post("/signup", &json!({"email": email, "password": "right-one"})).0, 201);
    }
    for _ in 0..3 {
        let (status, body) = t.login("carol@example.com", "wrong-one");
        assert_eq!((status, error_of(&body)), (400, "Invalid email or password"));
    }
    // Over the budget even the right password waits; other accounts are unaffected.
    let (status, body) = t.login("CAROL@example.com", "right-one");
    assert_eq!((status, error_of(&body)), (429, "Too many login attempts. Please try again later."));
    assert_eq!(t.login("dave@example.com", "right-one").0, 200);
}

/// The median time of `n` calls.
fn median_ms(n: usize, mut call: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[n / 2]
}

fn unknown_accounts_and_wrong_passwords_look_the_same(lane: Lane) {
    let t = Accounts::new("timing", lane, &["--login-failures-per-account", "0", "--login-failures-per-ip", "0"]);
    assert_eq!(t.post("/signup", &json!({"email": "erin@example.com", "password": "right-one"})).0, 201);
    let wrong = t.login("erin@example.com", "wrong-one");
    let unknown = t.login("nobody@example.com", "wrong-one");
    assert_eq!(wrong, unknown, "same status and body");
    assert_eq!(wrong.0, 400);
    // Interleaved rounds, so that machine noise hits both sides alike.
    let (mut known_ms, mut unknown_ms) = (Vec::new(), Vec::new());
    for round in 0..5 {
        known_ms.push(median_ms(9, || {
            t.login("erin@example.com", "wrong-one");
        }));
        unknown_ms.push(median_ms(9, || {
            t.login(&format!("nobody{round}@example.com"), "wrong-one");
        }));
    }
    known_ms.sort_by(f64::total_cmp);
    unknown_ms.sort_by(f64::total_cmp);
    let (known, unknown) = (known_ms[2], unknown_ms[2]);
    let ratio = known / unknown;
    // Without the dummy verification the unknown side skips ~20 ms of hashing: ratio > 5.
    assert!((0.5..2.0).contains(&ratio), "wrong password {known:.1} ms vs unknown account {unknown:.1} ms");
    // Reset requests do not tell either.
    let known = t.post("/request-password-reset", &json!({"email": "erin@example.com"}));
    let unknown = t.post("/request-password-reset", &json!({"email": "nobody@example.com"}));
    assert_eq!(known, unknown);
    assert_eq!(known.1["message"], json!("If that email exists, a reset code has been sent."));
    // Resends: the cooldown applies to unknown addresses too (erin's signup sent her a code).
    let first = t.post("/resend-verification-otp", &json!({"email": "nobody@example.com"}));
    assert_eq!(first.1["message"], json!("Verification code sent successfully."));
    let known = t.post("/resend-verification-otp", &json!({"email": "erin@example.com"}));
    let unknown = t.post("/resend-verification-otp", &json!({"email": "nobody@example.com"}));
    assert_eq!((known.0, unknown.0), (429, 429), "{known:?} {unknown:?}");
    assert!(error_of(&unknown.1).starts_with("Please wait "), "{unknown:?}");
}

crate::on_both_lanes!(
    signup_login_me_and_profiles,
    the_preconditions_of_every_account_route,
    login_failures_are_throttled_per_account,
    unknown_accounts_and_wrong_passwords_look_the_same,
);
