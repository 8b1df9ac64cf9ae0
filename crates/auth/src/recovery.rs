//! E-mail verification and password recovery (spec §8.7–§8.9): codes issued and spent through
//! `codes`, mails sent through the [`crate::CodeMailer`], and the password changes that revoke
//! the user's other sessions.
//!
//! Unlike the original, these endpoints do not tell which addresses have accounts: an unknown
//! address gets the same answer as a known one (no code is sent), and a wrong, expired or
//! unknown code is the same `400 Invalid or expired OTP`.

use platform::Project;
use serde_json::{Map, Value};

use crate::accounts::Accounts;
use crate::codes::CodePurpose;
use crate::error::{AuthError, texts};
use crate::input;
use crate::users::id_of;

impl Accounts {
    /// `POST /verify-email` (spec §8.7).
    pub async fn verify_email(&self, project: &Project, body: &Value, now_ms: i64) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let email = input::code_email(body)?;
        let code = input::otp(body)?;
        let field = users.verification_field();
        self.codes.consume(&project.id, &project.jwt_secret, CodePurpose::Verification, &email, &code, now_ms).await?;
        let field =
            field.ok_or_else(|| AuthError::Internal("No verification field found in users schema".to_owned()))?;
        let user = users.by_email(&email).await?.ok_or_else(|| AuthError::refused(404, texts::USER_NOT_FOUND))?;
        let mut set = Map::new();
        set.insert(field.to_owned(), Value::Bool(true));
        users.set(&id_of(&user), set).await?;
        Ok(())
    }

    /// `POST /resend-verification-otp` (spec §8.7): a new code for an unverified account,
    /// subject to the cooldown; the same answer for unknown or verified addresses.
    pub async fn resend_verification(&self, project: &Project, body: &Value, now_ms: i64) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let email = input::code_email(body)?;
        self.codes.check_cooldown(&project.id, &email, now_ms).await?;
        // A code is recorded for every address asked for, so that the cooldown treats unknown
        // and verified addresses like unverified ones; only those get the mail.
        let code =
            self.codes.issue(&project.id, &project.jwt_secret, CodePurpose::Verification, &email, now_ms).await?;
        let Some(field) = users.verification_field() else { return Ok(()) };
        let Some(user) = users.by_email(&email).await? else { return Ok(()) };
        if !user.get(field).and_then(Value::as_bool).unwrap_or(false) {
            self.send_code(project, &email, CodePurpose::Verification, code);
        }
        Ok(())
    }

    /// `POST /request-password-reset` (spec §8.8): always the generic answer.
    pub async fn request_password_reset(&self, project: &Project, body: &Value, now_ms: i64) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let email = input::code_email(body)?;
        if users.by_email(&email).await?.is_some() {
            self.mail_new_code(project, CodePurpose::PasswordReset, &email, now_ms).await?;
        }
        Ok(())
    }

    /// `POST /reset-password` (spec §8.8): spends the code, stores the new password and revokes
    /// every refresh session of the user.
    pub async fn reset_password(&self, project: &Project, body: &Value, now_ms: i64) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let email = input::code_email(body)?;
        let code = input::otp(body)?;
        let password = input::reset_password(body)?;
        self.codes.consume(&project.id, &project.jwt_secret, CodePurpose::PasswordReset, &email, &code, now_ms).await?;
        let user = users.by_email(&email).await?.ok_or_else(|| AuthError::refused(404, texts::USER_NOT_FOUND))?;
        let user_id = id_of(&user);
        let mut set = Map::new();
        set.insert("password".to_owned(), Value::String(self.hasher.hash(password).await?));
        users.set(&user_id, set).await?;
        self.sessions.revoke_user(&project.id, &user_id, None).await
    }

    /// `PUT /change-password` (spec §8.9, the original's 500 fixed): checks the current
    /// password, stores the new one and revokes the user's other sessions (the one whose refresh
    /// token came with the request is kept).
    pub async fn change_password(
        &self,
        project: &Project,
        authorization: Option<&str>,
        body: &Value,
        current_refresh: Option<&str>,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let user_id = self.bearer_user(project, authorization, texts::INVALID_TOKEN, now_ms)?;
        let (current, new) = input::change_password(body)?;
        let user = users.by_id(&user_id).await?.ok_or_else(|| AuthError::refused(404, texts::USER_NOT_FOUND))?;
        let stored = user.get("password").and_then(Value::as_str).unwrap_or_default().to_owned();
        let matches = !stored.is_empty() && self.hasher.verify(current, stored).await?.matches;
        if !matches {
            return Err(AuthError::bad_request("Invalid current password"));
        }
        let mut set = Map::new();
        set.insert("password".to_owned(), Value::String(self.hasher.hash(new).await?));
        users.set(&user_id, set).await?;
        let keep = match current_refresh {
            Some(raw) => self.sessions.family_of(&project.id, &user_id, raw).await?,
            None => None,
        };
        self.sessions.revoke_user(&project.id, &user_id, keep.as_deref()).await
    }
}
