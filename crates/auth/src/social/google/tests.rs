//! The id_token verifier, one refusal at a time, with RSA keys generated here: a token that
//! passes, then the same token with one thing wrong.

use std::sync::OnceLock;

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

use super::*;

const CLIENT: &str = "client-123.apps.googleusercontent.com";
const NONCE: &str = "n-0S6_WzA2Mj";
const NOW: i64 = 1_700_000_000;

fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
    static KEYS: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| (RsaPrivateKey::new(&mut OsRng, 2048).unwrap(), RsaPrivateKey::new(&mut OsRng, 2048).unwrap()))
}

fn key_set() -> KeySet {
    KeySet::single("k1", keys().0.to_public_key())
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn signed_with(key: &RsaPrivateKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn claims() -> Value {
    json!({"iss": "https://accounts.google.com", "aud": CLIENT, "sub": "1098", "email": "Ann@Example.com",
        "email_verified": true, "exp": NOW + 3600, "iat": NOW, "nonce": NONCE, "picture": "https://p.example/a.png"})
}

fn token(claims: &Value) -> String {
    signed_with(&keys().0, &json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), claims)
}

fn with(change: Value) -> String {
    let mut claims = claims();
    for (key, value) in change.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    token(&claims)
}

fn verify(token: &str) -> Result<ProviderProfile, IdTokenError> {
    verify_id_token(token, &key_set(), CLIENT, NONCE, NOW)
}

#[test]
fn a_good_token_gives_its_identity() {
    let profile = verify(&token(&claims())).unwrap();
    assert_eq!(
        profile,
        ProviderProfile {
            id: "1098".into(),
            email: Some("Ann@Example.com".into()),
            email_verified: true,
            avatar_url: Some("https://p.example/a.png".into()),
        }
    );
    assert!(verify(&with(json!({"iss": "accounts.google.com", "email_verified": "true"}))).unwrap().email_verified);
    for unverified in [json!(false), json!("yes"), json!(1), Value::Null] {
        assert!(!verify(&with(json!({"email_verified": unverified}))).unwrap().email_verified);
    }
}

#[test]
fn claims_are_checked() {
    let cases = [
        (json!({"aud": "another-app.apps.googleusercontent.com"}), IdTokenError::Audience),
        (json!({"aud": [CLIENT]}), IdTokenError::Audience),
        (json!({"aud": null}), IdTokenError::Audience),
        (json!({"iss": "https://evil.example"}), IdTokenError::Issuer),
        (json!({"iss": "accounts.google.com.evil.example"}), IdTokenError::Issuer),
        (json!({"iss": null}), IdTokenError::Issuer),
        (json!({"exp": NOW - 1}), IdTokenError::Expired),
        (json!({"exp": NOW}), IdTokenError::Expired),
        (json!({"exp": (NOW + 3600).to_string()}), IdTokenError::Expired),
        (json!({"exp": null}), IdTokenError::Expired),
        (json!({"nonce": "another"}), IdTokenError::Nonce),
        (json!({"nonce": null}), IdTokenError::Nonce),
        (json!({"sub": ""}), IdTokenError::Malformed),
    ];
    for (change, expected) in cases {
        assert_eq!(verify(&with(change.clone())), Err(expected), "{change}");
    }
    assert_eq!(verify_id_token(&token(&claims()), &key_set(), "", NONCE, NOW), Err(IdTokenError::Audience));
    assert!(IdTokenError::Audience.to_string().contains("audience"));
}

#[test]
fn only_rs256_signatures_by_a_published_key_pass() {
    let good = token(&claims());
    let (header, payload, _) = parts(&good).unwrap();

    // HS256 keyed with anything (here the public modulus) and `none` are refused before any key.
    let hs_header = b64(&json!({"alg": "HS256", "kid": "k1"}));
    let mut mac = Hmac::<Sha256>::new_from_slice(&keys().0.n().to_bytes_be()).unwrap();
    mac.update(format!("{hs_header}.{payload}").as_bytes());
    let hs256 = format!("{hs_header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    assert_eq!(verify(&hs256), Err(IdTokenError::Algorithm));
    let none = format!("{}.{payload}.", b64(&json!({"alg": "none", "kid": "k1"})));
    assert_eq!(verify(&none), Err(IdTokenError::Algorithm));
    let rs512 = signed_with(&keys().0, &json!({"alg": "RS512", "kid": "k1"}), &claims());
    assert_eq!(verify(&rs512), Err(IdTokenError::Algorithm));

    // Signed by another key, under a published or an unknown key id.
    let forged = signed_with(&keys().1, &json!({"alg": "RS256", "kid": "k1"}), &claims());
    assert_eq!(verify(&forged), Err(IdTokenError::Signature));
    let unknown = signed_with(&keys().1, &json!({"alg": "RS256", "kid": "k9"}), &claims());
    assert_eq!(verify(&unknown), Err(IdTokenError::UnknownKey));

    // Claims changed after signing.
    let mut other = claims();
    other["aud"] = json!("attacker");
    let tampered = format!("{header}.{}.{}", b64(&other), good.rsplit('.').next().unwrap());
    assert_eq!(verify(&tampered), Err(IdTokenError::Signature));
    let truncated = format!("{header}.{payload}.{}", &good.rsplit('.').next().unwrap()[..40]);
    assert_eq!(verify(&truncated), Err(IdTokenError::Signature));
}

#[test]
fn malformed_tokens() {
    let good = token(&claims());
    for bad in [
        String::new(),
        "a.b".to_owned(),
        format!("{good}.extra"),
        format!("!!.{}", good.split_once('.').unwrap().1),
        format!("{}.{}", URL_SAFE_NO_PAD.encode("[1]"), good.split_once('.').unwrap().1),
    ] {
        assert_eq!(verify(&bad), Err(IdTokenError::Malformed), "{bad}");
    }
    let crit = signed_with(&keys().0, &json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}), &claims());
    assert_eq!(verify(&crit), Err(IdTokenError::Malformed));
}

#[test]
fn key_sets_keep_only_rsa_signing_keys_of_2048_bits_or_more() {
    let public = keys().0.to_public_key();
    let jwk = |extra: Value, key: &rsa::RsaPublicKey| {
        let mut jwk = json!({"kty": "RSA", "kid": "k1", "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())});
        for (k, v) in extra.as_object().unwrap() {
            jwk[k] = v.clone();
        }
        jwk
    };
    let set = KeySet::parse(&json!({"keys": [jwk(json!({"use": "sig", "alg": "RS256"}), &public)]}));
    assert_eq!(set.get("k1"), Some(&public));
    let small = RsaPrivateKey::new(&mut OsRng, 1024).unwrap().to_public_key();
    for refused in [
        jwk(json!({"use": "enc"}), &public),
        jwk(json!({"alg": "RS384"}), &public),
        jwk(json!({"kty": "EC"}), &public),
        jwk(json!({"n": "not base64!"}), &public),
        jwk(json!({}), &small),
    ] {
        assert_eq!(KeySet::parse(&json!({"keys": [refused.clone()]})).get("k1"), None, "{refused}");
    }
    assert_eq!(KeySet::parse(&json!({"keys": "none"})), KeySet::default());
}
