//! The monthly mail quota of a project, counted in the shared store so that every server on it
//! shares the count (the original kept a Redis counter; we have no Redis).
//!
//! Each sent mail holds one *slot* document in `_urbackend_mail_usage`,
//! `{projectId, period: "YYYY-MM", slot: n}`, whose `_id` is derived from (project, month, n):
//! the first 24 hex digits of SHA-256(`mail-quota:<projectId>:<YYYY-MM>:<n>`). Inserting a
//! document under an `_id` that exists fails atomically in every backend
//! ([`store::StoreError::DuplicateKey`]), so each slot number is taken at most once, and with
//! numbers limited to `1..=limit` no month ever holds more than `limit` slots, however many
//! servers race. A reservation counts the month's slots, tries slot `count + 1`, and on a
//! collision counts again and moves on; past the limit it looks for a slot that a failed send
//! gave back before it refuses. A send that fails at the transport deletes its slot.
//!
//! A limit of 0 means unlimited: slots are still taken (for `monthlyUsage`), without a bound.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{Document, StoreError};

use crate::error::MailError;
use crate::records::{Records, USAGE_COLLECTION, equal};

/// One project's monthly quota.
pub struct Quota {
    records: Arc<Records>,
    limit: u32,
}

/// A slot taken for one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The slot document's id (to give it back).
    pub slot_id: String,
    /// How many mails the project has sent this month, this one included.
    pub usage: u64,
}

/// The quota period of an instant: `YYYY-MM` in UTC.
pub fn period_of(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// The id of slot `n` of a project's month.
fn slot_id(project_id: &str, period: &str, n: u64) -> String {
    let digest = Sha256::digest(format!("mail-quota:{project_id}:{period}:{n}").as_bytes());
    hex::encode(digest).chars().take(24).collect()
}

impl Quota {
    pub(crate) fn new(records: Arc<Records>, limit: u32) -> Quota {
        Quota { records, limit }
    }

    /// The monthly limit (0: unlimited).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many mails the project has sent in the period.
    pub async fn usage(&self, project_id: &str, period: &str) -> Result<u64, MailError> {
        let filter = equal(&[("projectId", project_id), ("period", period)])?;
        Ok(self.records.count(USAGE_COLLECTION, &filter).await?)
    }

    /// Takes a slot for one mail, or refuses with [`MailError::QuotaExceeded`].
    pub async fn reserve(&self, project_id: &str, period: &str) -> Result<Reservation, MailError> {
        let limit = u64::from(self.limit);
        let mut n = self.usage(project_id, period).await? + 1;
        loop {
            if limit != 0 && n > limit {
                return self.reserve_given_back(project_id, period).await;
            }
            if let Some(reservation) = self.try_slot(project_id, period, n).await? {
                return Ok(reservation);
            }
            // Taken by a concurrent send: count again rather than walk one by one.
            n = (n + 1).max(self.usage(project_id, period).await? + 1);
        }
    }

    /// Past the limit: a slot below it may have been given back by a failed send.
    async fn reserve_given_back(&self, project_id: &str, period: &str) -> Result<Reservation, MailError> {
        let limit = u64::from(self.limit);
        if self.usage(project_id, period).await? >= limit {
            return Err(MailError::QuotaExceeded);
        }
        for n in 1..=limit {
            if let Some(reservation) = self.try_slot(project_id, period, n).await? {
                return Ok(reservation);
            }
        }
        Err(MailError::QuotaExceeded)
    }

    /// Inserts slot `n`; `None` when it is taken.
    async fn try_slot(&self, project_id: &str, period: &str, n: u64) -> Result<Option<Reservation>, MailError> {
        let id = slot_id(project_id, period, n);
        let doc = json!({"_id": id, "projectId": project_id, "period": period, "slot": n});
        let Value::Object(doc) = doc else { return Err(MailError::Internal("slot is not an object".into())) };
        match self.records.insert(USAGE_COLLECTION, doc).await {
            Ok(_) => {
                let usage = self.usage(project_id, period).await?;
                Ok(Some(Reservation { slot_id: id, usage }))
            }
            Err(StoreError::DuplicateKey { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives a slot back (its mail was not sent).
    pub async fn release(&self, reservation: &Reservation) -> Result<(), MailError> {
        self.records.delete(USAGE_COLLECTION, &reservation.slot_id).await.map(|_: Option<Document>| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_slot_ids() {
        let at = DateTime::parse_from_rfc3339("2026-03-31T23:59:59.999Z").unwrap().with_timezone(&Utc);
        assert_eq!(period_of(at), "2026-03");
        let id = slot_id("65a0c0de0000000a0000000b", "2026-03", 1);
        assert_eq!(id.len(), 24);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(id, slot_id("65a0c0de0000000a0000000b", "2026-03", 2));
        assert_ne!(id, slot_id("65a0c0de0000000a0000000b", "2026-04", 1));
        assert_ne!(id, slot_id("65a0c0de0000000a0000000c", "2026-03", 1));
    }
}
