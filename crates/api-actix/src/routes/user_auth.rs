//! `/api/userAuth` (spec §4.5, §8): thin handlers over [`auth::Accounts`]. They resolve the API
//! key, read the body, headers and refresh cookie, call one accounts method and shape its
//! result: the original's bodies, the refresh cookie on every token issuance, and the refresh
//! token in the body only in header mode.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use auth::{ClientInfo, Issued, SignupOutcome};
use platform::Project;
use serde_json::{Value, json};

use super::requester;
use crate::body::read_json;
use crate::cookies::{self, header};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The client's address and user agent, for sessions and throttling.
pub(super) struct Client {
    ip: String,
    user_agent: String,
}

impl Client {
    pub(super) fn of(request: &HttpRequest) -> Client {
        Client {
            ip: request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            user_agent: header(request, "user-agent").unwrap_or_default(),
        }
    }

    pub(super) fn info(&self) -> ClientInfo<'_> {
        ClientInfo { ip: &self.ip, user_agent: &self.user_agent }
    }
}

fn authorization(request: &HttpRequest) -> Option<String> {
    header(request, "authorization")
}

/// The token fields of signup, login and refresh, with the refresh token when `with_refresh`.
fn token_body(issued: &Issued, with_refresh: bool) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    body.insert("token".to_owned(), Value::String(issued.access_token.clone()));
    body.insert("accessToken".to_owned(), Value::String(issued.access_token.clone()));
    body.insert("expiresIn".to_owned(), Value::String(issued.expires_in.clone()));
    if with_refresh {
        body.insert("refreshToken".to_owned(), Value::String(issued.refresh_token.clone()));
    }
    body
}

fn header_mode(request: &HttpRequest) -> bool {
    header(request, "x-refresh-token-mode").is_some_and(|mode| mode.eq_ignore_ascii_case("header"))
}

fn with_refresh_cookie(
    state: &AppState,
    mut response: actix_web::HttpResponseBuilder,
    raw: &str,
) -> actix_web::HttpResponseBuilder {
    let cookie = cookies::refresh_cookie(raw, state.auth.refresh_cookie_max_age, state.auth.secure_cookies);
    response.insert_header((actix_web::http::header::SET_COOKIE, cookie));
    response
}

/// The project of the API key and the JSON body.
async fn project_and_body(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<(Arc<Project>, Value), ApiError> {
    let who = requester(state, request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    Ok((who.project, body))
}

fn message(text: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "message": text }))
}

pub(super) async fn signup(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    let client = Client::of(&request);
    match state.auth.accounts.signup(&project, &body, client.info(), now_ms()).await? {
        SignupOutcome::Created(issued) => {
            let mut out = serde_json::Map::new();
            out.insert("message".to_owned(), json!("User registered successfully. Please verify your email."));
            out.extend(token_body(&issued, header_mode(&request)));
            out.insert("userId".to_owned(), Value::String(issued.user_id.clone()));
            Ok(with_refresh_cookie(&state, HttpResponse::Created(), &issued.refresh_token).json(out))
        }
        SignupOutcome::CodeResent { user_id } => Ok(HttpResponse::Ok().json(json!({
            "success": true,
            "message": "User already exists but is unverified. A new verification code has been sent.",
            "userId": user_id,
        }))),
    }
}

pub(super) async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    let client = Client::of(&request);
    let issued = state.auth.accounts.login(&project, &body, client.info(), now_ms()).await?;
    Ok(with_refresh_cookie(&state, HttpResponse::Ok(), &issued.refresh_token)
        .json(token_body(&issued, header_mode(&request))))
}

pub(super) async fn me(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let user = state.auth.accounts.me(&who.project, authorization(&request).as_deref(), now_ms()).await?;
    Ok(HttpResponse::Ok().json(user))
}

pub(super) async fn public_profile(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let profile = state.auth.accounts.public_profile(&who.project, &path).await?;
    Ok(HttpResponse::Ok().json(profile))
}

pub(super) async fn verify_email(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    state.auth.accounts.verify_email(&project, &body, now_ms()).await?;
    Ok(message("Email verified successfully"))
}

pub(super) async fn resend_verification(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    state.auth.accounts.resend_verification(&project, &body, now_ms()).await?;
    Ok(message("Verification code sent successfully."))
}

pub(super) async fn request_password_reset(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    state.auth.accounts.request_password_reset(&project, &body, now_ms()).await?;
    Ok(message("If that email exists, a reset code has been sent."))
}

pub(super) async fn reset_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    state.auth.accounts.reset_password(&project, &body, now_ms()).await?;
    Ok(message("Password updated successfully"))
}

pub(super) async fn update_profile(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    state.auth.accounts.update_profile(&project, authorization(&request).as_deref(), &body, now_ms()).await?;
    Ok(message("Profile updated successfully"))
}

pub(super) async fn change_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = project_and_body(&state, &request, payload).await?;
    let refresh = cookies::refresh_token(&request);
    let auth_header = authorization(&request);
    state.auth.accounts.change_password(&project, auth_header.as_deref(), &body, refresh.as_deref(), now_ms()).await?;
    Ok(message("Password changed successfully"))
}

pub(super) async fn refresh(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let raw = cookies::refresh_token(&request);
    let client = Client::of(&request);
    let issued = state.auth.accounts.refresh(&who.project, raw.as_deref(), client.info(), now_ms()).await?;
    let echo = header(&request, "x-refresh-token").is_some_and(|v| !v.is_empty());
    Ok(with_refresh_cookie(&state, HttpResponse::Ok(), &issued.refresh_token).json(token_body(&issued, echo)))
}

pub(super) async fn logout(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let raw = cookies::refresh_token(&request);
    state.auth.accounts.logout(&who.project, raw.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::SET_COOKIE, cookies::cleared_refresh_cookie()))
        .json(json!({"success": true, "message": "Logged out successfully"})))
}
