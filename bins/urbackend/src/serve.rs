//! `urbackend serve`: wires the stores, the platform, the data plane, the mail service and the
//! HTTP API, and prints where it listens.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::HttpServer;
use anyhow::Context;
use api_actix::{AppState, AuthSettings, HttpConfig, RequestLog};
use auth::password::{HashCost, PasswordHasher};
use auth::social::{GithubEndpoints, GoogleEndpoints};
use auth::{Accounts, AccountsConfig, Limit, Social, SocialConfig};
use dataplane::DataPlane;
use platform::{MasterKey, Platform};

use crate::cli::{ServeArgs, SocialArgs};
use crate::{admin_commands, mail_commands, mailer, stores, webhook_commands};

/// Blocking threads per HTTP worker.
const BLOCKING_THREADS: usize = 8;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Bound first: the public URL defaults to the address actually bound (port 0 picks one).
    let listener = std::net::TcpListener::bind(args.bind).with_context(|| format!("binding {}", args.bind))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let metrics = admin_commands::install_metrics()?;
    let (store, description) = stores::open(&args.store).await?;
    let store = analytics::TimedStore::wrap(store);
    let master_key = stores::master_key(&args.store)?;
    let platform = Arc::new(Platform::open(store.clone()).await.context("opening the platform")?);
    let _refresh = platform.spawn_refresh();
    let resolver = Arc::new(stores::Resolver::new(store.clone(), master_key.clone()));
    let changes = webhook_commands::start(&args.webhooks, store.clone(), master_key.clone()).await?;
    let data = Arc::new(DataPlane::new(platform.clone(), resolver.clone()).with_change_sink(changes));
    let mail = Arc::new(mail_commands::service(&args.mail, &args.store, store.clone()).await?);
    let auth =
        accounts(&args, store.clone(), resolver.clone(), mail.clone(), platform.clone(), master_key.clone(), bound)?;
    let _sweeper = spawn_sweeper(auth.accounts.clone());
    let config = HttpConfig {
        max_body_bytes: args.max_body_bytes,
        rate_limit_per_ip: args.rate_limit_per_ip,
        rate_limit_per_project: args.rate_limit_per_project,
    };
    let public_url = args.social.public_url.as_deref();
    let files =
        Arc::new(crate::files::service(&args.files, &args.store, public_url, bound, platform, master_key).await?);
    let _files_sweeper = spawn_files_sweeper(files.clone());
    let usage = Arc::new(admin_commands::FilesUsage(files.clone()));
    let admin = admin_commands::settings(store.clone(), resolver.clone(), usage, metrics, args.metrics_public).await?;
    let state = AppState::new(data, auth, mail, config, RequestLog::spawn(store)).with_admin(admin).with_files(files);
    // Blocking work (the embedded store's reads) is bounded by the store itself (a few reader
    // connections), so a small blocking pool per worker suffices; the default of hundreds of
    // threads only grows memory (each thread gets its own allocator arena) under slow queries.
    let mut server =
        HttpServer::new(move || api_actix::app(state.clone())).worker_max_blocking_threads(BLOCKING_THREADS);
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = server.listen(listener).with_context(|| format!("listening on {bound}"))?;
    for addr in server.addrs() {
        println!("urbackend listening on http://{addr} (store: {description})");
    }
    tracing::info!(store = %description, "server started");
    server.run().await.context("running the server")
}

/// The accounts service, social login and the refresh cookie's settings.
fn accounts(
    args: &ServeArgs,
    store: Arc<dyn store::DocumentStore>,
    resolver: Arc<stores::Resolver>,
    mail: Arc<mail::MailService>,
    platform: Arc<Platform>,
    master_key: Option<MasterKey>,
    bound: SocketAddr,
) -> anyhow::Result<AuthSettings> {
    let hasher = PasswordHasher::new(HashCost::RECOMMENDED, args.accounts.password_hash_concurrency)
        .context("setting up password hashing")?;
    let defaults = AccountsConfig::default();
    let config = AccountsConfig {
        access_ttl: args.accounts.access_token_ttl.clone(),
        login_failures_per_account: Limit {
            max: args.accounts.login_failures_per_account,
            ..defaults.login_failures_per_account
        },
        login_failures_per_ip: Limit { max: args.accounts.login_failures_per_ip, ..defaults.login_failures_per_ip },
        refresh_per_ip: Limit { max: args.accounts.refresh_limit_per_ip, ..defaults.refresh_per_ip },
        refresh_per_user: Limit { max: args.accounts.refresh_limit_per_user, ..defaults.refresh_per_user },
        ..defaults
    };
    let refresh_cookie_max_age = config.refresh_lifetime_ms / 1000;
    let accounts = Arc::new(Accounts::new(store.clone(), resolver, hasher, Arc::new(mailer::CodeMail(mail)), config));
    let social = Social::new(accounts.clone(), platform, store, master_key, social_config(&args.social, bound));
    Ok(AuthSettings {
        accounts,
        social: Arc::new(social),
        secure_cookies: args.accounts.secure_cookies,
        refresh_cookie_max_age,
    })
}

/// The providers' endpoints and this server's public URL (`http://<bound address>` by default).
fn social_config(args: &SocialArgs, bound: SocketAddr) -> SocialConfig {
    SocialConfig {
        public_url: args.public_url.clone().unwrap_or_else(|| format!("http://{bound}")),
        github: GithubEndpoints {
            authorize_url: args.github_authorize_url.clone(),
            token_url: args.github_token_url.clone(),
            api_url: args.github_api_url.clone(),
        },
        google: GoogleEndpoints {
            authorize_url: args.google_authorize_url.clone(),
            token_url: args.google_token_url.clone(),
            jwks_url: args.google_jwks_url.clone(),
        },
        ..SocialConfig::default()
    }
}

/// How often expired sessions, codes, OAuth states and abandoned uploads are removed.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs `sweep` with the current time in milliseconds every [`SWEEP_EVERY`], for the server's
/// lifetime.
fn spawn_periodic<F, Fut>(sweep: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(i64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(SWEEP_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            sweep(now_ms).await;
        }
    })
}

/// Removes what the accounts no longer need.
fn spawn_sweeper(accounts: Arc<Accounts>) -> tokio::task::JoinHandle<()> {
    spawn_periodic(move |now_ms| {
        let accounts = accounts.clone();
        async move {
            match accounts.sweep(now_ms).await {
                Ok(swept) => tracing::debug!(?swept, "swept the accounts' expired documents"),
                Err(error) => tracing::warn!(%error, "sweeping the accounts' expired documents failed"),
            }
        }
    })
}

/// Removes uploads a stopped server left unfinished (recounting their projects' quota) and
/// presigned uploads nobody confirmed.
fn spawn_files_sweeper(files: Arc<storage::Files>) -> tokio::task::JoinHandle<()> {
    spawn_periodic(move |now_ms| {
        let files = files.clone();
        async move {
            match files.sweep_abandoned_uploads(now_ms).await {
                Ok(removed) => tracing::debug!(removed, "swept abandoned uploads"),
                Err(error) => tracing::warn!(%error, "sweeping abandoned uploads failed"),
            }
            match files.sweep_unconfirmed_uploads(now_ms).await {
                Ok(removed) => tracing::debug!(removed, "swept unconfirmed uploads"),
                Err(error) => tracing::warn!(%error, "sweeping unconfirmed uploads failed"),
            }
        }
    })
}
