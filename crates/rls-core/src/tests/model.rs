//! An independent reference model of the RLS rules, for the property tests.
//!
//! It is written from the rules as prose (crate docs, spec §7 with our fixes), not from the
//! engine: instead of the engine's Unicode normalisation it uses a lookup table over the small
//! key alphabet the generators draw from, and it predicts only statuses and granted values.

use serde_json::{Map, Value};

use super::{Op, Outcome};
use crate::ReadScope;

/// One generated request.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) secret: bool,
    pub(crate) user: Option<&'static str>,
    pub(crate) collection: &'static str,
    pub(crate) exists: bool,
    pub(crate) enabled: bool,
    pub(crate) mode: &'static str,
    pub(crate) owner_field: &'static str,
    pub(crate) require_auth: bool,
    pub(crate) op: Op,
}

/// The key alphabet: raw spelling and what it normalises to (`None`: refused as a key).
pub(crate) const KEYS: &[(&str, Option<&str>)] = &[
    ("userId", Some("userId")),
    (" userId", Some("userId")),
    ("\u{feff}userId", Some("userId")),
    ("userId\u{200b} ", Some("userId")),
    ("userID", Some("userID")),
    ("ｕｓｅｒＩｄ", Some("ｕｓｅｒＩｄ")),
    ("userId.x", Some("userId.x")),
    ("ownerId", Some("ownerId")),
    (" ownerId", Some("ownerId")),
    ("OwnerID", Some("OwnerID")),
    ("title", Some("title")),
    ("title ", Some("title")),
    ("_id", Some("_id")),
    ("$set", None),
    (" $inc", None),
    ("", None),
    ("\u{200b}", None),
];

/// The collections the generator names, and whether each is the users collection.
pub(crate) const COLLECTIONS: &[(&str, bool)] =
    &[("posts", false), ("notes", false), ("users", true), (" Users", true), ("USERS", true)];

/// The owner fields the generator configures, and whether each is a valid field name.
pub(crate) const OWNER_FIELDS: &[(&str, bool)] = &[
    ("userId", true),
    ("ownerId", true),
    ("_id", true),
    ("", false),
    ("a.b", false),
    (" userId", false),
    ("$x", false),
];

fn canonical(raw: &str) -> Option<&'static str> {
    KEYS.iter().find(|(spelling, _)| *spelling == raw).and_then(|(_, canon)| *canon)
}

/// Case-and-width folding for the alphabet above.
fn fold(name: &str) -> String {
    match name {
        "ｕｓｅｒＩｄ" => "userid".to_owned(),
        other => other.to_lowercase(),
    }
}

fn has_operator_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k.trim().starts_with('$') || has_operator_key(v)),
        Value::Array(items) => items.iter().any(has_operator_key),
        _ => false,
    }
}

fn denied(status: u16) -> Outcome {
    Outcome::Denied(status, String::new())
}

/// The body as canonical entries, or the hygiene failure (always 400).
fn canonical_entries(object: &Map<String, Value>) -> Result<Map<String, Value>, Outcome> {
    let mut out = Map::new();
    for (raw, value) in object {
        let name = canonical(raw).ok_or_else(|| denied(400))?;
        if has_operator_key(value) || out.contains_key(name) {
            return Err(denied(400));
        }
        out.insert(name.to_owned(), value.clone());
    }
    Ok(out)
}

enum Relation {
    Owner,
    Path,
    LookAlike,
    Other,
}

fn relation(key: &str, owner: &str) -> Relation {
    let first = key.split('.').next().unwrap_or(key);
    if key == owner {
        Relation::Owner
    } else if first == owner {
        Relation::Path
    } else if fold(first) == fold(owner) {
        Relation::LookAlike
    } else {
        Relation::Other
    }
}

