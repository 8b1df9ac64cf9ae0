//! The operator's view of a project's users (`urbackend user list` and `user delete`): pages of
//! users without their password hashes, and the deletion of one user by id or e-mail, which also
//! revokes every refresh session of that user. Their access tokens stop working within
//! [`PRESENCE_TTL_MS`](crate::PRESENCE_TTL_MS) on every server (see `presence`).

use std::sync::Arc;

use platform::{Project, StoreResolver};
use store::{Document, DocumentStore};

use crate::error::AuthError;
use crate::input;
use crate::sessions::Sessions;
use crate::system::SystemStore;
use crate::users::{Users, id_of, own_view};

/// Which user.
#[derive(Debug, Clone, Copy)]
pub enum UserRef<'a> {
    /// By `_id`.
    Id(&'a str),
    /// By e-mail address (compared as stored: trimmed, lower case).
    Email(&'a str),
}

/// A project's users, as the operator manages them.
pub struct UserDirectory {
    stores: Arc<dyn StoreResolver>,
    sessions: Sessions,
}

impl UserDirectory {
    /// The directory: `platform_store` keeps the refresh sessions, `stores` finds each project's
    /// users collection.
    pub fn new(platform_store: Arc<dyn DocumentStore>, stores: Arc<dyn StoreResolver>) -> UserDirectory {
        // Only revocation is used here: the lifetime of new sessions does not matter.
        UserDirectory { stores, sessions: Sessions::new(SystemStore::new(platform_store), 0) }
    }

    async fn users(&self, project: &Project) -> Result<Users, AuthError> {
        let def = project
            .collection("users")
            .ok_or_else(|| AuthError::bad_request(format!("project {} has no users collection", project.id)))?;
        Users::open(self.stores.as_ref(), project, def).await
    }

    /// Whether the project has a `users` collection that holds no user with this id (its
    /// servers refuse such a user's access tokens).
    pub async fn lacks(&self, project: &Project, user_id: &str) -> Result<bool, AuthError> {
        let Some(def) = project.collection("users") else { return Ok(false) };
        Ok(!Users::open(self.stores.as_ref(), project, def).await?.exists(user_id).await?)
    }

    /// Up to `limit` users after the id `after`, oldest first, without their password hashes.
    pub async fn list(&self, project: &Project, after: Option<&str>, limit: u32) -> Result<Vec<Document>, AuthError> {
        Ok(self.users(project).await?.page(after, limit).await?.into_iter().map(own_view).collect())
    }

    /// Deletes a user and revokes all of their refresh sessions; the deleted user (without the
    /// password hash), `None` when there is no such user.
    pub async fn delete(&self, project: &Project, who: UserRef<'_>) -> Result<Option<Document>, AuthError> {
        let users = self.users(project).await?;
        let found = match who {
            UserRef::Id(id) => users.by_id(id).await?,
            UserRef::Email(email) => users.by_email(&input::normalize_email(email)).await?,
        };
        let Some(user) = found else { return Ok(None) };
        let id = id_of(&user);
        let Some(deleted) = users.delete(&id).await? else { return Ok(None) };
        self.sessions.revoke_user(&project.id, &id, None).await?;
        Ok(Some(own_view(deleted)))
    }
}
