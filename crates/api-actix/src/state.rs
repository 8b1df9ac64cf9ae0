//! The shared state of every worker: the data plane, the accounts, the mail service, the HTTP
//! settings, the rate limiter and the request log. Cheap to clone (all `Arc`s).

use std::sync::Arc;

use dataplane::DataPlane;
use mail::MailService;

use crate::admin::AdminSettings;
use crate::limits::RateLimiter;
use crate::request_log::RequestLog;

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The largest JSON body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Requests per minute allowed from one client IP (0: unlimited).
    pub rate_limit_per_ip: u32,
    /// Requests per minute allowed for one project (0: unlimited).
    pub rate_limit_per_project: u32,
}

impl HttpConfig {
    /// Generous defaults for a self-hosted server: 1 MiB bodies, 6,000 requests per minute per
    /// IP and 60,000 per project.
    pub fn self_hosted() -> HttpConfig {
        HttpConfig { max_body_bytes: 1024 * 1024, rate_limit_per_ip: 6_000, rate_limit_per_project: 60_000 }
    }
}

/// The accounts, social login and the settings of the refresh cookie.
#[derive(Clone)]
pub struct AuthSettings {
    /// The accounts service.
    pub accounts: Arc<auth::Accounts>,
    /// Social login (GitHub, Google).
    pub social: Arc<auth::Social>,
    /// Whether the refresh cookie is `Secure; SameSite=None` (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// The refresh cookie's `Max-Age`, in seconds (the refresh token's lifetime).
    pub refresh_cookie_max_age: i64,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The data API.
    pub data: Arc<DataPlane>,
    /// Mail.
    pub mail: Arc<MailService>,
    /// HTTP settings.
    pub config: Arc<HttpConfig>,
    /// Rate limits.
    pub limiter: Arc<RateLimiter>,
    /// The request log (batched, off the request path).
    pub log: RequestLog,
    /// End-user accounts.
    pub auth: AuthSettings,
    /// Admin tokens, analytics and metrics (`None`: the admin endpoints answer 404).
    pub admin: Option<Arc<AdminSettings>>,
    /// File storage (`None`: the storage routes answer 503).
    pub files: Option<Arc<storage::Files>>,
}

impl AppState {
    /// The state for a server.
    pub fn new(
        data: Arc<DataPlane>,
        auth: AuthSettings,
        mail: Arc<MailService>,
        config: HttpConfig,
        log: RequestLog,
    ) -> AppState {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit_per_ip, config.rate_limit_per_project));
        AppState { data, mail, config: Arc::new(config), limiter, log, auth, admin: None, files: None }
    }

    /// The same state with the admin endpoints enabled.
    pub fn with_admin(mut self, admin: AdminSettings) -> AppState {
        self.admin = Some(Arc::new(admin));
        self
    }

    /// The same state with file storage.
    pub fn with_files(mut self, files: Arc<storage::Files>) -> AppState {
        self.files = Some(files);
        self
    }
}
