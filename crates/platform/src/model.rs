//! The collection model in urBackend's JSON shape: a [`CollectionDef`] is a name, a field model
//! (`[{"key":"title","type":"String","required":true}, …]`) and the RLS settings, exactly as the
//! original stores them in `Project.collections[]` (spec §6.1, §7.1). This module holds the types,
//! their serde form and the conversions the rest of the server needs: the query schema for
//! casting ([`CollectionDef::query_schema`]), the RLS configuration for rls-core
//! ([`CollectionDef::rls_config`]) and the unique indexes ([`CollectionDef::unique_indexes`]).
//! Parsing untrusted definitions, with the original's error texts, is in `definition`.

use query::{FieldType, Schema};
use rls_core::{RlsConfig, RlsMode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::UniqueIndex;

/// The type of a field (`"type"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldKind {
    /// Text; stored trimmed.
    String,
    /// A JavaScript number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A point in time, stored as an ISO 8601 string with milliseconds.
    Date,
    /// A nested object; its sub-fields are in [`Field::fields`].
    Object,
    /// An array; its item type is in [`Field::items`].
    Array,
    /// A reference to a document of another collection (24-hex id); target in [`Field::reference`].
    Ref,
}

impl FieldKind {
    /// Every kind, in the order of the original's enum.
    pub const ALL: [FieldKind; 7] = [
        FieldKind::String,
        FieldKind::Number,
        FieldKind::Boolean,
        FieldKind::Date,
        FieldKind::Object,
        FieldKind::Array,
        FieldKind::Ref,
    ];

    /// The kind's name as stored (`"String"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "String",
            FieldKind::Number => "Number",
            FieldKind::Boolean => "Boolean",
            FieldKind::Date => "Date",
            FieldKind::Object => "Object",
            FieldKind::Array => "Array",
            FieldKind::Ref => "Ref",
        }
    }

    /// The kind named exactly `name` (capitalised, as stored).
    pub fn parse(name: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The kind named `name` in the public `POST /api/schemas` shape: capitalised or all
    /// lower-case (`"string"`, `"String"`).
    pub fn parse_lenient(name: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|kind| kind.as_str() == name || kind.as_str().to_ascii_lowercase() == name)
    }

    /// Whether a top-level field of this kind may carry a unique index (String, Number, Boolean,
    /// Date).
    pub fn supports_unique(self) -> bool {
        matches!(self, FieldKind::String | FieldKind::Number | FieldKind::Boolean | FieldKind::Date)
    }
}

/// The item type of an `Array` field (`"items"` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Items {
    /// The item type (never `Array`).
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The sub-fields of object items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// The target collection of `Ref` items (`"ref"`; the original dropped it, spec §17.24).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Items {
    /// Items of a kind, without sub-fields or reference.
    pub fn of(kind: FieldKind) -> Items {
        Items { kind, fields: Vec::new(), reference: None }
    }
}

/// One field of a collection's model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The field name (top-level key, or sub-key inside an object).
    pub key: String,
    /// The type.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Whether inserts must carry a non-null value.
    #[serde(default)]
    pub required: bool,
    /// Whether a unique index enforces distinct values (top-level primitive fields only).
    #[serde(default)]
    pub unique: bool,
    /// The value used on insert when the field is missing or null (String, Number, Boolean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The sub-fields of an `Object` field.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// The item type of an `Array` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Items>,
    /// The target collection of a `Ref` field (`"ref"` in JSON).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Field {
    /// An optional, non-unique field of this kind with nothing else set.
    pub fn new(key: impl Into<String>, kind: FieldKind) -> Field {
        Field {
            key: key.into(),
            kind,
            required: false,
            unique: false,
            default: None,
            fields: Vec::new(),
            items: None,
            reference: None,
        }
    }

    /// The field, required.
    #[must_use]
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// The field, unique.
    #[must_use]
    pub fn unique(mut self) -> Field {
        self.unique = true;
        self
    }

    /// The field with a default value.
    #[must_use]
    pub fn with_default(mut self, value: Value) -> Field {
        self.default = Some(value);
        self
    }

    /// The field with sub-fields (for `Object`).
    #[must_use]
    pub fn with_fields(mut self, fields: Vec<Field>) -> Field {
        self.fields = fields;
        self
    }

    /// The field with an item type (for `Array`).
    #[must_use]
    pub fn with_items(mut self, items: Items) -> Field {
        self.items = Some(items);
        self
    }

    /// The field with a reference target (for `Ref`).
    #[must_use]
    pub fn with_ref(mut self, target: impl Into<String>) -> Field {
        self.reference = Some(target.into());
        self
    }
}

