//! Connection strings: building a client with this backend's timeouts, and redacting a URI for
//! logs and `Debug` output (a URI's password never leaves this module in clear).

use std::time::Duration;

use mongodb::Client;
use mongodb::options::ClientOptions;
use store::StoreError;

/// How long an operation waits for a usable server before it fails with
/// [`StoreError::Unavailable`] (unless the URI sets `serverSelectionTimeoutMS`).
pub const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long opening one connection may take (unless the URI sets `connectTimeoutMS`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The database used when neither the caller nor the URI names one.
pub const DEFAULT_DATABASE: &str = "urbackend";

/// A client for `uri` with this backend's defaults, and the database the URI names, if any. The
/// client connects lazily: an unreachable server fails the first operation, not this call.
pub(crate) async fn client(uri: &str) -> Result<(Client, Option<String>), StoreError> {
    let mut options = ClientOptions::parse(uri).await.map_err(|e| {
        let text = scrub(&e.kind.to_string(), uri);
        match e.kind.as_ref() {
            mongodb::error::ErrorKind::DnsResolve { .. } => StoreError::Unavailable(text),
            _ => StoreError::InvalidInput(format!("Invalid MongoDB URI: {text}")),
        }
    })?;
    options.server_selection_timeout.get_or_insert(SERVER_SELECTION_TIMEOUT);
    options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
    options.app_name.get_or_insert_with(|| "urbackend-rs".to_owned());
    options.cmap_event_handler = Some(crate::pool::handler());
    let database = options.default_database.clone();
    let client = Client::with_options(options).map_err(|e| StoreError::InvalidInput(scrub(&e.to_string(), uri)))?;
    Ok((client, database))
}

/// Checks a database name the way MongoDB restricts them.
pub(crate) fn checked_database(name: &str) -> Result<&str, StoreError> {
    let bad = name.is_empty() || name.len() > 63 || name.chars().any(|c| "/\\. \"$*<>:|?\0".contains(c));
    if bad {
        return Err(StoreError::InvalidInput(format!("Invalid database name {name:?}.")));
    }
    Ok(name)
}

/// The URI with its password replaced by `****` and its options (which may carry secrets such
/// as `authMechanismProperties`) cut off: `mongodb://app:****@db.example:27017/shop?…`.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return "<not a MongoDB URI>".to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:****@{hosts}"),
            None => format!("{userinfo}@{hosts}"),
        },
        None => authority.to_owned(),
    };
    let (path, options) = match tail.split_once('?') {
        Some((path, _)) => (path, "?…"),
        None => (tail, ""),
    };
    format!("{scheme}://{hosts}{path}{options}")
}

/// `text` with the URI and its password replaced by their redacted forms.
pub(crate) fn scrub(text: &str, uri: &str) -> String {
    let mut out = text.replace(uri, &redact(uri));
    if let Some(password) = password(uri).filter(|p| p.len() >= 3) {
        out = out.replace(password, "****");
    }
    out
}

fn password(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (userinfo, _) = rest.get(..end)?.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_options_are_redacted() {
        assert_eq!(
            redact("mongodb+srv://app:s3cret@cluster0.example.net/shop?retryWrites=true&authSource=admin"),
            "mongodb+srv://app:****@cluster0.example.net/shop?…"
        );
        assert_eq!(redact("mongodb://a:p@h1:1,h2:2"), "mongodb://a:****@h1:1,h2:2");
        assert_eq!(redact("mongodb://x509user@h/?authMechanism=MONGODB-X509"), "mongodb://x509user@h/?…");
        assert_eq!(redact("mongodb://127.0.0.1:27017/test"), "mongodb://127.0.0.1:27017/test");
        assert_eq!(redact("nonsense"), "<not a MongoDB URI>");
        assert_eq!(redact("mongodb://u:p@ss@h/db"), "mongodb://u:****@h/db");
    }

    #[test]
    fn scrub_removes_the_password_from_messages() {
        let uri = "mongodb://app:hunter22@h/db";
        assert_eq!(scrub("bad uri mongodb://app:hunter22@h/db", uri), "bad uri mongodb://app:****@h/db");
        assert_eq!(scrub("password hunter22 refused", uri), "password **** refused");
    }

    #[test]
    fn database_names_are_checked() {
        assert!(checked_database("shop_1").is_ok());
        for bad in ["", "a.b", "a/b", "a b", "a$b", &"x".repeat(64)] {
            assert!(checked_database(bad).is_err(), "{bad:?}");
        }
    }
}
