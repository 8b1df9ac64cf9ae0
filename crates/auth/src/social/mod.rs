//! Social login with GitHub and Google (spec §8.12): `start` sends the browser to the provider,
//! `callback` turns the provider's answer into a session and sends the browser to the project's
//! site, and `exchange` hands the site the refresh token for a one-time code.
//!
//! What this adds to the original (docs/COMPATIBILITY.md lists it):
//!
//! * the OAuth state is bound to the browser that started the login (a cookie carrying a nonce
//!   whose hash the state records, see `state`), and is spent once through a latch;
//! * the browser is only ever sent to the project's configured site URL, never to a URL taken
//!   from the request;
//! * the exchange code is bound to the project that issued it and spent once;
//! * Google id_tokens are verified locally and completely (see [`google`]), including an OIDC
//!   nonce;
//! * an address is linked to an existing account only when the provider vouches for it *and* the
//!   account proved it (see `link`).
//!
//! Provider calls go through blocking `ureq` on the blocking pool (`http`), with timeouts and no
//! redirects; the endpoints are configurable ([`SocialConfig`]) so that tests run a provider on
//! loopback.

mod github;
pub mod google;
mod http;
pub mod jwks;
mod link;
mod state;

use std::sync::Arc;
use std::time::Duration;

use platform::{MasterKey, Platform, Project, SecretString, oauth_provider};
use serde_json::Value;
use store::DocumentStore;

pub use github::GithubEndpoints;
pub use google::GoogleEndpoints;
pub use link::texts as link_texts;
pub use state::{EXCHANGE_LIFETIME_MS, EXCHANGES_COLLECTION, STATE_LIFETIME_MS, STATES_COLLECTION, texts};

use crate::accounts::Accounts;
use crate::error::{AuthError, INTERNAL_ERROR};
use crate::sessions::ClientInfo;
use crate::system::SystemStore;
use http::HttpClient;
use jwks::JwksCache;
use link::LinkError;
use state::{SocialSecrets, StateRecord, oidc_nonce};

/// `404` for a provider other than GitHub and Google.
pub const UNSUPPORTED_PROVIDER: &str = "Unsupported social auth provider";
/// `400` for a callback without code or state.
pub const MISSING_CODE_OR_STATE: &str = "Missing code or state";
/// `400` for an unknown, expired, spent state, or one of another browser.
pub const INVALID_STATE: &str = "Invalid or expired OAuth state";
/// The error redirect when the state was issued for the other provider.
pub const STATE_MISMATCH: &str = "OAuth state mismatch";
/// The cookie that binds a login to its browser.
pub const STATE_COOKIE: &str = "ub_oauth_state";
/// The path the state cookie is sent to.
pub const STATE_COOKIE_PATH: &str = "/api/userAuth/social";

/// `422` (start) or the error redirect (callback) for a provider the project cannot use.
pub fn provider_unavailable(provider: &str) -> String {
    format!("{provider} social auth is disabled or incomplete for this project.")
}

fn provider_failed(provider: &str) -> String {
    format!("Could not complete {provider} sign-in. Please try again.")
}

/// What a provider says about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    /// The provider's stable user id (GitHub's numeric id as text, Google's `sub`).
    pub id: String,
    /// The address, if any.
    pub email: Option<String>,
    /// Whether the provider vouches for the address.
    pub email_verified: bool,
    /// The picture.
    pub avatar_url: Option<String>,
}

/// Where the providers and this server are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialConfig {
    /// The server's public base URL (callbacks are `<public_url>/api/userAuth/social/<provider>/callback`).
    pub public_url: String,
    /// GitHub's endpoints.
    pub github: GithubEndpoints,
    /// Google's endpoints.
    pub google: GoogleEndpoints,
    /// The timeout of each provider call.
    pub http_timeout: Duration,
}

impl Default for SocialConfig {
    fn default() -> Self {
        SocialConfig {
            public_url: "http://127.0.0.1:1235".to_owned(),
            github: GithubEndpoints::default(),
            google: GoogleEndpoints::default(),
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// A started login: where to send the browser, and the nonce for its state cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The provider's authorization URL.
    pub location: String,
    /// The value of the [`STATE_COOKIE`].
    pub browser_nonce: String,
}

/// Where a callback sends the browser: the site, with the login's result or an `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `<site>/auth/callback?…`.
    pub location: String,
    /// The new refresh token (for the cookie) when the login succeeded.
    pub refresh_token: Option<String>,
}

/// The query of a callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackQuery {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

impl CallbackQuery {
    /// Reads a raw query string (the first value of each parameter; empty ones are absent).
    pub fn parse(raw: &str) -> CallbackQuery {
        let mut query = CallbackQuery::default();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut query.code,
                "state" => &mut query.state,
                "error" => &mut query.error,
                "error_description" => &mut query.error_description,
                _ => continue,
            };
            if slot.is_none() && !value.trim().is_empty() {
                *slot = Some(value.trim().to_owned());
            }
        }
        query
    }

    /// The provider's refusal, if it sent one: the description, else the code (capped).
    fn provider_error(&self) -> Option<String> {
        let text = self.error_description.as_ref().or(self.error.as_ref())?;
        Some(text.chars().take(300).collect())
    }
}

