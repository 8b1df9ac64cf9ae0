//! Validation of collection definitions (spec §6.4): the dashboard/CLI shape
//! (`{"name", "model": [{"key", "type", …}], "rls"}`, [`CollectionDef::from_json`]), the public
//! `POST /api/schemas` shape (`{"name", "fields": [{"name", "type", …}]}` with lower-case types
//! accepted, [`CollectionDef::from_public_json`]), and the same rules on a typed definition
//! ([`CollectionDef::validated`]), which every save goes through.
//!
//! The first failure wins and its text is the original's (zod's) wherever the original had one;
//! the checks run in the order zod reports them: per field the key, the type and the other
//! properties (nested fields first, depth first), then the two field-level refinements. On top of
//! the original's rules we refuse what it let through and what would break later: collection
//! names that could escape the tenant's namespace or that hide a spelling of `users`, field names
//! with control or invisible characters, `_id`/`__v` as declared fields, duplicate field names,
//! unknown RLS modes, owner fields that are not plain names or are declared with a type that
//! cannot hold a user id, and a `users` collection without its `email`/`password` contract.

use std::collections::HashSet;
use std::fmt;

use rls_core::{is_users_collection, normalize_key};
use serde_json::{Map, Value};

use crate::model::{CollectionDef, Field, FieldKind, Items, RlsSettings};

/// The deepest nesting of fields (top level is depth 1).
pub const MAX_FIELD_DEPTH: usize = 3;
/// The longest collection name, in characters.
pub const MAX_COLLECTION_NAME_CHARS: usize = 64;
/// The longest collection name, in UTF-8 bytes (keeps MongoDB namespaces within their limit).
const MAX_COLLECTION_NAME_BYTES: usize = 192;

/// `400` for an empty collection name (zod's text).
pub const COLLECTION_NAME_REQUIRED: &str = "Collection Name is required";
/// `400` for a collection name outside our stricter rule.
pub const INVALID_COLLECTION_NAME: &str = "Invalid collection name.";
/// `400` for an empty field name (zod's text).
pub const FIELD_NAME_REQUIRED: &str = "Field name is required";
/// `400` for a field name starting with `$`, containing `.` or whitespace (zod's text).
pub const FIELD_NAME_INVALID: &str = "Field name must not start with '$', contain '.', or include whitespace";
/// `400` for a field name with control or invisible characters, or not in NFC (ours).
pub const FIELD_NAME_FORM: &str =
    "Field name must not contain control or invisible characters, and must be in Unicode NFC form.";
/// `400` for a field whose configuration is incomplete, too deep, or unique where it cannot be.
pub const INVALID_FIELD_CONFIGURATION: &str = "Invalid field configuration, nesting depth exceeded (max 3 levels), or unique is only supported for top-level primitive fields.";
/// `400` for a default of the wrong type, on an unsupported type, or on a required field.
pub const INVALID_DEFAULT: &str = "Default value type must match field type, and required fields cannot have defaults";
/// `400` for an RLS mode other than the three (spec §13.5 text).
pub const UNSUPPORTED_RLS_MODE: &str =
    "Unsupported RLS mode. Allowed: public-read, private, owner-write-only (legacy).";
/// `400` for `_id` as the owner field outside `users` (spec §13.5 text).
pub const OWNER_ID_ONLY_FOR_USERS: &str = "ownerField '_id' is only allowed for the 'users' collection";
/// `422` for a `users` collection without its contract (spec §13.4 text).
pub const USERS_CONTRACT: &str = "The 'users' collection must have required 'email' and 'password' string fields.";

/// A definition was refused: the status (400, or 422 for the `users` contract) and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    status: u16,
    message: String,
}

impl DefinitionError {
    pub(crate) fn bad(message: impl Into<String>) -> DefinitionError {
        DefinitionError { status: 400, message: message.into() }
    }

    fn unprocessable(message: impl Into<String>) -> DefinitionError {
        DefinitionError { status: 422, message: message.into() }
    }

    /// The HTTP status (400 or 422).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The client-facing text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DefinitionError {}

type Result<T> = std::result::Result<T, DefinitionError>;

/// Which input shape a field comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Dashboard/CLI: `key`, capitalised types.
    Key,
    /// Public API: `name`, capitalised or lower-case types.
    Public,
}

