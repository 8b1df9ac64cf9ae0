//! Moving a project over from urBackend: its exported project document (spec §16, as
//! `mongoexport` or Compass write it, see [`extjson`]) read into a [`ProjectImport`], which
//! [`crate::Platform::import_project`] then stores.
//!
//! What is kept: the project id (access tokens, file paths and data refer to it), the SHA-256
//! hashes of both API keys (deployed apps keep their keys; no key is made or shown), the JWT
//! secret (access tokens already issued stay valid until they expire), user auth on or off, the
//! site URL, the allowed origins, and every collection with its field model and RLS settings
//! (through the same validation as `collection put`, so a definition we could not serve is refused
//! here, naming the collection and, for a type we lack, the field).
//!
//! What is not: the original encrypts OAuth client secrets, the Resend API key and its own
//! database and storage settings with its own key, so they are listed in
//! [`ProjectImport::set_again`] with the command that sets each one here. Plan limits, usage
//! counters, the owning developer and legacy embedded mail templates have no equivalent.
//!
//! The documents of a collection, exported one collection per file, are read by
//! [`documents_from_export`] (for `collection import`).

mod documents;
pub mod extjson;

pub use documents::documents_from_export;

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::keys::generate_jwt_secret;
use crate::model::{CollectionDef, FieldKind};
use crate::project::{Project, is_object_id};
use crate::providers::{AuthProviders, OAUTH_PROVIDERS, OAuthProvider, normalize_site_url};

/// Why an exported document cannot be imported. The text names the setting, collection or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is not one project document.
    #[error("expected one exported project document (an object, or an array holding one), found {0}")]
    NotOneDocument(String),
    /// A project setting is missing or malformed.
    #[error("{setting}: {problem}")]
    Setting {
        /// The setting's name in the document (`_id`, `publishableKey`, …).
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A field's type has no equivalent here.
    #[error(
        "collection '{collection}', field '{field}': type '{kind}' has no equivalent here \
         (supported: String, Number, Boolean, Date, Object, Array, Ref)"
    )]
    UnknownType {
        /// The collection.
        collection: String,
        /// The field's path (`meta.likes`; `tags[]` for an array's items).
        field: String,
        /// The type as exported.
        kind: String,
    },
    /// A collection definition breaks a rule of ours (the text is the definition check's).
    #[error("collection '{collection}': {problem}")]
    Collection {
        /// The collection's name (or `#<index>` when it has none).
        collection: String,
        /// The definition check's text.
        problem: String,
    },
}

/// A setting that could not be carried over and must be set again here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAgain {
    /// The setting in the exported document (`authProviders.github.clientSecret`, …).
    pub setting: String,
    /// What to do about it.
    pub how: String,
}

/// An exported project, read and checked, ready for [`crate::Platform::import_project`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectImport {
    /// The project as it will be stored (`byo_db` is `None`: the caller sets it from a URI it is
    /// given, see [`ProjectImport::own_database`]). Its collections are empty; see `collections`.
    pub project: Project,
    /// The collection definitions, validated, in the document's order.
    pub collections: Vec<CollectionDef>,
    /// Whether the original kept this project's data in the project's own MongoDB
    /// (`resources.db.isExternal`); its URI is encrypted with the original's key and must be
    /// given again.
    pub own_database: bool,
    /// Whether the document had no JWT secret and a new one was made (then access tokens issued
    /// by the original are not accepted; users log in again).
    pub new_jwt_secret: bool,
    /// What must be set again, in document order.
    pub set_again: Vec<SetAgain>,
}

