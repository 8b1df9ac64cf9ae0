//! How the accounts' one-time codes leave the server.

use async_trait::async_trait;
use auth::{CodeMailer, CodePurpose};
use platform::Project;

/// Logs that a code was issued (without the code).
pub(crate) struct LogOnly;

#[async_trait]
impl CodeMailer for LogOnly {
    async fn send_code(&self, project: &Project, to: &str, purpose: CodePurpose, _code: &str) -> Result<(), String> {
        tracing::info!(project = %project.id, %to, ?purpose, "one-time code issued (no mail service configured)");
        Ok(())
    }
}
