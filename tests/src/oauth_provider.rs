//! A small OAuth provider on loopback for the social login tests: GitHub's authorize page, token
//! endpoint (JSON), `/user` and `/user/emails`; Google's authorize page, token endpoint (form
//! encoded, answering an `id_token` signed RS256 with a key generated here) and JWK Set.
//!
//! The test says who signs in next ([`OAuthProvider::next_github`], [`OAuthProvider::next_google`]);
//! the authorize page then redirects to the `redirect_uri` with a fresh code, as a real provider
//! does once the user agrees. Codes are single use and bound to the client and the redirect URI.
//! A Google identity can ask for a broken token (wrong audience, another key, HS256, …) to check
//! that the server refuses it.
//!
//! It is a std `TcpListener` with a thread per connection and `Connection: close`: enough HTTP/1.1
//! for `ureq`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::rand_core::OsRng;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::Sha256;

/// The client credentials the provider knows.
pub const GITHUB_CLIENT_ID: &str = "gh-client-1";
/// GitHub client secret.
pub const GITHUB_CLIENT_SECRET: &str = "gh-secret-1";
/// Google client id.
pub const GOOGLE_CLIENT_ID: &str = "123-test.apps.googleusercontent.com";
/// Google client secret.
pub const GOOGLE_CLIENT_SECRET: &str = "google-secret-1";

/// A GitHub account.
#[derive(Debug, Clone)]
pub struct GithubUser {
    /// The numeric id.
    pub id: u64,
    /// The profile's public address.
    pub profile_email: Option<String>,
    /// `/user/emails`: address, primary, verified.
    pub emails: Vec<(String, bool, bool)>,
}

/// How a Google id_token is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// RS256 with the published key.
    Good,
    /// RS256 with a key the JWK Set does not hold, under the published `kid`.
    OtherKey,
    /// HS256 keyed with the published key's modulus.
    Hs256,
}

/// A Google account: the claims over the defaults (`null` removes one), and the signing.
#[derive(Debug, Clone)]
pub struct GoogleUser {
    /// `sub`.
    pub sub: String,
    /// `email`.
    pub email: String,
    /// `email_verified`.
    pub email_verified: bool,
    /// Claims that replace the defaults (`iss`, `aud`, `exp`, `nonce`…).
    pub overrides: Value,
    /// How the token is signed.
    pub signing: Signing,
}

impl GoogleUser {
    /// A verified Google account.
    pub fn verified(sub: &str, email: &str) -> GoogleUser {
        GoogleUser {
            sub: sub.to_owned(),
            email: email.to_owned(),
            email_verified: true,
            overrides: json!({}),
            signing: Signing::Good,
        }
    }
}

enum Grant {
    Github(GithubUser),
    Google(GoogleUser, String),
}

struct Issued {
    grant: Grant,
    client_id: String,
    redirect_uri: String,
}

struct ProviderState {
    next_github: Option<GithubUser>,
    next_google: Option<GoogleUser>,
    codes: HashMap<String, Issued>,
    github_tokens: HashMap<String, GithubUser>,
    key: RsaPrivateKey,
    other_key: RsaPrivateKey,
    kid: String,
    jwks_fetches: usize,
    counter: u64,
}

/// The provider; it stops serving when dropped (its thread ends with the test process).
pub struct OAuthProvider {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    state: Arc<Mutex<ProviderState>>,
}

fn new_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key")
}

impl OAuthProvider {
    /// Starts the provider on a free loopback port.
    pub fn start() -> OAuthProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the provider");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(ProviderState {
            next_github: None,
            next_google: None,
            codes: HashMap::new(),
            github_tokens: HashMap::new(),
            key: new_key(),
            other_key: new_key(),
            kid: "key-1".to_owned(),
            jwks_fetches: 0,
            counter: 0,
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        OAuthProvider { base, state }
    }

    /// The server flags that point social login at this provider.
    pub fn server_flags(&self) -> Vec<String> {
        let b = &self.base;
        [
            ("--github-authorize-url", format!("{b}/github/authorize")),
            ("--github-token-url", format!("{b}/github/token")),
            ("--github-api-url", format!("{b}/github/api")),
            ("--google-authorize-url", format!("{b}/google/authorize")),
            ("--google-token-url", format!("{b}/google/token")),
            ("--google-jwks-url", format!("{b}/google/jwks")),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect()
    }

    /// Who signs in at the next GitHub authorization.
    pub fn next_github(&self, user: GithubUser) {
        self.state.lock().unwrap().next_github = Some(user);
    }

    /// Who signs in at the next Google authorization.
    pub fn next_google(&self, user: GoogleUser) {
        self.state.lock().unwrap().next_google = Some(user);
    }

    /// How many times the JWK Set was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().unwrap().jwks_fetches
    }

    /// Replaces Google's signing key (and its `kid`), as Google does from time to time.
    pub fn rotate_google_key(&self) {
        let mut state = self.state.lock().unwrap();
        state.key = new_key();
        state.counter += 1;
        state.kid = format!("key-rotated-{}", state.counter);
    }
}

/// A parsed request.
struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    form: HashMap<String, String>,
}

fn pairs(text: &str) -> HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_owned(), words.next()?.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_owned(),
        query: pairs(query),
        headers,
        form: pairs(&String::from_utf8_lossy(&body)),
    })
}

