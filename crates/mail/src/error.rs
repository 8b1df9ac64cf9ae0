//! The mail service's typed error: every refusal with its HTTP status and exact client-facing
//! text (spec §10, Appendix A). Failures of ours carry their detail for logs only.

use store::StoreError;

/// `429` when a project has used its monthly mail quota.
pub const QUOTA_EXCEEDED: &str = "Monthly mail limit exceeded.";
/// `400` when no template matches the id or name.
pub const TEMPLATE_NOT_FOUND: &str = "Template not found.";
/// `400` when neither the request nor the template gives a subject.
pub const SUBJECT_REQUIRED: &str = "Subject is required.";
/// `400` when neither the request nor the template gives a body.
pub const CONTENT_REQUIRED: &str = "Provide at least one of html or text content.";
/// `409` when a project template's name or key is taken by another of its templates.
pub const TEMPLATE_EXISTS: &str = "Template name/key already exists.";
/// The text clients see for a failure of ours.
pub const INTERNAL_ERROR: &str = "Internal server error.";

/// What can go wrong when sending mail or managing templates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The request or a template definition was refused (400), with the original's zod text
    /// where it had one.
    #[error("{0}")]
    Invalid(String),
    /// `400 Template not found.`
    #[error("Template not found.")]
    TemplateNotFound,
    /// `400 Subject is required.`
    #[error("Subject is required.")]
    SubjectRequired,
    /// `400 Provide at least one of html or text content.`
    #[error("Provide at least one of html or text content.")]
    ContentRequired,
    /// `409 Template name/key already exists.`
    #[error("Template name/key already exists.")]
    TemplateExists,
    /// `429 Monthly mail limit exceeded.`
    #[error("Monthly mail limit exceeded.")]
    QuotaExceeded,
    /// The mail server refused the message or could not be reached (500, as the original's
    /// provider errors); the text says which, without internal detail.
    #[error("{0}")]
    Delivery(String),
    /// The store failed; its own status.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mail configuration is unusable (a bad sender address, say); reported at start-up.
    #[error("mail configuration: {0}")]
    Config(String),
    /// Anything else (500); the text is for logs.
    #[error("internal mail error: {0}")]
    Internal(String),
}

impl MailError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            MailError::Invalid(_)
            | MailError::TemplateNotFound
            | MailError::SubjectRequired
            | MailError::ContentRequired => 400,
            MailError::TemplateExists => 409,
            MailError::QuotaExceeded => 429,
            MailError::Store(e) => e.status(),
            MailError::Delivery(_) | MailError::Config(_) | MailError::Internal(_) => 500,
        }
    }

    /// The client-facing text: the error's own for refusals and delivery failures, a generic one
    /// for failures of ours.
    pub fn client_message(&self) -> String {
        match self {
            MailError::Delivery(message) => message.clone(),
            MailError::Config(_) | MailError::Internal(_) => INTERNAL_ERROR.to_owned(),
            MailError::Store(e) if e.status() >= 500 => INTERNAL_ERROR.to_owned(),
            other => other.to_string(),
        }
    }

    /// Whether this is a failure of ours or of the mail server (to be logged with its detail).
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_texts() {
        assert_eq!(
            (MailError::QuotaExceeded.status(), MailError::QuotaExceeded.client_message()),
            (429, QUOTA_EXCEEDED.into())
        );
        assert_eq!(MailError::TemplateNotFound.client_message(), TEMPLATE_NOT_FOUND);
        assert_eq!(MailError::SubjectRequired.client_message(), SUBJECT_REQUIRED);
        assert_eq!(MailError::ContentRequired.client_message(), CONTENT_REQUIRED);
        assert_eq!(
            (MailError::TemplateExists.status(), MailError::TemplateExists.to_string()),
            (409, TEMPLATE_EXISTS.into())
        );
        let internal = MailError::Internal("disk on fire".into());
        assert_eq!((internal.status(), internal.client_message()), (500, INTERNAL_ERROR.into()));
        let store = MailError::Store(StoreError::Internal("secret detail".into()));
        assert_eq!(store.client_message(), INTERNAL_ERROR);
        assert!(store.is_internal() && !MailError::QuotaExceeded.is_internal());
    }
}
