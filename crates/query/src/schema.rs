//! The collection's field model as the parser needs it: the type of each declared path, used to
//! cast query values the way Mongoose casts them against the compiled schema.

use std::collections::BTreeMap;

use crate::ast::Scalar;
use crate::path::FieldPath;
use crate::value::{self, CastError};

/// The type of a declared field (urBackend's field model; `Ref` is [`FieldType::ObjectId`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// Text. Query values stay strings.
    String,
    /// A JavaScript number (IEEE 754 double).
    Number,
    /// `true` / `false`.
    Boolean,
    /// A point in time (milliseconds since the Unix epoch, UTC).
    Date,
    /// A MongoDB ObjectId; the schema's `Ref` type.
    ObjectId,
    /// A nested object (declare its sub-fields with dotted paths). Query values stay strings.
    Object,
    /// An array; query values on an array field are cast by the item type, as Mongoose does.
    Array(Box<FieldType>),
    /// Anything. Query values stay strings.
    Mixed,
}

impl FieldType {
    /// The type query values are cast to: the item type for arrays (recursively), else `self`.
    #[must_use]
    pub fn scalar_type(&self) -> &FieldType {
        match self {
            FieldType::Array(item) => item.scalar_type(),
            other => other,
        }
    }

    /// Whether this is an array type.
    #[must_use]
    pub fn is_array(&self) -> bool {
        matches!(self, FieldType::Array(_))
    }

    /// The type's name as urBackend's field model spells it (`Ref` for ObjectId).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::Number => "Number",
            FieldType::Boolean => "Boolean",
            FieldType::Date => "Date",
            FieldType::ObjectId => "Ref",
            FieldType::Object => "Object",
            FieldType::Array(_) => "Array",
            FieldType::Mixed => "Mixed",
        }
    }
}

static IMPLICIT_ID: FieldType = FieldType::ObjectId;
static IMPLICIT_DATE: FieldType = FieldType::Date;
static IMPLICIT_VERSION: FieldType = FieldType::Number;

/// The declared field types of one collection, by dotted path.
///
/// Built by the caller from the collection's field model; nested `Object` sub-fields (and the
/// sub-fields of arrays of objects) are declared with dotted paths (`address.city`). The implicit
/// fields are always typed, whatever is declared: `_id` is an ObjectId, `createdAt` and
/// `updatedAt` are Dates and `__v` (Mongoose's version key) is a Number. Undeclared paths keep
/// string semantics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    fields: BTreeMap<String, FieldType>,
}

impl Schema {
    /// An empty schema (only the implicit fields are typed).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares (or re-declares) the type of `path`.
    pub fn declare(&mut self, path: &str, ty: FieldType) -> &mut Self {
        self.fields.insert(path.to_owned(), ty);
        self
    }

    /// Builder form of [`Schema::declare`].
    #[must_use]
    pub fn with(mut self, path: &str, ty: FieldType) -> Self {
        self.declare(path, ty);
        self
    }

    /// The type of `path`: the implicit type for `_id`, `createdAt`, `updatedAt` and `__v`, the
    /// declared type otherwise, `None` when undeclared.
    #[must_use]
    pub fn field_type(&self, path: &str) -> Option<&FieldType> {
        match path {
            "_id" => Some(&IMPLICIT_ID),
            "createdAt" | "updatedAt" => Some(&IMPLICIT_DATE),
            "__v" => Some(&IMPLICIT_VERSION),
            _ => self.fields.get(path),
        }
    }

    /// Whether `path` has a type (declared or implicit).
    #[must_use]
    pub fn is_declared(&self, path: &str) -> bool {
        self.field_type(path).is_some()
    }

    /// Casts the query text `raw` for `path` exactly as a filter value would be cast (see the
    /// crate documentation); `None` when it cannot be cast. Handy for building the RLS scope
    /// value of an owner field.
    #[must_use]
    pub fn cast(&self, path: &FieldPath, raw: &str) -> Option<Scalar> {
        self.cast_text(path, raw).ok()
    }

    pub(crate) fn cast_text(&self, path: &FieldPath, raw: &str) -> Result<Scalar, CastError> {
        value::cast_text(raw, self.field_type(path.as_str()))
    }
}
