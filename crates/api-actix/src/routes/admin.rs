//! `GET /api/admin/projects/{id}/analytics` and `GET /metrics`: admin token first, then one call
//! into `analytics` (or the metrics renderer).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

fn settings(state: &AppState) -> Result<&crate::admin::AdminSettings, ApiError> {
    state.admin.as_deref().ok_or_else(|| ApiError::new(404, "Not Found"))
}

pub(super) async fn analytics(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = settings(&state)?;
    admin.require_admin(&request).await?;
    let days = web::Query::<std::collections::HashMap<String, String>>::from_query(request.query_string())
        .ok()
        .and_then(|query| query.get("days").cloned());
    let days = analytics::parse_days(days.as_deref()).map_err(analytics_error)?;
    let project = state.data.platform().project(&path).ok_or_else(|| ApiError::new(404, "Project not found"))?;
    let report = admin.analytics.report(&project, days, chrono::Utc::now()).await.map_err(analytics_error)?;
    Ok(HttpResponse::Ok().json(report.to_json()))
}

pub(super) async fn metrics(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = settings(&state)?;
    let render = admin.metrics.as_ref().ok_or_else(|| ApiError::new(404, "Not Found"))?;
    if !admin.metrics_public {
        admin.require_admin(&request).await?;
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(render()))
}

fn analytics_error(error: analytics::AnalyticsError) -> ApiError {
    if error.status() >= 500 {
        tracing::error!(%error, "analytics failed");
        return ApiError::new(error.status(), "Internal Server Error");
    }
    ApiError::new(error.status(), error.to_string())
}
