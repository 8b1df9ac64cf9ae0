//! The public schema endpoints (spec §6.6): read a collection's definition with either key, and
//! create one with the secret key.

use platform::{CollectionDef, Project};
use rls_core::KeyRole;
use serde_json::Value;

use crate::{Access, DataError, DataPlane};

/// The text of `403` for a publishable key on a secret-key route.
pub const SECRET_KEY_REQUIRED: &str = "Forbidden. This action requires a Secret Key (sk_live_...).";

impl DataPlane {
    /// `GET /api/schemas/:collection`: the definition, or `404 Schema/Collection not found`.
    pub fn schema(&self, project: &Project, collection: &str) -> Result<CollectionDef, DataError> {
        project.collection(collection).cloned().ok_or(DataError::SchemaNotFound)
    }

    /// `POST /api/schemas` (secret key): creates a collection from the public shape
    /// `{name, fields:[{name, type, …}]}` and returns the updated project.
    pub async fn create_schema(&self, access: &Access<'_>, body: &Value) -> Result<std::sync::Arc<Project>, DataError> {
        if access.role != KeyRole::Secret {
            return Err(DataError::Forbidden(SECRET_KEY_REQUIRED.to_owned()));
        }
        let def = CollectionDef::from_public_json(body).map_err(platform::PlatformError::from)?;
        let platform = self.platform();
        if access.project.uses_own_database() {
            if access.project.collection(&def.name).is_some() {
                return Err(DataError::BadRequest(platform::COLLECTION_EXISTS.to_owned()));
            }
            let store = self.store(access.project).await?;
            platform.put_collection_in(&access.project.id, def, store.as_ref()).await?;
        } else {
            platform.create_collection(&access.project.id, def).await?;
        }
        platform.project(&access.project.id).ok_or(DataError::Platform(platform::PlatformError::ProjectNotFound))
    }
}
