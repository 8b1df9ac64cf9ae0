//! The data API's typed error: every refusal with its HTTP status and exact client-facing text.
//! Internal failures carry their detail for logs only; clients see a generic text.

use platform::{PlatformError, ValidationError};
use query::QueryError;
use rls_core::Denial;
use store::StoreError;

/// What can go wrong in a data API call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// rls-core refused, or the body broke its hygiene rules.
    #[error(transparent)]
    Denied(#[from] Denial),
    /// The query string was refused (400).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A document was refused by the collection's model (400).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Another refused request (400).
    #[error("{0}")]
    BadRequest(String),
    /// The key may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// `404 Collection not found`.
    #[error("Collection not found")]
    CollectionNotFound,
    /// `404 Schema/Collection not found`.
    #[error("Schema/Collection not found")]
    SchemaNotFound,
    /// `404 Document not found.`
    #[error("Document not found.")]
    DocumentNotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The platform failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

/// The text clients see for a failure of ours.
pub const INTERNAL_ERROR: &str = "Internal server error.";
/// The text clients see when the database cannot be reached.
pub const UNAVAILABLE: &str = "Database unavailable. Please retry shortly.";

impl DataError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            DataError::Denied(d) => d.status(),
            DataError::Query(e) => e.status(),
            DataError::Validation(e) => e.status(),
            DataError::BadRequest(_) => 400,
            DataError::Forbidden(_) => 403,
            DataError::CollectionNotFound | DataError::SchemaNotFound | DataError::DocumentNotFound => 404,
            DataError::Store(e) => e.status(),
            DataError::Platform(e) => e.status(),
        }
    }

    /// The client-facing text: the error's own for client errors, a generic one for ours.
    pub fn client_message(&self) -> String {
        match self.status() {
            503 => UNAVAILABLE.to_owned(),
            500..=599 => INTERNAL_ERROR.to_owned(),
            _ => self.to_string(),
        }
    }

    /// Whether this is a failure of ours (to be logged with its detail).
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }
}
