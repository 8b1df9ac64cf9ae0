//! A project as every running server sees it, and its stored form.
//!
//! A project is stored as one document of the reserved `_urbackend_projects` collection in the
//! original's field names (`name`, `publishableKey` and `secretKey` holding SHA-256 hashes,
//! `jwtSecret`, `isAuthEnabled`, `allowedDomains`, `resources.db.{isExternal, config}`,
//! `resources.storage.{isExternal, config}`, `siteUrl`, `authProviders`; ours: `userFileUploads`),
//! and each
//! of its collection definitions as one document of `_urbackend_collections`
//! (`{projectId, name, model, rls}`) whose id is derived from the project id and the name, so
//! that two processes defining different collections of one project never overwrite each other.

use std::fmt;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use store::Document;

use crate::model::CollectionDef;
use crate::providers::AuthProviders;
use crate::secrets::EncryptedSecret;

/// A project.
#[derive(Clone, PartialEq)]
pub struct Project {
    /// The project id, 24 lower-case hex characters.
    pub id: String,
    /// The display name.
    pub name: String,
    /// SHA-256 (hex) of the publishable key.
    pub publishable_key_hash: String,
    /// SHA-256 (hex) of the secret key.
    pub secret_key_hash: String,
    /// The secret end-user access tokens are signed with (`jwt_…`).
    pub jwt_secret: String,
    /// Whether `/api/userAuth` is enabled.
    pub auth_enabled: bool,
    /// The collection definitions, in name order.
    pub collections: Vec<CollectionDef>,
    /// The origins publishable keys may be used from (default `["*"]`).
    pub allowed_domains: Vec<String>,
    /// The project's own MongoDB URI, encrypted, when it brings one.
    pub byo_db: Option<EncryptedSecret>,
    /// The project's own bucket settings, encrypted (see [`crate::ByoStorage`]), when it brings
    /// one.
    pub byo_storage: Option<EncryptedSecret>,
    /// The project's web site (`https://…`, no trailing `/`; empty when unset): social logins
    /// redirect to `<site_url>/auth/callback` and nowhere else.
    pub site_url: String,
    /// Social login providers.
    pub auth_providers: AuthProviders,
    /// Whether users may upload files with the publishable key and their token, into their own
    /// folder (`userFileUploads`; off by default, as the original allowed only the secret key).
    pub user_file_uploads: bool,
    /// When the project was created (ISO 8601).
    pub created_at: String,
    /// When the project document last changed (ISO 8601).
    pub updated_at: String,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("jwt_secret", &"<redacted>")
            .field("auth_enabled", &self.auth_enabled)
            .field("collections", &self.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>())
            .field("allowed_domains", &self.allowed_domains)
            .field("byo_db", &self.byo_db.as_ref().map(|_| "<encrypted>"))
            .field("byo_storage", &self.byo_storage.as_ref().map(|_| "<encrypted>"))
            .field("site_url", &self.site_url)
            .field("user_file_uploads", &self.user_file_uploads)
            .field("auth_providers", &self.auth_providers)
            .finish_non_exhaustive()
    }
}

impl Project {
    /// The collection definition with this exact name.
    pub fn collection(&self, name: &str) -> Option<&CollectionDef> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// Whether the project keeps its data in its own MongoDB.
    pub fn uses_own_database(&self) -> bool {
        self.byo_db.is_some()
    }

    /// The physical collection name of one of the project's collections (spec §1.3):
    /// `<projectId>_<name>` in the platform store, the plain name in the project's own
    /// database. A platform name always starts with 24 hex digits, so it can never equal a
    /// reserved platform collection (those start with `_urbackend_`).
    pub fn physical_name(&self, collection: &str) -> String {
        if self.uses_own_database() { collection.to_owned() } else { platform_physical_name(&self.id, collection) }
    }
}

/// `<projectId>_<name>`: a collection's physical name in the platform store.
pub fn platform_physical_name(project_id: &str, collection: &str) -> String {
    format!("{project_id}_{collection}")
}

