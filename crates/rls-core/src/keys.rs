//! Body keys: normalisation, hygiene, and recognising the owner field under any spelling.
//!
//! The original compared the owner key byte for byte while its validator matched schema keys
//! after trimming and removing a BOM; a body with `" userId"` therefore passed the RLS check and
//! was then stored as `userId` (spec §7.6). Here every top-level key is normalised once, before
//! any decision: invisible format characters (BOM, zero-width and bidi controls) are removed, the
//! text is put in Unicode NFC and trimmed. The decision and the stored document both use the
//! normalised key, so there is no second reading that could disagree. Two keys that normalise to
//! the same name are refused, and a key that only differs from the owner field by case or by
//! compatibility forms (NFKC) is refused as ambiguous.

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::denial::Denial;

/// The deepest nesting a document body may have.
pub const MAX_BODY_DEPTH: usize = 64;

/// Normalises a field name: invisible format characters removed, Unicode NFC, trimmed.
///
/// ```
/// assert_eq!(rls_core::normalize_key("\u{feff} userId\u{200b} "), "userId");
/// ```
pub fn normalize_key(key: &str) -> String {
    let visible: String = key.chars().filter(|c| !is_invisible(*c)).collect();
    let composed: String = visible.nfc().collect();
    composed.trim().to_owned()
}

/// A comparison form for spotting look-alikes: normalised, then NFKC and lower-cased.
pub(crate) fn fold_for_comparison(key: &str) -> String {
    normalize_key(key).nfkc().collect::<String>().to_lowercase()
}

/// Format characters that render as nothing and so can hide inside a key.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// How a normalised top-level key relates to the owner field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnerKey {
    /// Exactly the owner field.
    Exact,
    /// A dotted path into the owner field (`userId.x`).
    Path,
    /// Not the owner field, but the same after case folding or NFKC (`userID`, `ｕｓｅｒＩｄ`).
    LookAlike,
    /// Another field.
    Other,
}

/// Classifies a normalised top-level key against the owner field.
pub(crate) fn owner_key(key: &str, owner_field: &str) -> OwnerKey {
    if key == owner_field {
        return OwnerKey::Exact;
    }
    let first_segment = key.split('.').next().unwrap_or(key);
    if first_segment == owner_field {
        return OwnerKey::Path;
    }
    if fold_for_comparison(first_segment) == fold_for_comparison(owner_field) {
        return OwnerKey::LookAlike;
    }
    OwnerKey::Other
}

/// The refusal for a look-alike of the owner field.
pub(crate) fn look_alike_denial(key: &str, owner_field: &str) -> Denial {
    Denial::invalid_body(format!("Field '{key}' is ambiguous with the RLS owner field '{owner_field}'."))
}

/// Checks a document body and returns it with its top-level keys normalised.
///
/// Refused with 400: an empty key, a key that starts with `$` or contains NUL at any depth, two
/// top-level keys that normalise to the same name, nesting deeper than [`MAX_BODY_DEPTH`].
pub(crate) fn canonical_document(body: &Map<String, Value>) -> Result<Map<String, Value>, Denial> {
    let mut out = Map::with_capacity(body.len());
    for (raw, value) in body {
        let key = normalize_key(raw);
        check_key_text(&key, raw)?;
        check_nested(value)?;
        if out.contains_key(&key) {
            return Err(Denial::invalid_body(format!(
                "Duplicate field '{key}': two keys in the body normalise to the same name."
            )));
        }
        out.insert(key, value.clone());
    }
    Ok(out)
}

fn check_key_text(normalised: &str, raw: &str) -> Result<(), Denial> {
    if normalised.is_empty() {
        return Err(Denial::invalid_body("Invalid field name '': field names must not be empty."));
    }
    if normalised.starts_with('$') {
        return Err(Denial::invalid_body(format!("Invalid field name '{raw}': field names must not start with '$'.")));
    }
    if normalised.contains('\0') {
        return Err(Denial::invalid_body("Invalid field name: field names must not contain NUL."));
    }
    Ok(())
}

/// Walks a value without recursion, refusing operator keys and excessive depth.
fn check_nested(value: &Value) -> Result<(), Denial> {
    let mut pending: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => {
                for raw in map.keys() {
                    check_key_text(&normalize_key(raw), raw)?;
                }
                Box::new(map.values())
            }
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        if depth >= MAX_BODY_DEPTH {
            return Err(Denial::invalid_body(format!(
                "Request body is nested too deeply (more than {MAX_BODY_DEPTH} levels)."
            )));
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}
