//! Opening the platform store (embedded SQLite in the data directory, or MongoDB), and the
//! resolver that finds each project's data store (its own MongoDB when it brings one).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use dataplane::StoreResolver;
use platform::{MasterKey, Project};
use store::{DocumentStore, StoreError};
use store_mongo::MongoClients;

use crate::cli::StoreArgs;

/// The file of the embedded store inside the data directory.
pub(crate) const SQLITE_FILE: &str = "urbackend.sqlite3";

/// Opens the platform store the arguments name.
pub(crate) async fn open(args: &StoreArgs) -> anyhow::Result<(Arc<dyn DocumentStore>, String)> {
    if let Some(uri) = &args.mongodb_uri {
        let store = store_mongo::MongoStore::connect(uri, None).await.context("connecting to MongoDB")?;
        return Ok((Arc::new(store), "mongodb".to_owned()));
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let path = args.data_dir.join(SQLITE_FILE);
    let store = store_sqlite::SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
    crate::admin_commands::watch_readers(&store);
    Ok((Arc::new(store), format!("sqlite:{}", path.display())))
}

/// The master key, if configured.
pub(crate) fn master_key(args: &StoreArgs) -> anyhow::Result<Option<MasterKey>> {
    args.master_key
        .as_deref()
        .map(|hex| MasterKey::from_hex(hex).context("URBACKEND_MASTER_KEY must be 64 hexadecimal characters"))
        .transpose()
}

/// Finds a project's data store: the platform store, or the project's own MongoDB.
pub(crate) struct Resolver {
    platform_store: Arc<dyn DocumentStore>,
    clients: Arc<MongoClients>,
    master_key: Option<MasterKey>,
}

impl Resolver {
    pub(crate) fn new(platform_store: Arc<dyn DocumentStore>, master_key: Option<MasterKey>) -> Resolver {
        Resolver { platform_store, clients: MongoClients::new(Duration::from_secs(20 * 60)), master_key }
    }
}

#[async_trait]
impl StoreResolver for Resolver {
    async fn store_for(&self, project: &Project) -> Result<Arc<dyn DocumentStore>, StoreError> {
        let Some(secret) = &project.byo_db else {
            return Ok(self.platform_store.clone());
        };
        let key = self
            .master_key
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("no master key configured for external databases".to_owned()))?;
        let uri = key.decrypt_db_uri(secret).map_err(|e| StoreError::Internal(format!("project database URI: {e}")))?;
        let store = self.clients.store_for(uri.expose()).await?;
        Ok(Arc::new(store))
    }
}
