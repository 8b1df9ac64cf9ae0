//! `/api/storage` (spec §9): the secret key on the project routes, and, when the project lets its
//! users upload (`userFileUploads`, off by default), the publishable key with a valid user token
//! on upload, upload-request, upload-confirm and delete, confined to that user's folder (delete
//! all stays secret-key only); the signed PUT target of
//! `upload-request` (authorised by its token alone, as a provider's presigned URL is); and the
//! public file URLs, served with `nosniff`, a sandbox CSP and, for anything but passive types,
//! as an `application/octet-stream` attachment.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use platform::Project;
use rls_core::{Denial, KeyRole};
use serde_json::Value;
use storage::{Files, Scope};

use super::{requester, secret_requester};
use crate::access::Bearer;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;

fn files(state: &AppState) -> Result<&Files, ApiError> {
    state.files.as_deref().ok_or_else(|| ApiError::new(503, "File storage is not configured."))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Who acts on files: the project (secret key) or one of its users (publishable key and token,
/// when the project allows it).
struct FileCaller {
    project: Arc<Project>,
    user: Option<String>,
}

impl FileCaller {
    fn scope(&self) -> Scope<'_> {
        match &self.user {
            Some(user) => Scope::user(&self.project.id, user),
            None => Scope::project(&self.project.id),
        }
    }
}

/// The caller of upload, upload-request, upload-confirm and delete: the secret key; or, when the
/// project's `userFileUploads` is on, a publishable key with a valid user token (`401` without
/// one). Otherwise `403`, as the original.
async fn file_caller(state: &AppState, request: &HttpRequest) -> Result<FileCaller, ApiError> {
    let who = requester(state, request).await?;
    match (who.role, who.project.user_file_uploads, who.bearer) {
        (KeyRole::Secret, _, _) => Ok(FileCaller { project: who.project, user: None }),
        (KeyRole::Publishable, true, Bearer::User(user)) => Ok(FileCaller { project: who.project, user: Some(user) }),
        (KeyRole::Publishable, true, _) => Err(ApiError::new(401, Denial::write_auth_required().to_string())),
        (KeyRole::Publishable, false, _) => Err(ApiError::new(403, dataplane::SECRET_KEY_REQUIRED)),
    }
}

/// `POST /api/storage/upload`: the multipart field `file`, streamed.
pub(super) async fn upload(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let who = file_caller(&state, &request).await?;
    let mut parts = Multipart::new(request.headers(), payload);
    while let Some(part) = parts.next().await {
        let part = part.map_err(|_| ApiError::new(400, "No file uploaded."))?;
        if part.name() != Some("file") {
            continue;
        }
        let name = part.content_disposition().and_then(|d| d.get_filename()).unwrap_or("file").to_owned();
        let declared = part.content_type().map(ToString::to_string).unwrap_or_default();
        let body = files(&state)?.upload(&who.scope(), &name, &declared, part).await?;
        return Ok(HttpResponse::Created().json(body));
    }
    Err(ApiError::new(400, "No file uploaded."))
}

/// The caller of a file request and its JSON body.
async fn file_json(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<(FileCaller, Value), ApiError> {
    let who = file_caller(state, request).await?;
    Ok((who, read_json(payload, state.config.max_body_bytes).await?))
}

/// `POST /api/storage/upload-request`.
pub(super) async fn upload_request(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (who, body) = file_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.upload_request(&who.scope(), &body, now()).await?))
}

/// `PUT /api/storage/signed/{token}`: the bytes of a signed upload.
pub(super) async fn put_signed(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    Ok(HttpResponse::Ok().json(files(&state)?.put_signed(&token, content_type, payload, now()).await?))
}

/// `POST /api/storage/upload-confirm`.
pub(super) async fn upload_confirm(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (who, body) = file_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.confirm(&who.scope(), &body).await?))
}

/// `DELETE /api/storage/file`.
pub(super) async fn delete_file(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (who, body) = file_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.delete(&who.scope(), &body).await?))
}

/// `DELETE /api/storage/all`.
pub(super) async fn delete_all(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let who = secret_requester(&state, &request).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.delete_all(&who.project.id).await?))
}

/// `GET /api/storage/files/{path}`: a stored file at its public URL.
pub(super) async fn download(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = files(&state)?.download(&path).await?;
    let disposition = if file.inline { "inline" } else { "attachment" };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .insert_header((header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{}\"", file.name)))
        .body(file.bytes))
}
