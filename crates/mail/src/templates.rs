//! Mail templates: a project's own, stored in the platform store (`_urbackend_mail_templates`,
//! one document each, `{projectId, key, name, nameLower, subject, html, text}`), and the
//! built-in global ones ([`crate::builtin`]).
//!
//! Lookup (spec §10 step 2): by id among the project's templates, then the built-ins; by name or
//! key (lower-cased), the project's first, then the built-ins. A project template's id is derived
//! from the project id and its key, so `put` of the same key replaces it, from any process.
//!
//! Project templates are not a paid feature here (the original answered `403` without Pro).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{Document, DocumentStore, StoreError};

use crate::builtin::builtins;
use crate::error::MailError;
use crate::records::{Records, TEMPLATES_COLLECTION, equal};
use crate::request::TemplateRef;

/// The most templates one project may keep.
pub const MAX_TEMPLATES: usize = 200;
/// The longest template name or key.
const MAX_NAME: usize = 100;
/// The longest template subject (as a request's).
const MAX_SUBJECT: usize = 200;
/// The largest template body (each of html and text), in bytes.
const MAX_BODY: usize = 256 * 1024;

/// Whose template it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The project's own.
    Project,
    /// Built in, for every project.
    Global,
}

/// A mail template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// 24 lower-case hexadecimal characters.
    pub id: String,
    /// Whose it is.
    pub scope: Scope,
    /// The key (a slug: lower-case letters, digits and dashes).
    pub key: String,
    /// The display name.
    pub name: String,
    /// The subject, with placeholders.
    pub subject: String,
    /// The HTML body, with placeholders (may be empty).
    pub html: String,
    /// The text body, with placeholders (may be empty).
    pub text: String,
}

impl Template {
    /// A template definition from JSON: `{"name", "key"?, "subject", "html"?, "text"?}`. The key
    /// defaults to the name; both become a slug.
    pub fn definition(project_id: &str, value: &Value) -> Result<Template, MailError> {
        let object = value.as_object().ok_or_else(|| invalid("A template must be a JSON object."))?;
        let text_field = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(invalid(&format!("Template field '{key}' must be a string."))),
        };
        let name = text_field("name")?.trim().to_owned();
        if name.is_empty() {
            return Err(invalid("Template name is required."));
        }
        let given_key = text_field("key")?;
        let key = slug(if given_key.trim().is_empty() { &name } else { &given_key });
        if key.is_empty() {
            return Err(invalid("Template key must contain a letter or a digit."));
        }
        if name.chars().count() > MAX_NAME || key.len() > MAX_NAME {
            return Err(invalid("Template name and key must be at most 100 characters."));
        }
        let subject = text_field("subject")?;
        if subject.trim().is_empty() {
            return Err(MailError::SubjectRequired);
        }
        if subject.encode_utf16().count() > MAX_SUBJECT {
            return Err(invalid(crate::request::SUBJECT_TOO_LONG));
        }
        let (html, text) = (text_field("html")?, text_field("text")?);
        if html.trim().is_empty() && text.trim().is_empty() {
            return Err(MailError::ContentRequired);
        }
        if html.len() > MAX_BODY || text.len() > MAX_BODY {
            return Err(invalid("Template html and text must be at most 256 KiB each."));
        }
        let id = template_id(project_id, &key);
        Ok(Template { id, scope: Scope::Project, key, name, subject, html, text })
    }

    fn from_document(doc: &Document) -> Option<Template> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Template {
            id: text("_id")?,
            scope: Scope::Project,
            key: text("key")?,
            name: text("name")?,
            subject: text("subject")?,
            html: text("html").unwrap_or_default(),
            text: text("text").unwrap_or_default(),
        })
    }

    fn to_document(&self, project_id: &str) -> Document {
        let value = json!({
            "projectId": project_id,
            "key": self.key,
            "name": self.name,
            "nameLower": self.name.to_lowercase(),
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
        });
        match value {
            Value::Object(map) => map,
            _ => Document::new(),
        }
    }

    /// Whether a lower-cased name or key names this template.
    fn is_named(&self, lower: &str) -> bool {
        self.key == lower || self.name.to_lowercase() == lower
    }
}

fn invalid(text: &str) -> MailError {
    MailError::Invalid(text.to_owned())
}

/// A slug: lower-case ASCII letters and digits, every other run of characters one dash, no dash
/// at either end.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// The id of a project's template with this key: the first 24 hex digits of
/// SHA-256(`mail-template:<projectId>:<key>`).
fn template_id(project_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("mail-template:{project_id}:{key}").as_bytes());
    hex::encode(digest).chars().take(24).collect()
}

/// Project templates in the platform store, and the built-ins.
pub struct TemplateStore {
    records: Arc<Records>,
}

impl TemplateStore {
    pub(crate) fn new(records: Arc<Records>) -> TemplateStore {
        TemplateStore { records }
    }

