//! Refresh sessions (spec §8.2, §8.10, §8.11): the raw token `<uuid v4>.<64 hex>` goes to the
//! client once; the store keeps one document per token with the SHA-256 of the raw form only.
//!
//! Every token belongs to a *family*: the first token of a login starts one and each rotation
//! passes it on. Revoking a family (logout, reuse of a rotated token, password change) is one
//! latch, so it reaches the tokens issued after the revocation was decided too: a family
//! revoked by a losing concurrent refresh also kills what the winner was given. Rotation itself
//! is the latch `used:<tokenId>`: of any number of concurrent refreshes with one token, exactly
//! one sets it.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AuthError;
use crate::random;
use crate::system::{SESSIONS_COLLECTION, SystemStore, derived_id, equalities, object};

/// Texts of spec §8.10–§8.11.
pub mod texts {
    /// No token in the cookie or header (401).
    pub const MISSING: &str = "Refresh token missing";
    /// Not `<id>.<secret>` (401).
    pub const FORMAT: &str = "Invalid refresh token format";
    /// Unknown token id (401).
    pub const NOT_FOUND: &str = "Refresh session not found";
    /// The session belongs to another project (403).
    pub const OTHER_PROJECT: &str = "Refresh token does not belong to this project";
    /// Revoked, used or expired (403).
    pub const USED: &str = "Refresh token is invalid or already used";
    /// The secret part does not match (403).
    pub const MISMATCH: &str = "Refresh token mismatch";
}

/// Who asked, recorded on the session.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientInfo<'a> {
    /// The client IP.
    pub ip: &'a str,
    /// The `User-Agent` header.
    pub user_agent: &'a str,
}

/// A parsed raw refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawToken<'a> {
    pub(crate) id: &'a str,
    pub(crate) raw: &'a str,
}

impl<'a> RawToken<'a> {
    /// Parses `<id>.<secret>` (both parts non-empty; the id a UUID, the secret 64 hex).
    pub(crate) fn parse(raw: &'a str) -> Result<RawToken<'a>, AuthError> {
        let format = || AuthError::refused_clearing(401, texts::FORMAT);
        let (id, secret) = raw.split_once('.').ok_or_else(format)?;
        let id_ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        let secret_ok = secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit());
        if !id_ok || !secret_ok {
            return Err(format());
        }
        Ok(RawToken { id, raw })
    }
}

fn token_hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

fn session_doc_id(token_id: &str) -> String {
    derived_id(&format!("session:{token_id}"))
}

fn used_latch(token_id: &str) -> String {
    format!("used:{token_id}")
}

fn revoked_latch(family: &str) -> String {
    format!("revoked:{family}")
}

/// A stored session, as far as rotation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) token_id: String,
    pub(crate) project_id: String,
    pub(crate) user_id: String,
    pub(crate) family: String,
}

/// Refresh sessions in the platform store.
#[derive(Clone)]
pub(crate) struct Sessions {
    system: SystemStore,
    lifetime_ms: i64,
}

impl Sessions {
    pub(crate) fn new(system: SystemStore, lifetime_ms: i64) -> Sessions {
        Sessions { system, lifetime_ms }
    }

    /// Issues a new refresh token for the user; `family` continues a rotated one.
    pub(crate) async fn issue(
        &self,
        project_id: &str,
        user_id: &str,
        family: Option<&str>,
        rotated_from: Option<&str>,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let token_id = random::uuid_v4()?;
        let raw = format!("{token_id}.{}", random::hex_secret::<32>()?);
        let family = family.map_or_else(|| token_id.clone(), str::to_owned);
        let doc = object(json!({
            "_id": session_doc_id(&token_id),
            "tokenId": token_id,
            "projectId": project_id,
            "userId": user_id,
            "family": family,
            "tokenHash": token_hash(&raw),
            "rotatedFrom": rotated_from,
            "ip": client.ip,
            "userAgent": client.user_agent,
            "issuedAt": now_ms,
            "expiresAt": now_ms.saturating_add(self.lifetime_ms),
        }));
        self.system.insert(SESSIONS_COLLECTION, doc).await?;
        Ok(raw)
    }

    /// The session of a raw token whose secret matches, without deciding anything else.
    async fn load(&self, token: &RawToken<'_>) -> Result<Option<(Session, bool, i64)>, AuthError> {
        let Some(doc) = self.system.get(SESSIONS_COLLECTION, &session_doc_id(token.id)).await? else {
            return Ok(None);
        };
        let text = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let session = Session {
            token_id: text("tokenId"),
            project_id: text("projectId"),
            user_id: text("userId"),
            family: text("family"),
        };
        let stored_hash = text("tokenHash");
        let matches = bool::from(stored_hash.as_bytes().ct_eq(token_hash(token.raw).as_bytes()));
        let expires_at = doc.get("expiresAt").and_then(Value::as_i64).unwrap_or(0);
        if session.token_id != token.id || session.family.is_empty() {
            return Ok(None);
        }
        Ok(Some((session, matches, expires_at)))
    }

