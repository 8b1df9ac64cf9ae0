//! Write decisions: insert, bulk insert, update (PUT and PATCH merge alike) and delete.
//!
//! Inserts are granted with the documents to store: keys normalised, the owner field set to the
//! caller. Updates and deletes are granted with a [`WriteScope`] that the store must put inside
//! the write itself (`_id` and owner in one filter), so that the ownership check and the write
//! are one database operation: there is no read-then-write window (spec §17, finding 4).

use serde_json::{Map, Value};

use crate::config::{Caller, EffectiveMode, KeyRole, Target};
use crate::denial::Denial;
use crate::keys::{self, OwnerKey};

/// The most documents one bulk insert may carry.
pub const MAX_BULK_ITEMS: usize = 100;

/// A validated document id: 24 hexadecimal characters, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocId(String);

impl DocId {
    /// Parses a path id. Anything but 24 hex characters is `400 Invalid ID format.`
    pub fn parse(id: &str) -> Result<DocId, Denial> {
        if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(DocId(id.to_ascii_lowercase()))
        } else {
            Err(Denial::invalid_id())
        }
    }

    /// The id as lower-case hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The owner condition of a write: the document's `field` must equal `user`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnerMatch {
    /// The owner field.
    pub field: String,
    /// The caller's user id.
    pub user: String,
}

/// The filter an update or delete must carry: the document id and, for publishable keys, the
/// owner. A store applies it inside the write (for example `update_one({_id, owner}, …)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteScope {
    id: DocId,
    owner: Option<OwnerMatch>,
    existence_is_public: bool,
}

impl WriteScope {
    /// The document id.
    pub fn id(&self) -> &DocId {
        &self.id
    }

    /// The owner condition, absent for secret-key writes.
    pub fn owner(&self) -> Option<&OwnerMatch> {
        self.owner.as_ref()
    }

    /// Whether a stored document (as JSON, `_id` as hex string) lies inside the scope: the
    /// reference meaning every backend must agree with.
    pub fn permits(&self, doc: &Value) -> bool {
        let id_matches =
            doc.get("_id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(self.id.as_str()));
        let owner_matches = self
            .owner
            .as_ref()
            .is_none_or(|owner| doc.get(&owner.field).and_then(Value::as_str) == Some(owner.user.as_str()));
        id_matches && owner_matches
    }

    /// Whether, after a write that matched nothing, the caller may learn that the document
    /// exists outside its scope. Only then is it worth asking the store.
    pub fn wants_existence_probe(&self) -> bool {
        self.owner.is_some() && self.existence_is_public
    }

    /// The denial for a scoped write that matched nothing. `exists` says whether a document
    /// with this id exists at all (only consulted when [`Self::wants_existence_probe`]).
    ///
    /// In `public-read` collections, where anyone may read the document anyway, this is the
    /// original's `403 You can only modify your own document.`; in `private` collections it is
    /// `404 Document not found.` so that writes are no oracle for other users' ids.
    pub fn miss(&self, exists: bool) -> Denial {
        if exists && self.wants_existence_probe() { Denial::not_your_document() } else { Denial::document_not_found() }
    }
}

/// A granted insert: the documents to store, in order, owner already set.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertGrant {
    /// The documents, with normalised keys and the owner field set where RLS applies.
    pub documents: Vec<Map<String, Value>>,
    /// The owner stamped on every document, if any.
    pub owner: Option<OwnerMatch>,
}

/// A granted update: the scope the write must be filtered by, and the fields to set (merge).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateGrant {
    /// The write filter.
    pub scope: WriteScope,
    /// The fields to set, keys normalised. Never contains the owner field for publishable keys.
    pub set: Map<String, Value>,
}

/// Who writes, once the collection-level rules have passed.
enum Writer<'a> {
    /// Secret key: no ownership rules.
    Secret,
    /// A publishable key with a user.
    Owner { field: &'a str, user: &'a str, mode: EffectiveMode },
    /// A publishable key without a user, allowed because `requireAuthForWrite` is off.
    Anonymous { field: &'a str },
}

/// The collection-level part of every write decision (spec §7.4 steps 1–5).
fn writer<'a>(caller: &Caller<'a>, target: &Target<'a>) -> Result<Writer<'a>, Denial> {
    let rls = target.resolve()?;
    if caller.role() == KeyRole::Secret {
        return Ok(Writer::Secret);
    }
    if !rls.enabled {
        return Err(Denial::write_blocked());
    }
    if rls.require_auth_for_write && caller.user().is_none() {
        return Err(Denial::write_auth_required());
    }
    let mode = rls.mode.effective()?;
    let field = rls.checked_owner_field()?;
    Ok(match caller.user() {
        Some(user) => Writer::Owner { field, user, mode },
        None => Writer::Anonymous { field },
    })
}

/// Decides `POST /api/data/:collection` with a JSON body.
pub fn authorize_insert(caller: &Caller<'_>, target: &Target<'_>, body: &Value) -> Result<InsertGrant, Denial> {
    let writer = writer(caller, target)?;
    refuse_id_owner(&writer)?;
    insert_items(&writer, std::slice::from_ref(body))
}