impl CollectionDef {
    /// Parses and validates a definition in the dashboard/CLI shape:
    /// `{"name": "posts", "model": [{"key": "title", "type": "String", "required": true}],
    /// "rls": {"enabled": true, "mode": "private", "ownerField": "userId", "requireAuthForWrite": true}}`.
    /// `model` and `rls` are optional; a missing `ownerField` gets the dashboard's default
    /// ([`RlsSettings::default_owner_field_for`]). Unknown properties are ignored.
    pub fn from_json(value: &Value) -> Result<CollectionDef> {
        let obj = expect_object(value)?;
        let name = parse_collection_name(obj.get("name"))?;
        let model = parse_field_list(obj.get("model"), 1, Shape::Key)?;
        let rls = parse_rls(obj.get("rls"), &name, &model)?;
        finish(CollectionDef { id: None, name, model, rls })
    }

    /// Parses and validates a definition in the public `POST /api/schemas` shape:
    /// `{"name": "posts", "fields": [{"name": "title", "type": "string", "required": true}]}`.
    /// Types may be capitalised or lower-case; `default`s are kept (the original dropped them,
    /// spec §17.25); RLS gets its defaults.
    pub fn from_public_json(value: &Value) -> Result<CollectionDef> {
        let obj = expect_object(value)?;
        let name = parse_collection_name(obj.get("name"))?;
        let model = parse_field_list(obj.get("fields"), 1, Shape::Public)?;
        let rls =
            RlsSettings { owner_field: RlsSettings::default_owner_field_for(&name, &model), ..Default::default() };
        finish(CollectionDef { id: None, name, model, rls })
    }

    /// Checks a typed definition against every rule and returns it with its owner field in
    /// canonical form (an owner field that matches a declared top-level key case-insensitively
    /// takes that key's spelling, as the original's RLS endpoint did).
    pub fn validated(self) -> Result<CollectionDef> {
        check_collection_name(&self.name)?;
        check_fields(&self.model, 1)?;
        finish(self)
    }
}

/// Checks a collection name: zod's "required", then our stricter rule (no `$`, `.`, `/`, `\`,
/// control or invisible characters, no surrounding whitespace, NFC, at most 64 characters, and
/// no other spelling of `users`).
pub fn check_collection_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(DefinitionError::bad(COLLECTION_NAME_REQUIRED));
    }
    let ok = name.chars().count() <= MAX_COLLECTION_NAME_CHARS
        && name.len() <= MAX_COLLECTION_NAME_BYTES
        && !name.contains(['$', '.', '/', '\\'])
        && !name.chars().any(char::is_control)
        && !name.starts_with("system.")
        && normalize_key(name) == name
        && (name == "users" || !is_users_collection(name));
    if ok { Ok(()) } else { Err(DefinitionError::bad(INVALID_COLLECTION_NAME)) }
}

/// The collection-level rules after the fields: RLS settings, then the `users` contract.
fn finish(mut def: CollectionDef) -> Result<CollectionDef> {
    def.rls = check_rls(def.rls, &def.name, &def.model)?;
    if def.name == "users" && !(has_required_string(&def.model, "email") && has_required_string(&def.model, "password"))
    {
        return Err(DefinitionError::unprocessable(USERS_CONTRACT));
    }
    Ok(def)
}

fn has_required_string(model: &[Field], key: &str) -> bool {
    model.iter().any(|f| f.key == key && f.kind == FieldKind::String && f.required)
}

fn check_rls(mut rls: RlsSettings, name: &str, model: &[Field]) -> Result<RlsSettings> {
    if !matches!(rls.mode.as_str(), "public-read" | "private" | "owner-write-only") {
        return Err(DefinitionError::bad(UNSUPPORTED_RLS_MODE));
    }
    let owner = rls.owner_field.as_str();
    if owner == "_id" {
        return if name == "users" { Ok(rls) } else { Err(DefinitionError::bad(OWNER_ID_ONLY_FOR_USERS)) };
    }
    let plain = !owner.is_empty()
        && !owner.starts_with('$')
        && !owner.contains('.')
        && !owner.chars().any(|c| is_js_whitespace(c) || c.is_control())
        && normalize_key(owner) == owner;
    if !plain {
        return Err(DefinitionError::bad(format!("ownerField '{owner}' is not a valid field name.")));
    }
    let declared = model.iter().find(|f| f.key == owner).or_else(|| {
        let folded = owner.to_lowercase();
        model.iter().find(|f| f.key.to_lowercase() == folded)
    });
    if let Some(field) = declared {
        // Only an enabled configuration must be able to hold a user id: a disabled one keeps
        // whatever default it was given until it is switched on (and validated again).
        if rls.enabled && !matches!(field.kind, FieldKind::String | FieldKind::Ref) {
            return Err(DefinitionError::bad(format!(
                "ownerField '{}' must be a String or Ref field (it is declared as {}).",
                field.key,
                field.kind.as_str()
            )));
        }
        rls.owner_field = field.key.clone();
    }
    Ok(rls)
}

