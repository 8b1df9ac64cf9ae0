//! `POST /api/mail/send` (spec §10): the secret key only; the mail service validates, renders,
//! counts and delivers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::secret_requester;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn send(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let who = secret_requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let sent = state.mail.send(&who.project, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": sent, "message": "Mail sent successfully."})))
}