/// Whether `id` is a 24 lower-case hex project id.
pub(crate) fn is_object_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The id of a collection definition's document: the first 12 bytes of
/// SHA-256(`<projectId>/<name>`), as 24 hex characters.
pub(crate) fn collection_doc_id(project_id: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{project_id}/{name}").as_bytes());
    hex::encode(digest.get(..12).unwrap_or_default())
}

/// `{isExternal, config?}`: one external resource of a project.
fn resource(config: Option<&EncryptedSecret>) -> Value {
    let mut out = Map::new();
    out.insert("isExternal".into(), Value::Bool(config.is_some()));
    if let Some(config) = config {
        out.insert("config".into(), json!({"encrypted": config.encrypted, "iv": config.iv, "tag": config.tag}));
    }
    Value::Object(out)
}

/// The stored `resources` of a project: its own database and its own bucket.
pub(crate) fn resources_document(db: Option<&EncryptedSecret>, storage: Option<&EncryptedSecret>) -> Value {
    json!({"db": resource(db), "storage": resource(storage)})
}

/// The stored form of a project (without its collections, `_id` included).
pub(crate) fn project_document(project: &Project) -> Document {
    let mut doc = Document::new();
    doc.insert("_id".into(), Value::String(project.id.clone()));
    doc.insert("name".into(), Value::String(project.name.clone()));
    doc.insert("publishableKey".into(), Value::String(project.publishable_key_hash.clone()));
    doc.insert("secretKey".into(), Value::String(project.secret_key_hash.clone()));
    doc.insert("jwtSecret".into(), Value::String(project.jwt_secret.clone()));
    doc.insert("isAuthEnabled".into(), Value::Bool(project.auth_enabled));
    doc.insert("allowedDomains".into(), json!(project.allowed_domains));
    doc.insert("resources".into(), resources_document(project.byo_db.as_ref(), project.byo_storage.as_ref()));
    doc.insert("siteUrl".into(), Value::String(project.site_url.clone()));
    doc.insert("authProviders".into(), project.auth_providers.to_document());
    doc.insert("userFileUploads".into(), Value::Bool(project.user_file_uploads));
    doc
}

/// Reads a stored project document; `None` when it is malformed (it is then unreachable: fail
/// closed).
pub(crate) fn project_from_document(doc: &Document, collections: Vec<CollectionDef>) -> Option<Project> {
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text("_id").filter(|id| is_object_id(id))?;
    let hash_ok = |h: &String| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    let allowed_domains = match doc.get("allowedDomains") {
        None | Some(Value::Null) => vec!["*".to_owned()],
        Some(value) => serde_json::from_value(value.clone()).ok()?,
    };
    let external = |name: &str| -> Option<Option<EncryptedSecret>> {
        match doc.get("resources").and_then(|r| r.get(name)) {
            Some(r) if r.get("isExternal").and_then(Value::as_bool) == Some(true) => {
                Some(Some(serde_json::from_value(r.get("config")?.clone()).ok()?))
            }
            _ => Some(None),
        }
    };
    let byo_db = external("db")?;
    let byo_storage = external("storage")?;
    Some(Project {
        id,
        name: text("name")?,
        publishable_key_hash: text("publishableKey").filter(hash_ok)?,
        secret_key_hash: text("secretKey").filter(hash_ok)?,
        jwt_secret: text("jwtSecret").filter(|s| !s.is_empty())?,
        auth_enabled: doc.get("isAuthEnabled").and_then(Value::as_bool).unwrap_or(false),
        collections,
        allowed_domains,
        byo_db,
        byo_storage,
        site_url: text("siteUrl").unwrap_or_default(),
        auth_providers: AuthProviders::from_document(doc.get("authProviders")),
        user_file_uploads: doc.get("userFileUploads").and_then(Value::as_bool).unwrap_or(false),
        created_at: text("createdAt").unwrap_or_default(),
        updated_at: text("updatedAt").unwrap_or_default(),
    })
}

/// The stored form of a collection definition (without `_id`).
pub(crate) fn collection_document(project_id: &str, def: &CollectionDef) -> Document {
    let mut doc = Document::new();
    doc.insert("projectId".into(), Value::String(project_id.to_owned()));
    doc.insert("name".into(), Value::String(def.name.clone()));
    doc.insert("model".into(), serde_json::to_value(&def.model).unwrap_or_else(|_| Value::Array(Vec::new())));
    doc.insert("rls".into(), serde_json::to_value(&def.rls).unwrap_or_else(|_| json!({})));
    doc
}

