//! Social login settings of a project (spec §8.12, §13.3, §16): per provider (`github`,
//! `google`) `{enabled, clientId, clientSecret, redirectUri}`, the client secret encrypted at rest
//! with the master key in the original's `{encrypted, iv, tag}` form, and the project's site URL,
//! the only place a social login ever redirects a browser to.
//!
//! The stored form is the original's: `authProviders.<provider>` and `siteUrl` on the project
//! document.

use serde_json::{Map, Value, json};

use crate::error::PlatformError;
use crate::secrets::EncryptedSecret;

/// The providers social login supports, by their wire names.
pub const OAUTH_PROVIDERS: [&str; 2] = ["github", "google"];

/// `422` when a provider is enabled without a client id or secret (the dashboard's text).
pub const INCOMPLETE_PROVIDER: &str = "Incomplete provider config";
/// `422` when a provider is enabled on a project without a site URL (the dashboard's text).
pub const SITE_URL_REQUIRED: &str = "siteUrl required";
/// `400` for a provider other than [`OAUTH_PROVIDERS`].
pub const UNSUPPORTED_PROVIDER: &str = "Unsupported social auth provider";
/// `400` for a site URL that is not an absolute `https` URL (or `http` on a loopback host).
pub const INVALID_SITE_URL: &str =
    "siteUrl must be an https:// URL (http:// only for localhost), without query, fragment or credentials";

/// One provider's settings. `Debug` never shows the secret (see [`EncryptedSecret`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthProvider {
    /// Whether the provider may be used.
    pub enabled: bool,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret, encrypted with the master key.
    pub client_secret: Option<EncryptedSecret>,
    /// The callback URL registered with the provider, when it is not the server's own
    /// `<public url>/api/userAuth/social/<provider>/callback` (empty: the server's own).
    pub redirect_uri: String,
}

impl OAuthProvider {
    /// Whether the provider can be used: enabled, with a client id and a secret.
    pub fn is_complete(&self) -> bool {
        self.enabled && !self.client_id.trim().is_empty() && self.client_secret.is_some()
    }
}

/// A change to one provider's settings: what is `None` is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthProviderUpdate {
    /// Enable or disable.
    pub enabled: bool,
    /// A new client id.
    pub client_id: Option<String>,
    /// A new client secret, already encrypted.
    pub client_secret: Option<EncryptedSecret>,
    /// A new registered callback URL (empty: the server's own).
    pub redirect_uri: Option<String>,
}

impl OAuthProviderUpdate {
    /// `current` with this change applied; refuses to enable an incomplete provider or one of a
    /// project without a site URL.
    pub(crate) fn apply(self, current: Option<&OAuthProvider>, site_url: &str) -> Result<OAuthProvider, PlatformError> {
        let current = current.cloned().unwrap_or_default();
        let merged = OAuthProvider {
            enabled: self.enabled,
            client_id: self.client_id.map_or(current.client_id, |id| id.trim().to_owned()),
            client_secret: self.client_secret.or(current.client_secret),
            redirect_uri: self.redirect_uri.map_or(current.redirect_uri, |uri| uri.trim().to_owned()),
        };
        if merged.enabled && !merged.is_complete() {
            return Err(PlatformError::Unprocessable(INCOMPLETE_PROVIDER.to_owned()));
        }
        if merged.enabled && site_url.is_empty() {
            return Err(PlatformError::Unprocessable(SITE_URL_REQUIRED.to_owned()));
        }
        Ok(merged)
    }
}

/// The settings of every provider a project configured, by wire name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthProviders(Vec<(String, OAuthProvider)>);

impl AuthProviders {
    /// The settings of `provider`, if configured.
    pub fn get(&self, provider: &str) -> Option<&OAuthProvider> {
        self.0.iter().find(|(name, _)| name == provider).map(|(_, config)| config)
    }

    /// Sets the settings of `provider`.
    pub fn set(&mut self, provider: &str, config: OAuthProvider) {
        match self.0.iter_mut().find(|(name, _)| name == provider) {
            Some((_, slot)) => *slot = config,
            None => self.0.push((provider.to_owned(), config)),
        }
    }

    /// The stored form, `{"github": {enabled, clientId, clientSecret, redirectUri}, …}`.
    pub(crate) fn to_document(&self) -> Value {
        let mut out = Map::new();
        for (name, config) in &self.0 {
            let secret = config
                .client_secret
                .as_ref()
                .map_or(Value::Null, |s| json!({"encrypted": s.encrypted, "iv": s.iv, "tag": s.tag}));
            out.insert(
                name.clone(),
                json!({
                    "enabled": config.enabled,
                    "clientId": config.client_id,
                    "clientSecret": secret,
                    "redirectUri": config.redirect_uri,
                }),
            );
        }
        Value::Object(out)
    }