impl ProjectImport {
    /// Reads an exported project document: an object, or an array holding exactly one (as
    /// `mongoexport --jsonArray` writes it); extended JSON or plain JSON.
    pub fn from_export(value: &Value) -> Result<ProjectImport, ImportError> {
        let doc = match value {
            Value::Object(_) => value.clone(),
            Value::Array(items) if items.len() == 1 => items.iter().next().cloned().unwrap_or_default(),
            Value::Array(items) => return Err(ImportError::NotOneDocument(format!("an array of {}", items.len()))),
            other => return Err(ImportError::NotOneDocument(crate::definition::js_type(Some(other)).to_owned())),
        };
        let Value::Object(doc) = extjson::to_plain(doc) else {
            return Err(ImportError::NotOneDocument("an array holding something else".to_owned()));
        };
        let id = text(&doc, "_id")?
            .map(|id| id.to_ascii_lowercase())
            .filter(|id| is_object_id(id))
            .ok_or_else(|| setting("_id", "expected the project's ObjectId (24 hex characters)"))?;
        let name = text(&doc, "name")?
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| setting("name", "expected the project's name"))?;
        let publishable_key_hash = key_hash(&doc, "publishableKey")?;
        let secret_key_hash = key_hash(&doc, "secretKey")?;
        let (jwt_secret, new_jwt_secret) = match text(&doc, "jwtSecret")? {
            Some(secret) if !secret.is_empty() => (secret.to_owned(), false),
            _ => (generate_jwt_secret().map_err(|e| setting("jwtSecret", &e.to_string()))?, true),
        };
        let auth_enabled = match doc.get("isAuthEnabled") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(setting("isAuthEnabled", "expected true or false")),
        };
        let site_url = normalize_site_url(text(&doc, "siteUrl")?.unwrap_or_default())
            .map_err(|e| setting("siteUrl", &e.to_string()))?;
        let allowed_domains = match doc.get("allowedDomains") {
            None | Some(Value::Null) => vec!["*".to_owned()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(|s| s.trim().to_owned()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| setting("allowedDomains", "expected a list of strings"))?
                .into_iter()
                .filter(|d| !d.is_empty())
                .collect(),
            Some(_) => return Err(setting("allowedDomains", "expected a list of strings")),
        };
        let collections = collections(&doc)?;
        let mut set_again = Vec::new();
        let auth_providers = providers(&doc, &id, &mut set_again);
        let own_database = is_external(&doc, "db");
        secrets_left_behind(&doc, &id, own_database, &mut set_again);
        let project = Project {
            id,
            name,
            publishable_key_hash,
            secret_key_hash,
            jwt_secret,
            auth_enabled,
            collections: Vec::new(),
            allowed_domains,
            byo_db: None,
            site_url,
            auth_providers,
            byo_storage: None,
            user_file_uploads: false,
            created_at: String::new(),
            updated_at: String::new(),
        };
        Ok(ProjectImport { project, collections, own_database, new_jwt_secret, set_again })
    }
}

fn setting(setting: &'static str, problem: &str) -> ImportError {
    ImportError::Setting { setting, problem: problem.to_owned() }
}

/// A string member (`None` when absent or null), refusing other types.
fn text<'a>(doc: &'a Map<String, Value>, key: &'static str) -> Result<Option<&'a str>, ImportError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(setting(key, "expected a string")),
    }
}

/// A stored key: the SHA-256 of the whole key, 64 hex characters (kept in lower case).
fn key_hash(doc: &Map<String, Value>, key: &'static str) -> Result<String, ImportError> {
    text(doc, key)?
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| setting(key, "expected the key's SHA-256 as 64 hex characters (as urBackend stores it)"))
}

fn is_external(doc: &Map<String, Value>, resource: &str) -> bool {
    doc.get("resources").and_then(|r| r.get(resource)).and_then(|r| r.get("isExternal")).and_then(Value::as_bool)
        == Some(true)
}

fn present(value: Option<&Value>) -> bool {
    value.is_some_and(|v| !v.is_null())
}

/// The social login providers without their client secrets, switched off when the secret is
/// left behind (they cannot work without it).
fn providers(doc: &Map<String, Value>, id: &str, set_again: &mut Vec<SetAgain>) -> AuthProviders {
    let mut out = AuthProviders::default();
    for provider in OAUTH_PROVIDERS {
        let Some(config) = doc.get("authProviders").and_then(|p| p.get(provider)) else { continue };
        let member = |key: &str| config.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        let enabled = config.get("enabled").and_then(Value::as_bool) == Some(true);
        if enabled || present(config.get("clientSecret")) {
            set_again.push(SetAgain {
                setting: format!("authProviders.{provider}.clientSecret"),
                how: format!(
                    "encrypted with urBackend's key; run `urbackend project set-oauth --project {id} --provider \
                     {provider} --client-id … --client-secret …` (imported switched off)"
                ),
            });
        }
        out.set(
            provider,
            OAuthProvider {
                enabled: false,
                client_id: member("clientId"),
                client_secret: None,
                redirect_uri: member("redirectUri"),
            },
        );
    }
    out
}

