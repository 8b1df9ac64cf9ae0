//! The data API's use cases: list, count, get, insert, bulk insert, update, delete and aggregate
//! on a project's collections, and the public schema endpoints.
//!
//! Every operation takes an [`Access`] (the project, the key role and the verified end user),
//! asks `rls-core` for its scope or grant first, validates documents against the collection's
//! model (`platform`), and only then calls a store with that scope, so no read or write reaches a
//! store without passing through rls-core. Results are typed values ([`ListOutcome`], stored
//! documents); the HTTP layer only shapes them into the wire bodies. This crate knows no HTTP and
//! no concrete store backend: [`StoreResolver`] hands it the store a project's data lives in.

mod aggregate;
mod changes;
mod error;
mod list;
mod populate;
mod schemas;
mod shape;
mod write;

use std::sync::Arc;

use platform::{CollectionDef, Platform, Project};
use query::Schema;
use rls_core::{Caller, KeyRole, RlsConfig, Target};
use store::{CollectionSpec, DocumentStore};

pub use changes::{ChangeKind, ChangeSink};
pub use error::{DataError, INTERNAL_ERROR, UNAVAILABLE};
pub use list::ListOutcome;
pub use platform::{PlatformStoreOnly, StoreResolver};
pub use schemas::SECRET_KEY_REQUIRED;

/// Who is asking: the project resolved from the API key, the key's role, and the end user of a
/// verified access token (publishable keys only).
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The project.
    pub project: &'a Project,
    /// The key role.
    pub role: KeyRole,
    /// The verified end user, if any.
    pub user: Option<&'a str>,
    /// Whether a Bearer token was sent but did not verify. Such a request is never carried out
    /// as an anonymous write (`requireAuthForWrite: false`): it is refused with 401 instead.
    pub token_rejected: bool,
}

impl<'a> Access<'a> {
    fn caller(&self) -> Caller<'a> {
        match self.role {
            KeyRole::Secret => Caller::secret(),
            KeyRole::Publishable => Caller::publishable(self.user),
        }
    }
}

/// The data API over a platform and its stores.
pub struct DataPlane {
    platform: Arc<Platform>,
    stores: Arc<dyn StoreResolver>,
    changes: Option<Arc<dyn ChangeSink>>,
}

impl DataPlane {
    /// A data plane over these projects and stores.
    pub fn new(platform: Arc<Platform>, stores: Arc<dyn StoreResolver>) -> DataPlane {
        DataPlane { platform, stores, changes: None }
    }

    /// The platform (projects and configuration).
    pub fn platform(&self) -> &Arc<Platform> {
        &self.platform
    }

    async fn store(&self, project: &Project) -> Result<Arc<dyn DocumentStore>, DataError> {
        Ok(self.stores.store_for(project).await?)
    }

    /// The store, physical name and declared types of one of the project's collections.
    async fn place(&self, project: &Project, def: &CollectionDef) -> Result<Placed, DataError> {
        Ok(Placed::new(self.store(project).await?, project, def))
    }
}

/// Where a collection's documents live: the store, the physical name and the declared types
/// the store casts by.
struct Placed {
    store: Arc<dyn DocumentStore>,
    physical: String,
    schema: Schema,
}

impl Placed {
    fn new(store: Arc<dyn DocumentStore>, project: &Project, def: &CollectionDef) -> Placed {
        Placed { store, physical: project.physical_name(&def.name), schema: def.query_schema() }
    }

    fn spec(&self) -> CollectionSpec<'_> {
        CollectionSpec { physical: &self.physical, schema: &self.schema }
    }
}

/// A collection as one request sees it: its definition (if it exists) and RLS configuration.
struct Resolved<'a> {
    name: &'a str,
    def: Option<&'a CollectionDef>,
    rls: Option<RlsConfig>,
}

impl<'a> Resolved<'a> {
    fn new(project: &'a Project, name: &'a str) -> Resolved<'a> {
        let def = project.collection(name);
        Resolved { name, def, rls: def.map(CollectionDef::rls_config) }
    }

    fn target(&self) -> Target<'_> {
        match &self.rls {
            Some(rls) => Target::existing(self.name, rls),
            None => Target::missing(self.name),
        }
    }

    /// The definition, once rls-core has resolved the target (it refuses missing collections).
    fn def(&self) -> Result<&'a CollectionDef, DataError> {
        self.def.ok_or(DataError::CollectionNotFound)
    }
}
