//! The command line: subcommands, flags and their environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// urbackend: a backend-as-a-service for MongoDB in one binary, wire-compatible with urBackend.
#[derive(Debug, Parser)]
#[command(
    name = "urbackend",
    version,
    about = "A backend-as-a-service for MongoDB in one binary, wire-compatible with urBackend",
    long_about = None
)]
pub(crate) struct Cli {
    /// Log format.
    #[arg(long, value_enum, env = "URBACKEND_LOG_FORMAT", default_value = "text", global = true)]
    pub(crate) log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP API.
    Serve(Box<ServeArgs>),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage collections.
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Manage mail templates.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Manage a project's webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Operator credentials.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// A project's end users: list, delete.
    #[command(subcommand)]
    User(crate::user_commands::UserCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an admin token for `/api/admin/…` and `/metrics` (printed once as
    /// `{"token": …, "id": …}`; only its SHA-256 is stored), or revoke one by id.
    Token {
        /// Revoke the token with this id instead of creating one.
        #[arg(long)]
        revoke: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the configuration and data live.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// Directory of the embedded store (used when no MongoDB URI is given).
    #[arg(long, env = "URBACKEND_DATA_DIR", default_value = "data")]
    pub(crate) data_dir: PathBuf,
    /// MongoDB URI: keep the platform (projects, configuration, data) on MongoDB instead.
    #[arg(long, env = "URBACKEND_MONGODB_URI", hide_env_values = true)]
    pub(crate) mongodb_uri: Option<String>,
    /// 64 hex characters: the AES-256-GCM key that encrypts secrets at rest (projects' own
    /// database URIs, OAuth client secrets).
    #[arg(long, env = "URBACKEND_MASTER_KEY", hide_env_values = true)]
    pub(crate) master_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "URBACKEND_BIND", default_value = "127.0.0.1:1235")]
    pub(crate) bind: SocketAddr,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "URBACKEND_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub(crate) max_body_bytes: usize,
    /// Requests per minute per client IP (0: unlimited).
    #[arg(long, env = "URBACKEND_RATE_LIMIT_PER_IP", default_value_t = 6_000)]
    pub(crate) rate_limit_per_ip: u32,
    /// Requests per minute per project (0: unlimited).
    #[arg(long, env = "URBACKEND_RATE_LIMIT_PER_PROJECT", default_value_t = 60_000)]
    pub(crate) rate_limit_per_project: u32,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "URBACKEND_WORKERS")]
    pub(crate) workers: Option<usize>,
    /// Serve `GET /metrics` without an admin token.
    #[arg(long, env = "URBACKEND_METRICS_PUBLIC", default_value_t = false)]
    pub(crate) metrics_public: bool,
    #[command(flatten)]
    pub(crate) accounts: AccountArgs,
    #[command(flatten)]
    pub(crate) mail: MailArgs,
    #[command(flatten)]
    pub(crate) social: SocialArgs,
    #[command(flatten)]
    pub(crate) files: crate::files::FileArgs,
    #[command(flatten)]
    pub(crate) webhooks: WebhookArgs,
}

/// Webhook delivery.
#[derive(Debug, Args)]
pub(crate) struct WebhookArgs {
    /// Attempts per webhook event, the first included.
    #[arg(long, env = "URBACKEND_WEBHOOK_MAX_ATTEMPTS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) webhook_max_attempts: u32,
    /// Seconds before the first retry of a failed delivery (each next wait is four times longer).
    #[arg(long, env = "URBACKEND_WEBHOOK_FIRST_RETRY_SECONDS", default_value_t = 30)]
    pub(crate) webhook_first_retry_seconds: u64,
    /// Days finished webhook events and their delivery log are kept before they are deleted.
    #[arg(long, env = "URBACKEND_WEBHOOK_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=36500))]
    pub(crate) webhook_retention_days: u64,
    /// Let webhooks reach loopback, private, link-local and other non-public addresses.
    #[arg(long, env = "URBACKEND_WEBHOOK_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
    pub(crate) webhook_allow_private_targets: bool,
}

