//! The configuration service: [`Platform`] keeps every project in the reserved collections of
//! the platform store and serves them from an in-memory snapshot.
//!
//! Reads (`project`, `project_by_api_key`, `get_collection`) never wait for the store except on
//! an API-key miss, which first checks whether another process changed something. Writes go to
//! the store, then announce themselves through the change token (see `catalog`), then refresh
//! the local snapshot at once. [`Platform::spawn_refresh`] polls the token every
//! [`REFRESH_INTERVAL`] and reloads when it changed, so a change made by any process sharing the
//! store (the CLI, a second server) is visible everywhere within a second. Writes of one process
//! are serialised; writes of different processes to different collections never overwrite each
//! other (each definition is its own document).

use std::sync::Arc;
use std::time::Duration;

use rls_core::KeyRole;
use serde_json::Value;
use store::{CollectionSpec, Document, DocumentStore, StoreError, UniqueIndex, new_object_id};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::cache::{Cache, Snapshot};
use crate::catalog::Catalog;
pub use crate::catalog::{
    COLLECTIONS_COLLECTION, META_COLLECTION, PROJECTS_COLLECTION, RESERVED_PREFIX, is_reserved_physical_name,
};
use crate::error::PlatformError;
use crate::import::ProjectImport;
use crate::keys::{ApiKeys, generate_jwt_secret, generate_publishable_key, generate_secret_key, hash_key};
use crate::model::CollectionDef;
use crate::project::{Project, collection_doc_id, project_document, resources_document};
use crate::providers::{AuthProviders, OAuthProviderUpdate, UNSUPPORTED_PROVIDER, normalize_site_url, oauth_provider};
use crate::secrets::EncryptedSecret;

/// How often [`Platform::spawn_refresh`] polls the change token.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(250);

/// `400` when a collection is created under a name that exists (public `POST /api/schemas`).
pub const COLLECTION_EXISTS: &str = "Collection/Schema already exists";
/// `400` for an empty project name.
pub const PROJECT_NAME_REQUIRED: &str = "Project name is required";

/// Options of [`Platform::create_project`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateOptions {
    /// Enable user auth and create the `users` collection ([`CollectionDef::default_users`]).
    /// Default `true`.
    pub with_users_collection: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions { with_users_collection: true }
    }
}

/// Whether saving a definition may replace an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PutMode {
    CreateOrReplace,
    CreateOnly,
}

/// The unique indexes one save changed, for rolling them back.
#[derive(Debug, Default)]
struct IndexChanges {
    created: Vec<UniqueIndex>,
    dropped: Vec<UniqueIndex>,
}

/// Projects, keys and collection definitions, shared by every request of a server.
pub struct Platform {
    catalog: Catalog,
    cache: Cache,
    /// Serialises this process's writes and full reloads.
    write_lock: Mutex<()>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform").field("projects", &self.cache.current().projects().len()).finish_non_exhaustive()
    }
}

impl Platform {
    /// Opens the platform on its store: ensures the unique indexes on both key hashes and loads
    /// every project.
    pub async fn open(store: Arc<dyn DocumentStore>) -> Result<Platform, PlatformError> {
        let platform = Platform { catalog: Catalog::new(store), cache: Cache::default(), write_lock: Mutex::new(()) };
        platform.catalog.ensure_indexes().await?;
        platform.reload(true).await?;
        Ok(platform)
    }

    /// The platform store (also the data store of every project without its own database).
    pub fn store(&self) -> &Arc<dyn DocumentStore> {
        self.catalog.store()
    }