/// The other settings the original encrypted with its own key, or that have no equivalent.
fn secrets_left_behind(doc: &Map<String, Value>, id: &str, own_database: bool, set_again: &mut Vec<SetAgain>) {
    let mut push = |setting: &str, how: String| set_again.push(SetAgain { setting: setting.to_owned(), how });
    if present(doc.get("resendApiKey")) {
        push(
            "resendApiKey",
            "encrypted with urBackend's key; mail goes through this server's SMTP settings \
             (`serve --smtp-host …`)"
                .to_owned(),
        );
    }
    if own_database {
        push(
            "resources.db.config",
            format!(
                "encrypted with urBackend's key; give the project's MongoDB URI with `--database-uri` \
                 (or later `urbackend project set-database --project {id} --uri …`)"
            ),
        );
    }
    if is_external(doc, "storage") {
        push(
            "resources.storage.config",
            format!(
                "encrypted with urBackend's key; set the project's own bucket again with `urbackend project \
                 set-storage --project {id} --bucket … --access-key-id … --secret-access-key …` (files stay in \
                 that bucket), or keep its files on this server's storage (see docs/MIGRATING.md)"
            ),
        );
    }
    if doc.get("mailTemplates").and_then(Value::as_array).is_some_and(|t| !t.is_empty()) {
        push(
            "mailTemplates",
            format!("legacy embedded templates; re-create each with `urbackend mail template put --project {id}`"),
        );
    }
}

/// The collection definitions, each through the same validation as `collection put`.
fn collections(doc: &Map<String, Value>) -> Result<Vec<CollectionDef>, ImportError> {
    let list = match doc.get("collections") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(setting("collections", "expected a list of collections")),
    };
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let label = entry.get("name").and_then(Value::as_str).map_or_else(|| format!("#{index}"), str::to_owned);
        let mut entry = entry.clone();
        if let Some(model) = entry.get_mut("model") {
            clean_fields(model, &label, "")?;
        }
        let def = CollectionDef::from_json(&entry)
            .map_err(|e| ImportError::Collection { collection: label.clone(), problem: e.message().to_owned() })?;
        if !seen.insert(def.name.clone()) {
            return Err(ImportError::Collection { collection: label, problem: "defined twice".to_owned() });
        }
        out.push(def);
    }
    Ok(out)
}

/// Prepares a stored field list for the definition parser: drops the members Mongoose stores
/// as `null` or that are ours to make (`_id`), and checks each type, naming the field when it is
/// one we lack. Lower-case type names (the public schema API's spelling) are capitalised.
fn clean_fields(fields: &mut Value, collection: &str, prefix: &str) -> Result<(), ImportError> {
    let Value::Array(fields) = fields else { return Ok(()) };
    for field in fields.iter_mut() {
        let Value::Object(field) = field else { continue };
        let key = field.get("key").and_then(Value::as_str).unwrap_or_default().to_owned();
        let path = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        field.retain(|name, value| name != "_id" && !value.is_null());
        check_type(field, collection, &path)?;
        if let Some(Value::Object(items)) = field.get_mut("items") {
            items.retain(|name, value| name != "_id" && !value.is_null());
            check_type(items, collection, &format!("{path}[]"))?;
            if let Some(sub) = items.get_mut("fields") {
                clean_fields(sub, collection, &format!("{path}[]"))?;
            }
        }
        if let Some(sub) = field.get_mut("fields") {
            clean_fields(sub, collection, &path)?;
        }
    }
    Ok(())
}

fn check_type(field: &mut Map<String, Value>, collection: &str, path: &str) -> Result<(), ImportError> {
    let Some(Value::String(name)) = field.get("type") else { return Ok(()) };
    match FieldKind::parse_lenient(name) {
        Some(kind) => {
            field.insert("type".to_owned(), Value::String(kind.as_str().to_owned()));
            Ok(())
        }
        None => Err(ImportError::UnknownType {
            collection: collection.to_owned(),
            field: path.to_owned(),
            kind: name.clone(),
        }),
    }
}

#[cfg(test)]
mod tests;