/// Social login: this server's public URL and the providers' endpoints (overridable so that a
/// test can run a provider on loopback).
#[derive(Debug, Args)]
pub(crate) struct SocialArgs {
    /// This server's public base URL; OAuth callbacks are
    /// `<public url>/api/userAuth/social/<provider>/callback` (default `http://<bind address>`).
    #[arg(long, env = "URBACKEND_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// GitHub's authorization page.
    #[arg(long, env = "URBACKEND_GITHUB_AUTHORIZE_URL", default_value = "https://github.com/login/oauth/authorize")]
    pub(crate) github_authorize_url: String,
    /// GitHub's token endpoint.
    #[arg(long, env = "URBACKEND_GITHUB_TOKEN_URL", default_value = "https://github.com/login/oauth/access_token")]
    pub(crate) github_token_url: String,
    /// GitHub's REST API.
    #[arg(long, env = "URBACKEND_GITHUB_API_URL", default_value = "https://api.github.com")]
    pub(crate) github_api_url: String,
    /// Google's authorization page.
    #[arg(
        long,
        env = "URBACKEND_GOOGLE_AUTHORIZE_URL",
        default_value = "https://accounts.google.com/o/oauth2/v2/auth"
    )]
    pub(crate) google_authorize_url: String,
    /// Google's token endpoint.
    #[arg(long, env = "URBACKEND_GOOGLE_TOKEN_URL", default_value = "https://oauth2.googleapis.com/token")]
    pub(crate) google_token_url: String,
    /// Google's signing keys (JWK Set).
    #[arg(long, env = "URBACKEND_GOOGLE_JWKS_URL", default_value = "https://www.googleapis.com/oauth2/v3/certs")]
    pub(crate) google_jwks_url: String,
}

/// Settings of end-user accounts.
#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    /// Lifetime of access tokens (`900`, `900s`, `15m`, `1h`), echoed as `expiresIn`.
    #[arg(long, env = "URBACKEND_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_lifetime)]
    pub(crate) access_token_ttl: auth::TokenLifetime,
    /// Mark the refresh cookie `Secure; SameSite=None` (set when clients reach the server over
    /// HTTPS, directly or through a proxy).
    #[arg(long, env = "URBACKEND_SECURE_COOKIES", default_value_t = false)]
    pub(crate) secure_cookies: bool,
    /// Failed logins of one account (project and e-mail) per 15 minutes before its logins are
    /// refused with 429 (0: unlimited).
    #[arg(long, env = "URBACKEND_LOGIN_FAILURES_PER_ACCOUNT", default_value_t = 10)]
    pub(crate) login_failures_per_account: u32,
    /// Failed logins from one client IP per 15 minutes before its logins are refused (0: unlimited).
    #[arg(long, env = "URBACKEND_LOGIN_FAILURES_PER_IP", default_value_t = 100)]
    pub(crate) login_failures_per_ip: u32,
    /// Refreshes per minute from one client IP (0: unlimited).
    #[arg(long, env = "URBACKEND_REFRESH_LIMIT_PER_IP", default_value_t = 30)]
    pub(crate) refresh_limit_per_ip: u32,
    /// Refreshes per minute of one user (0: unlimited).
    #[arg(long, env = "URBACKEND_REFRESH_LIMIT_PER_USER", default_value_t = 20)]
    pub(crate) refresh_limit_per_user: u32,
    /// Password hashes computed at once, on threads of lower priority (each takes one core and
    /// 19 MiB); further logins wait. The default leaves one core to data requests.
    #[arg(long, env = "URBACKEND_PASSWORD_HASH_CONCURRENCY", default_value_t = default_hash_concurrency())]
    pub(crate) password_hash_concurrency: usize,
}

/// One hash per core but one (at least one).
fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)).max(1)
}

fn parse_lifetime(text: &str) -> Result<auth::TokenLifetime, String> {
    auth::TokenLifetime::parse(text).ok_or_else(|| format!("not a lifetime: {text:?} (use e.g. 900s, 15m, 1h)"))
}

