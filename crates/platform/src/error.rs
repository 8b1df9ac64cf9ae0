//! The platform's typed error: every failure of a platform operation, with the HTTP status it
//! maps to and, for the 4xx ones, the exact client-facing text.

use store::StoreError;

use crate::definition::DefinitionError;
use crate::keys::RandomUnavailable;
use crate::secrets::SecretError;
use crate::validate::ValidationError;

/// What can go wrong in a platform operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// A collection definition was refused (400, or 422 for the `users` contract).
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// A document was refused by its collection's model (400).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Another refused request (400), e.g. `Project name is required`,
    /// `Collection/Schema already exists`.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with the project's state (422), e.g. `Users Collection Missing`.
    #[error("{0}")]
    Unprocessable(String),
    /// No project with that id (404 `Project not found`).
    #[error("Project not found")]
    ProjectNotFound,
    /// No collection with that name (404 `Schema/Collection not found`).
    #[error("Schema/Collection not found")]
    CollectionNotFound,
    /// The store failed; its own status (e.g. 400 for duplicates found while creating a unique
    /// index, 503 when unavailable).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A secret could not be encrypted or decrypted (500).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Anything else (500); the text is for logs.
    #[error("internal platform error: {0}")]
    Internal(String),
}

impl PlatformError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            PlatformError::Definition(e) => e.status(),
            PlatformError::Validation(e) => e.status(),
            PlatformError::BadRequest(_) => 400,
            PlatformError::Unprocessable(_) => 422,
            PlatformError::ProjectNotFound | PlatformError::CollectionNotFound => 404,
            PlatformError::Store(e) => e.status(),
            PlatformError::Secret(_) | PlatformError::Internal(_) => 500,
        }
    }
}

impl From<RandomUnavailable> for PlatformError {
    fn from(e: RandomUnavailable) -> Self {
        PlatformError::Internal(e.to_string())
    }
}
