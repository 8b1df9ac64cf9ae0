//! The inputs of a decision: who calls (key role and end user), and the collection's RLS
//! configuration.
//!
//! Configuration is taken as stored (a mode string, an owner field name) and interpreted here, so
//! that an unknown mode or a malformed owner field fails closed at decision time instead of
//! being silently read as something permissive.

use crate::denial::Denial;
use crate::keys;

/// The role of the API key that authenticated the request.
///
/// The role is decided by the key's prefix alone, as in the original: `sk_live_` is secret,
/// everything else is publishable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// A browser-safe `pk_live_…` key: subject to RLS.
    Publishable,
    /// A server-side `sk_live_…` key: bypasses RLS (never denied by it).
    Secret,
}

impl KeyRole {
    /// The role of an API key string, by its prefix.
    pub fn of_api_key(key: &str) -> KeyRole {
        if key.starts_with("sk_live_") { KeyRole::Secret } else { KeyRole::Publishable }
    }
}

/// Who is asking: the key role and, for publishable keys, the verified end user if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    role: KeyRole,
    user: Option<&'a str>,
}

impl<'a> Caller<'a> {
    /// A request made with the secret key. End-user tokens are not consulted for it.
    pub fn secret() -> Caller<'static> {
        Caller { role: KeyRole::Secret, user: None }
    }

    /// A request made with a publishable key, with the user id of a verified access token, or
    /// `None` when there was no token or it did not verify. A blank user id counts as none.
    pub fn publishable(user: Option<&'a str>) -> Caller<'a> {
        Caller { role: KeyRole::Publishable, user: user.filter(|u| !u.trim().is_empty()) }
    }

    /// The key role.
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// The authenticated end user, if any.
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }
}

/// An RLS mode as configured on a collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RlsMode {
    /// Everyone with the project's key may read; writes are owner-only.
    PublicRead,
    /// Reads and writes are owner-only.
    Private,
    /// Legacy name of [`RlsMode::PublicRead`], kept because stored configurations use it.
    OwnerWriteOnly,
    /// Any other stored value. Every decision that needs the mode denies (fail closed).
    Unsupported(String),
}

impl RlsMode {
    /// Interprets a stored mode string. Unknown values are kept as [`RlsMode::Unsupported`].
    pub fn parse(mode: &str) -> RlsMode {
        match mode {
            "public-read" => RlsMode::PublicRead,
            "private" => RlsMode::Private,
            "owner-write-only" => RlsMode::OwnerWriteOnly,
            other => RlsMode::Unsupported(other.to_owned()),
        }
    }

    /// The stored spelling of the mode.
    pub fn as_str(&self) -> &str {
        match self {
            RlsMode::PublicRead => "public-read",
            RlsMode::Private => "private",
            RlsMode::OwnerWriteOnly => "owner-write-only",
            RlsMode::Unsupported(other) => other,
        }
    }

    /// The effective mode: the legacy alias folded into `PublicRead`, unknown modes denied.
    pub(crate) fn effective(&self) -> Result<EffectiveMode, Denial> {
        match self {
            RlsMode::PublicRead | RlsMode::OwnerWriteOnly => Ok(EffectiveMode::PublicRead),
            RlsMode::Private => Ok(EffectiveMode::Private),
            RlsMode::Unsupported(_) => Err(Denial::unsupported_mode()),
        }
    }
}

/// The two modes the engine actually distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EffectiveMode {
    PublicRead,
    Private,
}

/// A collection's row-level security configuration, as stored (spec §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RlsConfig {
    /// Whether RLS applies. When off, publishable keys may read everything and write nothing.
    pub enabled: bool,
    /// The mode.
    pub mode: RlsMode,
    /// The field that holds the owning user's id (default `userId`).
    pub owner_field: String,
    /// Whether publishable-key writes need a user token. When `false`, anonymous inserts are
    /// allowed (they carry no owner); updates and deletes always need the owner.
    pub require_auth_for_write: bool,
}

impl Default for RlsConfig {
    /// The defaults of spec §7.1: off, `public-read`, `userId`, auth required for writes.
    fn default() -> Self {
        RlsConfig {
            enabled: false,
            mode: RlsMode::PublicRead,
            owner_field: "userId".to_owned(),
            require_auth_for_write: true,
        }
    }
}

impl RlsConfig {
    /// An enabled configuration with the given mode and owner field, auth required for writes.
    pub fn enabled(mode: RlsMode, owner_field: impl Into<String>) -> Self {
        RlsConfig { enabled: true, mode, owner_field: owner_field.into(), require_auth_for_write: true }
    }

    /// The owner field, checked: it must be a plain top-level field name that is already in its
    /// normalised form. Anything else fails closed.
    pub(crate) fn checked_owner_field(&self) -> Result<&str, Denial> {
        let field = self.owner_field.as_str();
        let plain = !field.is_empty()
            && !field.starts_with('$')
            && !field.contains('.')
            && !field.chars().any(char::is_whitespace)
            && keys::normalize_key(field) == field;
        if plain { Ok(field) } else { Err(Denial::invalid_owner_field(field)) }
    }
}

/// The collection a request addresses: its name as given in the path, and its RLS configuration
/// when the project has such a collection (`None` means it does not exist).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    name: &'a str,
    rls: Option<&'a RlsConfig>,
}

impl<'a> Target<'a> {
    /// An existing collection with its RLS configuration.
    pub fn existing(name: &'a str, rls: &'a RlsConfig) -> Self {
        Target { name, rls: Some(rls) }
    }

    /// A collection name the project does not have.
    pub fn missing(name: &'a str) -> Self {
        Target { name, rls: None }
    }

    /// The collection name as requested.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Resolves the target: the users collection is refused first (whatever its spelling), then
    /// a missing collection.
    pub(crate) fn resolve(&self) -> Result<&'a RlsConfig, Denial> {
        if is_users_collection(self.name) {
            return Err(Denial::users_collection());
        }
        self.rls.ok_or_else(Denial::collection_not_found)
    }
}

/// Whether a collection name designates the `users` collection, which the data API never
/// reaches. The original compared the trimmed, lower-cased name; we also remove invisible
/// characters and apply Unicode NFKC so that no spelling variant slips through.
pub fn is_users_collection(name: &str) -> bool {
    keys::fold_for_comparison(name) == "users"
}