/// How mail is sent.
#[derive(Debug, Args)]
pub(crate) struct MailArgs {
    /// SMTP server; without one, each mail is written as an .eml file into <data-dir>/mail.
    #[arg(long, env = "URBACKEND_SMTP_HOST")]
    pub(crate) smtp_host: Option<String>,
    /// SMTP port (default: 25, 587 or 465 after --smtp-tls).
    #[arg(long, env = "URBACKEND_SMTP_PORT")]
    pub(crate) smtp_port: Option<u16>,
    /// How the SMTP connection is secured.
    #[arg(long, env = "URBACKEND_SMTP_TLS", value_enum, default_value = "starttls")]
    pub(crate) smtp_tls: SmtpTls,
    /// SMTP user name (for AUTH).
    #[arg(long, env = "URBACKEND_SMTP_USERNAME")]
    pub(crate) smtp_username: Option<String>,
    /// SMTP password (for AUTH).
    #[arg(long, env = "URBACKEND_SMTP_PASSWORD", hide_env_values = true)]
    pub(crate) smtp_password: Option<String>,
    /// The sender of every mail, `Name <address>` or `address`.
    #[arg(long, env = "URBACKEND_MAIL_FROM", default_value = mail::DEFAULT_FROM)]
    pub(crate) mail_from: String,
    /// Mails per project and calendar month through POST /api/mail/send (0: unlimited).
    #[arg(long, env = "URBACKEND_MAIL_PER_MONTH", default_value_t = 1000)]
    pub(crate) mail_per_month: u32,
}

