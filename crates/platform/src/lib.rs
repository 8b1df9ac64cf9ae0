//! The platform of urbackend-rs: projects, their API keys, their collection definitions and the
//! validation of both definitions and documents, and the configuration that every running
//! server sees.
//!
//! * [`model`]: the collection model in urBackend's JSON shape ([`CollectionDef`], [`Field`]),
//!   and its conversions to the query schema and the RLS configuration.
//! * [`definition`]: validation of collection definitions (spec §6.4) in both input shapes.
//! * [`validate`]: validation of documents on insert and update (spec §6.3).
//! * [`keys`] and [`secrets`]: API keys and JWT secrets (spec §3.1), and AES-256-GCM encryption of
//!   secrets at rest (spec §13.6).
//! * [`providers`]: a project's social login providers and site URL (spec §8.12).
//! * [`admin`]: operator tokens, stored as SHA-256 hashes only.
//! * [`import`]: a project exported from urBackend (spec §16) read for
//!   [`Platform::import_project`].
//! * [`Platform`]: projects kept in reserved collections of the platform store, with an
//!   in-memory snapshot that every process sharing the store keeps fresh within a second.
//!
//! Every client-facing text is the original's where it had one; the error types carry the HTTP
//! status ([`PlatformError::status`]).
//!
//! ```
//! use platform::{CollectionDef, validate_insert};
//! use serde_json::json;
//!
//! let def = CollectionDef::from_json(&json!({"name": "posts",
//!     "model": [{"key": "title", "type": "String", "required": true},
//!               {"key": "at", "type": "Date"}],
//!     "rls": {"enabled": true, "mode": "private", "ownerField": "userId"}}))?;
//! assert_eq!(def.rls_config().owner_field, "userId");
//!
//! let doc = json!({"title": "  Hello ", "at": 0}).as_object().cloned().unwrap_or_default();
//! let stored = validate_insert(&def, doc)?;
//! assert_eq!(stored["title"], "Hello");
//! assert_eq!(stored["at"], "1970-01-01T00:00:00.000Z");
//!
//! let refused = validate_insert(&def, Default::default()).unwrap_err();
//! assert_eq!((refused.status(), refused.message()), (400, "Field 'title' is required."));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod admin;
pub mod byo_storage;
mod cache;
mod catalog;
mod date;
pub mod definition;
mod error;
pub mod import;
pub mod keys;
pub mod model;
mod project;
pub mod providers;
mod resolver;
pub mod secrets;
mod service;
pub mod validate;

pub use admin::{ADMIN_TOKENS_COLLECTION, AdminTokens, NewAdminToken};
pub use byo_storage::ByoStorage;
pub use definition::DefinitionError;
pub use error::PlatformError;
pub use import::{ImportError, ProjectImport, SetAgain};
pub use keys::{ApiKeys, hash_key, hashes_equal};
pub use model::{CollectionDef, Field, FieldKind, Items, RlsSettings};
pub use project::{Project, platform_physical_name};
pub use providers::{AuthProviders, OAuthProvider, OAuthProviderUpdate, normalize_site_url, oauth_provider};
pub use resolver::{PlatformStoreOnly, StoreResolver};
pub use rls_core::KeyRole;
pub use secrets::{EncryptedSecret, MasterKey, SecretError, SecretString};
pub use service::{
    COLLECTION_EXISTS, COLLECTIONS_COLLECTION, CreateOptions, META_COLLECTION, PROJECT_NAME_REQUIRED,
    PROJECTS_COLLECTION, Platform, REFRESH_INTERVAL, RESERVED_PREFIX, is_reserved_physical_name,
};
pub use validate::{ValidationError, validate_insert, validate_update};
