//! GitHub sign-in (spec §8.12): the authorization code is exchanged at the token endpoint (JSON
//! answer) for an access token, which reads `/user` (the id and avatar) and `/user/emails`.
//!
//! The address used is the primary verified one, else any verified one; only then is it
//! *verified*. Otherwise the primary listed address, else the profile's public one, is used as
//! an unverified address (it can still create an account marked unverified, never link to one).

use serde_json::Value;

use super::ProviderProfile;
use super::http::{HttpClient, ProviderError};

/// GitHub's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubEndpoints {
    /// Where the browser is sent to authorize (`https://github.com/login/oauth/authorize`).
    pub authorize_url: String,
    /// The token endpoint (`https://github.com/login/oauth/access_token`).
    pub token_url: String,
    /// The REST API base (`https://api.github.com`).
    pub api_url: String,
}

impl Default for GithubEndpoints {
    fn default() -> Self {
        GithubEndpoints {
            authorize_url: "https://github.com/login/oauth/authorize".to_owned(),
            token_url: "https://github.com/login/oauth/access_token".to_owned(),
            api_url: "https://api.github.com".to_owned(),
        }
    }
}

/// The user behind an authorization code.
pub(crate) async fn profile(
    http: &HttpClient,
    endpoints: &GithubEndpoints,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
) -> Result<ProviderProfile, ProviderError> {
    let token_url = endpoints.token_url.as_str();
    let form = vec![
        ("client_id".to_owned(), client_id.to_owned()),
        ("client_secret".to_owned(), client_secret.to_owned()),
        ("code".to_owned(), code.to_owned()),
        ("redirect_uri".to_owned(), redirect_uri.to_owned()),
    ];
    let answer = http.post_form(token_url, form).await?.ok_body(token_url)?;
    let Some(access_token) = answer.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        let reason = answer.get("error").and_then(Value::as_str).unwrap_or("no access_token in the answer");
        return Err(ProviderError::answer(token_url, reason));
    };
    let api = endpoints.api_url.trim_end_matches('/');
    let headers = || {
        vec![("Authorization", format!("Bearer {access_token}")), ("Accept", "application/vnd.github+json".to_owned())]
    };
    let user_url = format!("{api}/user");
    let user = http.get(&user_url, headers()).await?.ok_body(&user_url)?;
    let id = match user.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ProviderError::answer(&user_url, "no user id in the answer")),
    };
    let emails_url = format!("{api}/user/emails");
    let emails = http.get(&emails_url, headers()).await?.ok_body(&emails_url).unwrap_or(Value::Null);
    let (email, email_verified) = match chosen_email(&emails) {
        Some(chosen) => chosen,
        None => (user.get("email").and_then(Value::as_str).map(str::to_owned), false),
    };
    let email = email.filter(|e| !e.trim().is_empty());
    Ok(ProviderProfile {
        id,
        email,
        email_verified,
        avatar_url: user.get("avatar_url").and_then(Value::as_str).map(str::to_owned),
    })
}

/// From a `/user/emails` answer: the primary verified address, else the first verified one
/// (verified), else the primary one (unverified).
fn chosen_email(emails: &Value) -> Option<(Option<String>, bool)> {
    let list = emails.as_array()?;
    let verified = |e: &&Value| e.get("verified") == Some(&Value::Bool(true));
    let primary = |e: &&Value| e.get("primary") == Some(&Value::Bool(true));
    let address = |e: &Value| e.get("email").and_then(Value::as_str).filter(|a| !a.is_empty()).map(str::to_owned);
    let vouched = list.iter().filter(verified).find(primary).and_then(address);
    if let Some(email) = vouched.or_else(|| list.iter().filter(verified).find_map(address)) {
        return Some((Some(email), true));
    }
    list.iter().find(primary).and_then(address).map(|email| (Some(email), false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_primary_verified_address_wins_and_unverified_ones_never_count() {
        let emails = json!([
            {"email": "old@example.com", "primary": false, "verified": true},
            {"email": "main@example.com", "primary": true, "verified": true},
        ]);
        let vouched = |email: &str| Some((Some(email.to_owned()), true));
        assert_eq!(chosen_email(&emails), vouched("main@example.com"));
        let emails = json!([
            {"email": "main@example.com", "primary": true, "verified": false},
            {"email": "other@example.com", "primary": false, "verified": true},
        ]);
        assert_eq!(chosen_email(&emails), vouched("other@example.com"));
        let emails = json!([
            {"email": "old@example.com", "primary": false, "verified": "true"},
            {"email": "main@example.com", "primary": true, "verified": 1},
        ]);
        assert_eq!(chosen_email(&emails), Some((Some("main@example.com".to_owned()), false)));
        assert_eq!(chosen_email(&json!([{"email": "x@example.com", "primary": false, "verified": false}])), None);
        assert_eq!(chosen_email(&json!({"message": "Not Found"})), None);
    }
}
