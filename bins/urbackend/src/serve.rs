//! `urbackend serve`: wires the stores, the platform, the data plane, the mail service and the
//! HTTP API, and prints where it listens.

use std::sync::Arc;

use actix_web::HttpServer;
use anyhow::Context;
use api_actix::{AppState, AuthSettings, HttpConfig, RequestLog};
use auth::password::{HashCost, PasswordHasher};
use auth::{Accounts, AccountsConfig, Limit};
use dataplane::DataPlane;
use platform::Platform;

use crate::cli::ServeArgs;
use crate::{mail_commands, mailer, stores};

/// Blocking threads per HTTP worker.
const BLOCKING_THREADS: usize = 8;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (store, description) = stores::open(&args.store).await?;
    let master_key = stores::master_key(&args.store)?;
    let platform = Arc::new(Platform::open(store.clone()).await.context("opening the platform")?);
    let _refresh = platform.spawn_refresh();
    let resolver = Arc::new(stores::Resolver::new(store.clone(), master_key));
    let data = Arc::new(DataPlane::new(platform, resolver.clone()));
    let mail = Arc::new(mail_commands::service(&args.mail, &args.store, store.clone()).await?);
    let auth = accounts(&args, store.clone(), resolver, mail.clone())?;
    let config = HttpConfig {
        max_body_bytes: args.max_body_bytes,
        rate_limit_per_ip: args.rate_limit_per_ip,
        rate_limit_per_project: args.rate_limit_per_project,
    };
    let state = AppState::new(data, auth, mail, config, RequestLog::spawn(store));
    // Blocking work (the embedded store's reads) is bounded by the store itself (a few reader
    // connections), so a small blocking pool per worker suffices; the default of hundreds of
    // threads only grows memory (each thread gets its own allocator arena) under slow queries.
    let mut server =
        HttpServer::new(move || api_actix::app(state.clone())).worker_max_blocking_threads(BLOCKING_THREADS);
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = server.bind(args.bind).with_context(|| format!("binding {}", args.bind))?;
    for addr in server.addrs() {
        println!("urbackend listening on http://{addr} (store: {description})");
    }
    tracing::info!(store = %description, "server started");
    server.run().await.context("running the server")
}

/// The accounts service and the refresh cookie's settings.
fn accounts(
    args: &ServeArgs,
    store: Arc<dyn store::DocumentStore>,
    resolver: Arc<stores::Resolver>,
    mail: Arc<mail::MailService>,
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
    let accounts = Accounts::new(store, resolver, hasher, Arc::new(mailer::CodeMail(mail)), config);
    Ok(AuthSettings {
        accounts: Arc::new(accounts),
        secure_cookies: args.accounts.secure_cookies,
        refresh_cookie_max_age,
    })
}
