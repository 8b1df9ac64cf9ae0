//! File storage settings of `urbackend serve` (flags and their environment variables) and the
//! storage service they configure: the local directory backend, by default `<data-dir>/files`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use storage::{Files, StorageConfig};

use crate::cli::StoreArgs;

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
}

/// The storage service over the platform store.
pub(crate) async fn service(
    args: &FileArgs,
    store_args: &StoreArgs,
    public_url: Option<&str>,
    bound: SocketAddr,
    store: Arc<dyn store::DocumentStore>,
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
    let root = config.root.display().to_string();
    Files::local(config, store).await.with_context(|| format!("opening file storage in {root}"))
}