/// SMTP connection security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SmtpTls {
    /// Plain text (a relay on this machine or network).
    None,
    /// STARTTLS, required.
    Starttls,
    /// TLS from the first byte.
    Tls,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProjectCommand {
    /// Create a project; prints one JSON object with projectId, publishableKey and secretKey.
    Create {
        /// The project's name.
        name: String,
        /// Do not enable user auth nor create the `users` collection.
        #[arg(long)]
        no_users: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Recreate a project exported from urBackend (its project document, as `mongoexport` or
    /// Compass write it): same id, same API key hashes (deployed apps keep their keys; no key is
    /// printed), same JWT secret, its collections with their RLS settings. Prints what was
    /// imported and which encrypted settings must be set again. Refuses an existing project id.
    Import {
        /// The exported project document (JSON: one object, or an array holding one).
        #[arg(long)]
        file: PathBuf,
        /// The project's own MongoDB, for a project whose data urBackend kept there
        /// (`resources.db.isExternal`); its collections stay where they are.
        #[arg(long, env = "URBACKEND_PROJECT_MONGODB_URI", hide_env_values = true)]
        database_uri: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Keep a project's data in its own MongoDB (the URI is checked, then stored encrypted with
    /// the master key), or back in the platform store with `--clear`.
    SetDatabase {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The project's MongoDB URI (name the database in its path).
        #[arg(long, env = "URBACKEND_PROJECT_MONGODB_URI", hide_env_values = true, required_unless_present = "clear")]
        uri: Option<String>,
        /// Go back to the platform store.
        #[arg(long, conflicts_with = "uri")]
        clear: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Keep a project's files in its own S3-compatible bucket (`provider: "external"`; the
    /// settings are stored encrypted with the master key and never printed), or back in the
    /// server's storage with `--clear`.
    SetStorage(StorageCommandArgs),
    /// Restrict the origins publishable keys may be used from (`*` allows every origin; entries
    /// are origins like `https://app.example.com`, host names, or `*.example.com`).
    SetOrigins {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// Comma-separated origins.
        #[arg(long, value_delimiter = ',', required = true)]
        origins: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set the project's web site (`https://…`; `http://` only for localhost): social logins
    /// come back to `<url>/auth/callback` and nowhere else. An empty URL unsets it.
    SetSiteUrl {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The site's URL.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Let the project's users upload files with the publishable key and their access token,
    /// into their own folder `<projectId>/users/<userId>/` (off by default: only the secret key
    /// may use `/api/storage`).
    SetUserFileUploads {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// `true` to allow, `false` to stop (files already uploaded stay).
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Configure a social login provider (the client secret is stored encrypted with the master
    /// key); `--disable` switches it off and keeps its credentials.
    SetOauth {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// `github` or `google`.
        #[arg(long, value_parser = ["github", "google"])]
        provider: String,
        /// The OAuth client id.
        #[arg(long, required_unless_present = "disable")]
        client_id: Option<String>,
        /// The OAuth client secret.
        #[arg(
            long,
            env = "URBACKEND_OAUTH_CLIENT_SECRET",
            hide_env_values = true,
            required_unless_present = "disable"
        )]
        client_secret: Option<String>,
        /// The callback URL registered with the provider, when it is not this server's own
        /// `<public url>/api/userAuth/social/<provider>/callback`.
        #[arg(long)]
        redirect_uri: Option<String>,
        /// Switch the provider off.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace one of the project's API keys and print the new one (`{"projectId": …, "key": …}`,
    /// shown this once); the old key is refused at once by running servers (within a second).
    RotateKey {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// Which key: `publishable` or `secret`.
        #[arg(long, value_parser = ["publishable", "secret"])]
        key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sign an end-user access token with the project's secret (for tests and scripts; prints
    /// `{"token": …}`). Whoever can reach the store can already do this. In a project with a
    /// `users` collection the user must exist (servers accept the token only while it does).
    Token {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The end user's id.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 900)]
        ttl: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `urbackend project set-storage`.
#[derive(Debug, Args)]
pub(crate) struct StorageCommandArgs {
    /// The project id.
    #[arg(long, env = "URBACKEND_PROJECT")]
    pub(crate) project: String,
    /// The bucket.
    #[arg(long, required_unless_present = "clear")]
    pub(crate) bucket: Option<String>,
    /// The S3 service's URL (R2, MinIO, …; default: AWS S3 of the region).
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// The bucket's region (default: auto).
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// The access key id.
    #[arg(long, required_unless_present = "clear")]
    pub(crate) access_key_id: Option<String>,
    /// The secret access key (prefer the environment variable).
    #[arg(
        long,
        env = "URBACKEND_PROJECT_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        required_unless_present = "clear"
    )]
    pub(crate) secret_access_key: Option<String>,
    /// The base URL objects are publicly served from (default: <endpoint>/<bucket>).
    #[arg(long)]
    pub(crate) public_url_host: Option<String>,
    /// `s3` or `cloudflare_r2`.
    #[arg(long, default_value = "s3", value_parser = ["s3", "cloudflare_r2"])]
    pub(crate) provider: String,
    /// Go back to the server's storage.
    #[arg(long, conflicts_with_all = ["bucket", "endpoint", "region", "access_key_id", "public_url_host"])]
    pub(crate) clear: bool,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CollectionCommand {
    /// Create or replace a collection from a JSON file
    /// (`{"name", "model": [{"key","type",…}], "rls": {"enabled","mode","ownerField"}}`).
    Put(PutArgs),
    /// Insert the documents of one collection exported from urBackend (`mongoexport`: JSON lines
    /// or a JSON array, extended JSON), keeping their `_id`s; in `users`, e-mail addresses are
    /// lower-cased and bcrypt password hashes kept (they are verified, then upgraded, at login).
    Import {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The collection (it must be defined in the project).
        #[arg(long)]
        collection: String,
        /// The exported documents.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// A project and the JSON file to put into it.
#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// The project id.
    #[arg(long, env = "URBACKEND_PROJECT")]
    pub(crate) project: String,
    /// The JSON file.
    #[arg(long)]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MailCommand {
    /// Manage a project's mail templates.
    #[command(subcommand)]
    Template(TemplateCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateCommand {
    /// Create or replace (by key) a project's template from a JSON file
    /// (`{"name", "key"?, "subject", "html"?, "text"?}`); prints it with its id.
    Put(PutArgs),
    /// List a project's templates and the built-in ones.
    List {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Add a webhook (the secret is stored encrypted with the master key); prints it as JSON
    /// with its id, never the secret.
    Add {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The target URL (http or https).
        #[arg(long)]
        url: String,
        /// The signing secret (16 to 256 characters).
        #[arg(long, env = "URBACKEND_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// `COLLECTION:insert,update,delete` (repeat for several collections).
        #[arg(long, required = true)]
        events: Vec<String>,
        /// Accept a URL whose host is a loopback, private or link-local address.
        #[arg(long, env = "URBACKEND_WEBHOOK_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
        webhook_allow_private_targets: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List a project's webhooks (without their secrets).
    List {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the delivery log (one entry per attempt: status, HTTP status, error, duration),
    /// newest first, of the project's webhooks or of one of them.
    Deliveries {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// Only this webhook's attempts.
        #[arg(long)]
        webhook: Option<String>,
        /// At most this many entries (1 to 1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove a webhook; its pending events are not sent.
    Remove {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The webhook id.
        #[arg(long)]
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Sets up `tracing` (filter from `RUST_LOG`, default `info`).
pub(crate) fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
