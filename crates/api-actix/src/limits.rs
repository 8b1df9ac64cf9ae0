//! Rate limits per client IP and per project: fixed one-minute windows counted in memory, with
//! `429` and `Retry-After` when a window is spent. The counters are per process (no Redis):
//! with several servers each enforces its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    per_ip: u32,
    per_project: u32,
    windows: Mutex<Windows>,
}

#[derive(Debug)]
struct Windows {
    started: Instant,
    ip: HashMap<String, u32>,
    project: HashMap<String, u32>,
}

/// The text of `429` for an IP over its limit (the original's).
pub const TOO_MANY_REQUESTS: &str = "Too many requests, please try again later.";
/// The text of `429` for a project over its limit (the original's).
pub const PROJECT_RATE_LIMITED: &str = "Project Rate limit exceeded. Please try again later.";

impl RateLimiter {
    /// A limiter allowing `per_ip` and `per_project` requests per minute (0: unlimited).
    pub fn new(per_ip: u32, per_project: u32) -> RateLimiter {
        let windows = Windows { started: Instant::now(), ip: HashMap::new(), project: HashMap::new() };
        RateLimiter { per_ip, per_project, windows: Mutex::new(windows) }
    }

    /// Counts a request from `ip`; refuses it when the IP's window is spent.
    pub fn check_ip(&self, ip: &str) -> Result<(), ApiError> {
        self.count(self.per_ip, |w| &mut w.ip, ip, TOO_MANY_REQUESTS)
    }

    /// Counts a request for `project`; refuses it when the project's window is spent.
    pub fn check_project(&self, project: &str) -> Result<(), ApiError> {
        self.count(self.per_project, |w| &mut w.project, project, PROJECT_RATE_LIMITED)
    }

    fn count(
        &self,
        limit: u32,
        table: impl Fn(&mut Windows) -> &mut HashMap<String, u32>,
        key: &str,
        text: &str,
    ) -> Result<(), ApiError> {
        if limit == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let elapsed = windows.started.elapsed();
        if elapsed >= WINDOW {
            windows.started = Instant::now();
            windows.ip.clear();
            windows.project.clear();
        }
        let retry_after = WINDOW.saturating_sub(windows.started.elapsed()).as_secs().max(1);
        let counter = table(&mut windows).entry(key.to_owned()).or_insert(0);
        if *counter >= limit {
            return Err(ApiError::too_many_requests(text, retry_after));
        }
        *counter += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_window_refuses_with_retry_after() {
        let limiter = RateLimiter::new(2, 0);
        assert!(limiter.check_ip("1.2.3.4").is_ok());
        assert!(limiter.check_ip("1.2.3.4").is_ok());
        let refused = limiter.check_ip("1.2.3.4").unwrap_err();
        assert_eq!((refused.status(), refused.message()), (429, TOO_MANY_REQUESTS));
        assert!(limiter.check_ip("5.6.7.8").is_ok(), "another IP has its own window");
        assert!(limiter.check_project("p").is_ok(), "0 means unlimited");
    }
}