/// The typed rules for a list of fields at `depth`, in zod's order.
fn check_fields(fields: &[Field], depth: usize) -> Result<()> {
    for field in fields {
        check_key(&field.key, depth)?;
        if let Some(items) = &field.items {
            check_nested(&items.fields, depth)?;
        }
        check_nested(&field.fields, depth)?;
        check_field_rules(field, depth)?;
    }
    check_duplicates(fields)
}

fn check_nested(fields: &[Field], depth: usize) -> Result<()> {
    if fields.is_empty() {
        Ok(())
    } else if depth >= MAX_FIELD_DEPTH {
        Err(DefinitionError::bad(INVALID_FIELD_CONFIGURATION))
    } else {
        check_fields(fields, depth + 1)
    }
}

fn check_duplicates(fields: &[Field]) -> Result<()> {
    let mut seen = HashSet::new();
    match fields.iter().find(|f| !seen.insert(f.key.as_str())) {
        Some(dup) => Err(DefinitionError::bad(format!("Duplicate field name '{}'.", dup.key))),
        None => Ok(()),
    }
}

/// zod's key rules (`min(1)`, then the regex), then ours.
fn check_key(key: &str, depth: usize) -> Result<()> {
    if key.is_empty() {
        return Err(DefinitionError::bad(FIELD_NAME_REQUIRED));
    }
    if key.starts_with('$') || key.contains('.') || key.chars().any(is_js_whitespace) {
        return Err(DefinitionError::bad(FIELD_NAME_INVALID));
    }
    if key.chars().any(char::is_control) || normalize_key(key) != key {
        return Err(DefinitionError::bad(FIELD_NAME_FORM));
    }
    if depth == 1 && matches!(key, "_id" | "__v") {
        return Err(DefinitionError::bad(format!("Field name '{key}' is reserved.")));
    }
    Ok(())
}

/// The two refinements of the original's field schema.
fn check_field_rules(field: &Field, depth: usize) -> Result<()> {
    let items_kind = field.items.as_ref().map(|items| items.kind);
    let incomplete = match field.kind {
        FieldKind::Object => field.fields.is_empty(),
        FieldKind::Array => field.items.is_none() || items_kind == Some(FieldKind::Array),
        FieldKind::Ref => field.reference.as_deref().is_none_or(str::is_empty),
        _ => false,
    };
    let too_deep = depth >= MAX_FIELD_DEPTH
        && (field.kind == FieldKind::Object
            || (field.kind == FieldKind::Array && items_kind == Some(FieldKind::Object)));
    let bad_unique = field.unique && (depth > 1 || !field.kind.supports_unique());
    if incomplete || too_deep || bad_unique {
        return Err(DefinitionError::bad(INVALID_FIELD_CONFIGURATION));
    }
    if let Some(default) = &field.default {
        let matches = match field.kind {
            FieldKind::String => default.is_string(),
            FieldKind::Number => default.is_number(),
            FieldKind::Boolean => default.is_boolean(),
            _ => false,
        };
        if field.required || !matches {
            return Err(DefinitionError::bad(INVALID_DEFAULT));
        }
    }
    Ok(())
}

/// JavaScript's `\s`: Unicode white space plus the BOM.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

// ---- JSON parsing, in zod's order ----------------------------------------------------------

/// The JavaScript type name zod reports for a JSON value (`received …`); `undefined` when absent.
pub fn js_type(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn invalid_type(expected: &str, got: Option<&Value>) -> DefinitionError {
    DefinitionError::bad(format!("Invalid input: expected {expected}, received {}", js_type(got)))
}

fn expect_object(value: &Value) -> Result<&Map<String, Value>> {
    value.as_object().ok_or_else(|| invalid_type("object", Some(value)))
}

fn parse_collection_name(value: Option<&Value>) -> Result<String> {
    let name = value.and_then(Value::as_str).ok_or_else(|| invalid_type("string", value))?;
    check_collection_name(name)?;
    Ok(name.to_owned())
}

fn optional_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        other => Err(invalid_type("boolean", other)),
    }
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        other => Err(invalid_type("string", other)),
    }
}

fn parse_field_list(value: Option<&Value>, depth: usize, shape: Shape) -> Result<Vec<Field>> {
    let list = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        other => return Err(invalid_type("array", other)),
    };
    if depth > MAX_FIELD_DEPTH {
        return Err(DefinitionError::bad(INVALID_FIELD_CONFIGURATION));
    }
    let fields = list.iter().map(|item| parse_field(item, depth, shape)).collect::<Result<Vec<_>>>()?;
    check_duplicates(&fields)?;
    Ok(fields)
}

