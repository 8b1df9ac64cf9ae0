//! API keys and project JWT secrets (spec §3.1): generation, hashing and comparison.
//!
//! A key is its prefix (`pk_live_` publishable, `sk_live_` secret) followed by 32 random bytes in
//! unpadded base64url (43 characters), 51 characters in all. Only the SHA-256 of the whole key
//! string, as lower-case hex, is ever stored; the raw keys are shown once, when they are made.
//! The role of a key is decided by its prefix alone (`rls_core::KeyRole::of_api_key`). Each
//! project also has a JWT secret, `jwt_` followed by 32 random bytes in base64url, with which its
//! end users' access tokens are signed.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The publishable key prefix.
pub const PUBLISHABLE_PREFIX: &str = "pk_live_";
/// The secret key prefix.
pub const SECRET_PREFIX: &str = "sk_live_";
/// The JWT secret prefix.
pub const JWT_SECRET_PREFIX: &str = "jwt_";
/// The length of a generated API key: prefix (8) and 43 base64url characters.
pub const API_KEY_LEN: usize = 51;

/// The operating system's random source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the random number source is unavailable")]
pub struct RandomUnavailable;

/// 32 random bytes.
pub(crate) fn random_32() -> Result<[u8; 32], RandomUnavailable> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| RandomUnavailable)?;
    Ok(bytes)
}

/// `prefix` followed by base64url (no padding) of 32 random bytes.
fn generate(prefix: &str) -> Result<String, RandomUnavailable> {
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_32()?)))
}

/// A freshly generated publishable and secret key pair, in plain text. `Debug` redacts them.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeys {
    /// The `pk_live_…` key.
    pub publishable: String,
    /// The `sk_live_…` key.
    pub secret: String,
}

impl ApiKeys {
    /// Generates a new pair.
    pub fn generate() -> Result<ApiKeys, RandomUnavailable> {
        Ok(ApiKeys { publishable: generate_publishable_key()?, secret: generate_secret_key()? })
    }

    /// The SHA-256 hashes of both keys (publishable, secret), as stored.
    pub fn hashes(&self) -> (String, String) {
        (hash_key(&self.publishable), hash_key(&self.secret))
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("publishable", &"pk_live_<redacted>")
            .field("secret", &"sk_live_<redacted>")
            .finish()
    }
}

/// A new `pk_live_…` key.
pub fn generate_publishable_key() -> Result<String, RandomUnavailable> {
    generate(PUBLISHABLE_PREFIX)
}

/// A new `sk_live_…` key.
pub fn generate_secret_key() -> Result<String, RandomUnavailable> {
    generate(SECRET_PREFIX)
}

/// A new project JWT secret, `jwt_` and 43 base64url characters.
pub fn generate_jwt_secret() -> Result<String, RandomUnavailable> {
    generate(JWT_SECRET_PREFIX)
}

/// A new admin token, `adm_` and 43 base64url characters (see [`crate::admin`]).
pub fn generate_admin_token() -> Result<String, RandomUnavailable> {
    generate(crate::admin::ADMIN_TOKEN_PREFIX)
}

/// The stored form of a key: SHA-256 of the whole key string, lower-case hex (64 characters).
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Compares two key hashes in constant time (for equal lengths).
pub fn hashes_equal(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_key_shape(key: &str, prefix: &str) {
        assert_eq!(key.len(), API_KEY_LEN, "{key}");
        let rest = key.strip_prefix(prefix).unwrap();
        assert_eq!(rest.len(), 43);
        assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{key}");
        assert_eq!(URL_SAFE_NO_PAD.decode(rest).unwrap().len(), 32);
    }

    #[test]
    fn generated_keys_have_the_wire_format() {
        let keys = ApiKeys::generate().unwrap();
        assert_key_shape(&keys.publishable, PUBLISHABLE_PREFIX);
        assert_key_shape(&keys.secret, SECRET_PREFIX);
        assert_ne!(keys.publishable[8..], keys.secret[8..]);
        let jwt = generate_jwt_secret().unwrap();
        assert!(jwt.starts_with("jwt_"));
        assert_eq!(jwt.len(), 47);
        assert_ne!(ApiKeys::generate().unwrap(), keys);
    }

    #[test]
    fn roles_follow_the_prefix() {
        let keys = ApiKeys::generate().unwrap();
        assert_eq!(rls_core::KeyRole::of_api_key(&keys.secret), rls_core::KeyRole::Secret);
        assert_eq!(rls_core::KeyRole::of_api_key(&keys.publishable), rls_core::KeyRole::Publishable);
    }

    #[test]
    fn hash_is_sha256_lower_hex() {
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash_key(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let keys = ApiKeys::generate().unwrap();
        let (pk, sk) = keys.hashes();
        assert_eq!(pk, hash_key(&keys.publishable));
        assert_eq!(sk.len(), 64);
        assert!(hashes_equal(&pk, &hash_key(&keys.publishable)));
        assert!(!hashes_equal(&pk, &sk));
        assert!(!hashes_equal(&pk, &pk[..63]));
    }

    #[test]
    fn debug_redacts() {
        let keys = ApiKeys::generate().unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains(&keys.publishable[8..]) && !shown.contains(&keys.secret[8..]), "{shown}");
    }
}
