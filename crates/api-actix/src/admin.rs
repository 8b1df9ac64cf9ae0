//! The operator side of the server: admin tokens (`Authorization: Bearer adm_…`), the analytics
//! service, and the Prometheus text of `GET /metrics`. API keys never authenticate here.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use platform::AdminTokens;

use crate::error::ApiError;

/// `401` text for a missing or unknown admin token.
pub const ADMIN_TOKEN_REQUIRED: &str = "Unauthorized: a valid admin token is required.";

/// Renders the current metrics in Prometheus text format.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// What the admin endpoints need.
pub struct AdminSettings {
    /// The stored admin tokens.
    pub tokens: AdminTokens,
    /// Project reports.
    pub analytics: analytics::Analytics,
    /// The metrics renderer (`None`: `/metrics` answers 404).
    pub metrics: Option<MetricsRenderer>,
    /// Whether `/metrics` is open without an admin token.
    pub metrics_public: bool,
}

impl AdminSettings {
    /// Refuses the request (`401`) unless it carries a stored admin token as a Bearer token.
    pub(crate) async fn require_admin(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(ApiError::new(401, ADMIN_TOKEN_REQUIRED));
        }
        match self.tokens.verify(token).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::new(401, ADMIN_TOKEN_REQUIRED)),
            Err(error) => Err(error.into()),
        }
    }
}
