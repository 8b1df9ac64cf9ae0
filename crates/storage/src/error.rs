//! The typed failures of file storage, each with its HTTP status and client-facing text (the
//! original's texts, spec §9.3, where it had one; ours otherwise, listed in docs/COMPATIBILITY.md).
//! The API layer maps them once.

use store::StoreError;

/// The original's text for a path outside the caller's project.
pub const ACCESS_DENIED: &str = "Access denied.";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The client-given path is not inside the caller's project (403 `Access denied.`).
    #[error("access denied")]
    AccessDenied,
    /// A request body field is missing or invalid (400, the original's text).
    #[error("invalid request: {0}")]
    BadRequest(&'static str),
    /// The file is larger than the server's limit (413).
    #[error("file too large (limit {limit} bytes)")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// More bytes arrived than the signed upload declared (413).
    #[error("more bytes than declared ({declared})")]
    MoreThanDeclared {
        /// The declared size.
        declared: u64,
    },
    /// The project's storage quota would be exceeded (403, the original's text).
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// A direct upload to a bucket would exceed the project's quota (403, the original's text).
    #[error("internal storage limit exceeded")]
    InternalLimit,
    /// The bytes are of a type that is not allowed, or not the declared one (415).
    #[error("unsupported file type: {0}")]
    UnsupportedType(String),
    /// A signed upload URL that is malformed, tampered with or for another object (403).
    #[error("invalid upload signature")]
    BadSignature,
    /// A signed upload URL past its expiry (403).
    #[error("upload URL expired")]
    Expired,
    /// The PUT's `Content-Type` differs from the signed one (400).
    #[error("content type differs from the signed one")]
    ContentTypeMismatch,
    /// The signed upload URL was already used (409).
    #[error("upload URL already used")]
    AlreadyUsed,
    /// The object of an upload confirmation is not there (409, the original's text).
    #[error("upload not ready")]
    NotReady,
    /// The declared size does not match the stored object (400, the original's text).
    #[error("size mismatch")]
    SizeMismatch,
    /// No such file (404).
    #[error("file not found")]
    NotFound,
    /// Reading the request body failed (400).
    #[error("request body: {0}")]
    Body(String),
    /// The object store failed (500).
    #[error("object store: {0}")]
    Backend(#[from] object_store::Error),
    /// The platform store failed (500, or what the store error says).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A bug of ours (500).
    #[error("internal: {0}")]
    Internal(String),
}

impl StorageError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            StorageError::AccessDenied
            | StorageError::QuotaExceeded
            | StorageError::InternalLimit
            | StorageError::BadSignature
            | StorageError::Expired => 403,
            StorageError::BadRequest(_)
            | StorageError::ContentTypeMismatch
            | StorageError::SizeMismatch
            | StorageError::Body(_) => 400,
            StorageError::TooLarge { .. } | StorageError::MoreThanDeclared { .. } => 413,
            StorageError::UnsupportedType(_) => 415,
            StorageError::AlreadyUsed | StorageError::NotReady => 409,
            StorageError::NotFound => 404,
            StorageError::Store(StoreError::Unavailable(_)) => 503,
            StorageError::Backend(_) | StorageError::Store(_) | StorageError::Internal(_) => 500,
        }
    }

    /// Whether this is a failure of ours (logged by the API layer, answered generically).
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }

    /// The client-facing text.
    pub fn client_message(&self) -> String {
        match self {
            StorageError::AccessDenied => ACCESS_DENIED.to_owned(),
            StorageError::BadRequest(text) => (*text).to_owned(),
            StorageError::TooLarge { .. } => "File size exceeds limit.".to_owned(),
            StorageError::MoreThanDeclared { declared } => {
                format!("Upload is larger than the declared size ({declared} bytes).")
            }
            StorageError::QuotaExceeded => {
                "Storage limit exceeded. Please upgrade your plan or delete some files.".to_owned()
            }
            StorageError::InternalLimit => "Internal storage limit exceeded.".to_owned(),
            StorageError::UnsupportedType(text) => text.clone(),
            StorageError::BadSignature => "Invalid or tampered upload URL.".to_owned(),
            StorageError::Expired => "Upload URL has expired.".to_owned(),
            StorageError::ContentTypeMismatch => {
                "Content-Type does not match the one given in the upload request.".to_owned()
            }
            StorageError::AlreadyUsed => "This upload URL has already been used.".to_owned(),
            StorageError::NotReady => "Uploaded file is not visible yet. Please retry confirmation.".to_owned(),
            StorageError::SizeMismatch => "Declared file size does not match uploaded file size.".to_owned(),
            StorageError::NotFound => "File not found.".to_owned(),
            StorageError::Body(_) => "Could not read the request body.".to_owned(),
            StorageError::Store(StoreError::Unavailable(_)) => "Service temporarily unavailable.".to_owned(),
            StorageError::Backend(_) | StorageError::Store(_) | StorageError::Internal(_) => {
                "File storage failed".to_owned()
            }
        }
    }
}
