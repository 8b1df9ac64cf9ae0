//! Writes: insert, bulk insert, update (PUT and PATCH merge alike) and delete.
//!
//! The order is fixed: rls-core decides (and normalises the body), the collection's model
//! validates, the owner stamped by rls-core is checked once more, and the store writes within the
//! scope in one operation. A scoped update or delete that matched nothing asks the store whether
//! the id exists only where rls-core says the caller may learn it.

use platform::{CollectionDef, validate_insert, validate_update};
use rls_core::{
    InsertGrant, OwnerMatch, WriteScope, authorize_bulk_insert, authorize_delete, authorize_insert, authorize_update,
};
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore};

use crate::{Access, DataError, DataPlane, Resolved};

impl DataPlane {
    /// `POST /api/data/:collection`: inserts one document and returns it as stored.
    pub async fn insert(&self, access: &Access<'_>, collection: &str, body: &Value) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let grant = authorize_insert(&access.caller(), &resolved.target(), body)?;
        refuse_rejected_token(access, &grant)?;
        let def = resolved.def()?;
        let docs = validated(def, grant).map_err(|(_, e)| e)?;
        let stored = self.insert_validated(access, def, docs).await?;
        stored
            .into_iter()
            .next()
            .ok_or_else(|| DataError::Store(store::StoreError::Internal("insert returned nothing".into())))
    }

    /// `POST /api/data/:collection/bulk`: inserts 1–100 documents, all or nothing, every item
    /// validated before anything is written. Returns how many were inserted.
    pub async fn bulk_insert(&self, access: &Access<'_>, collection: &str, body: &Value) -> Result<usize, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let grant = authorize_bulk_insert(&access.caller(), &resolved.target(), body)?;
        refuse_rejected_token(access, &grant)?;
        let def = resolved.def()?;
        let docs = validated(def, grant).map_err(|(index, e)| match e {
            DataError::Validation(v) => {
                DataError::BadRequest(format!("Invalid records at index: {index}. {}", v.message()))
            }
            other => other,
        })?;
        Ok(self.insert_validated(access, def, docs).await?.len())
    }

    async fn insert_validated(
        &self,
        access: &Access<'_>,
        def: &CollectionDef,
        docs: Vec<Document>,
    ) -> Result<Vec<Document>, DataError> {
        let store = self.store(access.project).await?;
        let schema = def.query_schema();
        let physical = access.project.physical_name(&def.name);
        Ok(store.insert(&CollectionSpec { physical: &physical, schema: &schema }, docs).await?)
    }

    /// `PUT`/`PATCH /api/data/:collection/:id`: merges the body into the document and returns it.
    pub async fn update(
        &self,
        access: &Access<'_>,
        collection: &str,
        id: &str,
        body: &Value,
    ) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let grant = authorize_update(&access.caller(), &resolved.target(), id, body)?;
        let def = resolved.def()?;
        let set = validate_update(def, grant.set)?;
        if let Some(owner) = grant.scope.owner() {
            if set.keys().any(|key| key == &owner.field || key.starts_with(&format!("{}.", owner.field))) {
                return Err(owner_changed_by_validation(owner));
            }
        }
        let store = self.store(access.project).await?;
        let schema = def.query_schema();
        let physical = access.project.physical_name(&def.name);
        let spec = CollectionSpec { physical: &physical, schema: &schema };
        match store.update(&spec, &grant.scope, &set).await? {
            Some(doc) => Ok(doc),
            None => Err(miss(store.as_ref(), &spec, &grant.scope).await?),
        }
    }

    /// `DELETE /api/data/:collection/:id`: deletes the document and returns it.
    pub async fn delete(&self, access: &Access<'_>, collection: &str, id: &str) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let scope = authorize_delete(&access.caller(), &resolved.target(), id)?;
        let def = resolved.def()?;
        let store = self.store(access.project).await?;
        let schema = def.query_schema();
        let physical = access.project.physical_name(&def.name);
        let spec = CollectionSpec { physical: &physical, schema: &schema };
        match store.delete(&spec, &scope).await? {
            Some(doc) => Ok(doc),
            None => Err(miss(store.as_ref(), &spec, &scope).await?),
        }
    }
}

/// An anonymous insert granted to a request whose token did not verify is refused: the caller
/// meant to act as a user, and must not silently write as nobody.
fn refuse_rejected_token(access: &Access<'_>, grant: &InsertGrant) -> Result<(), DataError> {
    if access.role == rls_core::KeyRole::Publishable && access.token_rejected && grant.owner.is_none() {
        return Err(DataError::Unauthorized(WRITE_TOKEN_REQUIRED.to_owned()));
    }
    Ok(())
}

/// The original's text for a write without a valid user token.
const WRITE_TOKEN_REQUIRED: &str = "Provide a valid user Bearer token for write operations.";

/// Validates every granted document against the model; the owner rls-core stamped must survive
/// validation unchanged. On failure, the index of the first refused item and the error.
fn validated(def: &CollectionDef, grant: InsertGrant) -> Result<Vec<Document>, (usize, DataError)> {
    let mut docs = Vec::with_capacity(grant.documents.len());
    for (index, doc) in grant.documents.into_iter().enumerate() {
        let doc = validate_insert(def, doc).map_err(|e| (index, DataError::Validation(e)))?;
        if let Some(owner) = &grant.owner {
            if doc.get(&owner.field).and_then(Value::as_str) != Some(owner.user.as_str()) {
                return Err((index, owner_mismatch_after_validation(index, owner)));
            }
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// The refusal for a scoped write that matched nothing.
async fn miss(
    store: &dyn DocumentStore,
    spec: &CollectionSpec<'_>,
    scope: &WriteScope,
) -> Result<DataError, DataError> {
    let exists = scope.wants_existence_probe() && store.exists(spec, scope.id()).await?;
    Ok(DataError::Denied(scope.miss(exists)))
}

/// Defence in depth: validation (defaults, trimming) must never change the owner rls-core set.
fn owner_mismatch_after_validation(index: usize, owner: &OwnerMatch) -> DataError {
    DataError::Forbidden(format!("Item at index {index} must have {} equal to your user id", owner.field))
}

/// Defence in depth: validation must never bring the owner field back into an update.
fn owner_changed_by_validation(owner: &OwnerMatch) -> DataError {
    DataError::Forbidden(format!("{} cannot be changed under RLS.", owner.field))
}
