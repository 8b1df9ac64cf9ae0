//! `/api/data/:collection…`: thin handlers over `dataplane`, shaping its results into the
//! original's success bodies (spec §4.1).

use actix_web::{HttpRequest, HttpResponse, web};
use dataplane::ListOutcome;
use serde_json::{Value, json};

use super::requester;
use crate::access::without_key;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;

type Result = std::result::Result<HttpResponse, ApiError>;

pub(super) async fn list(state: web::Data<AppState>, request: HttpRequest, path: web::Path<String>) -> Result {
    let who = requester(&state, &request).await?;
    let outcome = state.data.list(&who.access(), &path, &without_key(request.query_string())).await?;
    let body = match outcome {
        ListOutcome::Count(count) => {
            json!({"success": true, "data": {"count": count}, "message": "Count fetched successfully."})
        }
        ListOutcome::Page { items, total, page, limit } => json!({
            "success": true,
            "data": {"items": items, "total": total, "page": page, "limit": limit},
            "message": "Data fetched successfully",
        }),
        ListOutcome::Cursor { items, total, cursor, next_cursor, limit } => json!({
            "success": true,
            "data": {"items": items, "total": total, "cursor": cursor, "nextCursor": next_cursor, "limit": limit},
            "message": "Data fetched successfully",
        }),
    };
    Ok(HttpResponse::Ok().json(body))
}

pub(super) async fn get(state: web::Data<AppState>, request: HttpRequest, path: web::Path<(String, String)>) -> Result {
    let who = requester(&state, &request).await?;
    let (collection, id) = path.into_inner();
    let doc = state.data.get(&who.access(), &collection, &id, &without_key(request.query_string())).await?;
    Ok(HttpResponse::Ok().json(doc))
}

pub(super) async fn insert(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result {
    let who = requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let doc = state.data.insert(&who.access(), &path, &body).await?;
    Ok(HttpResponse::Created().json(doc))
}

pub(super) async fn bulk_insert(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result {
    let who = requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let inserted = state.data.bulk_insert(&who.access(), &path, &body).await?;
    Ok(HttpResponse::Created().json(json!({
        "success": true,
        "data": {"insertedCount": inserted},
        "message": "Bulk insert successful",
    })))
}

pub(super) async fn update(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result {
    let who = requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let (collection, id) = path.into_inner();
    let doc = state.data.update(&who.access(), &collection, &id, &body).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Updated", "data": doc})))
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result {
    let who = requester(&state, &request).await?;
    let (collection, id) = path.into_inner();
    state.data.delete(&who.access(), &collection, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Document deleted", "id": id})))
}

pub(super) async fn aggregate(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result {
    let who = requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let results: Vec<Value> = state.data.aggregate(&who.access(), &path, &body).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": results,
        "message": "Aggregation executed successfully.",
    })))
}
