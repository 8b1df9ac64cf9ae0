//! One-time codes for e-mail verification and password reset (spec §8.7, §8.8), with the
//! original's holes closed: a code is single use even under concurrent submissions (the latch
//! `consumed:<code>`), it expires, and at most [`CodeRules::attempts`] submissions are compared
//! against it before it is burnt (numbered latches `attempt:<code>:<n>`, taken *before* the
//! comparison, so parallel guesses cannot exceed the budget). Only the newest code of an address
//! counts; the store keeps an HMAC of the code, never the code.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use store::new_object_id;
use subtle::ConstantTimeEq;

use crate::error::{AuthError, texts};
use crate::random;
use crate::system::{CODES_COLLECTION, SystemStore, equalities, object};

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// E-mail verification.
    Verification,
    /// Password reset.
    PasswordReset,
}

impl CodePurpose {
    fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Verification => "verification",
            CodePurpose::PasswordReset => "reset",
        }
    }
}

/// Lifetimes and limits of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRules {
    /// How long a code is valid, in milliseconds (the original: 5 minutes).
    pub lifetime_ms: i64,
    /// Submissions compared against one code before it is burnt.
    pub attempts: u32,
    /// The wait between two verification codes for one address, in milliseconds (60 s).
    pub resend_cooldown_ms: i64,
}

impl Default for CodeRules {
    fn default() -> Self {
        CodeRules { lifetime_ms: 5 * 60 * 1000, attempts: 5, resend_cooldown_ms: 60 * 1000 }
    }
}

/// The codes in the platform store.
#[derive(Clone)]
pub(crate) struct Codes {
    system: SystemStore,
    rules: CodeRules,
}

fn code_mac(key: &str, code_id: &str, code: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(code_id.as_bytes());
            mac.update(b":");
            mac.update(code.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

impl Codes {
    pub(crate) fn new(system: SystemStore, rules: CodeRules) -> Codes {
        Codes { system, rules }
    }

    async fn newest(
        &self,
        project_id: &str,
        purpose: CodePurpose,
        email: &str,
    ) -> Result<Option<store::Document>, AuthError> {
        let filter = equalities(&[("projectId", project_id), ("purpose", purpose.as_str()), ("email", email)])?;
        Ok(self.system.find(CODES_COLLECTION, filter, "issuedAt", query::SortOrder::Desc, 1).await?.into_iter().next())
    }

    /// Milliseconds to wait before another verification code may go to this address (0: none).
    pub(crate) async fn cooldown_left(&self, project_id: &str, email: &str, now_ms: i64) -> Result<i64, AuthError> {
        let Some(doc) = self.newest(project_id, CodePurpose::Verification, email).await? else { return Ok(0) };
        let issued = doc.get("issuedAt").and_then(Value::as_i64).unwrap_or(0);
        Ok((issued + self.rules.resend_cooldown_ms - now_ms).max(0))
    }

    /// The `429` for a verification code asked for too soon, if it is too soon.
    pub(crate) async fn check_cooldown(&self, project_id: &str, email: &str, now_ms: i64) -> Result<(), AuthError> {
        let left = self.cooldown_left(project_id, email, now_ms).await?;
        if left > 0 {
            let seconds = (left + 999) / 1000;
            return Err(AuthError::refused(
                429,
                format!("Please wait {seconds} seconds before requesting another code."),
            ));
        }
        Ok(())
    }

    /// Issues a new code for the address (the previous one stops counting) and returns it.
    pub(crate) async fn issue(
        &self,
        project_id: &str,
        key: &str,
        purpose: CodePurpose,
        email: &str,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let code = random::six_digit_code()?;
        let id = new_object_id();
        let doc = object(json!({
            "_id": id,
            "projectId": project_id,
            "purpose": purpose.as_str(),
            "email": email,
            "codeMac": hex::encode(code_mac(key, &id, &code)),
            "issuedAt": now_ms,
            "expiresAt": now_ms.saturating_add(self.rules.lifetime_ms),
        }));
        self.system.insert(CODES_COLLECTION, doc).await?;
        Ok(code)
    }

    /// Spends the address's newest code if `code` is it: `400 Invalid or expired OTP` for a
    /// missing, expired, burnt, used or wrong code, all alike.
    pub(crate) async fn consume(
        &self,
        project_id: &str,
        key: &str,
        purpose: CodePurpose,
        email: &str,
        code: &str,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let refused = || AuthError::bad_request(texts::BAD_OTP);
        let doc = self.newest(project_id, purpose, email).await?.ok_or_else(refused)?;
        let id = doc.get("_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let expires_at = doc.get("expiresAt").and_then(Value::as_i64).unwrap_or(0);
        if id.is_empty() || expires_at <= now_ms {
            return Err(refused());
        }
        if !self.system.take_numbered_latch(&format!("attempt:{id}"), self.rules.attempts).await? {
            return Err(refused());
        }
        let stored = doc.get("codeMac").and_then(Value::as_str).and_then(|h| hex::decode(h).ok()).unwrap_or_default();
        let offered = code_mac(key, &id, code);
        if stored.is_empty() || !bool::from(stored.as_slice().ct_eq(offered.as_slice())) {
            return Err(refused());
        }
        if !self.system.set_latch(&format!("consumed:{id}"), "consumed").await? {
            return Err(refused());
        }
        Ok(())
    }
}
