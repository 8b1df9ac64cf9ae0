//! A project's `users` collection as the accounts see it (spec §6.7, §8.1): where it lives, the
//! preconditions of every account endpoint, lookups by e-mail, id and username, and the fields
//! an end user may never set through signup or profile updates.

use std::sync::Arc;

use platform::{CollectionDef, FieldKind, Project, StoreResolver};
use query::{Condition, FieldPath, Filter, ListQuery, ObjectIdHex, Op, Scalar, Schema, SortKey, SortOrder};
use rls_core::{DocId, ReadScope};
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore, StoreError};

use crate::error::{AuthError, texts};
use crate::system::secret_scope;

/// The names the verification flag is discovered by, in order (spec §6.7).
const VERIFICATION_FIELDS: [&str; 3] = ["emailVerified", "isVerified", "isverified"];

/// Fields only the server sets: an end user never writes them through signup or a profile
/// update (identity, credentials, verification, provider links, roles, bookkeeping).
pub const PROTECTED_FIELDS: [&str; 15] = [
    "_id",
    "__v",
    "createdAt",
    "updatedAt",
    "email",
    "password",
    "emailVerified",
    "isVerified",
    "isverified",
    "githubId",
    "googleId",
    "authProviders",
    "role",
    "roles",
    "isAdmin",
];

/// Words that keep a field out of public profiles (spec §8.6).
const PRIVATE_WORDS: [&str; 7] = ["password", "email", "token", "otp", "secret", "session", "refresh"];

/// Whether an end user may set this top-level field.
pub fn is_protected(key: &str) -> bool {
    PROTECTED_FIELDS.contains(&key)
}

/// The users collection of one project.
pub(crate) struct Users {
    store: Arc<dyn DocumentStore>,
    physical: String,
    def: CollectionDef,
    schema: Schema,
}

fn path(name: &str) -> Result<FieldPath, AuthError> {
    FieldPath::new(name).map_err(|e| AuthError::Internal(format!("field path {name}: {e}")))
}

impl Users {
    /// The users collection, after the preconditions of spec §8.1.
    pub(crate) async fn locate(stores: &dyn StoreResolver, project: &Project) -> Result<Users, AuthError> {
        if !project.auth_enabled {
            return Err(AuthError::refused(403, texts::AUTH_DISABLED));
        }
        let def = project.collection("users").ok_or_else(|| AuthError::refused(403, texts::USERS_MISSING))?;
        let usable = |key: &str| def.field(key).is_some_and(|f| f.kind == FieldKind::String && f.required);
        if !usable("email") || !usable("password") {
            return Err(AuthError::refused(422, texts::USERS_INVALID));
        }
        Users::open(stores, project, def).await
    }

    /// The users collection `def` of a project, whatever the preconditions say (for checks
    /// that hold whether or not auth is enabled now).
    pub(crate) async fn open(
        stores: &dyn StoreResolver,
        project: &Project,
        def: &CollectionDef,
    ) -> Result<Users, AuthError> {
        let store = stores.store_for(project).await?;
        Ok(Users { store, physical: project.physical_name("users"), schema: def.query_schema(), def: def.clone() })
    }

