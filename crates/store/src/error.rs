//! The store's typed error. The HTTP layer maps each variant once to the wire shape; texts that
//! reach clients are the original's where it had one (spec §5.4, §6.5).

/// What can go wrong in a store call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused the write (409 `Duplicate value violates unique constraint.`).
    #[error("Duplicate value violates unique constraint.")]
    DuplicateKey {
        /// The field whose index refused, when the backend can tell.
        field: Option<String>,
    },
    /// A unique index could not be created because values repeat (400, spec §6.5 text).
    #[error("Cannot create unique index on '{field}'. {count} duplicate values exist. Examples: {examples}")]
    DuplicatesExist {
        /// The field.
        field: String,
        /// How many values occur more than once.
        count: u64,
        /// Up to three of them, as JSON text joined by `, `.
        examples: String,
    },
    /// The request cannot be carried out on these documents (400), e.g. `$set` on `_id`, or a
    /// value the backend cannot store.
    #[error("{0}")]
    InvalidInput(String),
    /// The backend cannot run this (an aggregation stage it does not implement, say) (400).
    #[error("{0}")]
    Unsupported(String),
    /// The database cannot be reached right now (503); the server keeps running and recovers.
    #[error("Database unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500); the text is for logs, never for clients.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            StoreError::DuplicateKey { .. } => 409,
            StoreError::DuplicatesExist { .. } | StoreError::InvalidInput(_) | StoreError::Unsupported(_) => 400,
            StoreError::Unavailable(_) => 503,
            StoreError::Internal(_) => 500,
        }
    }
}
