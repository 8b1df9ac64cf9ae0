//! Social login end to end (spec §8.12) against a GitHub and Google stand-in on loopback
//! (`urbackend_tests::oauth_provider`): the redirect to the provider, the browser-bound and
//! single-use state, the callback's redirect to the site only, new, returning and linked users,
//! the pre-hijacking refusal, Google id_token checks, and the project-bound one-time exchange.

use std::collections::HashMap;

use serde_json::{Value, json};
use urbackend_tests::oauth_provider::{
    GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GithubUser, GoogleUser,
    OAuthProvider, Signing,
};
use urbackend_tests::{Backend, Lane, MongoServer, Reply, Server, TempDir, cli};

use crate::accounts::error_of;
use crate::fixture::{Project, backend};

const MASTER_KEY: &str = "8f1c2a7e5b3d4c6f8a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7";
const SITE: &str = "http://localhost:5173";
const CALLBACK: &str = "http://localhost:5173/auth/callback";

/// A users collection with a verification flag and an avatar; another without a flag.
fn users(with_flag: bool) -> Value {
    let mut model = vec![
        json!({"key": "email", "type": "String", "required": true, "unique": true}),
        json!({"key": "password", "type": "String", "required": true}),
    ];
    if with_flag {
        model.push(json!({"key": "isVerified", "type": "Boolean"}));
        model.push(json!({"key": "avatarUrl", "type": "String"}));
    }
    json!({"name": "users", "model": model})
}

struct World {
    server: Server,
    provider: OAuthProvider,
    /// Users with a verification flag.
    a: Project,
    /// Users without one.
    b: Project,
    backend: Backend,
    _mongo: Option<MongoServer>,
    _dir: TempDir,
}

impl World {
    fn new(label: &str, lane: Lane) -> World {
        let dir = TempDir::new(label);
        let (backend, mongo) = backend(&dir, label, lane);
        let provider = OAuthProvider::start();
        let a = Project::create(&backend, "social-a");
        let b = Project::create(&backend, "social-b");
        for (project, flag) in [(&a, true), (&b, false)] {
            project.put_collection(&backend, &dir, &users(flag));
            cli(&backend, &["project", "set-site-url", "--project", &project.id, "--url", SITE]);
            for (name, id, secret) in
                [("github", GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET), ("google", GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET)]
            {
                let out = cli(
                    &backend,
                    &[
                        "project",
                        "set-oauth",
                        "--project",
                        &project.id,
                        "--provider",
                        name,
                        "--client-id",
                        id,
                        "--client-secret",
                        secret,
                        "--master-key",
                        MASTER_KEY,
                    ],
                );
                assert_eq!((out["enabled"].clone(), out["hasClientSecret"].clone()), (json!(true), json!(true)));
                assert!(!out.to_string().contains(secret), "the secret is never printed: {out}");
            }
        }
        let mut flags =
            vec!["--rate-limit-per-ip".to_owned(), "0".to_owned(), "--master-key".to_owned(), MASTER_KEY.to_owned()];
        flags.extend(provider.server_flags());
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start_with(&backend, &flags);
        World { server, provider, a, b, backend, _mongo: mongo, _dir: dir }
    }

    fn browser(&self) -> Browser<'_> {
        Browser { server: &self.server, nonce: None }
    }

    fn exchange(&self, key: &str, body: &Value) -> (u16, Value) {
        self.server.request("POST", "/api/userAuth/social/exchange", &[("x-api-key", key)], Some(body))
    }

    fn me(&self, project: &Project, token: &str) -> Value {
        let bearer = format!("Bearer {token}");
        let (status, me) = self.server.request(
            "GET",
            "/api/userAuth/me",
            &[("x-api-key", &project.pk), ("Authorization", &bearer)],
            None,
        );
        assert_eq!(status, 200, "{me}");
        me
    }

    fn signup(&self, project: &Project, email: &str) -> String {
        let body = json!({"email": email, "password": "attacker-pw"});
        let (status, body) =
            self.server.request("POST", "/api/userAuth/signup", &[("x-api-key", &project.pk)], Some(&body));
        assert_eq!(status, 201, "{body}");
        body["userId"].as_str().unwrap().to_owned()
    }
}

/// Where a login left the browser: the site's callback URL, its query and fragment.
#[derive(Debug)]
struct Landing {
    url: String,
    query: HashMap<String, String>,
    fragment: HashMap<String, String>,
    reply: Reply,
}

