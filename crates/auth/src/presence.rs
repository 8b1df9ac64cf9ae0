//! Whether the user behind a verified access token still exists (security case: a user
//! deleted after the token was issued). Access tokens are stateless HS256 JWTs, so without this
//! a deleted user's token would keep its owner's rights until it expires. The answer of the
//! `users` collection is remembered per (project, user) for [`PRESENCE_TTL_MS`], so a busy user
//! costs one indexed lookup a second, and a deletion (by any process: `urbackend user delete`,
//! or straight in the project's database) takes effect everywhere within that second.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long an answer is remembered, in milliseconds.
pub const PRESENCE_TTL_MS: i64 = 1_000;

/// Past this many remembered answers the expired ones are dropped (and all of them when none
/// has expired), so memory stays bounded whatever the number of users.
const MAX_REMEMBERED: usize = 65_536;

/// Remembered answers: `"<project>\n<user>"` → (present, when it was read).
#[derive(Default)]
pub(crate) struct Presence {
    answers: Mutex<HashMap<String, (bool, i64)>>,
}

impl Presence {
    /// The key of a user of a project (ids contain no newline).
    pub(crate) fn key(project_id: &str, user_id: &str) -> String {
        format!("{project_id}\n{user_id}")
    }

    /// The remembered answer, if it is younger than the TTL at `now_ms`.
    pub(crate) fn recall(&self, key: &str, now_ms: i64) -> Option<bool> {
        let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        answers.get(key).filter(|(_, at)| now_ms.saturating_sub(*at) < PRESENCE_TTL_MS).map(|(present, _)| *present)
    }

    /// Remembers an answer read at `now_ms`.
    pub(crate) fn remember(&self, key: String, present: bool, now_ms: i64) {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if answers.len() >= MAX_REMEMBERED && !answers.contains_key(&key) {
            answers.retain(|_, (_, at)| now_ms.saturating_sub(*at) < PRESENCE_TTL_MS);
            if answers.len() >= MAX_REMEMBERED {
                answers.clear();
            }
        }
        answers.insert(key, (present, now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_remembered_for_the_ttl_only() {
        let presence = Presence::default();
        let key = Presence::key("p", "u");
        assert_eq!(presence.recall(&key, 0), None);
        presence.remember(key.clone(), true, 1_000);
        assert_eq!(presence.recall(&key, 1_000), Some(true));
        assert_eq!(presence.recall(&key, 1_999), Some(true));
        assert_eq!(presence.recall(&key, 2_000), None);
        assert_eq!(presence.recall(&Presence::key("p", "other"), 1_000), None);
        assert_eq!(presence.recall(&Presence::key("q", "u"), 1_000), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let presence = Presence::default();
        for i in 0..(MAX_REMEMBERED + 10) {
            presence.remember(Presence::key("p", &i.to_string()), true, 5);
        }
        // None had expired: the bound dropped them all, then kept counting.
        assert_eq!(presence.answers.lock().unwrap().len(), 10);
        // Expired answers are dropped before fresh ones.
        for i in 0..(MAX_REMEMBERED - 10) {
            presence.remember(Presence::key("q", &i.to_string()), true, 5 + PRESENCE_TTL_MS);
        }
        presence.remember(Presence::key("p", "late"), false, 5 + PRESENCE_TTL_MS);
        assert_eq!(presence.answers.lock().unwrap().len(), MAX_REMEMBERED - 10 + 1);
        assert_eq!(presence.recall(&Presence::key("q", "0"), 5 + PRESENCE_TTL_MS), Some(true));
        assert_eq!(presence.recall(&Presence::key("p", "late"), 5 + PRESENCE_TTL_MS), Some(false));
    }
}
