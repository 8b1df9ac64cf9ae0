//! Document validation against a collection's model (spec §6.3), on insert and on update.
//!
//! The texts are the original's (`Field 'title' is required.`, `Field 'n' must be a Number.`, …)
//! and the first failure wins. Values come out canonical: top-level `String` values trimmed,
//! `Date` values (ISO 8601 text, legacy date text or epoch milliseconds, as JavaScript's
//! `Date.parse` and Mongoose read them) as ISO 8601 strings with milliseconds, `Ref` values as
//! lower-case 24-hex ids. The schema is not strict: keys the model does not declare pass through
//! untouched. Keys are expected in canonical form already (rls-core normalises them before this
//! runs), so a declared field is looked up by its exact key.
//!
//! Inserts apply `default`s to missing or `null` optional fields (also inside objects that are
//! present, as Mongoose's sub-schemas do). Updates validate only the keys present that map to a
//! declared field (a dotted key such as `address.zip` is resolved through `Object` sub-fields),
//! accept `null` for every field and apply no defaults.

use query::value::format_date;
use serde_json::{Map, Value};
use store::Document;

use crate::date::parse_js_date;
use crate::model::{CollectionDef, Field, FieldKind, Items};

/// A document was refused (400); the text is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    message: String,
}

impl ValidationError {
    fn new(message: String) -> ValidationError {
        ValidationError { message }
    }

    /// The client-facing text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status: always 400.
    pub fn status(&self) -> u16 {
        400
    }
}

type Result<T> = std::result::Result<T, ValidationError>;

/// Whether defaults are applied (inserts) or not (updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Insert,
    Update,
}

/// Validates a document for insert and returns it with defaults applied and values canonical.
pub fn validate_insert(def: &CollectionDef, mut doc: Document) -> Result<Document> {
    check_object_fields(&mut doc, &def.model, Mode::Insert, true)?;
    Ok(doc)
}

/// Validates the fields of an update (a merge: top-level or dotted keys to set) and returns them
/// with values canonical. Only keys that map to a declared field are checked; `null` is
/// accepted for every field; no defaults are applied.
pub fn validate_update(def: &CollectionDef, mut set: Document) -> Result<Document> {
    for (key, value) in &mut set {
        let Some(field) = resolve_path(&def.model, key) else { continue };
        if value.is_null() {
            continue;
        }
        trim_string(field, value);
        check_value(value, key, field.kind, &field.fields, field.items.as_ref(), Mode::Update)?;
    }
    Ok(set)
}

/// The declared field at a top-level or dotted key, through `Object` sub-fields.
fn resolve_path<'a>(model: &'a [Field], key: &str) -> Option<&'a Field> {
    let mut segments = key.split('.');
    let first = segments.next()?;
    let mut field = model.iter().find(|f| f.key == first)?;
    for segment in segments {
        if field.kind != FieldKind::Object {
            return None;
        }
        field = field.fields.iter().find(|f| f.key == segment)?;
    }
    Some(field)
}

/// The original trimmed top-level `String` values (and only those) before validating.
fn trim_string(field: &Field, value: &mut Value) {
    if field.kind == FieldKind::String {
        if let Value::String(text) = value {
            let trimmed = text.trim();
            if trimmed.len() != text.len() {
                *text = trimmed.to_owned();
            }
        }
    }
}

/// Checks the declared fields of an object value (the document itself at the top level).
fn check_object_fields(obj: &mut Map<String, Value>, fields: &[Field], mode: Mode, top_level: bool) -> Result<()> {
    for field in fields {
        let missing = obj.get(&field.key).is_none_or(Value::is_null);
        if missing {
            if field.required {
                return Err(ValidationError::new(format!("Field '{}' is required.", field.key)));
            }
            match (&field.default, mode) {
                (Some(default), Mode::Insert) => {
                    obj.insert(field.key.clone(), default.clone());
                }
                _ => continue,
            }
        }
        let Some(value) = obj.get_mut(&field.key) else { continue };
        if top_level {
            trim_string(field, value);
        }
        check_value(value, &field.key, field.kind, &field.fields, field.items.as_ref(), mode)?;
    }
    Ok(())
}

/// Checks one non-null value of a declared type and makes it canonical in place.
fn check_value(
    value: &mut Value,
    label: &str,
    kind: FieldKind,
    fields: &[Field],
    items: Option<&Items>,
    mode: Mode,
) -> Result<()> {
    let fail = |what: &str| Err(ValidationError::new(format!("Field '{label}' {what}")));
    match kind {
        FieldKind::String if !value.is_string() => fail("must be a String."),
        FieldKind::Number if !value.is_number() => fail("must be a Number."),
        FieldKind::Boolean if !value.is_boolean() => fail("must be a Boolean."),
        FieldKind::String | FieldKind::Number | FieldKind::Boolean => Ok(()),
        FieldKind::Date => match parse_js_date(value).and_then(format_date) {
            Some(iso) => {
                *value = Value::String(iso);
                Ok(())
            }
            None => fail("must be a valid Date."),
        },
        FieldKind::Object => match value {
            Value::Object(obj) => check_object_fields(obj, fields, mode, false),
            _ => fail("must be an Object."),
        },
        FieldKind::Array => match value {
            Value::Array(list) => {
                let Some(items) = items else { return Ok(()) };
                for (i, item) in list.iter_mut().enumerate() {
                    if !item.is_null() {
                        let item_label = format!("{label}[{i}]");
                        check_value(item, &item_label, items.kind, &items.fields, None, mode)?;
                    }
                }
                Ok(())
            }
            _ => fail("must be an Array."),
        },
        FieldKind::Ref => match value {
            Value::String(id) if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                id.make_ascii_lowercase();
                Ok(())
            }
            _ => fail("must be a valid reference ID (ObjectId)."),
        },
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
