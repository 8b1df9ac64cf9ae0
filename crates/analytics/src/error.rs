//! The errors of the analytics: a bad `days` parameter, or a store that failed.

use store::StoreError;

/// Why analytics could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The `days` parameter is not a whole number in `1..=366`.
    #[error("days must be a whole number from 1 to {max}")]
    BadDays {
        /// The largest accepted value.
        max: u32,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AnalyticsError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AnalyticsError::BadDays { .. } => 400,
            AnalyticsError::Store(error) => error.status(),
        }
    }
}
