//! The accounts' settings: token lifetimes, code rules and the limits of the account endpoints,
//! with the original's values as defaults.

use crate::codes::CodeRules;
use crate::throttle::Limit;

/// The lifetime of access tokens, kept with the text the original echoes as `expiresIn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLifetime {
    /// Seconds.
    pub seconds: i64,
    /// As configured, e.g. `15m`.
    pub text: String,
}

impl TokenLifetime {
    /// Parses `900`, `900s`, `15m`, `1h` or `7d` (positive, at most 30 days).
    pub fn parse(text: &str) -> Option<TokenLifetime> {
        let text = text.trim();
        let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((at, _)) => text.split_at(at),
            None => (text, "s"),
        };
        let n: i64 = number.parse().ok()?;
        let seconds = n.checked_mul(match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return None,
        })?;
        (seconds > 0 && seconds <= 30 * 86_400).then(|| TokenLifetime { seconds, text: text.to_owned() })
    }
}

impl Default for TokenLifetime {
    fn default() -> Self {
        TokenLifetime { seconds: 15 * 60, text: "15m".to_owned() }
    }
}

/// Everything configurable about accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsConfig {
    /// Access token lifetime (default 15 minutes).
    pub access_ttl: TokenLifetime,
    /// Refresh token lifetime in milliseconds (default 7 days).
    pub refresh_lifetime_ms: i64,
    /// One-time code rules.
    pub codes: CodeRules,
    /// Failed logins per account (project and e-mail) before logins of it are refused.
    pub login_failures_per_account: Limit,
    /// Failed logins per client IP before its logins are refused.
    pub login_failures_per_ip: Limit,
    /// Refreshes per client IP.
    pub refresh_per_ip: Limit,
    /// Refreshes per refresh token.
    pub refresh_per_token: Limit,
    /// Refreshes per user.
    pub refresh_per_user: Limit,
}

const MINUTE: i64 = 60_000;

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            access_ttl: TokenLifetime::default(),
            refresh_lifetime_ms: 7 * 24 * 60 * MINUTE,
            codes: CodeRules::default(),
            login_failures_per_account: Limit { max: 10, window_ms: 15 * MINUTE },
            login_failures_per_ip: Limit { max: 100, window_ms: 15 * MINUTE },
            refresh_per_ip: Limit { max: 30, window_ms: MINUTE },
            refresh_per_token: Limit { max: 10, window_ms: MINUTE },
            refresh_per_user: Limit { max: 20, window_ms: MINUTE },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(TokenLifetime::parse("15m").map(|t| t.seconds), Some(900));
        assert_eq!(TokenLifetime::parse("900").map(|t| t.seconds), Some(900));
        assert_eq!(TokenLifetime::parse("2h").map(|t| t.text), Some("2h".to_owned()));
        for bad in ["", "0", "m", "15x", "-5m", "31d", "99999999999999999999"] {
            assert_eq!(TokenLifetime::parse(bad), None, "{bad}");
        }
    }
}
