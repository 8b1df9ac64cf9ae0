//! `/api/schemas` (spec §6.6): read a collection definition with either key; create one with the
//! secret key.

use actix_web::{HttpRequest, HttpResponse, web};
use platform::Project;
use serde_json::{Value, json};

use super::{requester, secret_requester};
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn get(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = requester(&state, &request).await?;
    let def = state.data.schema(&who.project, &path)?;
    Ok(HttpResponse::Ok().json(json!({"message": "Schema exists", "collection": def})))
}

pub(super) async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let who = secret_requester(&state, &request).await?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let project = state.data.create_schema(&who.access(), &body).await?;
    Ok(HttpResponse::Created()
        .json(json!({"message": "Schema created successfully", "project": public_project(&project)})))
}

/// A project as the schema endpoint shows it: never its key hashes, JWT secret or database URI.
fn public_project(project: &Project) -> Value {
    json!({
        "_id": project.id,
        "name": project.name,
        "isAuthEnabled": project.auth_enabled,
        "allowedDomains": project.allowed_domains,
        "collections": project.collections,
        "createdAt": project.created_at,
        "updatedAt": project.updated_at,
    })
}
