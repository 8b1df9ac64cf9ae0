//! The body of `POST /api/mail/send` (spec §10) validated into a typed [`SendRequest`], with the
//! original's zod texts: the first problem wins, fields in the order `to`, `subject`, `html`,
//! `text`, `templateId`, `templateName`, `variables`, then the two cross-field rules. Unknown
//! keys (`from`, `cc`, `bcc`, …) are ignored, as zod strips them.

use platform::definition::js_type;
use serde_json::{Map, Value};

use crate::error::MailError;

/// `400` for a `to` that is not one e-mail address.
pub const INVALID_RECIPIENT: &str = "Invalid recipient email format";
/// `400` for a `templateId` that is not 24 hexadecimal characters.
pub const INVALID_TEMPLATE_ID: &str = "Invalid template id";
/// `400` for a subject longer than 200 characters.
pub const SUBJECT_TOO_LONG: &str = "Subject is too long";
/// `400` when the request names no template and lacks a subject or a body.
pub const CONTENT_OR_TEMPLATE: &str = "Provide either (subject + html/text) or a templateId/templateName.";
/// `400` when the request names a template both ways.
pub const ONE_TEMPLATE: &str = "Provide only one of templateId or templateName.";

/// The longest subject, in UTF-16 code units (JavaScript's `length`).
const MAX_SUBJECT: usize = 200;

/// A validated send request.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// The recipient: one address.
    pub to: String,
    /// The subject, when given and not blank.
    pub subject: Option<String>,
    /// The HTML body, when given.
    pub html: Option<String>,
    /// The text body, when given.
    pub text: Option<String>,
    /// The template to use, when named.
    pub template: Option<TemplateRef>,
    /// The template variables (not yet sanitized).
    pub variables: Map<String, Value>,
}

/// How a request names its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    /// By id: 24 lower-case hexadecimal characters.
    Id(String),
    /// By name or key, trimmed and lower-cased.
    Name(String),
}

impl SendRequest {
    /// Validates a request body (`null`, an empty body, counts as `{}`).
    pub fn parse(body: &Value) -> Result<SendRequest, MailError> {
        let empty = Map::new();
        let fields = match body {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => return Err(expected("object", Some(other))),
        };
        let to = match fields.get("to") {
            Some(Value::String(to)) if is_email(to) => to.clone(),
            Some(Value::String(_)) => return Err(invalid(INVALID_RECIPIENT)),
            other => return Err(expected("string", other)),
        };
        let subject = match optional_string(fields, "subject")? {
            Some(subject) if subject.trim().is_empty() => None,
            Some(subject) if subject.encode_utf16().count() > MAX_SUBJECT => return Err(invalid(SUBJECT_TOO_LONG)),
            subject => subject,
        };
        let html = optional_string(fields, "html")?;
        let text = optional_string(fields, "text")?;
        let template_id = match optional_string(fields, "templateId")? {
            Some(id) if id.trim().is_empty() => None,
            Some(id) => {
                let id = id.trim();
                if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(INVALID_TEMPLATE_ID));
                }
                Some(id.to_ascii_lowercase())
            }
            None => None,
        };
        let template_name = optional_string(fields, "templateName")?;
        if template_name.as_deref() == Some("") {
            return Err(invalid("Too small: expected string to have >=1 characters"));
        }
        let variables = match fields.get("variables") {
            None => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            other => return Err(expected("record", other)),
        };

        let name = template_name.as_deref().map(str::trim).filter(|name| !name.is_empty());
        if template_id.is_none() && name.is_none() {
            let has = |part: &Option<String>| part.as_deref().is_some_and(|p| !p.trim().is_empty());
            if !has(&subject) || !(has(&html) || has(&text)) {
                return Err(invalid(CONTENT_OR_TEMPLATE));
            }
        }
        // zod's check is on truthiness: a whitespace-only name still counts here.
        if template_id.is_some() && template_name.is_some() {
            return Err(invalid(ONE_TEMPLATE));
        }
        let template = match (template_id, name) {
            (Some(id), _) => Some(TemplateRef::Id(id)),
            (None, Some(name)) => Some(TemplateRef::Name(name.to_lowercase())),
            (None, None) => None,
        };
        Ok(SendRequest { to, subject, html, text, template, variables })
    }
}

fn invalid(text: &str) -> MailError {
    MailError::Invalid(text.to_owned())
}

/// An optional string field: absent is `None`, anything but a string (`null` too) is refused.
fn optional_string(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, MailError> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        other => Err(expected("string", other)),
    }
}

/// zod's `invalid_type` text.
fn expected(kind: &str, found: Option<&Value>) -> MailError {
    MailError::Invalid(format!("Invalid input: expected {kind}, received {}", js_type(found)))
}

/// zod 4's e-mail pattern:
/// `^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    if text.starts_with('.') || text.contains("..") {
        return false;
    }
    let local_ok = local.bytes().all(|b| b.is_ascii_alphanumeric() || b"_'+-.".contains(&b))
        && local.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b));
    let Some((labels, tld)) = domain.rsplit_once('.') else { return false };
    let labels_ok = labels.split('.').all(|label| {
        label.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    local_ok && labels_ok && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