/// Reads a stored collection definition: `(projectId, definition)`, `None` when malformed.
pub(crate) fn collection_from_document(doc: &Document) -> Option<(String, CollectionDef)> {
    let project_id = doc.get("projectId").and_then(Value::as_str)?.to_owned();
    let def = CollectionDef {
        id: doc.get("_id").and_then(Value::as_str).map(str::to_owned),
        name: doc.get("name").and_then(Value::as_str)?.to_owned(),
        model: serde_json::from_value(doc.get("model").cloned().unwrap_or(Value::Array(Vec::new()))).ok()?,
        rls: serde_json::from_value(doc.get("rls").cloned().unwrap_or_else(|| json!({}))).ok()?,
    };
    Some((project_id, def))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Field, FieldKind};

    fn sample() -> Project {
        Project {
            id: "0123456789abcdef01234567".into(),
            name: "demo".into(),
            publishable_key_hash: "a".repeat(64),
            secret_key_hash: "b".repeat(64),
            jwt_secret: "jwt_secret_value".into(),
            auth_enabled: true,
            collections: Vec::new(),
            allowed_domains: vec!["*".into()],
            byo_db: None,
            byo_storage: None,
            site_url: String::new(),
            auth_providers: AuthProviders::default(),
            user_file_uploads: false,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn project_documents_round_trip() {
        let mut project = sample();
        assert_eq!(project_from_document(&project_document(&project), Vec::new()), Some(project.clone()));
        project.byo_db = Some(EncryptedSecret { encrypted: "00".into(), iv: "11".into(), tag: "22".into() });
        project.byo_storage = Some(EncryptedSecret { encrypted: "33".into(), iv: "44".into(), tag: "55".into() });
        project.site_url = "https://app.example.com".into();
        project
            .auth_providers
            .set("google", crate::OAuthProvider { enabled: true, client_id: "cid".into(), ..Default::default() });
        let doc = project_document(&project);
        assert_eq!(doc["resources"]["db"]["isExternal"], true);
        assert_eq!(doc["resources"]["storage"]["config"]["iv"], "44");
        assert_eq!(doc["authProviders"]["google"]["clientId"], "cid");
        assert_eq!(project_from_document(&doc, Vec::new()), Some(project));
    }

    #[test]
    fn malformed_documents_are_refused() {
        let mut doc = project_document(&sample());
        doc.insert("secretKey".into(), json!("short"));
        assert_eq!(project_from_document(&doc, Vec::new()), None);
        let mut doc = project_document(&sample());
        doc.insert("_id".into(), json!("not-an-id"));
        assert_eq!(project_from_document(&doc, Vec::new()), None);
    }

    #[test]
    fn physical_names_never_hit_reserved_names() {
        let mut project = sample();
        assert_eq!(project.physical_name("posts"), "0123456789abcdef01234567_posts");
        assert!(!project.physical_name("x").starts_with('_'));
        project.byo_db = Some(EncryptedSecret { encrypted: String::new(), iv: String::new(), tag: String::new() });
        assert_eq!(project.physical_name("posts"), "posts");
    }

    #[test]
    fn collection_documents_round_trip() {
        let def = CollectionDef::new("posts", vec![Field::new("title", FieldKind::String).required()]);
        let mut doc = collection_document("0123456789abcdef01234567", &def);
        let id = collection_doc_id("0123456789abcdef01234567", "posts");
        assert!(is_object_id(&id));
        assert_ne!(id, collection_doc_id("0123456789abcdef01234567", "post"));
        doc.insert("_id".into(), json!(id));
        let (pid, back) = collection_from_document(&doc).unwrap();
        assert_eq!(pid, "0123456789abcdef01234567");
        assert_eq!(back, CollectionDef { id: Some(id), ..def });
    }

    #[test]
    fn debug_redacts_the_jwt_secret() {
        assert!(!format!("{:?}", sample()).contains("jwt_secret_value"));
    }
}
