//! The request bodies of the account endpoints, checked with the original's texts (its zod
//! schemas, spec §8.3–§8.9). Where the original answered `Unknown error` (login, resend) the
//! real reason is given. E-mail addresses are normalised (trimmed, lower-cased) here, once.

use serde_json::Value;

use crate::error::AuthError;

/// The longest accepted e-mail address.
pub const MAX_EMAIL_LEN: usize = 100;
/// Password length bounds.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 6..=100;
/// Username length bounds.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=50;

fn bad(text: &str) -> AuthError {
    AuthError::bad_request(text)
}

fn field<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn string<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    field(body, key).and_then(Value::as_str)
}

/// Whether an address passes a check as strict as zod's e-mail rule: a local part of letters,
/// digits and `_'+-.` (no leading, trailing or double dot), `@`, dot-separated labels of
/// letters, digits and inner hyphens, and a top-level domain of two or more letters.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "_'+-.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let tld_ok = labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && labels_ok && tld_ok
}

/// Trimmed and lower-cased: the one form addresses are stored and looked up in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Signup and login addresses: required, valid, at most 100 characters (texts with a full stop).
pub(crate) fn account_email(body: &Value) -> Result<String, AuthError> {
    let email = string(body, "email").map(str::trim).unwrap_or_default();
    if email.is_empty() {
        return Err(bad("Email is required."));
    }
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(bad("Email is too long."));
    }
    if !is_valid_email(email) {
        return Err(bad("Invalid email format."));
    }
    Ok(normalize_email(email))
}

/// The address of the code endpoints (text without a full stop, as the original).
pub(crate) fn code_email(body: &Value) -> Result<String, AuthError> {
    let email = string(body, "email").map(str::trim).unwrap_or_default();
    if email.chars().count() > MAX_EMAIL_LEN || !is_valid_email(email) {
        return Err(bad("Invalid email format"));
    }
    Ok(normalize_email(email))
}

/// A signup or login password (6–100 characters).
pub(crate) fn account_password(body: &Value, key: &str) -> Result<String, AuthError> {
    let password = string(body, key).unwrap_or_default();
    let len = password.chars().count();
    if len < *PASSWORD_LEN.start() {
        return Err(bad("Password must be at least 6 characters."));
    }
    if len > *PASSWORD_LEN.end() {
        return Err(bad("Password is too long."));
    }
    Ok(password.to_owned())
}

/// The optional username of signup (3–50 characters).
pub(crate) fn signup_username(body: &Value) -> Result<Option<String>, AuthError> {
    match field(body, "username") {
        None => Ok(None),
        Some(Value::String(name)) => {
            let len = name.trim().chars().count();
            if len < *USERNAME_LEN.start() {
                Err(bad("Username must be at least 3 characters."))
            } else if len > *USERNAME_LEN.end() {
                Err(bad("Username must be between 3 and 50 characters."))
            } else {
                Ok(Some(name.trim().to_owned()))
            }
        }
        Some(_) => Err(bad("Username must be between 3 and 50 characters.")),
    }
}

/// A six-digit code.
pub(crate) fn otp(body: &Value) -> Result<String, AuthError> {
    let code = match field(body, "otp") {
        Some(Value::String(code)) => code.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("OTP must be 6 digits"));
    }
    Ok(code)
}

/// The new password of a reset (texts of the reset schema).
pub(crate) fn reset_password(body: &Value) -> Result<String, AuthError> {
    let password = string(body, "newPassword").unwrap_or_default();
    let len = password.chars().count();
    if len < *PASSWORD_LEN.start() {
        return Err(bad("Password must be at least 6 characters"));
    }
    if len > *PASSWORD_LEN.end() {
        return Err(bad("Password is too long."));
    }
    Ok(password.to_owned())
}

/// The two passwords of change-password.
pub(crate) fn change_password(body: &Value) -> Result<(String, String), AuthError> {
    let current = string(body, "currentPassword").unwrap_or_default();
    if current.is_empty() {
        return Err(bad("Current password is required"));
    }
    let new = string(body, "newPassword").unwrap_or_default();
    let len = new.chars().count();
    if len < *PASSWORD_LEN.start() {
        return Err(bad("New password must be at least 6 characters"));
    }
    if len > *PASSWORD_LEN.end() {
        return Err(bad("Password is too long."));
    }
    Ok((current.to_owned(), new.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_as_zod_sees_them() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "o'neil@example.com", "x_y-z@a-b.io"] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "a@b.c",
            "@b.co",
            "a@.co",
            ".a@b.co",
            "a.@b.co",
            "a..b@c.co",
            "a b@c.co",
            "a@b..co",
            "a@-b.co",
            "a@b.c0",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn signup_texts() {
        let err = |body: Value| account_email(&body).and(account_password(&body, "password")).unwrap_err().to_string();
        assert_eq!(err(json!({"password": "secret1"})), "Email is required.");
        assert_eq!(err(json!({"email": "nope", "password": "secret1"})), "Invalid email format.");
        assert_eq!(err(json!({"email": format!("{}@b.co", "a".repeat(100))})), "Email is too long.");
        assert_eq!(err(json!({"email": "a@b.co", "password": "12345"})), "Password must be at least 6 characters.");
        assert_eq!(err(json!({"email": "a@b.co", "password": "x".repeat(101)})), "Password is too long.");
        assert_eq!(
            signup_username(&json!({"username": "ab"})).unwrap_err().to_string(),
            "Username must be at least 3 characters."
        );
        assert_eq!(account_email(&json!({"email": "  Ann@Example.COM "})).unwrap(), "ann@example.com");
    }

    #[test]
    fn code_texts() {
        assert_eq!(otp(&json!({"otp": "12345"})).unwrap_err().to_string(), "OTP must be 6 digits");
        assert_eq!(otp(&json!({"otp": 123456})).unwrap(), "123456");
        assert_eq!(code_email(&json!({"email": 5})).unwrap_err().to_string(), "Invalid email format");
        assert_eq!(
            reset_password(&json!({"newPassword": "x"})).unwrap_err().to_string(),
            "Password must be at least 6 characters"
        );
        assert_eq!(
            change_password(&json!({"newPassword": "abcdef"})).unwrap_err().to_string(),
            "Current password is required"
        );
        assert_eq!(
            change_password(&json!({"currentPassword": "a", "newPassword": "abc"})).unwrap_err().to_string(),
            "New password must be at least 6 characters"
        );
    }
}
