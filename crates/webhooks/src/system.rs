//! The reserved collections of webhooks, read and written through the ordinary [`DocumentStore`]
//! interface with secret-key scopes from rls-core, as the platform and the accounts do.

use query::{Condition, FieldPath, Filter, Op, Scalar};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::Document;

use crate::WebhookError;

/// The 24-hex document id derived from a name (the first 96 bits of its SHA-256).
pub(crate) fn derived_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes())).chars().take(24).collect()
}

fn internal(what: impl Into<String>) -> WebhookError {
    WebhookError::Internal(what.into())
}

fn path(name: &str) -> Result<FieldPath, WebhookError> {
    FieldPath::new(name).map_err(|e| internal(format!("field path {name}: {e}")))
}

/// A filter: the string equalities, and optionally `field <= number`.
pub(crate) fn filter(equal: &[(&str, &str)], at_most: Option<(&str, i64)>) -> Result<Filter, WebhookError> {
    let mut filter = Filter::new();
    for (field, value) in equal {
        filter.and(Condition::new(path(field)?, Op::Eq(Scalar::String((*value).to_owned()))));
    }
    if let Some((field, max)) = at_most {
        #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 are exact in an f64 until year 287,000.
        filter.and(Condition::new(path(field)?, Op::Lte(Scalar::Number(max as f64))));
    }
    Ok(filter)
}

/// Access to the reserved collections (the store's shared helper).
pub(crate) type SystemStore = store::ReservedStore;

pub(crate) use store::object;

/// A string field of a document.
pub(crate) fn text<'a>(doc: &'a Document, field: &str) -> Option<&'a str> {
    doc.get(field).and_then(Value::as_str)
}
