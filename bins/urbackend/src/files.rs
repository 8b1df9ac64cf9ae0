//! File storage settings of `urbackend serve` (flags and their environment variables) and the
//! storage service they configure: the local directory backend, by default `<data-dir>/files`,
//! or an S3-compatible bucket when `--s3-bucket` is given; and projects' own buckets
//! (`urbackend project set-storage`), read from the project configuration per request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use platform::{ByoStorage, MasterKey, Platform};
use serde_json::json;
use storage::{Files, ProjectStorage, S3Settings, StorageConfig, StorageError};

use crate::cli::{StorageCommandArgs, StoreArgs};
use crate::stores;

/// File storage (`/api/storage`).
#[derive(Debug, Args)]
pub(crate) struct FileArgs {
    /// Directory of stored files (default: <data-dir>/files).
    #[arg(long, env = "URBACKEND_FILES_DIR")]
    pub(crate) files_dir: Option<PathBuf>,
    /// Largest file, in bytes (enforced while the bytes arrive).
    #[arg(long, env = "URBACKEND_MAX_FILE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub(crate) max_file_bytes: u64,
    /// Bytes of files per project (0: unlimited).
    #[arg(long, env = "URBACKEND_STORAGE_QUOTA_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub(crate) storage_quota_bytes: u64,
    /// Allowed file types, comma-separated (default: common images, PDF, plain text, CSV, JSON,
    /// zip, audio and video). The type is decided from the bytes.
    #[arg(long, env = "URBACKEND_STORAGE_ALLOWED_TYPES", value_delimiter = ',')]
    pub(crate) storage_allowed_types: Vec<String>,
    /// Lifetime of signed upload URLs, in seconds.
    #[arg(long, env = "URBACKEND_UPLOAD_URL_TTL", default_value_t = 900)]
    pub(crate) upload_url_ttl: i64,
    #[command(flatten)]
    pub(crate) s3: S3Args,
}

/// The server's files in an S3-compatible bucket instead of the local directory.
#[derive(Debug, Args)]
pub(crate) struct S3Args {
    /// Keep the server's files in this S3-compatible bucket (instead of the files directory).
    #[arg(long, env = "URBACKEND_S3_BUCKET")]
    pub(crate) s3_bucket: Option<String>,
    /// The S3 service's URL (R2, MinIO, …; default: AWS S3 of the region).
    #[arg(long, env = "URBACKEND_S3_ENDPOINT", requires = "s3_bucket")]
    pub(crate) s3_endpoint: Option<String>,
    /// The bucket's region (default: auto).
    #[arg(long, env = "URBACKEND_S3_REGION", requires = "s3_bucket")]
    pub(crate) s3_region: Option<String>,
    /// The access key id.
    #[arg(long, env = "URBACKEND_S3_ACCESS_KEY_ID", requires = "s3_bucket")]
    pub(crate) s3_access_key_id: Option<String>,
    /// The secret access key (prefer the environment variable).
    #[arg(long, env = "URBACKEND_S3_SECRET_ACCESS_KEY", hide_env_values = true, requires = "s3_bucket")]
    pub(crate) s3_secret_access_key: Option<String>,
    /// The base URL objects are publicly served from (default: <endpoint>/<bucket>).
    #[arg(long, env = "URBACKEND_S3_PUBLIC_URL", requires = "s3_bucket")]
    pub(crate) s3_public_url: Option<String>,
}

/// The storage service over the platform store.
pub(crate) async fn service(
    args: &FileArgs,
    store_args: &StoreArgs,
    public_url: Option<&str>,
    bound: SocketAddr,
    platform: Arc<Platform>,
    master_key: Option<MasterKey>,
) -> anyhow::Result<Files> {
    let allowed = if args.storage_allowed_types.is_empty() {
        storage::types::default_allowed()
    } else {
        args.storage_allowed_types.iter().map(|t| storage::types::essence(t)).filter(|t| !t.is_empty()).collect()
    };
    let config = StorageConfig {
        root: args.files_dir.clone().unwrap_or_else(|| store_args.data_dir.join("files")),
        public_url: public_url.map_or_else(|| format!("http://{bound}"), |u| u.trim_end_matches('/').to_owned()),
        max_file_bytes: args.max_file_bytes,
        quota_bytes: args.storage_quota_bytes,
        allowed_types: allowed,
        upload_url_ttl_seconds: args.upload_url_ttl,
    };
    let store = platform.store().clone();
    let files = match &args.s3.s3_bucket {
        Some(bucket) => {
            let settings = server_bucket(&args.s3, bucket)?;
            Files::s3(&settings, config, store).await.with_context(|| format!("opening the S3 bucket {bucket}"))?
        }
        None => {
            let root = config.root.display().to_string();
            Files::local(config, store).await.with_context(|| format!("opening file storage in {root}"))?
        }
    };
    Ok(files.with_project_storage(Arc::new(ProjectBuckets { platform, master_key })))
}

