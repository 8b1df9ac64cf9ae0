//! The refresh-token cookie of spec §8.2: `refreshToken`, `HttpOnly`, path `/`, seven days;
//! `Secure; SameSite=None` when the server is configured for HTTPS, `SameSite=Lax` otherwise.
//! A refresh token is read from the cookie first, then from the `x-refresh-token` header; the
//! body is never consulted.

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

/// The refresh token of a request: the cookie, else the `x-refresh-token` header.
pub(crate) fn refresh_token(request: &HttpRequest) -> Option<String> {
    let from_cookie = request
        .headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == REFRESH_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty());
    if from_cookie.is_some() {
        return from_cookie;
    }
    header(request, "x-refresh-token").filter(|v| !v.is_empty())
}

/// A header's value as text.
pub(crate) fn header(request: &HttpRequest, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned())
}
