//! The reading of exported project documents: the fixture of a real export (spec §16, canonical
//! extended JSON as `mongoexport --jsonArray` writes it), and each refusal with its text.

use serde_json::{Value, json};

use super::*;
use crate::keys::hash_key;
use crate::model::{Field, Items};

/// The keys whose SHA-256 the fixture holds (the black-box tests use them too).
const FIXTURE_PK: &str = "pk_live_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
const FIXTURE_SK: &str = "sk_live_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4Q";

fn fixture() -> Value {
    let text = include_str!("../../../../tests/fixtures/urbackend-project.json");
    serde_json::from_str(text).unwrap()
}

fn first(value: &Value) -> Value {
    value.as_array().and_then(|a| a.first()).cloned().unwrap()
}

fn import_with(change: impl FnOnce(&mut Value)) -> Result<ProjectImport, ImportError> {
    let mut doc = first(&fixture());
    change(&mut doc);
    ProjectImport::from_export(&doc)
}

fn message(result: Result<ProjectImport, ImportError>) -> String {
    result.map(|_| ()).unwrap_err().to_string()
}

#[test]
fn the_fixture_keeps_id_keys_secret_and_settings() {
    let import = ProjectImport::from_export(&fixture()).unwrap();
    let project = &import.project;
    assert_eq!(project.id, "65f1c0ffee0000000000abcd");
    assert_eq!(project.name, "Field Notes");
    assert_eq!(project.publishable_key_hash, hash_key(FIXTURE_PK));
    assert_eq!(project.secret_key_hash, hash_key(FIXTURE_SK));
    assert_eq!(project.jwt_secret, "jwt_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10aGUtZml4dHVyZQ");
    assert!(!import.new_jwt_secret);
    assert!(project.auth_enabled);
    assert_eq!(project.site_url, "https://app.example.com");
    assert_eq!(project.allowed_domains, vec!["https://app.example.com", "*.example.org"]);
    assert_eq!(project.byo_db, None);
    assert!(!import.own_database);
    // The same document as a single object (Compass) reads the same.
    assert_eq!(ProjectImport::from_export(&first(&fixture())).unwrap(), import);
}

#[test]
fn the_fixture_collections_map_field_for_field() {
    let import = ProjectImport::from_export(&fixture()).unwrap();
    let names: Vec<&str> = import.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["users", "posts", "comments", "notes"]);
    let posts = &import.collections[1];
    assert_eq!(
        posts.model,
        vec![
            Field::new("title", FieldKind::String).required(),
            Field::new("slug", FieldKind::String).unique(),
            Field::new("userId", FieldKind::String),
            Field::new("tags", FieldKind::Array).with_items(Items::of(FieldKind::String)),
            Field::new("author", FieldKind::Ref).with_ref("users"),
            Field::new("publishedAt", FieldKind::Date),
        ]
    );
    assert_eq!(
        (posts.rls.enabled, posts.rls.mode.as_str(), posts.rls.owner_field.as_str()),
        (true, "private", "userId")
    );
    let comments = &import.collections[2];
    assert_eq!(comments.rls.mode, "owner-write-only");
    assert_eq!(comments.rls_config().mode, rls_core::RlsMode::OwnerWriteOnly);
    assert_eq!(comments.rls.owner_field, "ownerId");
    assert_eq!(
        comments.model[2],
        Field::new("meta", FieldKind::Object)
            .with_fields(vec![Field::new("likes", FieldKind::Number), Field::new("editedAt", FieldKind::Date)])
    );
    let notes = &import.collections[3];
    assert_eq!(notes.model[0].default, Some(json!("untitled")));
    assert!(!notes.rls.enabled);
    let users = &import.collections[0];
    assert_eq!(users.rls.owner_field, "_id");
    assert!(users.field("email").is_some_and(|f| f.required && f.unique));
}

#[test]
fn encrypted_settings_are_left_behind_and_listed() {
    let import = ProjectImport::from_export(&fixture()).unwrap();
    let github = import.project.auth_providers.get("github").unwrap();
    assert_eq!(github.client_id, "Iv1.0123456789abcdef");
    assert!(!github.enabled && github.client_secret.is_none());
    let listed: Vec<&str> = import.set_again.iter().map(|s| s.setting.as_str()).collect();
    assert_eq!(listed, ["authProviders.github.clientSecret", "resendApiKey"]);
    assert!(import.set_again[0].how.contains("set-oauth --project 65f1c0ffee0000000000abcd --provider github"));
    // Nothing secret is in the project's Debug form nor in the list.
    let shown = format!("{import:?}");
    assert!(!shown.contains("c2VjcmV0LXNpZ25pbmc") && !shown.contains("9f3c1a"), "{shown}");
}

