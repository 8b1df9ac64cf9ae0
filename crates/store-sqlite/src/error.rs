//! Mapping SQLite errors to [`StoreError`]: unique violations become `DuplicateKey` (naming the
//! field when the index tells it), busy/locked and I/O conditions `Unavailable`, refusals of the
//! update merge `InvalidInput`, everything else `Internal`.

use rusqlite::ErrorCode;
use rusqlite::ffi;
use store::StoreError;

use crate::catalog;
use crate::functions::INVALID_PREFIX;

/// Maps a rusqlite error.
pub(crate) fn map(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.as_deref().unwrap_or_default();
            match failure.code {
                ErrorCode::ConstraintViolation
                    if failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                        || failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    StoreError::DuplicateKey { field: catalog::field_of_constraint(message) }
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::Unavailable("the database is busy".to_owned())
                }
                ErrorCode::DiskFull => StoreError::Unavailable("the disk is full".to_owned()),
                ErrorCode::SystemIoFailure | ErrorCode::CannotOpen | ErrorCode::ReadOnly => {
                    StoreError::Unavailable(error.to_string())
                }
                _ => match message.find(INVALID_PREFIX) {
                    Some(at) => {
                        StoreError::InvalidInput(message.get(at + INVALID_PREFIX.len()..).unwrap_or("").to_owned())
                    }
                    None => StoreError::Internal(error.to_string()),
                },
            }
        }
        rusqlite::Error::UserFunctionError(inner) => {
            let message = inner.to_string();
            match message.strip_prefix(INVALID_PREFIX) {
                Some(text) => StoreError::InvalidInput(text.to_owned()),
                None => StoreError::Internal(message),
            }
        }
        _ => StoreError::Internal(error.to_string()),
    }
}

/// `?` support: `rusqlite::Result<T>` into `Result<T, StoreError>`.
pub(crate) trait SqlResultExt<T> {
    /// Maps the error with [`map`].
    fn store(self) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(map)
    }
}