/// A provider's credentials for one project.
struct Client {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
}

/// `url` with the query `pairs` appended.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

fn error_location(callback_url: &str, message: &str) -> Finished {
    Finished { location: with_query(callback_url, &[("error", message)]), refresh_token: None }
}

/// The social login service, shared by every request.
pub struct Social {
    accounts: Arc<Accounts>,
    platform: Arc<Platform>,
    secrets: SocialSecrets,
    master_key: Option<MasterKey>,
    config: SocialConfig,
    http: HttpClient,
    jwks: JwksCache,
}

impl Social {
    /// The service over the accounts, the platform (the callback finds its project through the
    /// state) and the platform store (states and exchange codes). Without a master key no client
    /// secret can be read, so no provider is usable.
    pub fn new(
        accounts: Arc<Accounts>,
        platform: Arc<Platform>,
        platform_store: Arc<dyn DocumentStore>,
        master_key: Option<MasterKey>,
        mut config: SocialConfig,
    ) -> Social {
        config.public_url = config.public_url.trim_end_matches('/').to_owned();
        let http = HttpClient::new(config.http_timeout);
        let jwks = JwksCache::new(config.google.jwks_url.clone(), http.clone());
        let secrets = SocialSecrets::new(SystemStore::new(platform_store));
        Social { accounts, platform, secrets, master_key, config, http, jwks }
    }

    /// The project's credentials for `provider`, if it can be used: enabled and complete, a
    /// site URL to come back to, and a secret the master key decrypts.
    fn client(&self, project: &Project, provider: &str) -> Option<Client> {
        let config = project.auth_providers.get(provider).filter(|c| c.is_complete())?;
        if project.site_url.is_empty() {
            return None;
        }
        let client_secret = self.master_key.as_ref()?.decrypt_str(config.client_secret.as_ref()?).ok()?;
        let redirect_uri = if config.redirect_uri.is_empty() {
            format!("{}/api/userAuth/social/{provider}/callback", self.config.public_url)
        } else {
            config.redirect_uri.clone()
        };
        Some(Client { client_id: config.client_id.clone(), client_secret, redirect_uri })
    }

    /// `GET /social/:provider/start`: records a state and returns the provider's authorization
    /// URL and the browser nonce.
    pub async fn start(&self, project: &Project, provider: &str, now_ms: i64) -> Result<Started, AuthError> {
        self.accounts.users(project).await?;
        let provider = oauth_provider(provider).ok_or_else(|| AuthError::refused(404, UNSUPPORTED_PROVIDER))?;
        let client =
            self.client(project, provider).ok_or_else(|| AuthError::refused(422, provider_unavailable(provider)))?;
        let record = StateRecord {
            project_id: project.id.clone(),
            provider: provider.to_owned(),
            callback_url: format!("{}/auth/callback", project.site_url),
        };
        let (state, browser_nonce) = self.secrets.create_state(&record, now_ms).await?;
        let location = match provider {
            "github" => with_query(
                &self.config.github.authorize_url,
                &[
                    ("client_id", &client.client_id),
                    ("redirect_uri", &client.redirect_uri),
                    ("scope", "read:user user:email"),
                    ("state", &state),
                ],
            ),
            _ => with_query(
                &self.config.google.authorize_url,
                &[
                    ("client_id", &client.client_id),
                    ("redirect_uri", &client.redirect_uri),
                    ("response_type", "code"),
                    ("scope", "openid email profile"),
                    ("state", &state),
                    ("nonce", &oidc_nonce(&state)),
                    ("access_type", "offline"),
                    ("prompt", "consent"),
                ],
            ),
        };
        Ok(Started { location, browser_nonce })
    }

