//! Google sign-in (spec §8.12): the authorization code is exchanged at the token endpoint (a
//! form post) for an `id_token`, which is verified here, locally, before anything in it is
//! believed:
//!
//! * the header's `alg` is `RS256` and nothing else (no `none`, no HS256 with the public key as
//!   secret), with a `kid` that names one of Google's keys ([`super::jwks`]);
//! * the PKCS#1 v1.5 SHA-256 signature verifies against that key;
//! * `iss` is `accounts.google.com` or `https://accounts.google.com`;
//! * `aud` is the project's own client id (a token Google issued to another app is refused);
//! * `exp` is a number in the future (a string or a missing `exp` is refused, not ignored);
//! * `nonce` is the one this login's authorization request carried.
//!
//! Verification is a pure function of the token, the keys, the expectations and the time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::ProviderProfile;
use super::http::{HttpClient, ProviderError};
use super::jwks::KeySet;

#[cfg(test)]
mod tests;

/// Google's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEndpoints {
    /// Where the browser is sent to authorize (`https://accounts.google.com/o/oauth2/v2/auth`).
    pub authorize_url: String,
    /// The token endpoint (`https://oauth2.googleapis.com/token`).
    pub token_url: String,
    /// Google's signing keys (`https://www.googleapis.com/oauth2/v3/certs`).
    pub jwks_url: String,
}

impl Default for GoogleEndpoints {
    fn default() -> Self {
        GoogleEndpoints {
            authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
            token_url: "https://oauth2.googleapis.com/token".to_owned(),
            jwks_url: "https://www.googleapis.com/oauth2/v3/certs".to_owned(),
        }
    }
}

/// The issuers Google signs with.
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// Why an id_token was refused (the text ends up in the error redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not three base64url parts of JSON objects, or no subject.
    #[error("Invalid Google ID token: malformed")]
    Malformed,
    /// Another algorithm than RS256.
    #[error("Invalid Google ID token: unsupported algorithm")]
    Algorithm,
    /// The `kid` names no key Google publishes.
    #[error("Invalid Google ID token: unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("Invalid Google ID token: bad signature")]
    Signature,
    /// `iss` is not Google.
    #[error("Invalid Google ID token: wrong issuer")]
    Issuer,
    /// `aud` is not this project's client id.
    #[error("Invalid Google ID token: wrong audience")]
    Audience,
    /// `exp` is past, missing or not a number.
    #[error("Invalid Google ID token: expired or without a numeric expiry")]
    Expired,
    /// `nonce` is not this login's.
    #[error("Invalid Google ID token: nonce mismatch")]
    Nonce,
}

fn json_part(part: &str) -> Result<Map<String, Value>, IdTokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| IdTokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(IdTokenError::Malformed),
    }
}

/// The three parts of a compact JWS.
fn parts(token: &str) -> Result<(&str, &str, &str), IdTokenError> {
    let mut split = token.trim().split('.');
    match (split.next(), split.next(), split.next(), split.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok((header, payload, signature)),
        _ => Err(IdTokenError::Malformed),
    }
}

/// The `kid` of an RS256 token's header (checked before any key is fetched).
pub fn key_id(token: &str) -> Result<String, IdTokenError> {
    let (header, _, _) = parts(token)?;
    let header = json_part(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(IdTokenError::Algorithm);
    }
    if header.contains_key("crit") {
        return Err(IdTokenError::Malformed);
    }
    Ok(header.get("kid").and_then(Value::as_str).unwrap_or_default().to_owned())
}

/// Verifies a Google id_token for `client_id` and the login's `nonce` at `now_secs` and returns
/// the identity it vouches for.
pub fn verify_id_token(
    token: &str,
    keys: &KeySet,
    client_id: &str,
    nonce: &str,
    now_secs: i64,
) -> Result<ProviderProfile, IdTokenError> {
    let kid = key_id(token)?;
    let (header, payload, signature) = parts(token)?;
    let key = keys.get(&kid).ok_or(IdTokenError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| IdTokenError::Signature)?;
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| IdTokenError::Signature)?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(format!("{header}.{payload}").as_bytes(), &signature)
        .map_err(|_| IdTokenError::Signature)?;
    let claims = json_part(payload)?;
    let text = |key: &str| claims.get(key).and_then(Value::as_str);
    if !text("iss").is_some_and(|iss| GOOGLE_ISSUERS.contains(&iss)) {
        return Err(IdTokenError::Issuer);
    }
    if client_id.is_empty() || text("aud") != Some(client_id) {
        return Err(IdTokenError::Audience);
    }
    let expiry = claims.get("exp").and_then(|exp| if exp.is_number() { exp.as_f64() } else { None });
    if !expiry.is_some_and(|exp| exp > now_secs as f64) {
        return Err(IdTokenError::Expired);
    }
    if text("nonce") != Some(nonce) {
        return Err(IdTokenError::Nonce);
    }
    let subject = text("sub").filter(|sub| !sub.is_empty()).ok_or(IdTokenError::Malformed)?;
    let verified =
        matches!(claims.get("email_verified"), Some(Value::Bool(true))) || text("email_verified") == Some("true");
    Ok(ProviderProfile {
        id: subject.to_owned(),
        email: text("email").map(str::to_owned),
        email_verified: verified,
        avatar_url: text("picture").map(str::to_owned),
    })
}

/// Exchanges the authorization code for the id_token.
pub(crate) async fn exchange_code(
    http: &HttpClient,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
) -> Result<String, ProviderError> {
    let form = vec![
        ("code".to_owned(), code.to_owned()),
        ("client_id".to_owned(), client_id.to_owned()),
        ("client_secret".to_owned(), client_secret.to_owned()),
        ("redirect_uri".to_owned(), redirect_uri.to_owned()),
        ("grant_type".to_owned(), "authorization_code".to_owned()),
    ];
    let body = http.post_form(token_url, form).await?.ok_body(token_url)?;
    body.get("id_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::answer(token_url, "no id_token in the answer"))
}
