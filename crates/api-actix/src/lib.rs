//! The HTTP layer of urbackend-rs (actix-web): the route table, the edge middleware (CORS, rate
//! limits, request log), API-key and Bearer resolution, JSON bodies, and the one mapping of every
//! failure to the wire shape `{"success":false,"error":…,"code":…,"message":…}`.
//!
//! Handlers are thin: HTTP in, a call into `dataplane`, HTTP out. This crate makes no
//! authorization decision of its own (rls-core does, inside dataplane). [`app`] builds the
//! application for the binary and for tests alike.

mod access;
mod admin;
mod body;
mod cookies;
mod edge;
mod error;
mod limits;
mod request_log;
mod routes;
mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, middleware, web};

pub use admin::{ADMIN_TOKEN_REQUIRED, AdminSettings, MetricsRenderer};
pub use error::ApiError;
pub use limits::{PROJECT_RATE_LIMITED, RateLimiter, TOO_MANY_REQUESTS};
pub use request_log::{LogEntry, REQUEST_LOG_COLLECTION, RequestLog};
pub use state::{AppState, AuthSettings, HttpConfig};

/// The application: state, edge middleware and routes.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new().app_data(web::Data::new(state)).wrap(middleware::from_fn(edge::handle)).configure(routes::configure)
}