    /// Starts the background task that keeps the snapshot fresh (poll every
    /// [`REFRESH_INTERVAL`]). It ends by itself once the platform is dropped.
    pub fn spawn_refresh(self: &Arc<Self>) -> JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(REFRESH_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(platform) = weak.upgrade() else { break };
                let outcome = platform.refresh().await;
                platform.cache.set_failure(outcome.err().map(|e| format!("refresh failed: {e}")));
            }
        })
    }

    /// Reloads the snapshot if another process (or this one) announced a change since it was
    /// built; returns whether it reloaded.
    pub async fn refresh(&self) -> Result<bool, PlatformError> {
        let token = self.catalog.read_token().await?;
        if token == self.cache.seen_token() {
            return Ok(false);
        }
        self.reload(false).await
    }

    /// What went wrong in the last refresh, if it failed or skipped malformed documents.
    pub fn last_refresh_error(&self) -> Option<String> {
        self.cache.last_error()
    }

    /// Reloads every project (unless `force` is off and nothing changed since the last reload,
    /// which happens when concurrent callers all saw the same change); returns whether it did.
    async fn reload(&self, force: bool) -> Result<bool, PlatformError> {
        let _guard = self.write_lock.lock().await;
        let token = self.catalog.read_token().await?;
        if !force && token == self.cache.seen_token() {
            return Ok(false);
        }
        let (projects, skipped) = self.catalog.load_all_projects().await?;
        let problem = (skipped > 0).then(|| format!("{skipped} malformed platform document(s) skipped"));
        self.cache.install(Snapshot::build(projects.into_iter().map(Arc::new)), token, problem);
        Ok(true)
    }

    /// Announces a local write and refreshes that project in the snapshot.
    async fn committed(&self, project_id: &str) -> Result<Option<Arc<Project>>, PlatformError> {
        self.catalog.bump_token().await?;
        let project = self.catalog.load_project(project_id).await?.map(Arc::new);
        self.cache.replace(project_id, project.clone());
        Ok(project)
    }

    // ---- reads ------------------------------------------------------------------------------

    /// The project with this id.
    pub fn project(&self, id: &str) -> Option<Arc<Project>> {
        self.cache.current().project(id)
    }

    /// Every project, in id order.
    pub fn projects(&self) -> Vec<Arc<Project>> {
        self.cache.current().projects()
    }

    /// A collection definition of a project.
    pub fn get_collection(&self, project_id: &str, name: &str) -> Option<CollectionDef> {
        self.project(project_id)?.collection(name).cloned()
    }

    /// The physical name of a project's collection (see [`Project::physical_name`]).
    pub fn physical_name(&self, project: &Project, collection: &str) -> String {
        project.physical_name(collection)
    }

    /// The project an API key belongs to, and the key's role (by its `sk_live_` prefix, spec
    /// §3.2). Only the key's SHA-256 is looked up, and the match is confirmed in constant time.
    /// On a miss the snapshot is refreshed first if another process changed something, so a key
    /// made by the CLI a moment ago works at once.
    pub async fn project_by_api_key(&self, key: &str) -> Result<Option<(Arc<Project>, KeyRole)>, PlatformError> {
        if key.is_empty() {
            return Ok(None);
        }
        let role = KeyRole::of_api_key(key);
        let hash = hash_key(key);
        if let Some(project) = self.cache.current().by_key_hash(&hash, role) {
            return Ok(Some((project, role)));
        }
        self.refresh().await?;
        Ok(self.cache.current().by_key_hash(&hash, role).map(|project| (project, role)))
    }

    // ---- projects ---------------------------------------------------------------------------

    /// Creates a project and returns it with its keys in plain text (the only time they are
    /// shown; only their hashes are stored). By default user auth is enabled and the `users`
    /// collection created.
    pub async fn create_project(
        &self,
        name: &str,
        options: CreateOptions,
    ) -> Result<(Arc<Project>, ApiKeys), PlatformError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PlatformError::BadRequest(PROJECT_NAME_REQUIRED.to_owned()));
        }
        let keys = ApiKeys::generate()?;
        let (publishable_key_hash, secret_key_hash) = keys.hashes();
        let project = Project {
            id: new_object_id(),
            name: name.to_owned(),
            publishable_key_hash,
            secret_key_hash,
            jwt_secret: generate_jwt_secret()?,
            auth_enabled: options.with_users_collection,
            collections: Vec::new(),
            allowed_domains: vec!["*".to_owned()],
            byo_db: None,
            byo_storage: None,
            site_url: String::new(),
            auth_providers: AuthProviders::default(),
            user_file_uploads: false,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let _guard = self.write_lock.lock().await;
        self.catalog.insert(PROJECTS_COLLECTION, project_document(&project)).await?;
        if options.with_users_collection {
            let users = CollectionDef::default_users();
            if let Err(e) = self.put_locked(&project.id, users, PutMode::CreateOrReplace, None).await {
                // Best effort: the project is unusable without its users collection.
                let _ = self.catalog.delete(PROJECTS_COLLECTION, &project.id).await;
                return Err(e);
            }
        }
        let created = self.committed(&project.id).await?.ok_or(PlatformError::ProjectNotFound)?;
        Ok((created, keys))
    }

    /// Stores a project moved over from urBackend ([`ProjectImport`]) under its own id, with its
    /// key hashes and JWT secret, then each of its collections (indexes in `data` for a project
    /// with its own database, as [`Platform::put_collection_in`]). Refuses an id that exists and
    /// keys that another project uses; if a collection is refused, everything this call stored is
    /// removed again, so the import can be run once more after a fix.
    pub async fn import_project(
        &self,
        import: &ProjectImport,
        data: Option<&dyn DocumentStore>,
    ) -> Result<Arc<Project>, PlatformError> {
        let project = &import.project;
        let _guard = self.write_lock.lock().await;
        let exists = || {
            PlatformError::BadRequest(format!("a project with id {} exists already; nothing was changed", project.id))
        };
        if self.catalog.get(PROJECTS_COLLECTION, &project.id).await?.is_some() {
            return Err(exists());
        }
        match self.catalog.insert(PROJECTS_COLLECTION, project_document(project)).await {
            // Another process stored that id between the check and the insert.
            Err(PlatformError::Store(StoreError::DuplicateKey { field })) if field.as_deref() == Some("_id") => {
                return Err(exists());
            }
            Err(PlatformError::Store(StoreError::DuplicateKey { field })) => {
                let which = field.as_deref().unwrap_or("publishableKey or secretKey");
                return Err(PlatformError::BadRequest(format!(
                    "another project already uses this {which} (an API key hash); nothing was changed"
                )));
            }
            other => other?,
        };
        let mut saved = Vec::new();
        for def in &import.collections {
            match self.put_locked(&project.id, def.clone(), PutMode::CreateOrReplace, data).await {
                Ok(def) => saved.push(def.name),
                Err(e) => {
                    // Best effort: the original error is what the caller needs to see.
                    for name in &saved {
                        let _ =
                            self.catalog.delete(COLLECTIONS_COLLECTION, &collection_doc_id(&project.id, name)).await;
                    }
                    let _ = self.catalog.delete(PROJECTS_COLLECTION, &project.id).await;
                    let _ = self.catalog.bump_token().await;
                    return Err(e);
                }
            }
        }
        self.committed(&project.id).await?.ok_or(PlatformError::ProjectNotFound)
    }

    /// Sets some top-level fields of a project's document.
    async fn update_project(&self, project_id: &str, set: Document) -> Result<Arc<Project>, PlatformError> {
        let _guard = self.write_lock.lock().await;
        self.catalog.update(PROJECTS_COLLECTION, project_id, set).await?.ok_or(PlatformError::ProjectNotFound)?;
        self.committed(project_id).await?.ok_or(PlatformError::ProjectNotFound)
    }

    /// Replaces one of a project's keys and returns the new key in plain text; the old key stops
    /// working at once in this process and within a second everywhere else.
    pub async fn rotate_key(&self, project_id: &str, role: KeyRole) -> Result<String, PlatformError> {
        let (field, key) = match role {
            KeyRole::Publishable => ("publishableKey", generate_publishable_key()?),
            KeyRole::Secret => ("secretKey", generate_secret_key()?),
        };
        let mut set = Document::new();
        set.insert(field.into(), Value::String(hash_key(&key)));
        self.update_project(project_id, set).await?;
        Ok(key)
    }

    /// Enables or disables user auth. Enabling needs a `users` collection with required String
    /// `email` and `password` (422 `Users Collection Missing` / `Invalid Users Schema`).
    pub async fn set_auth_enabled(&self, project_id: &str, enabled: bool) -> Result<Arc<Project>, PlatformError> {
        if enabled {
            let project = self.catalog.load_project(project_id).await?.ok_or(PlatformError::ProjectNotFound)?;
            let users = project
                .collection("users")
                .ok_or_else(|| PlatformError::Unprocessable("Users Collection Missing".to_owned()))?;
            if users.clone().validated().is_err() {
                return Err(PlatformError::Unprocessable("Invalid Users Schema".to_owned()));
            }
        }
        let mut set = Document::new();
        set.insert("isAuthEnabled".into(), Value::Bool(enabled));
        self.update_project(project_id, set).await
    }

    /// Replaces the origins publishable keys may be used from (entries trimmed, empty ones
    /// dropped; `[]` blocks every publishable request, `["*"]` allows all).
    pub async fn set_allowed_domains(
        &self,
        project_id: &str,
        domains: Vec<String>,
    ) -> Result<Arc<Project>, PlatformError> {
        let domains: Vec<String> = domains.into_iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect();
        let mut set = Document::new();
        set.insert("allowedDomains".into(), serde_json::json!(domains));
        self.update_project(project_id, set).await
    }

    /// Sets (or with `None` removes) the project's own MongoDB URI, already encrypted with
    /// [`crate::MasterKey::encrypt_db_uri`].
    pub async fn set_byo_db(
        &self,
        project_id: &str,
        config: Option<EncryptedSecret>,
    ) -> Result<Arc<Project>, PlatformError> {
        self.update_resources(project_id, |project| resources_document(config.as_ref(), project.byo_storage.as_ref()))
            .await
    }

    /// Sets (or with `None` removes) the project's own bucket, already encrypted with
    /// [`crate::MasterKey::encrypt_storage`]; every server picks it up with the project.
    pub async fn set_byo_storage(
        &self,
        project_id: &str,
        config: Option<EncryptedSecret>,
    ) -> Result<Arc<Project>, PlatformError> {
        self.update_resources(project_id, |project| resources_document(project.byo_db.as_ref(), config.as_ref())).await
    }

    /// Rewrites the project's `resources` from its current stored form (under the write lock, so
    /// a change of one resource keeps the other).
    async fn update_resources(
        &self,
        project_id: &str,
        resources: impl FnOnce(&Project) -> Value,
    ) -> Result<Arc<Project>, PlatformError> {
        let _guard = self.write_lock.lock().await;
        let project = self.catalog.load_project(project_id).await?.ok_or(PlatformError::ProjectNotFound)?;
        let mut set = Document::new();
        set.insert("resources".into(), resources(&project));
        self.catalog.update(PROJECTS_COLLECTION, project_id, set).await?.ok_or(PlatformError::ProjectNotFound)?;
        self.committed(project_id).await?.ok_or(PlatformError::ProjectNotFound)
    }

    /// Sets the project's site URL (see [`normalize_site_url`]; empty unsets it, which leaves
    /// enabled providers unusable until a new one is set).
    pub async fn set_site_url(&self, project_id: &str, url: &str) -> Result<Arc<Project>, PlatformError> {
        let mut set = Document::new();
        set.insert("siteUrl".into(), Value::String(normalize_site_url(url)?));
        self.update_project(project_id, set).await
    }

    /// Lets the project's users upload files into their own folder with the publishable key and
    /// their token, or stops it (files already there stay).
    pub async fn set_user_file_uploads(&self, project_id: &str, enabled: bool) -> Result<Arc<Project>, PlatformError> {
        let mut set = Document::new();
        set.insert("userFileUploads".into(), Value::Bool(enabled));
        self.update_project(project_id, set).await
    }

    /// Changes one social login provider's settings (`github` or `google`): enabling needs a
    /// client id, a client secret (already encrypted with the master key) and a site URL.
    pub async fn set_auth_provider(
        &self,
        project_id: &str,
        provider: &str,
        update: OAuthProviderUpdate,
    ) -> Result<Arc<Project>, PlatformError> {
        let provider =
            oauth_provider(provider).ok_or_else(|| PlatformError::BadRequest(UNSUPPORTED_PROVIDER.to_owned()))?;
        let _guard = self.write_lock.lock().await;
        let project = self.catalog.load_project(project_id).await?.ok_or(PlatformError::ProjectNotFound)?;
        let mut providers = project.auth_providers.clone();
        providers.set(provider, update.apply(project.auth_providers.get(provider), &project.site_url)?);
        let mut set = Document::new();
        set.insert("authProviders".into(), providers.to_document());
        self.catalog.update(PROJECTS_COLLECTION, project_id, set).await?.ok_or(PlatformError::ProjectNotFound)?;
        self.committed(project_id).await?.ok_or(PlatformError::ProjectNotFound)
    }

    // ---- collections ------------------------------------------------------------------------

    /// Creates or replaces a collection definition (dashboard and CLI): validates it, creates the
    /// unique indexes it declares (refusing, with spec §6.5's text, when values repeat, and then
    /// rolling back the index changes of this call), drops the unique indexes it no longer
    /// declares, creates the owner index when RLS is on, and saves it. Returns the saved
    /// definition (with its id and canonical owner field). For a project with its own database,
    /// use [`Platform::put_collection_in`].
    pub async fn put_collection(&self, project_id: &str, def: CollectionDef) -> Result<CollectionDef, PlatformError> {
        self.put(project_id, def, PutMode::CreateOrReplace, None).await
    }

    /// [`Platform::put_collection`] with the indexes managed in `data`, the project's own
    /// database.
    pub async fn put_collection_in(
        &self,
        project_id: &str,
        def: CollectionDef,
        data: &dyn DocumentStore,
    ) -> Result<CollectionDef, PlatformError> {
        self.put(project_id, def, PutMode::CreateOrReplace, Some(data)).await
    }

    /// Creates a collection, refusing an existing name with `400 Collection/Schema already
    /// exists` (public `POST /api/schemas`).
    pub async fn create_collection(
        &self,
        project_id: &str,
        def: CollectionDef,
    ) -> Result<CollectionDef, PlatformError> {
        self.put(project_id, def, PutMode::CreateOnly, None).await
    }

    async fn put(
        &self,
        project_id: &str,
        def: CollectionDef,
        mode: PutMode,
        data: Option<&dyn DocumentStore>,
    ) -> Result<CollectionDef, PlatformError> {
        let _guard = self.write_lock.lock().await;
        let saved = self.put_locked(project_id, def, mode, data).await?;
        self.committed(project_id).await?;
        Ok(saved)
    }

    fn data_store<'a>(
        &'a self,
        project: &Project,
        data: Option<&'a dyn DocumentStore>,
    ) -> Result<&'a dyn DocumentStore, PlatformError> {
        match (data, project.uses_own_database()) {
            (Some(data), _) => Ok(data),
            (None, false) => Ok(self.catalog.store().as_ref()),
            (None, true) => Err(PlatformError::Internal(format!(
                "project {} uses its own database: pass its store to manage collections",
                project.id
            ))),
        }
    }

    async fn put_locked(
        &self,
        project_id: &str,
        def: CollectionDef,
        mode: PutMode,
        data: Option<&dyn DocumentStore>,
    ) -> Result<CollectionDef, PlatformError> {
        let mut def = def.validated()?;
        let project = self.catalog.load_project(project_id).await?.ok_or(PlatformError::ProjectNotFound)?;
        let store = self.data_store(&project, data)?;
        let doc_id = collection_doc_id(&project.id, &def.name);
        let previous = self.catalog.load_collection(&doc_id).await?;
        if mode == PutMode::CreateOnly && previous.is_some() {
            return Err(PlatformError::BadRequest(COLLECTION_EXISTS.to_owned()));
        }
        def.id = Some(doc_id.clone());
        let physical = project.physical_name(&def.name);
        let schema = def.query_schema();
        let spec = CollectionSpec { physical: &physical, schema: &schema };
        let old = previous.as_ref().map(CollectionDef::unique_indexes).unwrap_or_default();
        let mut changes = IndexChanges::default();
        let outcome = async {
            apply_indexes(store, &spec, &old, &def.unique_indexes(), &mut changes).await?;
            if def.rls.enabled && def.rls.owner_field != "_id" {
                store.create_owner_index(&spec, &def.rls.owner_field).await?;
            }
            self.catalog.save_collection(&doc_id, &project.id, &def).await
        }
        .await;
        if let Err(e) = outcome {
            roll_back(store, &spec, changes).await;
            return Err(e);
        }
        Ok(def)
    }

    /// Deletes a collection: its documents and indexes, then its definition.
    pub async fn delete_collection(&self, project_id: &str, name: &str) -> Result<(), PlatformError> {
        self.delete_collection_inner(project_id, name, None).await
    }

    /// [`Platform::delete_collection`] for a project with its own database `data`.
    pub async fn delete_collection_in(
        &self,
        project_id: &str,
        name: &str,
        data: &dyn DocumentStore,
    ) -> Result<(), PlatformError> {
        self.delete_collection_inner(project_id, name, Some(data)).await
    }

    async fn delete_collection_inner(
        &self,
        project_id: &str,
        name: &str,
        data: Option<&dyn DocumentStore>,
    ) -> Result<(), PlatformError> {
        let _guard = self.write_lock.lock().await;
        let project = self.catalog.load_project(project_id).await?.ok_or(PlatformError::ProjectNotFound)?;
        let def = project.collection(name).ok_or(PlatformError::CollectionNotFound)?;
        let store = self.data_store(&project, data)?;
        let physical = project.physical_name(name);
        let schema = def.query_schema();
        store.drop_collection(&CollectionSpec { physical: &physical, schema: &schema }).await?;
        self.catalog.delete(COLLECTIONS_COLLECTION, &collection_doc_id(&project.id, name)).await?;
        self.committed(project_id).await?;
        Ok(())
    }
}

/// Brings the unique indexes from `old` to `new`: drops those no longer declared alike (a changed
/// `required` flag means a different partial filter), then creates the new ones, recording each
/// change for a rollback.
async fn apply_indexes(
    store: &dyn DocumentStore,
    spec: &CollectionSpec<'_>,
    old: &[UniqueIndex],
    new: &[UniqueIndex],
    changes: &mut IndexChanges,
) -> Result<(), PlatformError> {
    for index in old.iter().filter(|index| !new.contains(index)) {
        store.drop_unique_index(spec, &index.field).await?;
        changes.dropped.push(index.clone());
    }
    for index in new.iter().filter(|index| !old.contains(index)) {
        store.create_unique_index(spec, index).await?;
        changes.created.push(index.clone());
    }
    Ok(())
}

/// Undoes the index changes of a failed save, best effort (the original error is what the caller
/// reports).
async fn roll_back(store: &dyn DocumentStore, spec: &CollectionSpec<'_>, changes: IndexChanges) {
    for index in changes.created.iter().rev() {
        let _ = store.drop_unique_index(spec, &index.field).await;
    }
    for index in changes.dropped.iter().rev() {
        let _ = store.create_unique_index(spec, index).await;
    }
}