    /// Spends a refresh token (spec §8.10 steps 2–9): the one caller that gets the session back
    /// must issue its successor in the same family. Reuse, a mismatch or a lost race revokes the
    /// family.
    /// `admit` is asked about the session's user before the token is spent (the per-user limit).
    pub(crate) async fn spend(
        &self,
        project_id: &str,
        raw: &str,
        now_ms: i64,
        admit: impl FnOnce(&str) -> Result<(), AuthError>,
    ) -> Result<Session, AuthError> {
        let token = RawToken::parse(raw)?;
        let (session, matches, expires_at) =
            self.load(&token).await?.ok_or_else(|| AuthError::refused_clearing(401, texts::NOT_FOUND))?;
        if session.project_id != project_id {
            return Err(AuthError::refused(403, texts::OTHER_PROJECT));
        }
        admit(&session.user_id)?;
        let revoked = self.system.latch_is_set(&revoked_latch(&session.family)).await?;
        let used = self.system.latch_is_set(&used_latch(&session.token_id)).await?;
        if revoked || used || expires_at <= now_ms {
            self.revoke_family(&session.family).await?;
            return Err(AuthError::refused_clearing(403, texts::USED));
        }
        if !matches {
            self.revoke_family(&session.family).await?;
            return Err(AuthError::refused_clearing(403, texts::MISMATCH));
        }
        if !self.system.set_latch(&used_latch(&session.token_id), "used").await? {
            // A concurrent refresh with the same token won: this one is a reuse.
            self.revoke_family(&session.family).await?;
            return Err(AuthError::refused_clearing(403, texts::USED));
        }
        Ok(session)
    }

    /// Logout (spec §8.11): revokes the token's family when the token parses, exists and its
    /// secret matches; a token of another project is refused; anything else is ignored.
    pub(crate) async fn revoke(&self, project_id: &str, raw: &str) -> Result<(), AuthError> {
        let Ok(token) = RawToken::parse(raw) else { return Ok(()) };
        let Some((session, matches, _)) = self.load(&token).await? else { return Ok(()) };
        if !matches {
            return Ok(());
        }
        if session.project_id != project_id {
            return Err(AuthError::refused(403, texts::OTHER_PROJECT));
        }
        self.revoke_family(&session.family).await
    }

    /// The family of a live token of this user, if the raw token is one (to keep the caller's
    /// own session when revoking the others).
    pub(crate) async fn family_of(
        &self,
        project_id: &str,
        user_id: &str,
        raw: &str,
    ) -> Result<Option<String>, AuthError> {
        let Ok(token) = RawToken::parse(raw) else { return Ok(None) };
        let Some((session, matches, _)) = self.load(&token).await? else { return Ok(None) };
        let own = matches && session.project_id == project_id && session.user_id == user_id;
        Ok(own.then_some(session.family))
    }

    /// Revokes every session family of a user but `keep`.
    pub(crate) async fn revoke_user(
        &self,
        project_id: &str,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<(), AuthError> {
        let filter = equalities(&[("projectId", project_id), ("userId", user_id)])?;
        let docs = self.system.find(SESSIONS_COLLECTION, filter, "issuedAt", query::SortOrder::Desc, 100).await?;
        let mut families: Vec<String> =
            docs.iter().filter_map(|d| d.get("family").and_then(Value::as_str)).map(str::to_owned).collect();
        families.sort();
        families.dedup();
        for family in families.iter().filter(|f| Some(f.as_str()) != keep) {
            self.revoke_family(family).await?;
        }
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), AuthError> {
        self.system.set_latch(&revoked_latch(family), "revoked").await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_tokens_parse_only_in_their_format() {
        let good = format!("{}.{}", "0f8fad5b-d9cb-469f-a165-70867728950e", "a".repeat(64));
        assert_eq!(RawToken::parse(&good).unwrap().id, "0f8fad5b-d9cb-469f-a165-70867728950e");
        for bad in ["", "abc", ".", "x.y", &format!("{}.{}", "0f8fad5b", "a".repeat(64)), &good.replace('a', "g")] {
            let err = RawToken::parse(bad).unwrap_err();
            assert_eq!((err.status(), err.to_string(), err.clears_cookie()), (401, texts::FORMAT.to_owned(), true));
        }
    }
}