/// An answer: status, extra headers, body.
struct Answer(u16, Vec<(&'static str, String)>, String);

fn json_answer(status: u16, body: &Value) -> Answer {
    Answer(status, vec![("Content-Type", "application/json".to_owned())], body.to_string())
}

fn serve(mut stream: TcpStream, state: &Mutex<ProviderState>) {
    let Some(request) = read_request(&stream) else { return };
    let Answer(status, headers, body) = route(&request, state);
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let _ = stream.write_all(out.as_bytes());
}

fn route(request: &Request, state: &Mutex<ProviderState>) -> Answer {
    let mut state = state.lock().unwrap();
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/github/authorize") => authorize(request, &mut state, GITHUB_CLIENT_ID),
        ("GET", "/google/authorize") => authorize(request, &mut state, GOOGLE_CLIENT_ID),
        ("POST", "/github/token") => github_token(request, &mut state),
        ("GET", "/github/api/user") => github_api(request, &state, false),
        ("GET", "/github/api/user/emails") => github_api(request, &state, true),
        ("POST", "/google/token") => google_token(request, &mut state),
        ("GET", "/google/jwks") => {
            state.jwks_fetches += 1;
            let key = state.key.to_public_key();
            let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": state.kid,
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())});
            let Answer(status, mut headers, body) = json_answer(200, &json!({"keys": [jwk]}));
            headers.push(("Cache-Control", "public, max-age=3600, must-revalidate".to_owned()));
            Answer(status, headers, body)
        }
        _ => json_answer(404, &json!({"message": "Not Found"})),
    }
}

/// The authorize page: the user agrees at once; back to `redirect_uri` with a code.
fn authorize(request: &Request, state: &mut ProviderState, client_id: &str) -> Answer {
    let q = |key: &str| request.query.get(key).cloned().unwrap_or_default();
    if q("client_id") != client_id || q("redirect_uri").is_empty() {
        return json_answer(400, &json!({"error": "invalid_client"}));
    }
    let grant = if client_id == GITHUB_CLIENT_ID {
        state.next_github.take().map(Grant::Github)
    } else {
        state.next_google.take().map(|user| Grant::Google(user, q("nonce")))
    };
    let Some(grant) = grant else { return json_answer(400, &json!({"error": "nobody is signing in"})) };
    state.counter += 1;
    let code = format!("code-{}", state.counter);
    state.codes.insert(code.clone(), Issued { grant, client_id: q("client_id"), redirect_uri: q("redirect_uri") });
    let back = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &q("state"))
        .finish();
    Answer(302, vec![("Location", format!("{}?{back}", q("redirect_uri")))], String::new())
}

/// The grant of a code, if the form presents it with the right client and redirect URI.
fn redeem(request: &Request, state: &mut ProviderState, secret: &str) -> Option<Grant> {
    let f = |key: &str| request.form.get(key).cloned().unwrap_or_default();
    let issued = state.codes.remove(&f("code"))?;
    let ok =
        issued.client_id == f("client_id") && f("client_secret") == secret && issued.redirect_uri == f("redirect_uri");
    ok.then_some(issued.grant)
}

fn github_token(request: &Request, state: &mut ProviderState) -> Answer {
    if request.headers.get("accept").is_none_or(|a| !a.contains("application/json")) {
        return Answer(200, Vec::new(), "error=bad_accept".to_owned());
    }
    match redeem(request, state, GITHUB_CLIENT_SECRET) {
        Some(Grant::Github(user)) => {
            state.counter += 1;
            let token = format!("gho_{}", state.counter);
            state.github_tokens.insert(token.clone(), user);
            json_answer(200, &json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
        }
        _ => json_answer(200, &json!({"error": "bad_verification_code"})),
    }
}

fn github_api(request: &Request, state: &ProviderState, emails: bool) -> Answer {
    let token = request.headers.get("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
    let Some(user) = state.github_tokens.get(token) else {
        return json_answer(401, &json!({"message": "Bad credentials"}));
    };
    if emails {
        let list: Vec<Value> =
            user.emails.iter().map(|(email, primary, verified)| json!({"email": email, "primary": primary, "verified": verified, "visibility": null})).collect();
        return json_answer(200, &Value::Array(list));
    }
    json_answer(
        200,
        &json!({"id": user.id, "login": format!("user{}", user.id), "email": user.profile_email,
        "avatar_url": format!("https://avatars.example/{}", user.id)}),
    )
}

fn google_token(request: &Request, state: &mut ProviderState) -> Answer {
    if request.form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return json_answer(400, &json!({"error": "unsupported_grant_type"}));
    }
    let Some(Grant::Google(user, nonce)) = redeem(request, state, GOOGLE_CLIENT_SECRET) else {
        return json_answer(400, &json!({"error": "invalid_grant"}));
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut claims = json!({"iss": "https://accounts.google.com", "azp": GOOGLE_CLIENT_ID, "aud": GOOGLE_CLIENT_ID,
        "sub": user.sub, "email": user.email, "email_verified": user.email_verified, "iat": now, "exp": now + 3600,
        "nonce": nonce, "picture": format!("https://pictures.example/{}", user.sub)});
    for (key, value) in user.overrides.as_object().into_iter().flatten() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    let id_token = sign(state, &claims, user.signing);
    json_answer(
        200,
        &json!({"access_token": "ya29.test", "expires_in": 3599, "token_type": "Bearer", "id_token": id_token}),
    )
}

fn sign(state: &ProviderState, claims: &Value, signing: Signing) -> String {
    let alg = if signing == Signing::Hs256 { "HS256" } else { "RS256" };
    let header = json!({"alg": alg, "kid": state.kid, "typ": "JWT"});
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match signing {
        Signing::Good => SigningKey::<Sha256>::new(state.key.clone()).sign(input.as_bytes()).to_vec(),
        Signing::OtherKey => SigningKey::<Sha256>::new(state.other_key.clone()).sign(input.as_bytes()).to_vec(),
        Signing::Hs256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&state.key.n().to_bytes_be()).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