    /// Reads the stored form; a malformed entry is left out (that provider is then not
    /// configured: fail closed).
    pub(crate) fn from_document(value: Option<&Value>) -> AuthProviders {
        let mut providers = AuthProviders::default();
        let Some(entries) = value.and_then(Value::as_object) else { return providers };
        for name in OAUTH_PROVIDERS {
            let Some(entry) = entries.get(name).and_then(Value::as_object) else { continue };
            let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            let client_secret = match entry.get("clientSecret") {
                None | Some(Value::Null) => None,
                Some(secret) => match serde_json::from_value::<EncryptedSecret>(secret.clone()) {
                    Ok(secret) => Some(secret),
                    Err(_) => continue,
                },
            };
            providers.set(
                name,
                OAuthProvider {
                    enabled: entry.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                    client_id: text("clientId"),
                    client_secret,
                    redirect_uri: text("redirectUri"),
                },
            );
        }
        providers
    }
}

/// The provider's wire name if it is one of [`OAUTH_PROVIDERS`] (any case).
pub fn oauth_provider(name: &str) -> Option<&'static str> {
    OAUTH_PROVIDERS.into_iter().find(|known| known.eq_ignore_ascii_case(name.trim()))
}

/// A site URL in its canonical form (no trailing `/`), or `""` to unset it. It must be an
/// absolute `https` URL, or `http` on `localhost`, `127.0.0.1` or `[::1]` (the dashboard's rule),
/// without query, fragment or credentials, so that `<site>/auth/callback?…` always lands on
/// the site.
pub fn normalize_site_url(text: &str) -> Result<String, PlatformError> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Ok(String::new());
    }
    let invalid = || PlatformError::BadRequest(INVALID_SITE_URL.to_owned());
    let (scheme, rest) = text.split_once("://").ok_or_else(invalid)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@' | '\\');
    if authority.is_empty() || rest.contains(bad_char) {
        return Err(invalid());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or_default()),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host).to_owned(),
    };
    let loopback = matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "[::1]");
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid()),
    }
    Ok(format!("{}://{rest}", scheme.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> EncryptedSecret {
        EncryptedSecret { encrypted: "00".into(), iv: "11".into(), tag: "22".into() }
    }

    #[test]
    fn providers_round_trip_and_malformed_entries_drop() {
        let mut providers = AuthProviders::default();
        let github = OAuthProvider {
            enabled: true,
            client_id: "id".into(),
            client_secret: Some(secret()),
            redirect_uri: String::new(),
        };
        providers.set("github", github.clone());
        let doc = providers.to_document();
        assert_eq!(doc["github"]["clientSecret"]["iv"], "11");
        assert_eq!(AuthProviders::from_document(Some(&doc)).get("github"), Some(&github));
        let broken = json!({"github": {"enabled": true, "clientId": "id", "clientSecret": "plain"}, "other": {}});
        assert_eq!(AuthProviders::from_document(Some(&broken)), AuthProviders::default());
    }

    #[test]
    fn updates_merge_and_refuse_incomplete_providers() {
        let enable = |id: Option<&str>, secret_given: bool| OAuthProviderUpdate {
            enabled: true,
            client_id: id.map(str::to_owned),
            client_secret: secret_given.then(secret),
            redirect_uri: None,
        };
        let refused = |r: Result<OAuthProvider, PlatformError>| r.err().map(|e| (e.status(), e.to_string()));
        assert_eq!(
            refused(enable(Some("id"), false).apply(None, "https://a.example")),
            Some((422, INCOMPLETE_PROVIDER.into()))
        );
        assert_eq!(refused(enable(Some("id"), true).apply(None, "")), Some((422, SITE_URL_REQUIRED.into())));
        let saved = enable(Some(" id "), true).apply(None, "https://a.example").unwrap();
        assert_eq!(saved.client_id, "id");
        let disabled = OAuthProviderUpdate::default().apply(Some(&saved), "").unwrap();
        assert_eq!((disabled.enabled, disabled.client_secret.is_some()), (false, true), "disabling keeps the secret");
        assert!(enable(None, false).apply(Some(&disabled), "https://a.example").unwrap().is_complete());
    }

    #[test]
    fn provider_names_are_matched_in_any_case() {
        assert_eq!(oauth_provider("GitHub"), Some("github"));
        assert_eq!(oauth_provider("google"), Some("google"));
        assert_eq!(oauth_provider("facebook"), None);
    }

    #[test]
    fn site_urls() {
        assert_eq!(normalize_site_url("https://App.example.com/").unwrap(), "https://App.example.com");
        assert_eq!(normalize_site_url("HTTP://localhost:5173").unwrap(), "http://localhost:5173");
        assert_eq!(normalize_site_url("http://[::1]:3000/app/").unwrap(), "http://[::1]:3000/app");
        assert_eq!(normalize_site_url("  ").unwrap(), "");
        for bad in [
            "example.com",
            "http://example.com",
            "http://localhost.evil.com",
            "javascript://localhost/%0aalert(1)",
            "https://a.example?next=https://evil.example",
            "https://a.example#x",
            "https://user@evil.example",
            "https://a.example\\@evil.example",
            "https:///path",
            "https://a .example",
        ] {
            assert!(normalize_site_url(bad).is_err(), "{bad}");
        }
    }
}
