//! How the accounts' one-time codes leave the server: through the mail service (SMTP, or the
//! `.eml` folder when no SMTP server is configured), with the built-in `otp` and
//! `password-reset` templates.

use std::sync::Arc;

use async_trait::async_trait;
use auth::{CodeMailer, CodePurpose};
use mail::{AuthCodeKind, MailService};
use platform::Project;

/// The accounts' [`CodeMailer`], backed by the mail service.
pub(crate) struct CodeMail(pub(crate) Arc<MailService>);

#[async_trait]
impl CodeMailer for CodeMail {
    async fn send_code(&self, project: &Project, to: &str, purpose: CodePurpose, code: &str) -> Result<(), String> {
        let kind = match purpose {
            CodePurpose::Verification => AuthCodeKind::Verification,
            CodePurpose::PasswordReset => AuthCodeKind::PasswordReset,
        };
        self.0.send_auth_code(project, to, kind, code).await.map_err(|e| e.to_string())
    }
}
