//! The refresh-token cookie of spec §8.2: `refreshToken`, `HttpOnly`, path `/`, seven days;
//! `Secure; SameSite=None` when the server is configured for HTTPS, `SameSite=Lax` otherwise.
//! A refresh token is read from the cookie first, then from the `x-refresh-token` header; the
//! body is never consulted.
//!
//! Also the social login's state cookie (`ub_oauth_state`): the browser nonce that binds an OAuth
//! state to the browser that started the login, HttpOnly, sent only to the social routes, ten
//! minutes, `SameSite=Lax` so that the provider's top-level redirect back carries it.

use actix_web::HttpRequest;

/// The cookie's name.
pub(crate) const REFRESH_COOKIE: &str = "refreshToken";

/// `Set-Cookie` for a new refresh token.
pub(crate) fn refresh_cookie(raw: &str, max_age_seconds: i64, secure: bool) -> String {
    let flags = if secure { "Secure; SameSite=None" } else { "SameSite=Lax" };
    format!("{REFRESH_COOKIE}={raw}; Path=/; Max-Age={max_age_seconds}; HttpOnly; {flags}")
}

/// `Set-Cookie` that removes the refresh cookie.
pub(crate) fn cleared_refresh_cookie() -> String {
    format!("{REFRESH_COOKIE}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
}

/// `Set-Cookie` for the social login's state cookie.
pub(crate) fn state_cookie(nonce: &str, secure: bool) -> String {
    let max_age = auth::social::STATE_LIFETIME_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={nonce}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        auth::social::STATE_COOKIE,
        auth::social::STATE_COOKIE_PATH
    )
}

/// `Set-Cookie` that removes the state cookie.
pub(crate) fn cleared_state_cookie() -> String {
    format!(
        "{}=; Path={}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
        auth::social::STATE_COOKIE,
        auth::social::STATE_COOKIE_PATH
    )
}

/// The value of the request's cookie `name` (the first, non-empty).
pub(crate) fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// The refresh token of a request: the cookie, else the `x-refresh-token` header.
pub(crate) fn refresh_token(request: &HttpRequest) -> Option<String> {
    cookie(request, REFRESH_COOKIE).or_else(|| header(request, "x-refresh-token").filter(|v| !v.is_empty()))
}

/// A header's value as text.
pub(crate) fn header(request: &HttpRequest, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned())
}