impl Landing {
    fn of(reply: Reply, location: Option<String>) -> Landing {
        assert_eq!(reply.status, 302, "{reply:?}");
        let url = location.expect("a Location");
        assert!(url.starts_with(&format!("{CALLBACK}?")), "only ever to the site: {url}");
        let (rest, fragment) = url.split_once('#').unwrap_or((&url, ""));
        let query = rest.split_once('?').map_or("", |(_, q)| q);
        let parse = |text: &str| form_urlencoded::parse(text.as_bytes()).into_owned().collect();
        Landing { query: parse(query), fragment: parse(fragment), url: url.clone(), reply }
    }

    fn q(&self, key: &str) -> &str {
        self.query.get(key).map_or("", String::as_str)
    }

    fn error(&self) -> &str {
        self.q("error")
    }
}

/// One browser: it keeps the state cookie the server sets.
struct Browser<'a> {
    server: &'a Server,
    nonce: Option<String>,
}

impl Browser<'_> {
    fn cookie_header(&self) -> Vec<(&'static str, String)> {
        self.nonce.iter().map(|n| ("Cookie", format!("ub_oauth_state={n}"))).collect()
    }

    /// Opens the start URL (the SDKs' `socialStart`): the provider's authorization URL.
    fn start(&mut self, provider: &str, key: &str) -> String {
        let (reply, location) = self.server.navigate(&format!("/api/userAuth/social/{provider}/start?key={key}"), &[]);
        assert_eq!(reply.status, 302, "{reply:?}");
        self.nonce = Some(reply.cookie("ub_oauth_state").expect("the state cookie"));
        location.expect("a Location")
    }

    /// The provider's authorization page: back to the server's callback URL.
    fn authorize(&self, authorize_url: &str) -> String {
        let (reply, location) = self.server.navigate(authorize_url, &[]);
        assert_eq!(reply.status, 302, "{reply:?}");
        location.expect("the callback URL")
    }

    /// Opens a callback URL with this browser's cookie.
    fn callback(&self, url: &str) -> (Reply, Option<String>) {
        let headers = self.cookie_header();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.server.navigate(url, &headers)
    }

    /// A whole login: start, authorize, callback.
    fn login(&mut self, provider: &str, key: &str) -> Landing {
        let authorize = self.start(provider, key);
        let callback = self.authorize(&authorize);
        let (reply, location) = self.callback(&callback);
        Landing::of(reply, location)
    }
}

fn github(id: u64, emails: &[(&str, bool, bool)]) -> GithubUser {
    GithubUser { id, profile_email: None, emails: emails.iter().map(|(e, p, v)| ((*e).to_owned(), *p, *v)).collect() }
}

fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn start_redirects_to_the_provider(lane: Lane) {
    let w = World::new("social-start", lane);
    let mut browser = w.browser();
    let location = browser.start("GitHub", &w.a.pk);
    assert!(location.starts_with(&format!("{}/github/authorize?", w.provider.base)), "{location}");
    let q = query_of(&location);
    assert_eq!(q["client_id"], GITHUB_CLIENT_ID);
    assert_eq!(q["redirect_uri"], format!("{}/api/userAuth/social/github/callback", w.server.base));
    assert_eq!(q["scope"], "read:user user:email");
    assert!(q["state"].len() == 48 && q["state"].bytes().all(|b| b.is_ascii_hexdigit()), "{q:?}");
    let (reply, _) = w.server.navigate(&format!("/api/userAuth/social/github/start?key={}", w.a.pk), &[]);
    let cookie = reply.cookies.iter().find(|c| c.starts_with("ub_oauth_state=")).unwrap();
    for attribute in ["HttpOnly", "Path=/api/userAuth/social", "Max-Age=600", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    let location = browser.start("google", &w.a.pk);
    assert!(location.starts_with(&format!("{}/google/authorize?", w.provider.base)), "{location}");
    let q = query_of(&location);
    assert_eq!((q["client_id"].as_str(), q["response_type"].as_str()), (GOOGLE_CLIENT_ID, "code"));
    assert_eq!((q["scope"].as_str(), q["prompt"].as_str()), ("openid email profile", "consent"));
    assert_eq!(q["nonce"].len(), 64);

    // Refusals: the key (publishable only in the query), the provider, the configuration.
    let (reply, _) = w.server.navigate("/api/userAuth/social/github/start", &[]);
    assert_eq!((reply.status, error_of(&reply.body)), (401, "API key not found"));
    let (reply, _) = w.server.navigate(&format!("/api/userAuth/social/github/start?key={}", w.a.sk), &[]);
    assert_eq!(reply.status, 401);
    let (reply, _) = w.server.navigate(&format!("/api/userAuth/social/facebook/start?key={}", w.a.pk), &[]);
    assert_eq!((reply.status, error_of(&reply.body)), (404, "Unsupported social auth provider"));
    cli(&w.backend, &["project", "set-oauth", "--project", &w.b.id, "--provider", "google", "--disable"]);
    std::thread::sleep(std::time::Duration::from_millis(600));
    let (reply, _) = w.server.navigate(&format!("/api/userAuth/social/google/start?key={}", w.b.pk), &[]);
    assert_eq!(
        (reply.status, error_of(&reply.body)),
        (422, "google social auth is disabled or incomplete for this project.")
    );

    // The callback without a usable state answers JSON.
    let (reply, _) = w.server.navigate("/api/userAuth/social/facebook/callback?code=x&state=y", &[]);
    assert_eq!((reply.status, error_of(&reply.body)), (404, "Unsupported social auth provider"));
    let (reply, _) = w.server.navigate("/api/userAuth/social/github/callback?code=x", &[]);
    assert_eq!((reply.status, error_of(&reply.body)), (400, "Missing code or state"));
    let (reply, _) =
        browser.callback(&format!("/api/userAuth/social/github/callback?code=x&state={}", "ab".repeat(24)));
    assert_eq!((reply.status, error_of(&reply.body)), (400, "Invalid or expired OAuth state"));
}

fn github_login_new_and_returning_user_and_exchange(lane: Lane) {
    let w = World::new("social-github", lane);
    w.provider.next_github(github(4242, &[("Octo@Example.com", true, true)]));
    let landing = w.browser().login("github", &w.a.pk);
    assert_eq!(landing.error(), "", "{landing:?}");
    let (code, user_id) = (landing.q("rtCode").to_owned(), landing.q("userId").to_owned());
    assert!(code.len() == 32 && code.bytes().all(|b| b.is_ascii_hexdigit()), "{code}");
    assert_eq!(
        (landing.q("provider"), landing.q("projectId"), landing.q("isNewUser"), landing.q("linkedByEmail")),
        ("github", w.a.id.as_str(), "true", "false")
    );
    let token = landing.fragment["token"].clone();
    assert!(!landing.query.contains_key("token") && !landing.query.contains_key("accessToken"), "{}", landing.url);
    let refresh_cookie = landing.reply.cookie("refreshToken").expect("the refresh cookie");
    assert!(!landing.url.contains(&refresh_cookie), "the refresh token is never in a URL");
    assert_eq!(landing.reply.cookie("ub_oauth_state").as_deref(), Some(""), "the state cookie is cleared");

    let me = w.me(&w.a, &token);
    assert_eq!((me["_id"].clone(), me["email"].clone()), (json!(user_id), json!("octo@example.com")));
    assert_eq!((me["githubId"].clone(), me["authProviders"].clone()), (json!("4242"), json!(["github"])));
    assert_eq!(
        (me["isVerified"].clone(), me["avatarUrl"].clone()),
        (json!(true), json!("https://avatars.example/4242"))
    );

    // The exchange: bound to the project, to the login's access token, and single use.
    let (status, body) = w.exchange(&w.a.pk, &json!({"rtCode": code}));
    assert_eq!((status, error_of(&body)), (400, "rtCode and token are required"));
    let (status, body) = w.exchange(&w.b.pk, &json!({"rtCode": code, "token": token}));
    assert_eq!((status, error_of(&body)), (400, "Invalid or expired refresh token exchange code"));
    let (status, body) = w.exchange(&w.a.pk, &json!({"rtCode": code, "token": token}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["success"].clone(), body["message"].clone()),
        (json!(true), json!("Refresh token exchanged successfully"))
    );
    let refresh = body["data"]["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(refresh, refresh_cookie);
    let (status, body) = w.exchange(&w.a.pk, &json!({"rtCode": code, "token": token}));
    assert_eq!((status, error_of(&body)), (400, "Invalid or expired refresh token exchange code"), "replay");
    let headers = [("x-api-key", w.a.pk.as_str()), ("x-refresh-token", refresh.as_str())];
    let (status, body) = w.server.request("POST", "/api/userAuth/refresh-token", &headers, None);
    assert_eq!(status, 200, "the exchanged refresh token works: {body}");

    // The same GitHub account again (its address changed meanwhile): the same user.
    w.provider.next_github(github(4242, &[("new-address@example.com", true, true)]));
    let again = w.browser().login("github", &w.a.pk);
    assert_eq!((again.q("isNewUser"), again.q("userId")), ("false", user_id.as_str()), "{again:?}");
    // A wrong access token spends the code.
    let (status, body) = w.exchange(&w.a.pk, &json!({"rtCode": again.q("rtCode"), "token": "another.access.token"}));
    assert_eq!((status, error_of(&body)), (403, "Invalid refresh token exchange payload"));
    let (status, _) = w.exchange(&w.a.pk, &json!({"rtCode": again.q("rtCode"), "token": again.fragment["token"]}));
    assert_eq!(status, 400);

    // No address at all.
    w.provider.next_github(github(7, &[]));
    let landing = w.browser().login("github", &w.a.pk);
    assert_eq!(landing.error(), "github did not return an email address for this account.");
    assert!(landing.reply.cookie("refreshToken").is_none());
}

fn the_state_is_single_use_and_bound_to_the_browser(lane: Lane) {
    let w = World::new("social-state", lane);
    w.provider.next_github(github(11, &[("eve@example.com", true, true)]));
    let mut victim = w.browser();
    let authorize = victim.start("github", &w.a.pk);
    let callback = victim.authorize(&authorize);

    // Another browser (no cookie, or its own login's cookie) cannot complete this login.
    let (reply, _) = w.browser().callback(&callback);
    assert_eq!((reply.status, error_of(&reply.body)), (400, "Invalid or expired OAuth state"));
    let mut other = w.browser();
    other.start("github", &w.a.pk);
    let (reply, _) = other.callback(&callback);
    assert_eq!((reply.status, error_of(&reply.body)), (400, "Invalid or expired OAuth state"));

    // The browser that started it can, once.
    let (reply, location) = victim.callback(&callback);
    assert_eq!(Landing::of(reply, location).q("isNewUser"), "true");
    let (reply, _) = victim.callback(&callback);
    assert_eq!((reply.status, error_of(&reply.body)), (400, "Invalid or expired OAuth state"), "replay");

    // The provider's refusal goes back to the site with its description.
    let mut browser = w.browser();
    let state = query_of(&browser.start("github", &w.a.pk))["state"].clone();
    let denied = format!(
        "/api/userAuth/social/github/callback?error=access_denied&error_description=The+user+denied+access&state={state}"
    );
    let (reply, location) = browser.callback(&denied);
    assert_eq!(Landing::of(reply, location).error(), "The user denied access");

    // A GitHub state at the Google callback.
    let state = query_of(&browser.start("github", &w.a.pk))["state"].clone();
    let (reply, location) = browser.callback(&format!("/api/userAuth/social/google/callback?code=c&state={state}"));
    assert_eq!(Landing::of(reply, location).error(), "OAuth state mismatch");
}

fn linking_needs_a_verified_address_on_both_sides(lane: Lane) {
    let w = World::new("social-link", lane);
    // Pre-hijacking: the attacker signs up with the victim's address and never verifies it.
    let attacker_account = w.signup(&w.a, "victim@example.com");
    w.provider.next_google(GoogleUser::verified("g-victim", "victim@example.com"));
    let landing = w.browser().login("google", &w.a.pk);
    assert_eq!(
        landing.error(),
        "Cannot link google account: an account with this email already exists and its email is not verified. \
         Verify that account's email, then sign in with google again.",
        "{landing:?}"
    );
    assert!(landing.reply.cookie("refreshToken").is_none() && !landing.url.contains("rtCode"));
    let (status, body) = w.server.request(
        "POST",
        "/api/userAuth/login",
        &[("x-api-key", &w.a.pk)],
        Some(&json!({"email": "victim@example.com", "password": "attacker-pw"})),
    );
    assert_eq!(status, 200, "{body}");
    let me = w.me(&w.a, body["accessToken"].as_str().unwrap());
    assert_eq!(me["_id"], json!(attacker_account));
    assert!(me.get("googleId").is_none() && me.get("authProviders").is_none(), "not linked: {me}");

    // A verified account (made by a GitHub login with a verified address) links a verified
    // Google address.
    w.provider.next_github(github(99, &[("dana@example.com", true, true)]));
    let first = w.browser().login("github", &w.a.pk);
    w.provider.next_google(GoogleUser::verified("g-dana", "Dana@Example.com"));
    let linked = w.browser().login("google", &w.a.pk);
    assert_eq!(
        (linked.q("userId"), linked.q("isNewUser"), linked.q("linkedByEmail"), linked.q("provider")),
        (first.q("userId"), "false", "true", "google"),
        "{linked:?}"
    );
    let me = w.me(&w.a, &linked.fragment["token"]);
    assert_eq!((me["googleId"].clone(), me["authProviders"].clone()), (json!("g-dana"), json!(["github", "google"])));

    // An address the provider does not vouch for never links, even to a verified account.
    w.provider.next_github(github(100, &[("dana@example.com", true, false)]));
    let refused = w.browser().login("github", &w.a.pk);
    assert_eq!(
        refused.error(),
        "Cannot link github account: the provider email is not verified. Please verify your email with github first."
    );
    let mut unverified_google = GoogleUser::verified("g-other", "dana@example.com");
    unverified_google.email_verified = false;
    w.provider.next_google(unverified_google);
    assert!(w.browser().login("google", &w.a.pk).error().contains("the provider email is not verified"));

    // Nor does it open a new account: the real owner of the address could verify it later and
    // would share the account with this provider identity.
    w.provider.next_github(github(101, &[("nobody-yet@example.com", true, false)]));
    assert!(w.browser().login("github", &w.a.pk).error().contains("the provider email is not verified"));
    w.signup(&w.a, "nobody-yet@example.com"); // 201: no account was created under the address

    // A users schema without a verification flag: the provider's word is all there is.
    w.signup(&w.b, "sam@example.com");
    w.provider.next_github(github(5, &[("sam@example.com", true, false)]));
    assert!(w.browser().login("github", &w.b.pk).error().contains("the provider email is not verified"));
    w.provider.next_github(github(5, &[("sam@example.com", true, true)]));
    assert_eq!(w.browser().login("github", &w.b.pk).q("linkedByEmail"), "true");
}

fn google_id_tokens_are_verified(lane: Lane) {
    let w = World::new("social-google", lane);
    w.provider.next_google(GoogleUser::verified("g-1", "gina@example.com"));
    let landing = w.browser().login("google", &w.a.pk);
    assert_eq!((landing.q("provider"), landing.q("isNewUser")), ("google", "true"), "{landing:?}");
    let me = w.me(&w.a, &landing.fragment["token"]);
    assert_eq!((me["googleId"].clone(), me["isVerified"].clone()), (json!("g-1"), json!(true)));

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let cases = [
        (
            json!({"aud": "another-app.apps.googleusercontent.com"}),
            Signing::Good,
            "Invalid Google ID token: wrong audience",
        ),
        (json!({"iss": "https://evil.example"}), Signing::Good, "Invalid Google ID token: wrong issuer"),
        (json!({"exp": now - 60}), Signing::Good, "Invalid Google ID token: expired or without a numeric expiry"),
        (
            json!({"exp": (now + 600).to_string()}),
            Signing::Good,
            "Invalid Google ID token: expired or without a numeric expiry",
        ),
        (json!({"nonce": "not-this-login"}), Signing::Good, "Invalid Google ID token: nonce mismatch"),
        (json!({}), Signing::Hs256, "Invalid Google ID token: unsupported algorithm"),
        (json!({}), Signing::OtherKey, "Invalid Google ID token: bad signature"),
    ];
    for (overrides, signing, expected) in cases {
        let user =
            GoogleUser { overrides: overrides.clone(), signing, ..GoogleUser::verified("g-2", "mallory@example.com") };
        w.provider.next_google(user);
        let landing = w.browser().login("google", &w.a.pk);
        assert_eq!(landing.error(), expected, "{overrides} {signing:?}");
        assert!(landing.reply.cookie("refreshToken").is_none());
    }
    // One fetch of the keys served every login (Cache-Control: max-age); a new key id makes
    // the server fetch them again, once.
    assert_eq!(w.provider.jwks_fetches(), 1);
    w.provider.rotate_google_key();
    w.provider.next_google(GoogleUser::verified("g-1", "gina@example.com"));
    let landing = w.browser().login("google", &w.a.pk);
    assert_eq!((landing.error(), landing.q("isNewUser")), ("", "false"), "{landing:?}");
    assert_eq!(w.provider.jwks_fetches(), 2);
}

crate::on_both_lanes!(
    start_redirects_to_the_provider,
    github_login_new_and_returning_user_and_exchange,
    the_state_is_single_use_and_bound_to_the_browser,
    linking_needs_a_verified_address_on_both_sides,
    google_id_tokens_are_verified,
);
