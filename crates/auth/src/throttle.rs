//! In-process fixed-window counters for the account endpoints' own limits: failed logins per
//! account and per IP, and refreshes per IP, token and user (spec §12.2, counted once each;
//! the original counted twice). Each server process counts for itself, so N processes allow N
//! times the budget; the one-time-code attempt limit, which guards a small secret, is counted in
//! the store instead (see `codes`).

use std::collections::HashMap;
use std::sync::Mutex;

/// A limit: at most `max` events per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed per window (0: unlimited).
    pub max: u32,
    /// The window, in milliseconds.
    pub window_ms: i64,
}

/// Counters per key.
#[derive(Debug)]
pub(crate) struct Throttle {
    limit: Limit,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Keys kept before stale windows are swept.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub(crate) fn new(limit: Limit) -> Throttle {
        Throttle { limit, windows: Mutex::new(HashMap::new()) }
    }

    fn with<T>(&self, now_ms: i64, f: impl FnOnce(&mut HashMap<String, (i64, u32)>) -> T) -> T {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > SWEEP_AT {
            let window = self.limit.window_ms;
            windows.retain(|_, (start, _)| now_ms - *start < window);
        }
        f(&mut windows)
    }

    /// Whether the key is over its budget now (without counting).
    pub(crate) fn exceeded(&self, key: &str, now_ms: i64) -> bool {
        if self.limit.max == 0 {
            return false;
        }
        self.with(now_ms, |windows| {
            windows.get(key).is_some_and(|(start, n)| now_ms - start < self.limit.window_ms && *n >= self.limit.max)
        })
    }

    /// Counts one event; `false` when it goes over the budget.
    pub(crate) fn hit(&self, key: &str, now_ms: i64) -> bool {
        if self.limit.max == 0 {
            return true;
        }
        self.with(now_ms, |windows| {
            let entry = windows.entry(key.to_owned()).or_insert((now_ms, 0));
            if now_ms - entry.0 >= self.limit.window_ms {
                *entry = (now_ms, 0);
            }
            entry.1 = entry.1.saturating_add(1);
            entry.1 <= self.limit.max
        })
    }

    /// Forgets a key (a successful login clears the account's failures).
    pub(crate) fn clear(&self, key: &str, now_ms: i64) {
        self.with(now_ms, |windows| windows.remove(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_reset_with_the_window() {
        let t = Throttle::new(Limit { max: 2, window_ms: 1000 });
        assert!(t.hit("a", 0) && t.hit("a", 10));
        assert!(t.exceeded("a", 20) && !t.hit("a", 20));
        assert!(!t.exceeded("b", 20));
        assert!(!t.exceeded("a", 1000) && t.hit("a", 1000));
        t.clear("a", 1001);
        assert!(!t.exceeded("a", 1002));
    }
}
