//! The two short-lived secrets of a social login, kept in reserved collections of the platform
//! store (so they work across server processes) and spent through latches (so each is used at
//! most once, whatever the number of concurrent requests):
//!
//! * the OAuth `state` (48 hex, 10 minutes): `{projectId, provider, callbackUrl}` as in the
//!   original, plus the SHA-256 of a browser nonce. The nonce goes to the browser that started the
//!   login as an HttpOnly cookie; a callback whose cookie does not hash to it is refused, so a
//!   state (and with it a login) cannot be completed in another browser (login CSRF, stolen
//!   callback URLs).
//! * the refresh-token exchange code `rtCode` (32 hex, 60 seconds): redeemable once, only with the
//!   access token of the same login and only with an API key of the same project. The refresh
//!   token is stored encrypted under a key derived from the code, so the store alone never holds
//!   a usable refresh token.

use platform::{EncryptedSecret, MasterKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AuthError;
use crate::random;
use crate::system::{SystemStore, derived_id, object};

/// OAuth states.
pub const STATES_COLLECTION: &str = "_urbackend_oauth_states";
/// Refresh-token exchange codes.
pub const EXCHANGES_COLLECTION: &str = "_urbackend_oauth_exchanges";

/// How long a state is valid, in milliseconds (the original: 600 s).
pub const STATE_LIFETIME_MS: i64 = 600_000;
/// How long an exchange code is valid, in milliseconds (the original: 60 s).
pub const EXCHANGE_LIFETIME_MS: i64 = 60_000;

/// A started login, as the callback finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateRecord {
    pub(crate) project_id: String,
    pub(crate) provider: String,
    pub(crate) callback_url: String,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The OIDC `nonce` of a login, derived from its state.
pub(crate) fn oidc_nonce(state: &str) -> String {
    sha256_hex(&format!("oidc-nonce:{state}"))
}

/// The key a code's refresh token is sealed with.
fn sealing_key(code: &str) -> Result<MasterKey, AuthError> {
    MasterKey::from_hex(&sha256_hex(&format!("oauth-exchange-key:{code}")))
        .map_err(|e| AuthError::Internal(format!("exchange key: {e}")))
}

/// States and exchange codes in the platform store.
#[derive(Clone)]
pub(crate) struct SocialSecrets {
    system: SystemStore,
}

impl SocialSecrets {
    pub(crate) fn new(system: SystemStore) -> SocialSecrets {
        SocialSecrets { system }
    }

    /// Records a new login and returns its state and browser nonce.
    pub(crate) async fn create_state(&self, record: &StateRecord, now_ms: i64) -> Result<(String, String), AuthError> {
        let state = random::hex_secret::<24>()?;
        let nonce = random::hex_secret::<32>()?;
        let doc = object(json!({
            "_id": derived_id(&format!("oauth-state:{state}")),
            "projectId": record.project_id,
            "provider": record.provider,
            "callbackUrl": record.callback_url,
            "nonceHash": sha256_hex(&nonce),
            "expiresAt": now_ms.saturating_add(STATE_LIFETIME_MS),
        }));
        self.system.insert(STATES_COLLECTION, doc).await?;
        Ok((state, nonce))
    }

    /// Spends a state: `None` when it is unknown, expired, already spent, or `nonce` (the
    /// browser's cookie) is not the one it was issued with. A wrong nonce leaves the state
    /// unspent, so another browser cannot burn a login in progress.
    pub(crate) async fn take_state(
        &self,
        state: &str,
        nonce: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<StateRecord>, AuthError> {
        if !is_hex(state, 48) {
            return Ok(None);
        }
        let Some(doc) = self.system.get(STATES_COLLECTION, &derived_id(&format!("oauth-state:{state}"))).await? else {
            return Ok(None);
        };
        let text = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let expires_at = doc.get("expiresAt").and_then(Value::as_i64).unwrap_or(0);
        let nonce_ok = nonce.is_some_and(|n| same(&sha256_hex(n), &text("nonceHash")));
        if expires_at <= now_ms || !nonce_ok {
            return Ok(None);
        }
        if !self.system.set_latch(&format!("oauth-state:{state}"), "oauth-state").await? {
            return Ok(None);
        }
        Ok(Some(StateRecord {
            project_id: text("projectId"),
            provider: text("provider"),
            callback_url: text("callbackUrl"),
        }))
    }

    /// Records the tokens of a finished login under a new exchange code and returns the code.
    pub(crate) async fn create_exchange(
        &self,
        project_id: &str,
        access_token: &str,
        refresh_token: &str,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let code = random::hex_secret::<16>()?;
        let sealed = sealing_key(&code)?
            .encrypt_str(refresh_token)
            .map_err(|e| AuthError::Internal(format!("sealing the refresh token: {e}")))?;
        let doc = object(json!({
            "_id": derived_id(&format!("oauth-exchange:{code}")),
            "projectId": project_id,
            "tokenHash": sha256_hex(access_token),
            "refreshToken": {"encrypted": sealed.encrypted, "iv": sealed.iv, "tag": sealed.tag},
            "expiresAt": now_ms.saturating_add(EXCHANGE_LIFETIME_MS),
        }));
        self.system.insert(EXCHANGES_COLLECTION, doc).await?;
        Ok(code)
    }

    /// Redeems an exchange code for its refresh token (spec §8.12, bound to `project_id`): 400
    /// for an unknown, expired, spent or other project's code; a wrong access token spends the
    /// code and is 403.
    pub(crate) async fn redeem(
        &self,
        project_id: &str,
        code: &str,
        access_token: &str,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let invalid = || AuthError::bad_request(texts::EXCHANGE_INVALID);
        if !is_hex(code, 32) {
            return Err(invalid());
        }
        let doc = self.system.get(EXCHANGES_COLLECTION, &derived_id(&format!("oauth-exchange:{code}"))).await?;
        let doc = doc.ok_or_else(invalid)?;
        let text = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let expires_at = doc.get("expiresAt").and_then(Value::as_i64).unwrap_or(0);
        if expires_at <= now_ms || !same(&text("projectId"), project_id) {
            return Err(invalid());
        }
        if !self.system.set_latch(&format!("oauth-exchange:{code}"), "oauth-exchange").await? {
            return Err(invalid());
        }
        if !same(&text("tokenHash"), &sha256_hex(access_token)) {
            return Err(AuthError::refused(403, texts::EXCHANGE_MISMATCH));
        }
        let sealed: EncryptedSecret =
            serde_json::from_value(doc.get("refreshToken").cloned().unwrap_or(Value::Null)).map_err(|_| invalid())?;
        let raw = sealing_key(code)?.decrypt_str(&sealed).map_err(|_| invalid())?;
        Ok(raw.expose().to_owned())
    }
}

/// Texts of the exchange endpoint (spec §8.12).
pub mod texts {
    /// `400` without `rtCode` or `token`.
    pub const EXCHANGE_REQUIRED: &str = "rtCode and token are required";
    /// `400` for an unknown, expired, spent or foreign code.
    pub const EXCHANGE_INVALID: &str = "Invalid or expired refresh token exchange code";
    /// `403` when the access token is not the login's (the code is spent).
    pub const EXCHANGE_MISMATCH: &str = "Invalid refresh token exchange payload";
}
