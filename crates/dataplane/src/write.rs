//! Writes: insert, bulk insert, update (PUT and PATCH merge alike) and delete.
//!
//! The order is fixed: rls-core decides (and normalises the body), the collection's model
//! validates, the owner stamped by rls-core is checked once more, and the store writes within the
//! scope in one operation. A scoped update or delete that matched nothing asks the store whether
//! the id exists only where rls-core says the caller may learn it.

use platform::{CollectionDef, validate_insert, validate_update};
use rls_core::{
    Denial, InsertGrant, WriteScope, authorize_bulk_insert, authorize_delete, authorize_insert, authorize_update,
};
use serde_json::Value;
use store::{Change, Changed, Document};

use crate::{Access, DataError, DataPlane, Placed, Resolved};

impl DataPlane {
    /// `POST /api/data/:collection`: inserts one document and returns it as stored.
    pub async fn insert(&self, access: &Access<'_>, collection: &str, body: &Value) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let grant = authorize_insert(&access.caller(), &resolved.target(), body)?;
        refuse_rejected_token(access, &grant)?;
        let def = resolved.def()?;
        let docs = validated(def, grant).map_err(|(_, e)| e)?;
        let stored = self.insert_validated(access, collection, def, docs).await?;
        stored
            .into_iter()
            .next()
            .ok_or_else(|| DataError::Store(store::StoreError::Internal("insert returned nothing".into())))
    }

    /// `POST /api/data/:collection/bulk`: inserts 1–100 documents, all or nothing, every item
    /// validated before anything is written; each document is announced as an insert. Returns
    /// how many were inserted.
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
        Ok(self.insert_validated(access, collection, def, docs).await?.len())
    }

    /// Inserts validated documents (announced as inserts) and returns them as stored.
    async fn insert_validated(
        &self,
        access: &Access<'_>,
        collection: &str,
        def: &CollectionDef,
        docs: Vec<Document>,
    ) -> Result<Vec<Document>, DataError> {
        let placed = self.place(access.project, def).await?;
        match self.apply(access.project, collection, &placed.store, &placed.spec(), Change::Insert(docs)).await? {
            Changed::Inserted(stored) => Ok(stored),
            _ => Err(DataError::Store(store::StoreError::Internal("an insert wrote something else".into()))),
        }
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
                return Err(Denial::owner_immutable(&owner.field).into());
            }
        }
        let placed = self.place(access.project, def).await?;
        let change = Change::Update { scope: &grant.scope, set: &set };
        match self.apply(access.project, collection, &placed.store, &placed.spec(), change).await? {
            Changed::Updated(Some(doc)) => Ok(doc),
            Changed::Updated(None) => Err(miss(&placed, &grant.scope).await?),
            _ => Err(DataError::Store(store::StoreError::Internal("an update wrote something else".into()))),
        }
    }

    /// `DELETE /api/data/:collection/:id`: deletes the document and returns it.
    pub async fn delete(&self, access: &Access<'_>, collection: &str, id: &str) -> Result<Document, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let scope = authorize_delete(&access.caller(), &resolved.target(), id)?;
        let def = resolved.def()?;
        let placed = self.place(access.project, def).await?;
        match self
            .apply(access.project, collection, &placed.store, &placed.spec(), Change::Delete { scope: &scope })
            .await?
        {
            Changed::Deleted(Some(doc)) => Ok(doc),
            Changed::Deleted(None) => Err(miss(&placed, &scope).await?),
            _ => Err(DataError::Store(store::StoreError::Internal("a delete wrote something else".into()))),
        }
    }
}

/// An anonymous insert granted to a request whose token did not verify is refused: the caller
/// meant to act as a user, and must not silently write as nobody.
fn refuse_rejected_token(access: &Access<'_>, grant: &InsertGrant) -> Result<(), DataError> {
    if access.role == rls_core::KeyRole::Publishable && access.token_rejected && grant.owner.is_none() {
        return Err(Denial::write_auth_required().into());
    }
    Ok(())
}

/// Validates every granted document against the model; the owner rls-core stamped must survive
/// validation unchanged. On failure, the index of the first refused item and the error.
fn validated(def: &CollectionDef, grant: InsertGrant) -> Result<Vec<Document>, (usize, DataError)> {
    let mut docs = Vec::with_capacity(grant.documents.len());
    for (index, doc) in grant.documents.into_iter().enumerate() {
        let doc = validate_insert(def, doc).map_err(|e| (index, DataError::Validation(e)))?;
        if let Some(owner) = &grant.owner {
            if doc.get(&owner.field).and_then(Value::as_str) != Some(owner.user.as_str()) {
                return Err((index, Denial::item_owner_mismatch(index, &owner.field).into()));
            }
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// The refusal for a scoped write that matched nothing.
async fn miss(placed: &Placed, scope: &WriteScope) -> Result<DataError, DataError> {
    let exists = scope.wants_existence_probe() && placed.store.exists(&placed.spec(), scope.id()).await?;
    Ok(DataError::Denied(scope.miss(exists)))
}
