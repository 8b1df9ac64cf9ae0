//! Who is asking: the project behind the API key (spec §3.2), the key's role, the origin check
//! for publishable keys, and the end user behind a Bearer token (verified, and still a user of
//! the project: `auth::Accounts::token_user`).

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use platform::Project;
use rls_core::KeyRole;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller of a project route.
pub(crate) struct Requester {
    /// The project resolved from the key.
    pub(crate) project: Arc<Project>,
    /// The key's role.
    pub(crate) role: KeyRole,
    /// The Bearer token's state.
    pub(crate) bearer: Bearer,
}

/// The state of the `Authorization: Bearer` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bearer {
    /// No token (or a secret-key request, where tokens are not consulted).
    Absent,
    /// A token that verified: the end user's id.
    User(String),
    /// A token that did not verify (bad signature, expired, another project…).
    Invalid,
}

impl Requester {
    /// The verified user, if any.
    pub(crate) fn user(&self) -> Option<&str> {
        match &self.bearer {
            Bearer::User(user) => Some(user),
            _ => None,
        }
    }

    /// The data plane's view of this caller.
    pub(crate) fn access(&self) -> dataplane::Access<'_> {
        dataplane::Access {
            project: &self.project,
            role: self.role,
            user: self.user(),
            token_rejected: self.bearer == Bearer::Invalid,
        }
    }
}

/// Resolves the API key (header `x-api-key`, or the `key` query parameter for publishable keys
/// only), the origin allow-list, and the Bearer token.
pub(crate) async fn resolve(state: &AppState, request: &HttpRequest) -> Result<Requester, ApiError> {
    let key = api_key(request).ok_or_else(|| ApiError::new(401, "API key not found"))?;
    let (project, role) = state
        .data
        .platform()
        .project_by_api_key(&key)
        .await?
        .ok_or_else(|| ApiError::new(401, "API key is expired or invalid."))?;
    if role == KeyRole::Publishable {
        check_origin(&project, request)?;
    }
    let bearer = match role {
        KeyRole::Secret => Bearer::Absent,
        KeyRole::Publishable => bearer(state, request, &project).await?,
    };
    Ok(Requester { project, role, bearer })
}

fn api_key(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        if !value.is_empty() {
            return Some(value.to_owned());
        }
    }
    query_key(request.query_string()).filter(|key| key.starts_with("pk_live_"))
}

/// The `key` query parameter.
pub(crate) fn query_key(raw_query: &str) -> Option<String> {
    raw_query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "key")
        .map(|(_, value)| value.to_owned())
}

/// The query string without the `key` parameter (which authenticates, and must not filter).
pub(crate) fn without_key(raw_query: &str) -> String {
    raw_query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("key"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Authorization: Bearer` token: its user when it verifies and the user still exists.
async fn bearer(state: &AppState, request: &HttpRequest, project: &Project) -> Result<Bearer, ApiError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(Bearer::Absent);
    };
    let value = value.trim();
    let Some((scheme, token)) = value.split_once(char::is_whitespace) else {
        return Ok(Bearer::Absent);
    };
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Ok(Bearer::Absent);
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    Ok(match state.auth.accounts.token_user(project, token, now_ms).await? {
        Some(user) => Bearer::User(user),
        None => Bearer::Invalid,
    })
}

/// The allow-list of origins for publishable keys (spec §3.2 step 8).
fn check_origin(project: &Project, request: &HttpRequest) -> Result<(), ApiError> {
    let allowed = &project.allowed_domains;
    if allowed.iter().any(|entry| entry.trim() == "*") {
        return Ok(());
    }
    let headers = request.headers();
    let origin =
        headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok()).ok_or_else(
            || ApiError::new(403, "Forbidden: Origin header missing and this key is restricted to specific domains."),
        )?;
    let (scheme, rest) = origin.split_once("://").ok_or_else(|| ApiError::new(400, "Invalid Origin header format."))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if scheme.is_empty() || authority.is_empty() || authority.contains('@') {
        return Err(ApiError::new(400, "Invalid Origin header format."));
    }
    let normalized_origin = format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase());
    let hostname = host_of(authority);
    let matches = allowed.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        if let Some(base) = entry.strip_prefix("*.") {
            return hostname == base || hostname.ends_with(&format!(".{base}"));
        }
        entry == normalized_origin || entry == hostname
    });
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            format!("Forbidden: Origin {normalized_origin} is not allowed by this project's CORS policy."),
        ))
    }
}

/// The host name of an authority (`host:port`, `[v6]:port`), lower-cased.
fn host_of(authority: &str) -> String {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_parameter_is_removed_from_the_data_query() {
        assert_eq!(without_key("key=pk_live_x&title=a&keys=b"), "title=a&keys=b");
        assert_eq!(query_key("a=1&key=pk_live_abc"), Some("pk_live_abc".to_owned()));
    }

    #[test]
    fn host_names_of_authorities() {
        assert_eq!(host_of("Example.com:8080"), "example.com");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("app.example.com"), "app.example.com");
    }
}
