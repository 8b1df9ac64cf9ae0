//! Shaping documents for the response: `fields` projections, `meta=false`, and hiding `__v` on
//! get-one as the original did.

use query::Projection;
use serde_json::Value;
use store::Document;

/// How to shape the documents of one response.
pub(crate) struct Shape<'a> {
    pub(crate) projection: Option<&'a Projection>,
    pub(crate) meta: Option<bool>,
    /// Get-one hides `__v` unless `fields` asks for it (the original's default projection).
    pub(crate) hide_version: bool,
}

/// The fields `meta=false` removes.
const META_FIELDS: &[&str] = &["createdAt", "updatedAt", "schemaVersion", "__v"];

/// Shapes one document in place.
pub(crate) fn apply(doc: &mut Document, shape: &Shape<'_>) {
    match shape.projection {
        Some(Projection::Include { fields, exclude_id }) => {
            let mut kept = Document::new();
            if !exclude_id {
                if let Some(id) = doc.get("_id") {
                    kept.insert("_id".to_owned(), id.clone());
                }
            }
            for field in fields {
                if let Some(value) = get_path(doc, field.as_str()) {
                    set_path(&mut kept, field.as_str(), value.clone());
                }
            }
            *doc = kept;
        }
        Some(Projection::Exclude(fields)) => {
            for field in fields {
                remove_path(doc, field.as_str());
            }
        }
        None => {
            if shape.hide_version {
                doc.shift_remove("__v");
            }
        }
    }
    if shape.meta == Some(false) {
        for field in META_FIELDS {
            doc.shift_remove(*field);
        }
    }
}

/// The value at a dotted path through nested objects.
pub(crate) fn get_path<'a>(doc: &'a Document, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let mut current = doc.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

fn set_path(doc: &mut Document, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = doc.entry(head.to_owned()).or_insert_with(|| Value::Object(Document::new()));
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

fn remove_path(doc: &mut Document, path: &str) {
    match path.split_once('.') {
        None => {
            doc.shift_remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = doc.get_mut(head) {
                remove_path(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use query::FieldPath;
    use serde_json::json;

    use super::*;

    fn doc() -> Document {
        match json!({"_id": "a", "title": "t", "meta": {"views": 3, "likes": 1}, "createdAt": "x", "__v": 0}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn path(p: &str) -> FieldPath {
        FieldPath::new(p).unwrap()
    }

    #[test]
    fn inclusion_keeps_id_and_the_named_paths() {
        let mut d = doc();
        let projection = Projection::Include { fields: vec![path("title"), path("meta.views")], exclude_id: false };
        apply(&mut d, &Shape { projection: Some(&projection), meta: None, hide_version: true });
        assert_eq!(Value::Object(d), json!({"_id": "a", "title": "t", "meta": {"views": 3}}));
    }

    #[test]
    fn exclusion_and_meta_false() {
        let mut d = doc();
        let projection = Projection::Exclude(vec![path("meta.likes")]);
        apply(&mut d, &Shape { projection: Some(&projection), meta: Some(false), hide_version: false });
        assert_eq!(Value::Object(d), json!({"_id": "a", "title": "t", "meta": {"views": 3}}));
    }

    #[test]
    fn get_one_hides_the_version_key_by_default() {
        let mut d = doc();
        apply(&mut d, &Shape { projection: None, meta: None, hide_version: true });
        assert!(!d.contains_key("__v"));
        let mut d = doc();
        apply(&mut d, &Shape { projection: None, meta: None, hide_version: false });
        assert!(d.contains_key("__v"));
    }
}
