//! Where a project's documents live: [`StoreResolver`] hands out the platform store, or the
//! store of the project's own MongoDB. The binary wires the real resolver; the data API and the
//! accounts both ask it, so every part of the server agrees on a project's store.

use std::sync::Arc;

use async_trait::async_trait;
use store::{DocumentStore, StoreError};

use crate::project::Project;

/// Finds the store that holds a project's documents: the platform store, or the project's own
/// MongoDB.
#[async_trait]
pub trait StoreResolver: Send + Sync + 'static {
    /// The store for this project's collections.
    async fn store_for(&self, project: &Project) -> Result<Arc<dyn DocumentStore>, StoreError>;
}

/// A resolver for deployments where every project lives in the platform store.
pub struct PlatformStoreOnly(pub Arc<dyn DocumentStore>);

#[async_trait]
impl StoreResolver for PlatformStoreOnly {
    async fn store_for(&self, project: &Project) -> Result<Arc<dyn DocumentStore>, StoreError> {
        if project.uses_own_database() {
            return Err(StoreError::Unavailable("this server is not configured for external databases".to_owned()));
        }
        Ok(self.0.clone())
    }
}