/// Decides `POST /api/data/:collection/bulk`: 1 to [`MAX_BULK_ITEMS`] objects, all or nothing.
pub fn authorize_bulk_insert(caller: &Caller<'_>, target: &Target<'_>, body: &Value) -> Result<InsertGrant, Denial> {
    let writer = writer(caller, target)?;
    refuse_id_owner(&writer)?;
    let items = body.as_array().ok_or_else(|| Denial::invalid_body("Request body must be an array of objects"))?;
    if items.is_empty() {
        return Err(Denial::invalid_body("Request body cannot be an empty array."));
    }
    if items.len() > MAX_BULK_ITEMS {
        return Err(Denial::invalid_body(format!("Maximum {MAX_BULK_ITEMS} records allowed")));
    }
    insert_items(&writer, items)
}

/// Decides `PUT`/`PATCH /api/data/:collection/:id` (both merge the body into the document).
pub fn authorize_update(
    caller: &Caller<'_>,
    target: &Target<'_>,
    id: &str,
    body: &Value,
) -> Result<UpdateGrant, Denial> {
    let writer = writer(caller, target)?;
    let scope = write_scope(&writer, id)?;
    let object = body.as_object().ok_or_else(|| Denial::invalid_body("Request body must be a JSON object."))?;
    let mut set = keys::canonical_document(object)?;
    if let Some(owner) = scope.owner() {
        let mut owner_restated = false;
        for (key, value) in &set {
            match keys::owner_key(key, &owner.field) {
                OwnerKey::Exact => match value {
                    Value::String(v) if *v == owner.user => owner_restated = true,
                    Value::String(_) => return Err(Denial::owner_immutable(&owner.field)),
                    _ => {
                        return Err(Denial::invalid_body(format!("{} must be a string user id.", owner.field)));
                    }
                },
                OwnerKey::Path => return Err(Denial::owner_immutable(&owner.field)),
                OwnerKey::LookAlike => return Err(keys::look_alike_denial(key, &owner.field)),
                OwnerKey::Other => {}
            }
        }
        if owner_restated {
            set.shift_remove(&owner.field);
        }
    }
    Ok(UpdateGrant { scope, set })
}

/// Decides `DELETE /api/data/:collection/:id`.
pub fn authorize_delete(caller: &Caller<'_>, target: &Target<'_>, id: &str) -> Result<WriteScope, Denial> {
    let writer = writer(caller, target)?;
    write_scope(&writer, id)
}

fn write_scope(writer: &Writer<'_>, id: &str) -> Result<WriteScope, Denial> {
    match *writer {
        Writer::Secret => Ok(WriteScope { id: DocId::parse(id)?, owner: None, existence_is_public: false }),
        Writer::Owner { field, user, mode } => Ok(WriteScope {
            id: DocId::parse(id)?,
            owner: Some(OwnerMatch { field: field.to_owned(), user: user.to_owned() }),
            existence_is_public: mode == EffectiveMode::PublicRead,
        }),
        Writer::Anonymous { .. } => Err(Denial::write_auth_required()),
    }
}

fn refuse_id_owner(writer: &Writer<'_>) -> Result<(), Denial> {
    match writer {
        Writer::Owner { field: "_id", .. } | Writer::Anonymous { field: "_id" } => {
            Err(Denial::insert_denied_id_owner())
        }
        _ => Ok(()),
    }
}

fn insert_items(writer: &Writer<'_>, items: &[Value]) -> Result<InsertGrant, Denial> {
    let (field, user) = match *writer {
        Writer::Secret => (None, None),
        Writer::Owner { field, user, .. } => (Some(field), Some(user)),
        Writer::Anonymous { field } => (Some(field), None),
    };
    let mut documents = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let object = item
            .as_object()
            .ok_or_else(|| Denial::invalid_body(format!("Item at index {index} must be a valid object")))?;
        let mut document = keys::canonical_document(object)?;
        if let Some(field) = field {
            stamp_owner(&mut document, index, field, user)?;
        }
        documents.push(document);
    }
    let owner = field.zip(user).map(|(field, user)| OwnerMatch { field: field.to_owned(), user: user.to_owned() });
    Ok(InsertGrant { documents, owner })
}

/// Sets the owner of one insert item to the caller (or leaves it unset for an anonymous
/// writer), refusing any attempt to name someone else.
fn stamp_owner(document: &mut Map<String, Value>, index: usize, field: &str, user: Option<&str>) -> Result<(), Denial> {
    let mut owner_given = false;
    for (key, value) in document.iter() {
        match keys::owner_key(key, field) {
            OwnerKey::Other => {}
            OwnerKey::Path => return Err(Denial::item_owner_mismatch(index, field)),
            OwnerKey::LookAlike => return Err(keys::look_alike_denial(key, field)),
            OwnerKey::Exact => match value {
                Value::Null => {}
                Value::String(given) if given.is_empty() => {}
                Value::String(given) if Some(given.as_str()) == user => owner_given = true,
                Value::String(_) => return Err(Denial::item_owner_mismatch(index, field)),
                _ => {
                    return Err(Denial::invalid_body(format!(
                        "Item at index {index} has an invalid {field}; expected a string user id."
                    )));
                }
            },
        }
    }
    match user {
        Some(user) if !owner_given => {
            document.insert(field.to_owned(), Value::String(user.to_owned()));
        }
        Some(_) => {}
        None => {
            document.shift_remove(field);
        }
    }
    Ok(())
}