    /// A store of templates on `store` (for tools that manage templates without sending).
    pub fn on(store: Arc<dyn DocumentStore>) -> TemplateStore {
        TemplateStore::new(Arc::new(Records::new(store)))
    }

    /// The project's own templates, oldest first.
    pub async fn list(&self, project_id: &str) -> Result<Vec<Template>, MailError> {
        let filter = equal(&[("projectId", project_id)])?;
        let limit = u32::try_from(MAX_TEMPLATES + 1).unwrap_or(u32::MAX);
        let docs = self.records.find(TEMPLATES_COLLECTION, filter, limit).await?;
        Ok(docs.iter().filter_map(Template::from_document).collect())
    }

    /// Creates the template, or replaces the project's template with the same key. Another
    /// template of the project with the same name is a conflict.
    pub async fn put(&self, project_id: &str, template: &Template) -> Result<Template, MailError> {
        let existing = self.list(project_id).await?;
        let lower = template.name.to_lowercase();
        if existing.iter().any(|t| t.id != template.id && (t.is_named(&lower) || t.is_named(&template.key))) {
            return Err(MailError::TemplateExists);
        }
        if existing.len() >= MAX_TEMPLATES && existing.iter().all(|t| t.id != template.id) {
            return Err(invalid("A project can keep at most 200 mail templates."));
        }
        let set = template.to_document(project_id);
        if self.records.update(TEMPLATES_COLLECTION, &template.id, &set).await?.is_none() {
            let mut doc = set.clone();
            doc.insert("_id".into(), Value::String(template.id.clone()));
            match self.records.insert(TEMPLATES_COLLECTION, doc).await {
                Ok(_) => {}
                // Another process created it between our update and insert: ours wins.
                Err(StoreError::DuplicateKey { .. }) => {
                    self.records.update(TEMPLATES_COLLECTION, &template.id, &set).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(template.clone())
    }

    /// The template a request names: the project's, then the built-ins.
    pub async fn resolve(&self, project_id: &str, reference: &TemplateRef) -> Result<Option<Template>, MailError> {
        match reference {
            TemplateRef::Id(id) => {
                let doc = self.records.get(TEMPLATES_COLLECTION, id).await?;
                let own = doc
                    .filter(|d| d.get("projectId").and_then(Value::as_str) == Some(project_id))
                    .and_then(|d| Template::from_document(&d));
                Ok(own.or_else(|| builtins().iter().find(|t| &t.id == id).cloned()))
            }
            TemplateRef::Name(lower) => {
                let own = self.list(project_id).await?.into_iter().find(|t| t.is_named(lower));
                Ok(own.or_else(|| builtins().iter().find(|t| t.is_named(lower)).cloned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("  Welcome Back!  "), "welcome-back");
        assert_eq!(slug("Ünïcode — test__2"), "n-code-test-2");
        assert_eq!(slug("---"), "");
        assert_eq!(slug("a--b"), "a-b");
    }

    #[test]
    fn definitions() {
        let pid = "65a0c0de0000000a0000000b";
        let t = Template::definition(pid, &json!({"name": " Order Shipped ", "subject": "S", "text": "t"})).unwrap();
        assert_eq!((t.key.as_str(), t.name.as_str(), t.scope), ("order-shipped", "Order Shipped", Scope::Project));
        assert_eq!(t.id.len(), 24);
        assert_eq!(
            t.id,
            Template::definition(pid, &json!({"name": "x", "key": "Order_Shipped", "subject": "S", "html": "h"}))
                .unwrap()
                .id
        );
        let refused = |v: Value| Template::definition(pid, &v).unwrap_err().client_message();
        assert_eq!(refused(json!({"subject": "s", "text": "t"})), "Template name is required.");
        assert_eq!(refused(json!({"name": "n", "text": "t"})), "Subject is required.");
        assert_eq!(
            refused(json!({"name": "n", "subject": "s", "html": " "})),
            "Provide at least one of html or text content."
        );
        assert_eq!(
            refused(json!({"name": "!!", "subject": "s", "text": "t"})),
            "Template key must contain a letter or a digit."
        );
        assert_eq!(
            refused(json!({"name": "n", "subject": 5, "text": "t"})),
            "Template field 'subject' must be a string."
        );
        assert_eq!(refused(json!([])), "A template must be a JSON object.");
    }

    #[test]
    fn builtins_have_distinct_valid_ids_and_keys() {
        let all = builtins();
        let keys: Vec<&str> = all.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["welcome", "welcome-2", "otp", "password-reset", "invite"]);
        for t in all {
            assert!(t.id.len() == 24 && t.id.bytes().all(|b| b.is_ascii_hexdigit()), "{}", t.id);
            assert_eq!(all.iter().filter(|o| o.id == t.id).count(), 1);
            assert!(!t.html.contains("{{button}}") && t.html.contains("{{projectName}}"));
            assert!(!t.text.is_empty() && !t.subject.is_empty());
        }
        assert!(crate::builtin::builtin("otp").unwrap().text.contains("{{expiresInMinutes}} minutes"));
    }
}
