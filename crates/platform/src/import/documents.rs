//! The documents of one collection as `mongoexport` writes them (a JSON array, or one document
//! per line), made ready for a store's insert: extended JSON turned plain ([`super::extjson`]),
//! `_id`s kept (references between documents and the user ids in owner fields stay valid), and
//! in `users` each `email` trimmed and lower-cased, the form login looks accounts up by (the
//! original stored addresses as they were typed at signup, so mixed-case accounts could not log
//! in there; spec §8.3, §17).

use serde_json::Value;
use store::Document;

use super::{ImportError, extjson};
use crate::project::is_object_id;

/// The documents of an exported collection, in file order.
pub fn documents_from_export(text: &str, collection: &str) -> Result<Vec<Document>, ImportError> {
    let bad = |problem: String| ImportError::Collection { collection: collection.to_owned(), problem };
    let values: Vec<Value> = match text.trim_start().chars().next() {
        None => Vec::new(),
        Some('[') => serde_json::from_str(text).map_err(|e| bad(format!("not a JSON array of documents: {e}")))?,
        Some(_) => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| serde_json::from_str(line).map_err(|e| bad(format!("line {}: not JSON: {e}", n + 1))))
            .collect::<Result<_, _>>()?,
    };
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let Value::Object(mut doc) = extjson::to_plain(value) else {
                return Err(bad(format!("document #{index} is not an object")));
            };
            match doc.get("_id") {
                None => {}
                Some(Value::String(id)) if is_object_id(id) => {}
                Some(_) => return Err(bad(format!("document #{index}: _id must be an ObjectId"))),
            }
            if collection == "users" {
                if let Some(Value::String(email)) = doc.get_mut("email") {
                    *email = email.trim().to_lowercase();
                }
            }
            Ok(doc)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_lines_and_arrays_read_alike() {
        let lines = concat!(
            r#"{"_id":{"$oid":"65f1c0ffee0000000000e001"},"email":"  Carol@Example.COM ","password":"$2b$10$x","createdAt":{"$date":"2025-01-01T00:00:00Z"}}"#,
            "\n\n",
            r#"{"_id":{"$oid":"65f1c0ffee0000000000e002"},"email":"dan@example.com"}"#,
            "\n"
        );
        let docs = documents_from_export(lines, "users").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["_id"], "65f1c0ffee0000000000e001");
        assert_eq!(docs[0]["email"], "carol@example.com");
        assert_eq!(docs[0]["password"], "$2b$10$x");
        assert_eq!(docs[0]["createdAt"], "2025-01-01T00:00:00.000Z");
        let array = format!("[{}]", lines.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>().join(","));
        assert_eq!(documents_from_export(&array, "users").unwrap(), docs);
    }

    #[test]
    fn emails_are_lower_cased_in_users_only() {
        let docs = documents_from_export(r#"[{"email":"Mixed@Case.io"}]"#, "contacts").unwrap();
        assert_eq!(docs[0]["email"], json!("Mixed@Case.io"));
    }

    #[test]
    fn bad_documents_are_refused_with_their_place() {
        let err = documents_from_export("{\"a\":1}\n{oops}\n", "posts").unwrap_err().to_string();
        assert!(err.starts_with("collection 'posts': line 2: not JSON"), "{err}");
        let err = documents_from_export("[1]", "posts").unwrap_err().to_string();
        assert_eq!(err, "collection 'posts': document #0 is not an object");
        let err = documents_from_export(r#"[{"_id":"abc"}]"#, "posts").unwrap_err().to_string();
        assert_eq!(err, "collection 'posts': document #0: _id must be an ObjectId");
        assert!(documents_from_export("  \n", "posts").unwrap().is_empty());
    }
}
