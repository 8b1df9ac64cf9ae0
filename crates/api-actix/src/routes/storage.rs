//! `/api/storage` (spec §9): the secret key only on the project routes; the signed PUT target of
//! `upload-request` (authorised by its token alone, as a provider's presigned URL is); and the
//! public file URLs, served with `nosniff`, a sandbox CSP and, for anything but passive types,
//! as an `application/octet-stream` attachment.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::Value;
use storage::Files;

use super::secret_requester;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;

fn files(state: &AppState) -> Result<&Files, ApiError> {
    state.files.as_deref().ok_or_else(|| ApiError::new(503, "File storage is not configured."))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `POST /api/storage/upload`: the multipart field `file`, streamed.
pub(super) async fn upload(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let who = secret_requester(&state, &request).await?;
    let mut parts = Multipart::new(request.headers(), payload);
    while let Some(part) = parts.next().await {
        let part = part.map_err(|_| ApiError::new(400, "No file uploaded."))?;
        if part.name() != Some("file") {
            continue;
        }
        let name = part.content_disposition().and_then(|d| d.get_filename()).unwrap_or("file").to_owned();
        let declared = part.content_type().map(ToString::to_string).unwrap_or_default();
        let body = files(&state)?.upload(&who.project.id, &name, &declared, part).await?;
        return Ok(HttpResponse::Created().json(body));
    }
    Err(ApiError::new(400, "No file uploaded."))
}

/// The project of a secret-key request and its JSON body.
async fn secret_json(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<(String, Value), ApiError> {
    let who = secret_requester(state, request).await?;
    Ok((who.project.id.clone(), read_json(payload, state.config.max_body_bytes).await?))
}

/// `POST /api/storage/upload-request`.
pub(super) async fn upload_request(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = secret_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.upload_request(&project, &body, now()).await?))
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
    let (project, body) = secret_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.confirm(&project, &body).await?))
}

/// `DELETE /api/storage/file`.
pub(super) async fn delete_file(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (project, body) = secret_json(&state, &request, payload).await?;
    Ok(HttpResponse::Ok().json(files(&state)?.delete(&project, &body).await?))
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
