//! `/api/userAuth/social` (spec §8.12): thin handlers over [`auth::Social`]. `start` redirects
//! to the provider and sets the state cookie; `callback` (no API key: the state names the
//! project) redirects to the project's site, with the refresh cookie on success; `exchange`
//! trades a one-time code for the refresh token.
//!
//! Redirects carry `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, so that neither
//! the codes in their URLs nor the access token in the fragment end up in caches or in the
//! `Referer` of the next page.

use actix_web::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use auth::CallbackQuery;
use serde_json::json;

use super::requester;
use super::user_auth::{Client, now_ms};
use crate::body::read_json;
use crate::cookies;
use crate::error::ApiError;
use crate::state::AppState;

fn redirect(location: String) -> HttpResponseBuilder {
    let mut response = HttpResponse::Found();
    response
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"));
    response
}

pub(super) async fn start(
    state: web::Data<AppState>,
    request: HttpRequest,
    provider: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let started = state.auth.social.start(&who.project, &provider, now_ms()).await?;
    Ok(redirect(started.location)
        .append_header((SET_COOKIE, cookies::state_cookie(&started.browser_nonce, state.auth.secure_cookies)))
        .finish())
}

pub(super) async fn callback(
    state: web::Data<AppState>,
    request: HttpRequest,
    provider: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query = CallbackQuery::parse(request.query_string());
    let nonce = cookies::cookie(&request, auth::social::STATE_COOKIE);
    let client = Client::of(&request);
    let finished = state.auth.social.callback(&provider, &query, nonce.as_deref(), client.info(), now_ms()).await?;
    let mut response = redirect(finished.location);
    response.append_header((SET_COOKIE, cookies::cleared_state_cookie()));
    if let Some(raw) = &finished.refresh_token {
        let cookie = cookies::refresh_cookie(raw, state.auth.refresh_cookie_max_age, state.auth.secure_cookies);
        response.append_header((SET_COOKIE, cookie));
    }
    Ok(response.finish())
}

pub(super) async fn exchange(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let refresh_token = state.auth.social.exchange(&who.project, &body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": {"refreshToken": refresh_token},
        "message": "Refresh token exchanged successfully",
    })))
}