fn server_bucket(args: &S3Args, bucket: &str) -> anyhow::Result<S3Settings> {
    let (Some(access_key_id), Some(secret_access_key)) = (&args.s3_access_key_id, &args.s3_secret_access_key) else {
        anyhow::bail!(
            "--s3-bucket needs --s3-access-key-id and URBACKEND_S3_SECRET_ACCESS_KEY (or --s3-secret-access-key)"
        );
    };
    Ok(S3Settings {
        bucket: bucket.to_owned(),
        endpoint: args.s3_endpoint.clone(),
        region: args.s3_region.clone(),
        access_key_id: access_key_id.clone(),
        secret_access_key: secret_access_key.clone(),
        public_url_host: args.s3_public_url.clone(),
    })
}

/// Projects' own buckets, from the project configuration (decrypted with the master key).
struct ProjectBuckets {
    platform: Arc<Platform>,
    master_key: Option<MasterKey>,
}

impl ProjectStorage for ProjectBuckets {
    fn settings(&self, project_id: &str) -> Result<Option<S3Settings>, StorageError> {
        let Some(secret) = self.platform.project(project_id).and_then(|p| p.byo_storage.clone()) else {
            return Ok(None);
        };
        let key = self.master_key.as_ref().ok_or_else(|| {
            StorageError::Internal(format!("project {project_id} has its own bucket but no master key is configured"))
        })?;
        let own = key
            .decrypt_storage(&secret)
            .map_err(|e| StorageError::Internal(format!("bucket settings of project {project_id}: {e}")))?;
        Ok(Some(S3Settings {
            bucket: own.bucket,
            endpoint: own.endpoint,
            region: own.region,
            access_key_id: own.access_key_id,
            secret_access_key: own.secret_access_key,
            public_url_host: own.public_url_host,
        }))
    }
}

/// `urbackend project set-storage`: the project's own bucket, stored encrypted (never printed),
/// or back to the server's storage with `--clear`.
pub(crate) async fn set_storage(args: StorageCommandArgs) -> anyhow::Result<()> {
    let secret = match (&args.bucket, &args.access_key_id, &args.secret_access_key) {
        (Some(bucket), Some(access_key_id), Some(secret_access_key)) => {
            let key = stores::master_key(&args.store)?.context(
                "a project's own bucket needs URBACKEND_MASTER_KEY (64 hex characters) to encrypt its credentials",
            )?;
            let settings = ByoStorage {
                storage_provider: args.provider.clone(),
                bucket: bucket.trim().to_owned(),
                region: args.region.clone(),
                endpoint: args.endpoint.clone(),
                access_key_id: access_key_id.trim().to_owned(),
                secret_access_key: secret_access_key.clone(),
                public_url_host: args.public_url_host.clone(),
            };
            anyhow::ensure!(settings.is_complete(), "the bucket and both credentials must not be empty");
            Some(key.encrypt_storage(&settings).context("encrypting the bucket settings")?)
        }
        _ if args.clear => None,
        _ => anyhow::bail!("give --bucket, --access-key-id and the secret access key, or --clear"),
    };
    let (store, _) = stores::open(&args.store).await?;
    let platform = Platform::open(store).await.context("opening the platform")?;
    let updated = platform.set_byo_storage(&args.project, secret).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let own = updated.byo_storage.is_some();
    let shown = if own {
        json!({"bucket": args.bucket, "endpoint": args.endpoint, "region": args.region, "publicUrlHost": args.public_url_host})
    } else {
        json!(null)
    };
    println!("{}", json!({"projectId": updated.id, "ownStorage": own, "storage": shown}));
    Ok(())
}