/// A collection's row-level security settings (`"rls"` in JSON), as stored; the defaults are
/// those of spec §7.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RlsSettings {
    /// Whether RLS applies (default `false`).
    #[serde(default)]
    pub enabled: bool,
    /// `public-read` (default), `private` or `owner-write-only`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// The field holding the owner's user id (default `userId`).
    #[serde(default = "default_owner_field")]
    pub owner_field: String,
    /// Whether publishable-key writes need a user token (default `true`).
    #[serde(default = "default_true")]
    pub require_auth_for_write: bool,
}

fn default_mode() -> String {
    "public-read".to_owned()
}

fn default_owner_field() -> String {
    "userId".to_owned()
}

fn default_true() -> bool {
    true
}

impl Default for RlsSettings {
    fn default() -> Self {
        RlsSettings {
            enabled: false,
            mode: default_mode(),
            owner_field: default_owner_field(),
            require_auth_for_write: true,
        }
    }
}

impl RlsSettings {
    /// The defaults for a new collection when the definition names no owner field (spec §7.1,
    /// the dashboard's rule): `_id` for `users`, else `userId` if the model declares it, else
    /// `ownerId` if it declares that, else `userId`.
    pub fn default_owner_field_for(name: &str, model: &[Field]) -> String {
        let declares = |key: &str| model.iter().any(|f| f.key == key);
        if name == "users" {
            "_id".to_owned()
        } else if !declares("userId") && declares("ownerId") {
            "ownerId".to_owned()
        } else {
            default_owner_field()
        }
    }
}

/// A collection definition: `{"_id", "name", "model": [fields], "rls": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionDef {
    /// The definition's id (24 hex), assigned by the platform when the collection is saved.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The collection name.
    pub name: String,
    /// The field model (the schema is not strict: undeclared fields are stored as sent).
    #[serde(default)]
    pub model: Vec<Field>,
    /// The RLS settings.
    #[serde(default)]
    pub rls: RlsSettings,
}

impl CollectionDef {
    /// A definition with this name and model, RLS at its defaults.
    pub fn new(name: impl Into<String>, model: Vec<Field>) -> CollectionDef {
        CollectionDef { id: None, name: name.into(), model, rls: RlsSettings::default() }
    }

    /// The `users` collection a new project gets (spec §6.7): required String `email` (unique,
    /// so that two sign-ups cannot race to the same address) and `password`, RLS off with owner
    /// field `_id`.
    pub fn default_users() -> CollectionDef {
        CollectionDef {
            id: None,
            name: "users".to_owned(),
            model: vec![
                Field::new("email", FieldKind::String).required().unique(),
                Field::new("password", FieldKind::String).required(),
            ],
            rls: RlsSettings { owner_field: "_id".to_owned(), ..RlsSettings::default() },
        }
    }

    /// The top-level field with this key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.model.iter().find(|f| f.key == key)
    }

    /// The declared types for the query parser and the store: every field by its path, `Object`
    /// sub-fields (and the sub-fields of object items) as dotted paths, `Array` as an array of
    /// its item type (of `Mixed` without `items`), `Ref` as an ObjectId.
    pub fn query_schema(&self) -> Schema {
        let mut schema = Schema::new();
        declare_fields(&mut schema, "", &self.model);
        schema
    }

    /// The RLS configuration rls-core decides with. The mode goes through [`RlsMode::parse`], so
    /// a stored mode rls-core does not know fails closed there.
    pub fn rls_config(&self) -> RlsConfig {
        RlsConfig {
            enabled: self.rls.enabled,
            mode: RlsMode::parse(&self.rls.mode),
            owner_field: self.rls.owner_field.clone(),
            require_auth_for_write: self.rls.require_auth_for_write,
        }
    }

    /// The unique indexes the model declares (spec §6.5): top-level `unique` fields of a
    /// primitive type, partial unless the field is required.
    pub fn unique_indexes(&self) -> Vec<UniqueIndex> {
        self.model
            .iter()
            .filter(|f| f.unique && f.kind.supports_unique())
            .map(|f| UniqueIndex { field: f.key.clone(), required: f.required })
            .collect()
    }
}

fn declare_fields(schema: &mut Schema, prefix: &str, fields: &[Field]) {
    for field in fields {
        let path = if prefix.is_empty() { field.key.clone() } else { format!("{prefix}.{}", field.key) };
        schema.declare(&path, field_type(field.kind, field.items.as_ref()));
        match field.kind {
            FieldKind::Object => declare_fields(schema, &path, &field.fields),
            FieldKind::Array => {
                if let Some(items) = field.items.as_ref().filter(|items| items.kind == FieldKind::Object) {
                    declare_fields(schema, &path, &items.fields);
                }
            }
            _ => {}
        }
    }
}

