//! Webhook configuration (spec §11.1, §16): per project, a URL, a secret stored encrypted with the
//! master key (the original's `{encrypted, iv, tag}` form), and per collection which of insert,
//! update and delete are sent. There is no plaintext mode: adding a webhook without a master key
//! is refused, as storing an OAuth client secret is.
//!
//! Configurations live in `_urbackend_webhooks`; every change sets a fresh random token in
//! `_urbackend_webhook_meta` *after* the write, and [`Registry`] (the snapshot the data path
//! reads) reloads when it sees a new token, polled every 250 ms, so a webhook added by the CLI
//! reaches every running server within a second.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use platform::{EncryptedSecret, MasterKey, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use store::{Document, DocumentStore, new_object_id};
use tokio::task::JoinHandle;

use crate::system::{SystemStore, filter, object, text};
use crate::{WEBHOOK_META_COLLECTION, WEBHOOKS_COLLECTION, WebhookError, address};

/// The id of the change-token document.
const TOKEN_ID: &str = "000000000000000000000001";
/// How often [`Registry::spawn_refresh`] polls the change token.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(250);
/// Secret lengths accepted (spec §11.1).
const SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=256;

/// A data change that may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A document was inserted (single insert).
    Insert,
    /// A document was updated (PUT or PATCH).
    Update,
    /// A document was deleted.
    Delete,
}

impl Action {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<Action> {
        match text.trim() {
            "insert" => Some(Action::Insert),
            "update" => Some(Action::Update),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// Which actions of which collections a webhook receives: `{collection: {insert, update, delete}}`.
pub type Events = BTreeMap<String, BTreeMap<Action, bool>>;

/// Parses `COLLECTION:insert,update,delete` specifications (one per collection) into [`Events`].
pub fn parse_events(specs: &[String]) -> Result<Events, WebhookError> {
    let invalid =
        |s: &str| WebhookError::Invalid(format!("Invalid events {s:?}: use COLLECTION:insert,update,delete."));
    let mut events = Events::new();
    for spec in specs {
        let (collection, actions) = spec.split_once(':').ok_or_else(|| invalid(spec))?;
        let collection = collection.trim();
        if collection.is_empty() || actions.trim().is_empty() {
            return Err(invalid(spec));
        }
        let entry = events.entry(collection.to_owned()).or_default();
        for action in [Action::Insert, Action::Update, Action::Delete] {
            entry.entry(action).or_insert(false);
        }
        for action in actions.split(',') {
            entry.insert(Action::parse(action).ok_or_else(|| invalid(spec))?, true);
        }
    }
    if events.is_empty() {
        return Err(WebhookError::Invalid("A webhook needs at least one --events COLLECTION:actions.".into()));
    }
    Ok(events)
}

/// A configured webhook. Its secret is never serialised.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// The id (24 hex).
    #[serde(rename = "_id")]
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The target URL.
    pub url: String,
    /// The events sent.
    pub events: Events,
    /// Whether it is on.
    pub enabled: bool,
    /// When it was created.
    pub created_at: String,
    #[serde(skip)]
    secret: Option<EncryptedSecret>,
}

impl Webhook {
    /// Whether this webhook wants `action` on `collection`.
    pub fn wants(&self, collection: &str, action: Action) -> bool {
        self.enabled && self.events.get(collection).and_then(|a| a.get(&action)).copied().unwrap_or(false)
    }

    /// The decrypted secret.
    pub fn secret(&self, key: &MasterKey) -> Result<SecretString, WebhookError> {
        let secret = self.secret.as_ref().ok_or_else(|| WebhookError::Internal("no stored secret".into()))?;
        Ok(key.decrypt_str(secret)?)
    }

    fn from_document(doc: &Document) -> Option<Webhook> {
        let events = doc.get("events")?.as_object()?;
        let events = events
            .iter()
            .map(|(collection, actions)| {
                let actions = [Action::Insert, Action::Update, Action::Delete]
                    .into_iter()
                    .map(|a| (a, actions.get(a.as_str()).and_then(Value::as_bool).unwrap_or(false)))
                    .collect();
                (collection.clone(), actions)
            })
            .collect();
        Some(Webhook {
            id: text(doc, "_id")?.to_owned(),
            project_id: text(doc, "projectId")?.to_owned(),
            url: text(doc, "url")?.to_owned(),
            events,
            enabled: doc.get("enabled").and_then(Value::as_bool).unwrap_or(false),
            created_at: text(doc, "createdAt").unwrap_or_default().to_owned(),
            secret: doc.get("secret").cloned().and_then(|s| serde_json::from_value(s).ok()),
        })
    }
}

/// Adds, lists and removes webhooks in the store.
#[derive(Clone)]
pub struct WebhookStore {
    system: SystemStore,
}

impl WebhookStore {
    /// The webhooks of this store.
    pub fn on(store: Arc<dyn DocumentStore>) -> WebhookStore {
        WebhookStore { system: SystemStore::new(store) }
    }

    pub(crate) fn system(&self) -> &SystemStore {
        &self.system
    }

    /// Adds a webhook: checks the URL (see [`address::check_url`]) and the secret's length, and
    /// stores the secret encrypted with the master key.
    pub async fn add(
        &self,
        project_id: &str,
        url: &str,
        secret: &str,
        events: Events,
        key: &MasterKey,
        allow_private: bool,
    ) -> Result<Webhook, WebhookError> {
        let url = address::check_url(url.trim(), allow_private).map_err(WebhookError::Invalid)?;
        if !SECRET_LEN.contains(&secret.chars().count()) {
            return Err(WebhookError::Invalid("The webhook secret must be 16 to 256 characters.".into()));
        }
        let encrypted = key.encrypt_str(secret)?;
        let doc = object(json!({
            "_id": new_object_id(),
            "projectId": project_id,
            "url": url.as_str(),
            "secret": encrypted,
            "events": events,
            "enabled": true,
        }));
        let stored = self.system.insert(WEBHOOKS_COLLECTION, doc).await?;
        self.bump_token().await?;
        Webhook::from_document(&stored).ok_or_else(|| WebhookError::Internal("stored webhook is malformed".into()))
    }