fn parse_kind(value: Option<&Value>, shape: Shape, allow_array: bool) -> Result<FieldKind> {
    let kind = value.and_then(Value::as_str).and_then(|name| match shape {
        Shape::Key => FieldKind::parse(name),
        Shape::Public => FieldKind::parse_lenient(name),
    });
    match kind {
        Some(kind) if allow_array || kind != FieldKind::Array => Ok(kind),
        _ => {
            let names: Vec<&str> =
                FieldKind::ALL.iter().map(|k| k.as_str()).filter(|n| allow_array || *n != "Array").collect();
            let mut options: Vec<String> = Vec::new();
            if shape == Shape::Public {
                options.extend(names.iter().map(|n| format!("\"{}\"", n.to_ascii_lowercase())));
            }
            options.extend(names.iter().map(|n| format!("\"{n}\"")));
            Err(DefinitionError::bad(format!("Invalid option: expected one of {}", options.join("|"))))
        }
    }
}

fn parse_field(value: &Value, depth: usize, shape: Shape) -> Result<Field> {
    let obj = expect_object(value)?;
    let key_prop = match shape {
        Shape::Key => "key",
        Shape::Public => "name",
    };
    let key_value = obj.get(key_prop);
    let key = key_value.and_then(Value::as_str).ok_or_else(|| invalid_type("string", key_value))?;
    check_key(key, depth)?;
    let kind = parse_kind(obj.get("type"), shape, true)?;
    let required = optional_bool(obj, "required")?.unwrap_or(false);
    let unique = optional_bool(obj, "unique")?.unwrap_or(false);
    // A present `null` default is kept so that the default rule refuses it, as zod did.
    let default = obj.get("default").cloned();
    let reference = optional_string(obj, "ref")?;
    let items = match obj.get("items") {
        None => None,
        Some(items) => Some(parse_items(items, depth, shape)?),
    };
    let fields = parse_field_list(obj.get("fields"), depth + 1, shape)?;
    let field = Field { key: key.to_owned(), kind, required, unique, default, fields, items, reference };
    check_field_rules(&field, depth)?;
    Ok(field)
}

fn parse_items(value: &Value, depth: usize, shape: Shape) -> Result<Items> {
    let obj = expect_object(value)?;
    let kind = parse_kind(obj.get("type"), shape, false)?;
    let fields = parse_field_list(obj.get("fields"), depth + 1, shape)?;
    let reference = optional_string(obj, "ref")?;
    Ok(Items { kind, fields, reference })
}

fn parse_rls(value: Option<&Value>, name: &str, model: &[Field]) -> Result<RlsSettings> {
    let default_owner = || RlsSettings::default_owner_field_for(name, model);
    let obj = match value {
        None | Some(Value::Null) => {
            return Ok(RlsSettings { owner_field: default_owner(), ..Default::default() });
        }
        Some(Value::Object(obj)) => obj,
        Some(other) => {
            return Err(DefinitionError::bad(format!("'rls' must be an object, not {}.", js_type(Some(other)))));
        }
    };
    let setting = |key: &str, expected: &str, ok: bool| {
        if ok { Ok(()) } else { Err(DefinitionError::bad(format!("RLS setting '{key}' must be {expected}."))) }
    };
    let defaults = RlsSettings::default();
    let enabled = obj.get("enabled");
    setting("enabled", "a boolean", enabled.is_none_or(Value::is_boolean))?;
    let mode = obj.get("mode");
    setting("mode", "a string", mode.is_none_or(Value::is_string))?;
    let owner = obj.get("ownerField");
    setting("ownerField", "a string", owner.is_none_or(Value::is_string))?;
    let require = obj.get("requireAuthForWrite");
    setting("requireAuthForWrite", "a boolean", require.is_none_or(Value::is_boolean))?;
    Ok(RlsSettings {
        enabled: enabled.and_then(Value::as_bool).unwrap_or(defaults.enabled),
        mode: mode.and_then(Value::as_str).map_or(defaults.mode, str::to_owned),
        owner_field: owner.and_then(Value::as_str).map_or_else(default_owner, str::to_owned),
        require_auth_for_write: require.and_then(Value::as_bool).unwrap_or(defaults.require_auth_for_write),
    })
}

#[cfg(test)]
#[path = "definition_tests.rs"]
mod tests;
