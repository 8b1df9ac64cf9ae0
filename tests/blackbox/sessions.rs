//! Access and refresh tokens end to end (spec §8.2, §8.10, §8.11; security cases 21 and 25):
//! forged, expired, not-yet-valid, `alg: none`, other algorithms and other projects' tokens are
//! refused; refresh tokens rotate, a reused one revokes its whole family, concurrent refreshes
//! with one token succeed once, logout and password changes revoke.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use urbackend_tests::{Lane, Reply};

use crate::accounts::{Accounts, error_of};
use crate::fixture::Project;

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A token with any header and claims, signed HS256 with `secret` (or unsigned).
pub(crate) fn craft(header: &Value, claims: &Value, secret: Option<&str>) -> String {
    use hmac::{Hmac, Mac};
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match secret {
        Some(secret) => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{input}.{signature}")
}

fn signed_up(t: &Accounts, email: &str) -> (String, String) {
    let (status, body) = t.post("/signup", &json!({"email": email, "password": "correct horse"}));
    assert_eq!(status, 201, "{body}");
    (body["userId"].as_str().unwrap().to_owned(), body["accessToken"].as_str().unwrap().to_owned())
}

/// Logs in in header mode; returns the refresh token.
fn login_header_mode(t: &Accounts, project: &Project, email: &str) -> String {
    let headers = [("x-api-key", project.pk.as_str()), ("x-refresh-token-mode", "header")];
    let credentials = json!({"email": email, "password": "correct horse"});
    let (status, body) = t.server.request("POST", "/api/userAuth/login", &headers, Some(&credentials));
    assert_eq!(status, 200, "{body}");
    body["refreshToken"].as_str().expect("refresh token in header mode").to_owned()
}

fn refresh_with_header(t: &Accounts, key: &str, token: &str) -> Reply {
    t.server.exchange("POST", "/api/userAuth/refresh-token", &[("x-api-key", key), ("x-refresh-token", token)], None)
}

fn access_tokens_are_checked_strictly(lane: Lane) {
    let t = Accounts::new("tokens", lane, &[]);
    let (user, good) = signed_up(&t, "tina@example.com");
    let secret = t.project.jwt_secret.clone();
    let pid = t.project.id.clone();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let claims = |iat: i64, exp: Value| json!({"userId": user, "projectId": pid, "iat": iat, "exp": exp});
    assert_eq!(t.with_token("GET", "/me", &good, None).0, 200);
    let refused = [
        ("alg none", craft(&json!({"alg": "none", "typ": "JWT"}), &claims(now(), json!(now() + 600)), None)),
        (
            "HS512 header",
            craft(&json!({"alg": "HS512", "typ": "JWT"}), &claims(now(), json!(now() + 600)), Some(&secret)),
        ),
        ("another secret", craft(&hs256, &claims(now(), json!(now() + 600)), Some("jwt_not_this_projects_secret"))),
        ("expired", craft(&hs256, &claims(now() - 3600, json!(now() - 60)), Some(&secret))),
        ("exp as a string", craft(&hs256, &claims(now(), json!((now() + 600).to_string())), Some(&secret))),
        ("no exp", craft(&hs256, &json!({"userId": user, "projectId": pid, "iat": now()}), Some(&secret))),
        ("not yet valid", {
            let mut c = claims(now(), json!(now() + 600));
            c["nbf"] = json!(now() + 300);
            craft(&hs256, &c, Some(&secret))
        }),
        (
            "another project's claim",
            craft(
                &hs256,
                &json!({"userId": user, "projectId": "0123456789abcdef01234567", "iat": now(), "exp": now() + 600}),
                Some(&secret),
            ),
        ),
        ("truncated", good[..good.len() - 2].to_owned()),
    ];
    for (case, token) in refused {
        let (status, body) = t.with_token("GET", "/me", &token, None);
        assert_eq!((status, error_of(&body)), (401, "Invalid or Expired Token"), "{case}");
        // A private read with a refused token is 401, never an anonymous read.
        let (status, _) = t.with_token("PUT", "/update-profile", &token, Some(&json!({"bio": "x"})));
        assert_eq!(status, 401, "{case}");
    }
    // A refresh token is not an access token.
    let refresh = login_header_mode(&t, &t.project, "tina@example.com");
    assert_eq!(t.with_token("GET", "/me", &refresh, None).0, 401);
}

fn refresh_tokens_rotate_and_reuse_revokes_the_family(lane: Lane) {
    let t = Accounts::new("rotation", lane, &[]);
    signed_up(&t, "rita@example.com");
    let pk = t.project.pk.clone();
    let first = login_header_mode(&t, &t.project, "rita@example.com");
    let reply = refresh_with_header(&t, &pk, &first);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["expiresIn"], json!("15m"));
    let second = reply.body["refreshToken"].as_str().expect("echoed in header mode").to_owned();
    assert_ne!(second, first);
    assert_eq!(reply.cookie("refreshToken"), Some(second.clone()));
    let (status, _) = t.with_token("GET", "/me", reply.body["accessToken"].as_str().unwrap(), None);
    assert_eq!(status, 200);

    // The rotated token again: refused, cookie cleared, and the whole family is revoked.
    let reuse = refresh_with_header(&t, &pk, &first);
    assert_eq!((reuse.status, error_of(&reuse.body)), (403, "Refresh token is invalid or already used"));
    assert_eq!(reuse.cookie("refreshToken"), Some(String::new()));
    let after = refresh_with_header(&t, &pk, &second);
    assert_eq!((after.status, error_of(&after.body)), (403, "Refresh token is invalid or already used"));

    // Other sessions of the same user live on.
    let other = login_header_mode(&t, &t.project, "rita@example.com");
    assert_eq!(refresh_with_header(&t, &pk, &other).status, 200);

    // Cookie mode: the cookie is read, the body does not carry the new token.
    let login = t.server.exchange(
        "POST",
        "/api/userAuth/login",
        &[("x-api-key", &pk)],
        Some(&json!({"email": "rita@example.com", "password": "correct horse"})),
    );
    let cookie = format!("refreshToken={}", login.cookie("refreshToken").expect("cookie"));
    let reply =
        t.server.exchange("POST", "/api/userAuth/refresh-token", &[("x-api-key", &pk), ("Cookie", &cookie)], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("refreshToken").is_none());
    let rotated = reply.cookie("refreshToken").expect("new cookie");

    // Logout revokes; the cookie is cleared.
    let cookie = format!("refreshToken={rotated}");
    let bye = t.server.exchange("POST", "/api/userAuth/logout", &[("x-api-key", &pk), ("Cookie", &cookie)], None);
    assert_eq!((bye.status, bye.body.clone()), (200, json!({"success": true, "message": "Logged out successfully"})));
    assert_eq!(bye.cookie("refreshToken"), Some(String::new()));
    assert_eq!(refresh_with_header(&t, &pk, &rotated).status, 403);

    // Missing, malformed, unknown.
    let reply = t.server.exchange("POST", "/api/userAuth/refresh-token", &[("x-api-key", &pk)], None);
    assert_eq!((reply.status, error_of(&reply.body)), (401, "Refresh token missing"));
    assert_eq!(error_of(&refresh_with_header(&t, &pk, "nope").body), "Invalid refresh token format");
    let unknown = format!("{}.{}", "0f8fad5b-d9cb-469f-a165-70867728950e", "a".repeat(64));
    assert_eq!(error_of(&refresh_with_header(&t, &pk, &unknown).body), "Refresh session not found");
    // A mismatching secret for a real id revokes that family.
    let victim = login_header_mode(&t, &t.project, "rita@example.com");
    let (id, _) = victim.split_once('.').unwrap();
    let forged = format!("{id}.{}", "b".repeat(64));
    assert_eq!(error_of(&refresh_with_header(&t, &pk, &forged).body), "Refresh token mismatch");
}

