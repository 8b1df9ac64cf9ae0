//! What every request passes through before and after its route: CORS (spec §2.1: `*` by
//! default, preflights answered with 204), the per-IP rate limit, the request log entry (with
//! the route pattern) and the HTTP metrics (`analytics::telemetry`).
//! The client IP is the peer address: `X-Forwarded-For` is not trusted.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};

use crate::request_log::LogEntry;
use crate::state::AppState;

/// Set by project routes so that the log entry names the project and key role.
#[derive(Debug, Clone)]
pub(crate) struct LogTags {
    /// The project id.
    pub(crate) project_id: String,
    /// `publishable` or `secret`.
    pub(crate) key_role: &'static str,
}

/// The middleware function (`actix_web::middleware::from_fn(edge::handle)`).
pub(crate) async fn handle(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    if request.method() == Method::OPTIONS {
        let response = preflight(&request);
        return Ok(request.into_response(response));
    }
    let state = request.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = &state {
        let ip = request.peer_addr().map(|addr| addr.ip().to_string()).unwrap_or_default();
        if let Err(refused) = state.limiter.check_ip(&ip) {
            let response = with_cors(refused.error_response(), &request);
            return Ok(request.into_response(response));
        }
    }
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.call(request).await?.map_into_boxed_body();
    add_cors(response.headers_mut(), origin);
    let endpoint = response.request().match_pattern();
    let elapsed = started.elapsed();
    let route = endpoint.as_deref().unwrap_or("unmatched");
    analytics::telemetry::http_request(&method, route, response.status().as_u16(), elapsed);
    if let Some(state) = state {
        let tags = response.request().extensions().get::<LogTags>().cloned();
        state.log.record(LogEntry {
            method,
            path,
            endpoint,
            status: response.status().as_u16(),
            latency_ms: elapsed.as_secs_f64() * 1000.0,
            key_role: tags.as_ref().map(|t| t.key_role),
            project_id: tags.map(|t| t.project_id),
            timestamp: store::now_timestamp(),
        });
    }
    Ok(response)
}

fn preflight(request: &ServiceRequest) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::NO_CONTENT);
    response.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    response.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET,HEAD,PUT,PATCH,POST,DELETE"));
    if let Some(requested) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone()));
    }
    response.insert_header((header::VARY, "Access-Control-Request-Headers"));
    response.finish()
}

fn with_cors(mut response: HttpResponse, request: &ServiceRequest) -> HttpResponse {
    add_cors(response.headers_mut(), request.headers().get(header::ORIGIN).cloned());
    response
}

/// The original's project-route CORS headers: the request's origin (or `*`), the methods and the
/// headers the SDKs send. No `Access-Control-Allow-Credentials` is sent, as in the original.
fn add_cors(headers: &mut actix_web::http::header::HeaderMap, origin: Option<HeaderValue>) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.unwrap_or(HeaderValue::from_static("*")));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS, PATCH"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Authorization, x-api-key"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}