/// What the rules say should happen.
pub(crate) fn expected(case: &Case) -> Outcome {
    if COLLECTIONS.iter().any(|(name, users)| *name == case.collection && *users) {
        return denied(403);
    }
    if !case.exists {
        return denied(404);
    }
    let known_mode = matches!(case.mode, "public-read" | "private" | "owner-write-only");
    let owner_valid = OWNER_FIELDS.iter().any(|(f, valid)| *f == case.owner_field && *valid);
    let owner = case.owner_field;
    let user = if case.secret { None } else { case.user };
    match &case.op {
        Op::List | Op::Get | Op::Count | Op::Populate => {
            if case.secret || !case.enabled {
                return Outcome::Read(ReadScope::All);
            }
            if !known_mode {
                return denied(403);
            }
            if case.mode != "private" {
                return Outcome::Read(ReadScope::All);
            }
            if !owner_valid {
                return denied(403);
            }
            match user {
                None => denied(401),
                Some(user) => Outcome::Read(ReadScope::Owner { field: owner.to_owned(), user: user.to_owned() }),
            }
        }
        Op::Aggregate(_) => unreachable!("aggregation has its own properties"),
        Op::Insert(_) | Op::Bulk(_) | Op::Put(..) | Op::Patch(..) | Op::Delete(_) => {
            if !case.secret {
                if !case.enabled {
                    return denied(403);
                }
                if case.require_auth && user.is_none() {
                    return denied(401);
                }
                if !known_mode || !owner_valid {
                    return denied(403);
                }
            }
            let owner = (!case.secret).then_some(owner);
            expected_write(&case.op, owner, user)
        }
    }
}

fn expected_write(op: &Op, owner: Option<&str>, user: Option<&str>) -> Outcome {
    let valid_id = |id: &str| id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit());
    match op {
        Op::Insert(body) => {
            if owner == Some("_id") {
                return denied(403);
            }
            insert_items(std::slice::from_ref(body), owner, user)
        }
        Op::Bulk(body) => {
            if owner == Some("_id") {
                return denied(403);
            }
            match body {
                Value::Array(items) if !items.is_empty() && items.len() <= 100 => insert_items(items, owner, user),
                _ => denied(400),
            }
        }
        Op::Put(id, body) | Op::Patch(id, body) => {
            if owner.is_some() && user.is_none() {
                return denied(401);
            }
            if !valid_id(id) {
                return denied(400);
            }
            let Some(object) = body.as_object() else { return denied(400) };
            let mut set = match canonical_entries(object) {
                Ok(set) => set,
                Err(outcome) => return outcome,
            };
            let (Some(owner), Some(user)) = (owner, user) else {
                return Outcome::Updated { owner: None, set };
            };
            let mut restated = false;
            for (key, value) in &set {
                match (relation(key, owner), value) {
                    (Relation::Owner, Value::String(v)) if v == user => restated = true,
                    (Relation::Owner, Value::String(_)) | (Relation::Path, _) => return denied(403),
                    (Relation::Owner, _) | (Relation::LookAlike, _) => return denied(400),
                    (Relation::Other, _) => {}
                }
            }
            if restated {
                set.remove(owner);
            }
            Outcome::Updated { owner: Some((owner.to_owned(), user.to_owned())), set }
        }
        Op::Delete(id) => {
            if owner.is_some() && user.is_none() {
                return denied(401);
            }
            if !valid_id(id) {
                return denied(400);
            }
            Outcome::Deleted { owner: owner.zip(user).map(|(f, u)| (f.to_owned(), u.to_owned())) }
        }
        Op::List | Op::Get | Op::Count | Op::Populate | Op::Aggregate(_) => unreachable!("not a write"),
    }
}

fn insert_items(items: &[Value], owner: Option<&str>, user: Option<&str>) -> Outcome {
    let mut documents = Vec::new();
    for item in items {
        let Some(object) = item.as_object() else { return denied(400) };
        let mut document = match canonical_entries(object) {
            Ok(document) => document,
            Err(outcome) => return outcome,
        };
        if let Some(owner) = owner {
            let mut given = false;
            for (key, value) in &document {
                match (relation(key, owner), value) {
                    (Relation::Owner, Value::Null) => {}
                    (Relation::Owner, Value::String(v)) if v.is_empty() => {}
                    (Relation::Owner, Value::String(v)) if Some(v.as_str()) == user => given = true,
                    (Relation::Owner, Value::String(_)) | (Relation::Path, _) => return denied(403),
                    (Relation::Owner, _) | (Relation::LookAlike, _) => return denied(400),
                    (Relation::Other, _) => {}
                }
            }
            match user {
                Some(user) if !given => {
                    document.insert(owner.to_owned(), Value::String(user.to_owned()));
                }
                Some(_) => {}
                None => {
                    document.remove(owner);
                }
            }
        }
        documents.push(document);
    }
    Outcome::Inserted(documents)
}