    /// `GET /social/:provider/callback`: `browser_nonce` is the [`STATE_COOKIE`]. Refusals before
    /// the state is known are errors (400/404); everything after is a redirect to the site.
    pub async fn callback(
        &self,
        provider: &str,
        query: &CallbackQuery,
        browser_nonce: Option<&str>,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Finished, AuthError> {
        let provider = oauth_provider(provider).ok_or_else(|| AuthError::refused(404, UNSUPPORTED_PROVIDER))?;
        let Some(state) = query.state.as_deref() else {
            let message = query.provider_error().unwrap_or_else(|| MISSING_CODE_OR_STATE.to_owned());
            return Err(AuthError::bad_request(message));
        };
        let record = self
            .secrets
            .take_state(state, browser_nonce, now_ms)
            .await?
            .ok_or_else(|| AuthError::bad_request(INVALID_STATE))?;
        if let Some(message) = query.provider_error() {
            return Ok(error_location(&record.callback_url, &message));
        }
        let Some(code) = query.code.as_deref() else {
            return Ok(error_location(&record.callback_url, MISSING_CODE_OR_STATE));
        };
        if record.provider != provider {
            return Ok(error_location(&record.callback_url, STATE_MISMATCH));
        }
        match self.complete(&record, provider, code, state, client, now_ms).await {
            Ok(finished) => Ok(finished),
            Err(message) => Ok(error_location(&record.callback_url, &message)),
        }
    }

    /// The login after the state checks: the provider's profile, the account, the tokens and
    /// the exchange code. `Err` is the text of the error redirect.
    async fn complete(
        &self,
        record: &StateRecord,
        provider: &str,
        code: &str,
        state: &str,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Finished, String> {
        let internal = |e: AuthError| {
            tracing::error!(project = %record.project_id, provider, error = %e, "social login failed");
            INTERNAL_ERROR.to_owned()
        };
        let refusal = |e: AuthError| match e {
            AuthError::Refused { message, .. } => message,
            other => internal(other),
        };
        let project = self.platform.project(&record.project_id).ok_or_else(|| provider_unavailable(provider))?;
        let users = self.accounts.users(&project).await.map_err(refusal)?;
        let credentials = self.client(&project, provider).ok_or_else(|| provider_unavailable(provider))?;
        let profile = self.profile(provider, &credentials, code, state, now_ms).await?;
        let resolved = link::resolve(&self.accounts, &users, provider, &profile).await.map_err(|e| match e {
            LinkError::Refused(message) => message,
            LinkError::Failed(e) => internal(e),
        })?;
        let issued = self.accounts.issue(&project, &resolved.user_id, client, now_ms).await.map_err(internal)?;
        let rt_code = self
            .secrets
            .create_exchange(&project.id, &issued.access_token, &issued.refresh_token, now_ms)
            .await
            .map_err(internal)?;
        let flag = |b: bool| if b { "true" } else { "false" };
        let location = with_query(
            &record.callback_url,
            &[
                ("rtCode", &rt_code),
                ("provider", provider),
                ("userId", &resolved.user_id),
                ("projectId", &project.id),
                ("isNewUser", flag(resolved.is_new_user)),
                ("linkedByEmail", flag(resolved.linked_by_email)),
            ],
        );
        let fragment =
            form_urlencoded::Serializer::new(String::new()).append_pair("token", &issued.access_token).finish();
        Ok(Finished { location: format!("{location}#{fragment}"), refresh_token: Some(issued.refresh_token) })
    }

    /// The provider's view of the user behind `code`; `Err` is the text of the error redirect.
    async fn profile(
        &self,
        provider: &str,
        client: &Client,
        code: &str,
        state: &str,
        now_ms: i64,
    ) -> Result<ProviderProfile, String> {
        let failed = |e: http::ProviderError| {
            tracing::warn!(provider, error = %e, "social login: provider call failed");
            provider_failed(provider)
        };
        let secret = client.client_secret.expose();
        if provider == "github" {
            let endpoints = &self.config.github;
            return github::profile(&self.http, endpoints, &client.client_id, secret, code, &client.redirect_uri)
                .await
                .map_err(failed);
        }
        let endpoints = &self.config.google;
        let id_token = google::exchange_code(
            &self.http,
            &endpoints.token_url,
            &client.client_id,
            secret,
            code,
            &client.redirect_uri,
        )
        .await
        .map_err(failed)?;
        let kid = google::key_id(&id_token).map_err(|e| e.to_string())?;
        let keys = self.jwks.keys_for(&kid, now_ms).await.map_err(failed)?;
        google::verify_id_token(&id_token, &keys, &client.client_id, &oidc_nonce(state), now_ms.div_euclid(1000))
            .map_err(|e| e.to_string())
    }

    /// `POST /social/exchange` (spec §8.12): the refresh token of a finished login, for its
    /// one-time code and access token, to an API key of the same project.
    pub async fn exchange(&self, project: &Project, body: &Value, now_ms: i64) -> Result<String, AuthError> {
        self.accounts.users(project).await?;
        let field = |key: &str| body.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
        let (Some(code), Some(token)) = (field("rtCode"), field("token")) else {
            return Err(AuthError::bad_request(texts::EXCHANGE_REQUIRED));
        };
        self.secrets.redeem(&project.id, code, token, now_ms).await
    }
}
