//! Tests of access-token signing and verification, including the forged-token cases of the
//! security reference (case 21).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde_json::json;

use super::*;

const SECRET: &[u8] = b"jwt_project_secret";
const NOW: i64 = 1_800_000_000;

fn claims() -> AccessClaims {
    AccessClaims { user_id: "u1".into(), project_id: "p1".into(), issued_at: NOW - 10, expires_at: NOW + 900 }
}

/// A token with arbitrary header and payload, signed HS256 with `secret`.
fn forge(header: &serde_json::Value, payload: &serde_json::Value, secret: &[u8]) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
    let mut mac = HmacSha256::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn hs256() -> serde_json::Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

#[test]
fn a_signed_token_verifies() {
    let token = sign(SECRET, &claims());
    assert_eq!(verify(SECRET, &token, "p1", NOW), Ok(claims()));
}

#[test]
fn forged_and_foreign_tokens_are_refused() {
    let good = json!({"userId": "u1", "projectId": "p1", "exp": NOW + 60});
    let cases: Vec<(&str, String, TokenError)> = vec![
        ("other secret", forge(&hs256(), &good, b"another"), TokenError::Signature),
        (
            "alg none",
            {
                let t = forge(&json!({"alg": "none"}), &good, SECRET);
                format!("{}.", &t[..t.rfind('.').unwrap()])
            },
            TokenError::Algorithm,
        ),
        ("alg HS512 header", forge(&json!({"alg": "HS512"}), &good, SECRET), TokenError::Algorithm),
        ("alg RS256 header", forge(&json!({"alg": "RS256"}), &good, SECRET), TokenError::Algorithm),
        ("typ refresh", forge(&json!({"alg": "HS256", "typ": "refresh"}), &good, SECRET), TokenError::Algorithm),
        (
            "expired",
            forge(&hs256(), &json!({"userId": "u1", "projectId": "p1", "exp": NOW}), SECRET),
            TokenError::Expired,
        ),
        ("missing exp", forge(&hs256(), &json!({"userId": "u1", "projectId": "p1"}), SECRET), TokenError::Claims),
        (
            "string exp",
            forge(&hs256(), &json!({"userId": "u1", "projectId": "p1", "exp": "9999999999"}), SECRET),
            TokenError::Claims,
        ),
        (
            "string nbf",
            forge(&hs256(), &json!({"userId": "u1", "projectId": "p1", "exp": NOW + 60, "nbf": "0"}), SECRET),
            TokenError::Claims,
        ),
        (
            "not yet valid",
            forge(&hs256(), &json!({"userId": "u1", "projectId": "p1", "exp": NOW + 60, "nbf": NOW + 30}), SECRET),
            TokenError::NotYetValid,
        ),
        (
            "other project",
            forge(&hs256(), &json!({"userId": "u1", "projectId": "p2", "exp": NOW + 60}), SECRET),
            TokenError::OtherProject,
        ),
        ("no project", forge(&hs256(), &json!({"userId": "u1", "exp": NOW + 60}), SECRET), TokenError::Claims),
        ("no user", forge(&hs256(), &json!({"projectId": "p1", "exp": NOW + 60}), SECRET), TokenError::Claims),
        (
            "numeric user",
            forge(&hs256(), &json!({"userId": 7, "projectId": "p1", "exp": NOW + 60}), SECRET),
            TokenError::Claims,
        ),
        ("two parts", "a.b".to_owned(), TokenError::Malformed),
        ("garbage", "not a token".to_owned(), TokenError::Malformed),
        ("four parts", format!("{}.x", sign(SECRET, &claims())), TokenError::Malformed),
    ];
    for (name, token, expected) in cases {
        assert_eq!(verify(SECRET, &token, "p1", NOW), Err(expected), "{name}");
    }
}

#[test]
fn a_tampered_payload_breaks_the_signature() {
    let token = sign(SECRET, &claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let evil = URL_SAFE_NO_PAD.encode(json!({"userId": "u2", "projectId": "p1", "exp": NOW + 60}).to_string());
    parts[1] = &evil;
    assert_eq!(verify(SECRET, &parts.join("."), "p1", NOW), Err(TokenError::Signature));
}

#[test]
fn legacy_user_claims_are_accepted() {
    for name in ["_id", "id"] {
        let token = forge(&hs256(), &json!({name: "u9", "projectId": "p1", "exp": NOW + 60}), SECRET);
        assert_eq!(verify(SECRET, &token, "p1", NOW).map(|c| c.user_id), Ok("u9".to_owned()), "{name}");
    }
}
