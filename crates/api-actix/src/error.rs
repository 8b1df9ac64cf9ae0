//! The one mapping of every failure to the wire error shape:
//! `{"success":false,"error":<text>,"code":<status>,"message":<text>}` (spec §2.2, plus
//! `message` so that the TypeScript SDK shows the real reason). Failures of ours are logged here
//! with their detail and answered with a generic text.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use dataplane::DataError;
use mail::MailError;
use platform::PlatformError;
use serde_json::json;

/// An error answer: status and client-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    status: u16,
    message: String,
    retry_after: Option<u64>,
    set_cookie: Option<String>,
}

impl ApiError {
    /// An error with this status and text.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), retry_after: None, set_cookie: None }
    }

    /// `429` with a `Retry-After` header.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: u64) -> ApiError {
        ApiError { status: 429, message: message.into(), retry_after: Some(retry_after_seconds), set_cookie: None }
    }

    /// The same error, also setting a cookie (`Set-Cookie` value).
    pub fn with_cookie(mut self, cookie: String) -> ApiError {
        self.set_cookie = Some(cookie);
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The client-facing text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        if let Some(cookie) = &self.set_cookie {
            response.insert_header((actix_web::http::header::SET_COOKIE, cookie.clone()));
        }
        response.json(json!({
            "success": false,
            "error": self.message,
            "code": self.status,
            "message": self.message,
        }))
    }
}

impl From<DataError> for ApiError {
    fn from(error: DataError) -> Self {
        if error.is_internal() {
            tracing::error!(error = %error, "data request failed");
        }
        ApiError::new(error.status(), error.client_message())
    }
}

impl From<auth::AuthError> for ApiError {
    fn from(error: auth::AuthError) -> Self {
        if error.is_internal() {
            tracing::error!(error = %error, "account request failed");
        }
        let api = ApiError::new(error.status(), error.client_message());
        if error.clears_cookie() { api.with_cookie(crate::cookies::cleared_refresh_cookie()) } else { api }
    }
}

impl From<PlatformError> for ApiError {
    fn from(error: PlatformError) -> Self {
        DataError::from(error).into()
    }
}

impl From<MailError> for ApiError {
    fn from(error: MailError) -> Self {
        if let MailError::Store(e) = error {
            return DataError::from(e).into();
        }
        // A delivery failure is the mail server's, and the transport has logged it.
        if error.is_internal() && !matches!(error, MailError::Delivery(_)) {
            tracing::error!(error = %error, "mail request failed");
        }
        ApiError::new(error.status(), error.client_message())
    }
}

impl From<storage::StorageError> for ApiError {
    fn from(error: storage::StorageError) -> Self {
        if let storage::StorageError::Store(e) = error {
            return DataError::from(e).into();
        }
        if error.is_internal() {
            tracing::error!(error = %error, "storage request failed");
        }
        ApiError::new(error.status(), error.client_message())
    }
}