    fn spec(&self) -> CollectionSpec<'_> {
        CollectionSpec { physical: &self.physical, schema: &self.schema }
    }

    /// The collection's definition.
    pub(crate) fn def(&self) -> &CollectionDef {
        &self.def
    }

    /// The declared verification flag, if any.
    pub(crate) fn verification_field(&self) -> Option<&'static str> {
        VERIFICATION_FIELDS.into_iter().find(|key| self.def.field(key).is_some())
    }

    /// Whether the schema declares this top-level field.
    pub(crate) fn declares(&self, key: &str) -> bool {
        self.def.field(key).is_some()
    }

    /// The one user whose `field` equals `value`.
    pub(crate) async fn find_one(&self, field: &str, value: &str) -> Result<Option<Document>, AuthError> {
        let mut filter = Filter::new();
        filter.and(Condition::new(path(field)?, Op::Eq(Scalar::String(value.to_owned()))));
        let query = ListQuery::first(filter, Vec::new(), 1);
        Ok(self.store.find(&self.spec(), &ReadScope::All, &query).await?.items.into_iter().next())
    }

    /// The user with this (normalised) e-mail address.
    pub(crate) async fn by_email(&self, email: &str) -> Result<Option<Document>, AuthError> {
        self.find_one("email", email).await
    }

    /// The user with this id.
    pub(crate) async fn by_id(&self, id: &str) -> Result<Option<Document>, AuthError> {
        let Ok(id) = DocId::parse(id) else { return Ok(None) };
        Ok(self.store.get(&self.spec(), &id, &ReadScope::All).await?)
    }

    /// Whether a user with this id exists.
    pub(crate) async fn exists(&self, id: &str) -> Result<bool, AuthError> {
        let Ok(id) = DocId::parse(id) else { return Ok(false) };
        Ok(self.store.exists(&self.spec(), &id).await?)
    }

    /// Deletes one user; the deleted document, `None` when there was none.
    pub(crate) async fn delete(&self, id: &str) -> Result<Option<Document>, AuthError> {
        Ok(self.store.delete(&self.spec(), &secret_scope(id)?).await?)
    }

    /// Up to `limit` users, oldest first, after `after` (an id) when given.
    pub(crate) async fn page(&self, after: Option<&str>, limit: u32) -> Result<Vec<Document>, AuthError> {
        let id = path("_id")?;
        let mut filter = Filter::new();
        if let Some(after) = after {
            let after = ObjectIdHex::parse(after).ok_or_else(|| AuthError::bad_request("Invalid ID format."))?;
            filter.and(Condition::new(id.clone(), Op::Gt(Scalar::ObjectId(after))));
        }
        let sort = vec![SortKey { path: id, order: SortOrder::Asc }];
        Ok(self.store.find(&self.spec(), &ReadScope::All, &ListQuery::first(filter, sort, limit)).await?.items)
    }

    /// Validates and inserts a new user; a taken e-mail address is `400 User already exists…`.
    pub(crate) async fn insert(&self, doc: Document) -> Result<Document, AuthError> {
        let doc = platform::validate_insert(&self.def, doc)?;
        match self.store.insert(&self.spec(), vec![doc]).await {
            Ok(mut stored) => stored.pop().ok_or_else(|| AuthError::Internal("insert returned nothing".to_owned())),
            Err(StoreError::DuplicateKey { field }) if field.as_deref().is_none_or(|f| f == "email") => {
                Err(AuthError::bad_request(texts::USER_EXISTS))
            }
            Err(StoreError::DuplicateKey { field }) => Err(AuthError::bad_request(format!(
                "Duplicate value for unique field '{}'.",
                field.unwrap_or_default()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets fields of one user (validated as an update); `None` when the user is gone.
    pub(crate) async fn set(&self, id: &str, set: Document) -> Result<Option<Document>, AuthError> {
        let set = platform::validate_update(&self.def, set)?;
        match self.store.update(&self.spec(), &secret_scope(id)?, &set).await {
            Ok(updated) => Ok(updated),
            Err(StoreError::DuplicateKey { field }) => Err(AuthError::bad_request(format!(
                "Duplicate value for unique field '{}'.",
                field.unwrap_or_default()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The public profile of a user (spec §8.6): `_id`, the declared fields whose names do not
    /// suggest a secret, and the timestamps.
    pub(crate) fn public_profile(&self, doc: &Document) -> Document {
        let mut out = Document::new();
        let mut copy = |key: &str| {
            if let Some(value) = doc.get(key) {
                out.insert(key.to_owned(), value.clone());
            }
        };
        copy("_id");
        for field in &self.def.model {
            let lower = field.key.to_lowercase();
            if !PRIVATE_WORDS.iter().any(|word| lower.contains(word)) {
                copy(&field.key);
            }
        }
        copy("createdAt");
        copy("updatedAt");
        out
    }
}

/// A user as `GET /me` returns it: the stored document without the password hash.
pub(crate) fn own_view(mut doc: Document) -> Document {
    doc.remove("password");
    doc
}

/// The id of a stored user.
pub(crate) fn id_of(doc: &Document) -> String {
    doc.get("_id").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A generated display name (spec §8.3): the given one, else the e-mail's local part, padded
/// with `0` to three characters.
pub(crate) fn generated_name(given: Option<&str>, email: &str) -> String {
    let base = given.map(str::to_owned).unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let mut name = base;
    while name.chars().count() < 3 {
        name.push('0');
    }
    name
}