fn field_type(kind: FieldKind, items: Option<&Items>) -> FieldType {
    match kind {
        FieldKind::String => FieldType::String,
        FieldKind::Number => FieldType::Number,
        FieldKind::Boolean => FieldType::Boolean,
        FieldKind::Date => FieldType::Date,
        FieldKind::Object => FieldType::Object,
        FieldKind::Ref => FieldType::ObjectId,
        FieldKind::Array => {
            let item = match items {
                // Arrays of arrays cannot be declared; the item type is never Array itself.
                Some(items) if items.kind != FieldKind::Array => field_type(items.kind, None),
                _ => FieldType::Mixed,
            };
            FieldType::Array(Box::new(item))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serde_round_trips_the_urbackend_shape() {
        let input = json!({"name":"posts","model":[{"key":"title","type":"String","required":true}],
            "rls":{"enabled":true,"mode":"private","ownerField":"userId","requireAuthForWrite":true}});
        let def: CollectionDef = serde_json::from_value(input).unwrap();
        assert_eq!(def.model[0], Field::new("title", FieldKind::String).required());
        assert_eq!(def.rls.mode, "private");
        let out = serde_json::to_value(&def).unwrap();
        assert_eq!(
            out,
            json!({"name":"posts","model":[{"key":"title","type":"String","required":true,"unique":false,"fields":[]}],
                "rls":{"enabled":true,"mode":"private","ownerField":"userId","requireAuthForWrite":true}})
        );
    }

    #[test]
    fn missing_rls_takes_the_defaults() {
        let def: CollectionDef = serde_json::from_value(json!({"name":"a"})).unwrap();
        assert_eq!(def.rls, RlsSettings::default());
        assert_eq!(def.rls_config(), RlsConfig::default());
        let def: CollectionDef = serde_json::from_value(json!({"name":"a","rls":{"enabled":true}})).unwrap();
        assert_eq!(def.rls.owner_field, "userId");
        assert!(def.rls.require_auth_for_write);
    }

    #[test]
    fn query_schema_declares_paths() {
        let def = CollectionDef::new(
            "c",
            vec![
                Field::new("title", FieldKind::String),
                Field::new("address", FieldKind::Object).with_fields(vec![Field::new("zip", FieldKind::Number)]),
                Field::new("tags", FieldKind::Array).with_items(Items::of(FieldKind::String)),
                Field::new("any", FieldKind::Array),
                Field::new("lines", FieldKind::Array).with_items(Items {
                    kind: FieldKind::Object,
                    fields: vec![Field::new("at", FieldKind::Date)],
                    reference: None,
                }),
                Field::new("author", FieldKind::Ref).with_ref("users"),
            ],
        );
        let schema = def.query_schema();
        assert_eq!(schema.field_type("title"), Some(&FieldType::String));
        assert_eq!(schema.field_type("address"), Some(&FieldType::Object));
        assert_eq!(schema.field_type("address.zip"), Some(&FieldType::Number));
        assert_eq!(schema.field_type("tags"), Some(&FieldType::Array(Box::new(FieldType::String))));
        assert_eq!(schema.field_type("any"), Some(&FieldType::Array(Box::new(FieldType::Mixed))));
        assert_eq!(schema.field_type("lines.at"), Some(&FieldType::Date));
        assert_eq!(schema.field_type("author"), Some(&FieldType::ObjectId));
        assert_eq!(schema.field_type("nope"), None);
    }

    #[test]
    fn rls_config_fails_closed_on_unknown_modes() {
        let mut def = CollectionDef::new("c", vec![]);
        def.rls.mode = "everyone".into();
        assert_eq!(def.rls_config().mode, RlsMode::Unsupported("everyone".into()));
    }

    #[test]
    fn unique_indexes_are_top_level_primitives() {
        let def = CollectionDef::new(
            "c",
            vec![
                Field::new("email", FieldKind::String).required().unique(),
                Field::new("n", FieldKind::Number).unique(),
                Field::new("o", FieldKind::Object).unique(),
            ],
        );
        assert_eq!(
            def.unique_indexes(),
            vec![
                UniqueIndex { field: "email".into(), required: true },
                UniqueIndex { field: "n".into(), required: false }
            ]
        );
    }

    #[test]
    fn default_owner_field_follows_the_dashboard() {
        let owner = [Field::new("ownerId", FieldKind::String)];
        assert_eq!(RlsSettings::default_owner_field_for("users", &[]), "_id");
        assert_eq!(RlsSettings::default_owner_field_for("notes", &owner), "ownerId");
        assert_eq!(RlsSettings::default_owner_field_for("notes", &[]), "userId");
    }
}
