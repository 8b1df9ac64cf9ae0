//! The route table: every path of the public API in one place.

mod admin;
mod data;
mod mail;
mod schemas;
mod social;
mod storage;
mod system;
mod user_auth;

use actix_web::{HttpMessage, HttpRequest, web};

use crate::access::{self, Requester};
use crate::edge::LogTags;
use crate::error::ApiError;
use crate::state::AppState;

/// Registers every route; unmatched paths answer `404` in the error shape.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/data")
            .route("/{collection}/bulk", web::post().to(data::bulk_insert))
            .route("/{collection}/aggregate", web::post().to(data::aggregate))
            .route("/{collection}", web::get().to(data::list))
            .route("/{collection}", web::post().to(data::insert))
            .route("/{collection}/{id}", web::get().to(data::get))
            .route("/{collection}/{id}", web::put().to(data::update))
            .route("/{collection}/{id}", web::patch().to(data::update))
            .route("/{collection}/{id}", web::delete().to(data::delete)),
    )
    .service(
        web::scope("/api/userAuth")
            .route("/signup", web::post().to(user_auth::signup))
            .route("/login", web::post().to(user_auth::login))
            .route("/me", web::get().to(user_auth::me))
            .route("/public/{username}", web::get().to(user_auth::public_profile))
            .route("/verify-email", web::post().to(user_auth::verify_email))
            .route("/resend-verification-otp", web::post().to(user_auth::resend_verification))
            .route("/request-password-reset", web::post().to(user_auth::request_password_reset))
            .route("/reset-password", web::post().to(user_auth::reset_password))
            .route("/update-profile", web::put().to(user_auth::update_profile))
            .route("/change-password", web::put().to(user_auth::change_password))
            .route("/refresh-token", web::post().to(user_auth::refresh))
            .route("/logout", web::post().to(user_auth::logout))
            .route("/social/exchange", web::post().to(social::exchange))
            .route("/social/{provider}/start", web::get().to(social::start))
            .route("/social/{provider}/callback", web::get().to(social::callback)),
    )
    .route("/api/schemas/{collection}", web::get().to(schemas::get))
    .route("/api/schemas", web::post().to(schemas::create))
    .route("/api/mail/send", web::post().to(mail::send))
    .route("/api/admin/projects/{id}/analytics", web::get().to(admin::analytics))
    .route("/metrics", web::get().to(admin::metrics))
    .service(
        web::scope("/api/storage")
            .route("/upload", web::post().to(storage::upload))
            .route("/upload-request", web::post().to(storage::upload_request))
            .route("/upload-confirm", web::post().to(storage::upload_confirm))
            .route("/file", web::delete().to(storage::delete_file))
            .route("/all", web::delete().to(storage::delete_all))
            .route("/signed/{token}", web::put().to(storage::put_signed))
            .route("/files/{path:.*}", web::get().to(storage::download)),
    )
    .route("/api/health", web::get().to(system::health))
    .route("/api/health/live", web::get().to(system::live))
    .route("/", web::get().to(system::root))
    .default_service(web::to(system::not_found));
}

/// Resolves the caller of a project route, counts it against the project's rate limit and tags
/// the request log entry.
async fn requester(state: &AppState, request: &HttpRequest) -> Result<Requester, ApiError> {
    let requester = access::resolve(state, request).await?;
    request.extensions_mut().insert(LogTags {
        project_id: requester.project.id.clone(),
        key_role: match requester.role {
            rls_core::KeyRole::Publishable => "publishable",
            rls_core::KeyRole::Secret => "secret",
        },
    });
    state.limiter.check_project(&requester.project.id)?;
    Ok(requester)
}

/// [`requester`], refusing every key but the secret key (`403`, spec §3.3).
async fn secret_requester(state: &AppState, request: &HttpRequest) -> Result<Requester, ApiError> {
    let requester = requester(state, request).await?;
    if requester.role != rls_core::KeyRole::Secret {
        return Err(ApiError::new(403, dataplane::SECRET_KEY_REQUIRED));
    }
    Ok(requester)
}