    /// The webhooks of a project, oldest first.
    pub async fn list(&self, project_id: &str) -> Result<Vec<Webhook>, WebhookError> {
        let filter = filter(&[("projectId", project_id)], None)?;
        let docs = self.system.find(WEBHOOKS_COLLECTION, filter, "createdAt", query::SortOrder::Asc, 1000).await?;
        Ok(docs.iter().filter_map(Webhook::from_document).filter(|w| w.project_id == project_id).collect())
    }

    /// Removes a webhook of a project; its pending events then fail with
    /// `Webhook disabled or not found`.
    pub async fn remove(&self, project_id: &str, id: &str) -> Result<Webhook, WebhookError> {
        let not_found = || WebhookError::NotFound("Webhook not found".into());
        let doc = self.system.get(WEBHOOKS_COLLECTION, id).await?.ok_or_else(not_found)?;
        let hook = Webhook::from_document(&doc).filter(|w| w.project_id == project_id).ok_or_else(not_found)?;
        self.system.delete(WEBHOOKS_COLLECTION, id).await?;
        self.bump_token().await?;
        Ok(hook)
    }

    /// One webhook by id.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Webhook>, WebhookError> {
        Ok(self.system.get(WEBHOOKS_COLLECTION, id).await?.as_ref().and_then(Webhook::from_document))
    }

    async fn all(&self) -> Result<Vec<Webhook>, WebhookError> {
        let docs = self
            .system
            .find(WEBHOOKS_COLLECTION, filter(&[], None)?, "createdAt", query::SortOrder::Asc, 100_000)
            .await?;
        Ok(docs.iter().filter_map(Webhook::from_document).collect())
    }

    async fn token(&self) -> Result<Option<String>, WebhookError> {
        let doc = self.system.get(WEBHOOK_META_COLLECTION, TOKEN_ID).await?;
        Ok(doc.as_ref().and_then(|d| text(d, "token")).map(str::to_owned))
    }

    async fn bump_token(&self) -> Result<(), WebhookError> {
        let set = object(json!({"token": new_object_id()}));
        if self.system.update(WEBHOOK_META_COLLECTION, TOKEN_ID, &set).await?.is_some() {
            return Ok(());
        }
        let mut doc = set.clone();
        doc.insert("_id".into(), Value::String(TOKEN_ID.to_owned()));
        if !self.system.insert_if_absent(WEBHOOK_META_COLLECTION, doc).await? {
            self.system.update(WEBHOOK_META_COLLECTION, TOKEN_ID, &set).await?;
        }
        Ok(())
    }
}

/// The webhooks by project.
type ByProject = Arc<HashMap<String, Vec<Webhook>>>;

/// The enabled webhooks of every project, in memory, reloaded when the change token moves.
pub struct Registry {
    store: WebhookStore,
    snapshot: RwLock<(Option<String>, ByProject)>,
}

impl Registry {
    /// Loads the webhooks of the store (and creates the per-project index).
    pub async fn open(store: Arc<dyn DocumentStore>) -> Result<Registry, WebhookError> {
        let store = WebhookStore::on(store);
        store.system.index(WEBHOOKS_COLLECTION, "projectId").await?;
        let registry = Registry { store, snapshot: RwLock::new((None, Arc::default())) };
        registry.refresh().await?;
        Ok(registry)
    }

    /// The webhooks of a project that want `action` on `collection`.
    pub fn matching(&self, project_id: &str, collection: &str, action: Action) -> Vec<Webhook> {
        let snapshot = match self.snapshot.read() {
            Ok(guard) => guard.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        };
        snapshot
            .get(project_id)
            .map(|hooks| hooks.iter().filter(|w| w.wants(collection, action)).cloned().collect())
            .unwrap_or_default()
    }

    /// Reloads when the token changed; `true` when it reloaded.
    pub async fn refresh(&self) -> Result<bool, WebhookError> {
        // Read before the webhooks: a change announced after this read is seen by the next poll.
        let token = self.store.token().await?.unwrap_or_default();
        let current = match self.snapshot.read() {
            Ok(guard) => guard.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        };
        if current.as_ref() == Some(&token) {
            return Ok(false);
        }
        let mut by_project: HashMap<String, Vec<Webhook>> = HashMap::new();
        for hook in self.store.all().await? {
            by_project.entry(hook.project_id.clone()).or_default().push(hook);
        }
        let fresh = (Some(token), Arc::new(by_project));
        match self.snapshot.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(true)
    }

    /// Polls the change token every [`REFRESH_INTERVAL`] until the task is aborted.
    pub fn spawn_refresh(self: &Arc<Self>) -> JoinHandle<()> {
        let registry = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH_INTERVAL).await;
                if let Err(e) = registry.refresh().await {
                    tracing::warn!(error = %e, "reloading the webhooks failed");
                }
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn events_parse() {
        let events = parse_events(&["posts:insert,delete".into(), "tags:update".into()]).unwrap();
        let posts = &events["posts"];
        assert_eq!((posts[&Action::Insert], posts[&Action::Update], posts[&Action::Delete]), (true, false, true));
        assert!(events["tags"][&Action::Update]);
        for bad in ["posts", "posts:", ":insert", "posts:upsert", "posts:insert,,update"] {
            assert!(parse_events(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_events(&[]).is_err());
    }
}
