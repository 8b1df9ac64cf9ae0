//! The accounts' typed error: every refusal with its HTTP status and exact client-facing text
//! (spec §8 and Appendix A where the original had one). Failures of ours carry their detail for
//! the logs; clients see a generic text.

use platform::{PlatformError, ValidationError};
use store::StoreError;

use crate::password::PasswordError;

/// What can go wrong in an accounts call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// A refusal with its status and text (400, 401, 403, 404, 422, 429).
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The client-facing text.
        message: String,
        /// Whether the refresh cookie must be cleared with this answer (refresh and logout).
        clear_cookie: bool,
    },
    /// A document was refused by the users collection's model (400).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The platform failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// Hashing failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Something else of ours.
    #[error("{0}")]
    Internal(String),
}

/// The text clients see for a failure of ours.
pub const INTERNAL_ERROR: &str = "Internal server error.";
/// The text clients see when the database cannot be reached.
pub const UNAVAILABLE: &str = "Database unavailable. Please retry shortly.";

impl AuthError {
    /// A refusal.
    pub fn refused(status: u16, message: impl Into<String>) -> AuthError {
        AuthError::Refused { status, message: message.into(), clear_cookie: false }
    }

    /// A refusal that also clears the refresh cookie.
    pub fn refused_clearing(status: u16, message: impl Into<String>) -> AuthError {
        AuthError::Refused { status, message: message.into(), clear_cookie: true }
    }

    /// `400` with this text.
    pub fn bad_request(message: impl Into<String>) -> AuthError {
        AuthError::refused(400, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Refused { status, .. } => *status,
            AuthError::Validation(e) => e.status(),
            AuthError::Store(e) => e.status(),
            AuthError::Platform(e) => e.status(),
            AuthError::Password(_) | AuthError::Internal(_) => 500,
        }
    }

    /// The client-facing text.
    pub fn client_message(&self) -> String {
        match self.status() {
            503 => UNAVAILABLE.to_owned(),
            500..=599 => INTERNAL_ERROR.to_owned(),
            _ => self.to_string(),
        }
    }

    /// Whether the answer clears the refresh cookie.
    pub fn clears_cookie(&self) -> bool {
        matches!(self, AuthError::Refused { clear_cookie: true, .. })
    }

    /// Whether this is a failure of ours (to be logged with its detail).
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }
}

/// Texts of spec §8 used in more than one place.
pub mod texts {
    /// §8.1: auth switched off for the project (403).
    pub const AUTH_DISABLED: &str =
        "Please enable Auth in the urBackend dashboard for this project to use this endpoint.";
    /// §8.1: no `users` collection (403).
    pub const USERS_MISSING: &str = "Authentication is enabled, but the 'users' collection schema has not been defined. Please create a 'users' collection in the dashboard to define your custom user fields.";
    /// §8.1: the users schema lacks required String `email`/`password` (422).
    pub const USERS_INVALID: &str = "The 'users' collection is missing required 'email' and 'password' string fields. Please fix the schema in the dashboard.";
    /// Missing `Authorization` (401).
    pub const NO_TOKEN: &str = "Access Denied: No Token Provided";
    /// `me` with a bad token (401).
    pub const INVALID_TOKEN_ME: &str = "Invalid or Expired Token";
    /// Profile and password routes with a bad token (401).
    pub const INVALID_TOKEN: &str = "Access Denied: Invalid or expired token";
    /// Login failure, whatever the reason (400).
    pub const BAD_CREDENTIALS: &str = "Invalid email or password";
    /// A wrong, expired, used or burnt code (400).
    pub const BAD_OTP: &str = "Invalid or expired OTP";
    /// `404`.
    pub const USER_NOT_FOUND: &str = "User not found";
    /// Signup of a verified address (400).
    pub const USER_EXISTS: &str = "User already exists with this email.";
}