#[test]
fn an_own_database_is_flagged_and_listed() {
    let import = import_with(|doc| {
        doc["resources"] = json!({"db": {"isExternal": true, "config": {"encrypted": "00", "iv": "11", "tag": "22"}},
            "storage": {"isExternal": true}});
    })
    .unwrap();
    assert!(import.own_database);
    assert_eq!(import.project.byo_db, None);
    let listed: Vec<&str> = import.set_again.iter().map(|s| s.setting.as_str()).collect();
    assert!(listed.contains(&"resources.db.config") && listed.contains(&"resources.storage.config"), "{listed:?}");
}

#[test]
fn plain_json_and_missing_optional_settings_work() {
    let doc = json!({"_id": "65F1C0FFEE0000000000ABCD", "name": " Tiny ",
        "publishableKey": hash_key("pk_live_x").to_uppercase(), "secretKey": hash_key("sk_live_x")});
    let import = ProjectImport::from_export(&doc).unwrap();
    assert_eq!(import.project.id, "65f1c0ffee0000000000abcd");
    assert_eq!(import.project.name, "Tiny");
    assert_eq!(import.project.publishable_key_hash, hash_key("pk_live_x"));
    assert_eq!(import.project.allowed_domains, vec!["*"]);
    assert!(!import.project.auth_enabled && import.collections.is_empty() && import.set_again.is_empty());
    assert!(import.new_jwt_secret && import.project.jwt_secret.starts_with("jwt_"));
}

#[test]
fn lower_case_types_are_capitalised() {
    let import = import_with(|doc| doc["collections"][3]["model"][1]["type"] = json!("boolean")).unwrap();
    assert_eq!(import.collections[3].model[1].kind, FieldKind::Boolean);
}

#[test]
fn unknown_types_are_refused_naming_the_field() {
    let err = message(import_with(|doc| doc["collections"][2]["model"][2]["fields"][0]["type"] = json!("Decimal128")));
    assert_eq!(
        err,
        "collection 'comments', field 'meta.likes': type 'Decimal128' has no equivalent here \
         (supported: String, Number, Boolean, Date, Object, Array, Ref)"
    );
    let err = message(import_with(|doc| doc["collections"][1]["model"][3]["items"]["type"] = json!("Mixed")));
    assert!(err.starts_with("collection 'posts', field 'tags[]': type 'Mixed'"), "{err}");
}

#[test]
fn malformed_documents_are_refused_naming_the_setting() {
    // (JSON pointer into the fixture's document, the value put there, the refusal)
    let cases = [
        ("/_id", json!("nope"), "_id: expected the project's ObjectId (24 hex characters)"),
        ("/name", json!("  "), "name: expected the project's name"),
        (
            "/secretKey",
            json!(FIXTURE_SK),
            "secretKey: expected the key's SHA-256 as 64 hex characters (as urBackend stores it)",
        ),
        ("/isAuthEnabled", json!("yes"), "isAuthEnabled: expected true or false"),
        ("/allowedDomains", json!("*"), "allowedDomains: expected a list of strings"),
        ("/collections", json!({}), "collections: expected a list of collections"),
        (
            "/collections/1/rls/mode",
            json!("everyone"),
            "collection 'posts': Unsupported RLS mode. Allowed: public-read, private, owner-write-only (legacy).",
        ),
        (
            "/collections/0/model/1/required",
            json!(false),
            "collection 'users': The 'users' collection must have required 'email' and 'password' string fields.",
        ),
        ("/collections/3/name", json!("posts"), "collection 'posts': defined twice"),
    ];
    for (pointer, value, expected) in cases {
        let result = import_with(|doc| *doc.pointer_mut(pointer).unwrap() = value);
        assert_eq!(message(result), expected, "{pointer}");
    }
    let site = message(import_with(|d| d["siteUrl"] = json!("http://app.example.com")));
    assert!(site.starts_with("siteUrl: siteUrl must be an https:// URL"), "{site}");
}

#[test]
fn only_one_document_is_accepted() {
    let two = json!([first(&fixture()), first(&fixture())]);
    assert_eq!(
        message(ProjectImport::from_export(&two)),
        "expected one exported project document (an object, or an array holding one), found an array of 2"
    );
    assert_eq!(
        message(ProjectImport::from_export(&json!("x"))),
        "expected one exported project document (an object, or an array holding one), found string"
    );
}
