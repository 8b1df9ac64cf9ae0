//! Removing what the accounts no longer need: refresh sessions, one-time codes, OAuth states and
//! exchange codes past their `expiresAt`, and latches older than the longest life a latch can
//! matter for (a refresh session's lifetime plus a day: a revoked family cannot rotate, so all
//! its sessions expire within that time; code and session latches matter even less long).
//!
//! [`Accounts::sweep`] deletes at most a batch per collection per call; `serve` calls it
//! periodically. Several servers sweeping at once only delete the same documents twice.

use query::{Condition, FieldPath, Filter, Op, Scalar};

use crate::accounts::Accounts;
use crate::error::AuthError;
use crate::social::{EXCHANGES_COLLECTION, STATES_COLLECTION};
use crate::system::{CODES_COLLECTION, LATCHES_COLLECTION, SESSIONS_COLLECTION};

/// Documents deleted per collection and call.
const BATCH: u32 = 500;
/// One day, in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How many documents a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired sessions, codes, states and exchange codes.
    pub expired: usize,
    /// Old latches.
    pub latches: usize,
}

fn before(field: &str, value: Scalar) -> Result<Filter, AuthError> {
    let path = FieldPath::new(field).map_err(|e| AuthError::Internal(format!("field path {field}: {e}")))?;
    let mut filter = Filter::new();
    filter.and(Condition::new(path, Op::Lt(value)));
    Ok(filter)
}

impl Accounts {
    /// Deletes one batch of what expired before `now_ms` in each of the accounts' collections.
    pub async fn sweep(&self, now_ms: i64) -> Result<Swept, AuthError> {
        let mut swept = Swept::default();
        let now = now_ms as f64;
        for collection in [SESSIONS_COLLECTION, CODES_COLLECTION, STATES_COLLECTION, EXCHANGES_COLLECTION] {
            swept.expired += self.delete_batch(collection, before("expiresAt", Scalar::Number(now))?).await?;
        }
        let cutoff = now_ms.saturating_sub(self.config.refresh_lifetime_ms.saturating_add(DAY_MS));
        swept.latches = self.delete_batch(LATCHES_COLLECTION, before("createdAt", Scalar::Date(cutoff))?).await?;
        Ok(swept)
    }

    async fn delete_batch(&self, collection: &str, filter: Filter) -> Result<usize, AuthError> {
        Ok(self.system.delete_matching(collection, filter, BATCH).await?)
    }
}
