//! `GET /`, health (liveness and readiness) and the JSON 404 for unmatched routes.

use actix_web::{HttpResponse, ResponseError, web};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn root() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "success", "message": "urBackend API is running 🚀"}))
}

/// Liveness: the process answers.
pub(super) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok", "timestamp": store::now_timestamp()}))
}

/// Readiness: the platform store answers (spec §4.6's shape; the store replaces MongoDB/Redis).
pub(super) async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ping = state.data.platform().store().ping().await;
    let database = if ping.is_ok() { "connected" } else { "disconnected" };
    let body = json!({
        "status": if ping.is_ok() { "ok" } else { "error" },
        "timestamp": store::now_timestamp(),
        "dependencies": {"database": database},
    });
    match ping {
        Ok(()) => Ok(HttpResponse::Ok().json(body)),
        Err(_) => Err(ApiError::new(503, body.to_string())),
    }
}

pub(super) async fn not_found() -> HttpResponse {
    ApiError::new(404, "Not Found").error_response()
}
