//! Google's signing keys (a JWK Set): parsed into RSA public keys by `kid`, cached for the
//! `Cache-Control: max-age` of the answer that brought them, and fetched again once when a token
//! names a key the cache does not know (Google rotates its keys).
//!
//! Only RSA signing keys of at least 2048 bits are kept; a key marked for another use or another
//! algorithm than RS256 is ignored.

use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

use super::http::{HttpClient, ProviderError};

/// The smallest modulus accepted, in bits.
const MIN_KEY_BITS: usize = 2048;
/// How long keys are kept when the answer says nothing, in milliseconds.
const DEFAULT_LIFETIME_MS: i64 = 5 * 60 * 1000;

/// RSA public keys by key id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeySet {
    keys: Vec<(String, RsaPublicKey)>,
}

impl KeySet {
    /// The usable keys of a JWK Set document (`{"keys": [{kty, kid, n, e, …}]}`).
    pub fn parse(document: &Value) -> KeySet {
        let entries = document.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        KeySet { keys: entries.iter().filter_map(parse_key).collect() }
    }

    /// A set of one key (for tests and embedders).
    pub fn single(kid: &str, key: RsaPublicKey) -> KeySet {
        KeySet { keys: vec![(kid.to_owned(), key)] }
    }

    /// The key with this id.
    pub fn get(&self, kid: &str) -> Option<&RsaPublicKey> {
        self.keys.iter().find(|(id, _)| id == kid).map(|(_, key)| key)
    }
}

fn parse_key(jwk: &Value) -> Option<(String, RsaPublicKey)> {
    let text = |key: &str| jwk.get(key).and_then(Value::as_str);
    if text("kty") != Some("RSA")
        || text("use").is_some_and(|u| u != "sig")
        || text("alg").is_some_and(|a| a != "RS256")
    {
        return None;
    }
    let number =
        |key: &str| text(key).and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok()).map(|b| BigUint::from_bytes_be(&b));
    let key = RsaPublicKey::new(number("n")?, number("e")?).ok()?;
    (key.n().bits() >= MIN_KEY_BITS).then(|| (text("kid").unwrap_or_default().to_owned(), key))
}

struct Cached {
    keys: Arc<KeySet>,
    expires_at_ms: i64,
}

/// The cache of one JWK Set URL.
pub(crate) struct JwksCache {
    url: String,
    http: HttpClient,
    cached: Mutex<Option<Cached>>,
}

impl JwksCache {
    pub(crate) fn new(url: String, http: HttpClient) -> JwksCache {
        JwksCache { url, http, cached: Mutex::new(None) }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Cached>> {
        self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keys that include `kid` if the provider has it: the cached set while it is fresh and
    /// knows `kid`, else a fresh copy (fetched at most once per call).
    pub(crate) async fn keys_for(&self, kid: &str, now_ms: i64) -> Result<Arc<KeySet>, ProviderError> {
        let cached = self.slot().as_ref().filter(|c| c.expires_at_ms > now_ms).map(|c| c.keys.clone());
        if let Some(keys) = cached.filter(|keys| keys.get(kid).is_some()) {
            return Ok(keys);
        }
        let fetched = self.http.get(&self.url, Vec::new()).await?;
        let lifetime_ms =
            fetched.max_age.map_or(DEFAULT_LIFETIME_MS, |s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX));
        let keys = Arc::new(KeySet::parse(&fetched.ok_body(&self.url)?));
        *self.slot() = Some(Cached { keys: keys.clone(), expires_at_ms: now_ms.saturating_add(lifetime_ms) });
        Ok(keys)
    }
}
