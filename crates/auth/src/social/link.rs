//! Which account a provider identity signs in to (spec §8.12), with the pre-hijacking hole of
//! e-mail linking closed:
//!
//! 1. the account already linked to this provider id (`githubId` / `googleId`);
//! 2. else the account with the provider's address, linked to the provider only when the
//!    provider vouches for the address *and* the local account's address is verified (when the
//!    users schema has a verification flag). Otherwise someone who signed up with another
//!    person's address, and never proved it, would be handed that person's provider login
//!    (CVE-2024-38351 and its kind);
//! 3. else a new account, only for an address the provider vouches for (otherwise someone could
//!    open an account under another person's address with a provider account of their own, and
//!    keep signing in to it after that person verified the address and took it over): a random
//!    password hash, the provider id, `authProviders: [provider]`, `avatarUrl` when declared, the
//!    verification flag set, generated names as signup does (§8.3).
//!
//! Provider fields are the server's: they are written here whether or not the users schema
//! declares them (the schema is not strict), and end users can never set them (`PROTECTED_FIELDS`).

use serde_json::{Map, Value};
use store::Document;

use super::ProviderProfile;
use crate::accounts::{Accounts, fill_generated_names};
use crate::error::AuthError;
use crate::random;
use crate::users::{Users, id_of};

/// The account a login resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) user_id: String,
    pub(crate) is_new_user: bool,
    pub(crate) linked_by_email: bool,
}

/// A refusal shown to the browser (through the error redirect), or a failure of ours.
pub(crate) enum LinkError {
    Refused(String),
    Failed(AuthError),
}

impl From<AuthError> for LinkError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Refused { message, .. } => LinkError::Refused(message),
            AuthError::Validation(e) => LinkError::Refused(e.message().to_owned()),
            other => LinkError::Failed(other),
        }
    }
}

/// The texts of refused links.
pub mod texts {
    /// The provider gave no address.
    pub fn no_email(provider: &str) -> String {
        format!("{provider} did not return an email address for this account.")
    }

    /// The provider does not vouch for the address (the original's text).
    pub fn provider_unverified(provider: &str) -> String {
        format!(
            "Cannot link {provider} account: the provider email is not verified. Please verify your email with {provider} first."
        )
    }

    /// The local account never proved the address (ours).
    pub fn local_unverified(provider: &str) -> String {
        format!(
            "Cannot link {provider} account: an account with this email already exists and its email is not verified. Verify that account's email, then sign in with {provider} again."
        )
    }
}

fn provider_field(provider: &str) -> String {
    format!("{provider}Id")
}

/// Finds, links or creates the account of a provider identity.
pub(crate) async fn resolve(
    accounts: &Accounts,
    users: &Users,
    provider: &str,
    profile: &ProviderProfile,
) -> Result<Resolved, LinkError> {
    let id_field = provider_field(provider);
    if let Some(user) = users.find_one(&id_field, &profile.id).await? {
        return Ok(Resolved { user_id: id_of(&user), is_new_user: false, linked_by_email: false });
    }
    let email = profile.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    let email = email.ok_or_else(|| LinkError::Refused(texts::no_email(provider)))?;
    if let Some(user) = users.by_email(&email).await? {
        if !profile.email_verified {
            return Err(LinkError::Refused(texts::provider_unverified(provider)));
        }
        let locally_verified =
            users.verification_field().is_none_or(|field| user.get(field).and_then(Value::as_bool).unwrap_or(false));
        if !locally_verified {
            return Err(LinkError::Refused(texts::local_unverified(provider)));
        }
        let user_id = id_of(&user);
        let mut set = Map::new();
        set.insert(id_field, Value::String(profile.id.clone()));
        set.insert("authProviders".to_owned(), with_provider(user.get("authProviders"), provider));
        if let Some(avatar) = profile.avatar_url.as_ref().filter(|_| users.declares("avatarUrl")) {
            set.insert("avatarUrl".to_owned(), Value::String(avatar.clone()));
        }
        users.set(&user_id, set).await?;
        return Ok(Resolved { user_id, is_new_user: false, linked_by_email: true });
    }
    if !profile.email_verified {
        return Err(LinkError::Refused(texts::provider_unverified(provider)));
    }
    let mut doc = Document::new();
    doc.insert("email".to_owned(), Value::String(email.clone()));
    let password = random::hex_secret::<32>()?;
    doc.insert("password".to_owned(), Value::String(accounts.hasher.hash(password).await.map_err(AuthError::from)?));
    doc.insert(id_field, Value::String(profile.id.clone()));
    doc.insert("authProviders".to_owned(), Value::Array(vec![Value::String(provider.to_owned())]));
    if let Some(avatar) = profile.avatar_url.as_ref().filter(|_| users.declares("avatarUrl")) {
        doc.insert("avatarUrl".to_owned(), Value::String(avatar.clone()));
    }
    if let Some(field) = users.verification_field() {
        doc.insert(field.to_owned(), Value::Bool(true));
    }
    fill_generated_names(users, &mut doc, &email);
    let stored = users.insert(doc).await?;
    Ok(Resolved { user_id: id_of(&stored), is_new_user: true, linked_by_email: false })
}

/// `authProviders` with `provider` added once (`$addToSet`).
fn with_provider(current: Option<&Value>, provider: &str) -> Value {
    let mut list: Vec<Value> = current.and_then(Value::as_array).cloned().unwrap_or_default();
    if !list.iter().any(|p| p.as_str() == Some(provider)) {
        list.push(Value::String(provider.to_owned()));
    }
    Value::Array(list)
}