fn refresh_tokens_belong_to_their_project(lane: Lane) {
    let t = Accounts::new("crossproject", lane, &[]);
    signed_up(&t, "uma@example.com");
    let token = login_header_mode(&t, &t.project, "uma@example.com");
    let other = Project::create(&t.backend, "other");
    let reply = refresh_with_header(&t, &other.pk, &token);
    assert_eq!((reply.status, error_of(&reply.body)), (403, "Refresh token does not belong to this project"));
    let (status, body) = t.server.request(
        "POST",
        "/api/userAuth/logout",
        &[("x-api-key", &other.pk), ("x-refresh-token", &token)],
        None,
    );
    assert_eq!((status, error_of(&body)), (403, "Refresh token does not belong to this project"));
    // Neither touched the session.
    assert_eq!(refresh_with_header(&t, &t.project.pk, &token).status, 200);
}

fn concurrent_refreshes_with_one_token_succeed_once(lane: Lane) {
    let t = Accounts::new("race", lane, &["--refresh-limit-per-ip", "0", "--refresh-limit-per-user", "0"]);
    signed_up(&t, "vic@example.com");
    for round in 0..5 {
        let token = login_header_mode(&t, &t.project, "vic@example.com");
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..8).map(|_| scope.spawn(|| refresh_with_header(&t, &t.project.pk, &token).status)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 403), "round {round}: {statuses:?}");
    }
}

fn password_changes_revoke_other_sessions(lane: Lane) {
    let t = Accounts::new("revoke", lane, &[]);
    let (_, access) = signed_up(&t, "will@example.com");
    let elsewhere = login_header_mode(&t, &t.project, "will@example.com");
    let here = login_header_mode(&t, &t.project, "will@example.com");
    let change = json!({"currentPassword": "correct horse", "newPassword": "battery staple"});
    let bearer = format!("Bearer {access}");
    let headers =
        [("x-api-key", t.project.pk.as_str()), ("Authorization", bearer.as_str()), ("x-refresh-token", here.as_str())];
    let (status, body) = t.server.request("PUT", "/api/userAuth/change-password", &headers, Some(&change));
    assert_eq!(status, 200, "{body}");
    assert_eq!(refresh_with_header(&t, &t.project.pk, &elsewhere).status, 403, "other sessions are revoked");
    assert_eq!(refresh_with_header(&t, &t.project.pk, &here).status, 200, "the session that changed it lives on");
}

fn the_refresh_cookie_is_secure_behind_https(lane: Lane) {
    let t = Accounts::new("secure-cookie", lane, &["--secure-cookies", "--access-token-ttl", "1h"]);
    let signup = json!({"email": "xena@example.com", "password": "correct horse"});
    let reply = t.server.exchange("POST", "/api/userAuth/signup", &[("x-api-key", &t.project.pk)], Some(&signup));
    assert_eq!((reply.status, reply.body["expiresIn"].clone()), (201, json!("1h")));
    let cookie = reply.cookies.iter().find(|c| c.starts_with("refreshToken=")).expect("refresh cookie");
    assert!(cookie.contains("; Secure") && cookie.contains("SameSite=None") && cookie.contains("HttpOnly"), "{cookie}");
    let token = reply.body["accessToken"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(
        (claims["userId"].clone(), claims["projectId"].clone()),
        (reply.body["userId"].clone(), json!(t.project.id))
    );
}

crate::on_both_lanes!(
    the_refresh_cookie_is_secure_behind_https,
    access_tokens_are_checked_strictly,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    refresh_tokens_belong_to_their_project,
    concurrent_refreshes_with_one_token_succeed_once,
    password_changes_revoke_other_sessions,
);
