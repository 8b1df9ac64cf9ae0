//! Access tokens: compact JWTs, HS256 only, signed with the project's JWT secret.
//!
//! Verification is deliberately narrow: the header must say `HS256` (so `none`, `HS512` or any
//! asymmetric algorithm is refused before the signature is looked at), the signature is compared
//! in constant time, `exp` is required and must be a number (a string `exp` is not "absent", the
//! CVE-2026-25537 class), `nbf` is honoured when present, and `projectId` must name the project
//! whose secret verified the token. The caller passes the current time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The end user's id.
    pub user_id: String,
    /// The project the token was issued for.
    pub project_id: String,
    /// Issued at, seconds since the epoch.
    pub issued_at: i64,
    /// Expires at, seconds since the epoch.
    pub expires_at: i64,
}

/// Why a token was refused. Callers treat every variant alike (no user); the variants are for
/// logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// The header names another algorithm or type.
    #[error("unsupported token algorithm")]
    Algorithm,
    /// The signature does not verify with this project's secret.
    #[error("bad token signature")]
    Signature,
    /// `exp` is missing or not a number, or a claim has the wrong type.
    #[error("invalid token claims")]
    Claims,
    /// The token has expired.
    #[error("token expired")]
    Expired,
    /// The token is not valid yet (`nbf`).
    #[error("token not yet valid")]
    NotYetValid,
    /// The token belongs to another project.
    #[error("token of another project")]
    OtherProject,
}

/// Signs an access token.
pub fn sign(secret: &[u8], claims: &AccessClaims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = json!({
        "userId": claims.user_id,
        "projectId": claims.project_id,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
    });
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signing_input));
    format!("{signing_input}.{signature}")
}

/// Verifies an access token for `project_id` at time `now` (seconds since the epoch).
pub fn verify(secret: &[u8], token: &str, project_id: &str, now: i64) -> Result<AccessClaims, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header = decode_object(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(TokenError::Algorithm);
    }
    if header.get("typ").is_some_and(|typ| typ.as_str() != Some("JWT")) {
        return Err(TokenError::Algorithm);
    }
    let given = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
    let signing_input_len = header_len(token.trim()).ok_or(TokenError::Malformed)?;
    let signing_input = token.trim().get(..signing_input_len).ok_or(TokenError::Malformed)?;
    let expected = mac(secret, signing_input);
    if !bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        return Err(TokenError::Signature);
    }
    let claims = decode_object(payload)?;
    let expires_at = claims.get("exp").and_then(Value::as_i64).ok_or(TokenError::Claims)?;
    let issued_at = match claims.get("iat") {
        None => 0,
        Some(iat) => iat.as_i64().ok_or(TokenError::Claims)?,
    };
    if let Some(nbf) = claims.get("nbf") {
        if nbf.as_i64().ok_or(TokenError::Claims)? > now {
            return Err(TokenError::NotYetValid);
        }
    }
    if expires_at <= now {
        return Err(TokenError::Expired);
    }
    let user_id = ["userId", "_id", "id"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_str))
        .filter(|id| !id.trim().is_empty())
        .ok_or(TokenError::Claims)?;
    let token_project = claims.get("projectId").and_then(Value::as_str).ok_or(TokenError::Claims)?;
    if token_project != project_id {
        return Err(TokenError::OtherProject);
    }
    Ok(AccessClaims { user_id: user_id.to_owned(), project_id: token_project.to_owned(), issued_at, expires_at })
}

fn mac(secret: &[u8], input: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so construction cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The length of `header.payload`, the signed part.
fn header_len(token: &str) -> Option<usize> {
    token.rfind('.')
}

fn decode_object(part: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed),
    }
}

#[cfg(test)]
mod tests;
