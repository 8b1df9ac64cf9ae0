//! Tests of send-request validation: every zod text of spec §10, and which one wins.

use serde_json::{Value, json};

use super::*;

fn refused(body: Value) -> String {
    match SendRequest::parse(&body) {
        Err(MailError::Invalid(text)) => text,
        other => panic!("{body} was not refused: {other:?}"),
    }
}

const CONTENT: &str = "Provide either (subject + html/text) or a templateId/templateName.";

#[test]
fn recipient_texts() {
    assert_eq!(refused(json!({"subject": "s", "text": "t"})), "Invalid input: expected string, received undefined");
    assert_eq!(refused(Value::Null), "Invalid input: expected string, received undefined", "empty body");
    assert_eq!(
        refused(json!({"to": ["a@example.com"], "subject": "s", "text": "t"})),
        "Invalid input: expected string, received array"
    );
    assert_eq!(refused(json!({"to": 5})), "Invalid input: expected string, received number");
    assert_eq!(refused(json!({"to": null})), "Invalid input: expected string, received null");
    for bad in [
        "",
        "plain",
        "a@b",
        "a@b.c",
        ".a@example.com",
        "a..b@example.com",
        "a.@example.com",
        "a@-x.com",
        "a@example..com",
        "a@example.c0m",
        " a@example.com",
        "a@example.com ",
        "a b@example.com",
        "a@b@example.com",
        "ä@example.com",
        "a@exa_mple.com",
        "a'@example.com",
    ] {
        assert_eq!(refused(json!({"to": bad, "subject": "s", "text": "t"})), INVALID_RECIPIENT, "{bad:?}");
    }
    assert_eq!(refused(json!([1])), "Invalid input: expected object, received array");
    assert_eq!(refused(json!("to")), "Invalid input: expected object, received string");
}

#[test]
fn valid_recipients() {
    for good in ["a@example.com", "first.last+tag@sub.example.co", "o'brien_x-y@a-b.example.org", "A@EXAMPLE.COM"] {
        let parsed = SendRequest::parse(&json!({"to": good, "subject": "s", "html": "<p>h</p>"})).unwrap();
        assert_eq!(parsed.to, good);
    }
}

#[test]
fn field_texts_in_order() {
    let base = |extra: Value| {
        let mut body = json!({"to": "a@example.com", "subject": "s", "text": "t"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(refused(base(json!({"subject": "x".repeat(201)}))), SUBJECT_TOO_LONG);
    assert!(SendRequest::parse(&base(json!({"subject": "é".repeat(200)}))).is_ok(), "200 characters are fine");
    assert_eq!(refused(base(json!({"subject": "😀".repeat(101)}))), SUBJECT_TOO_LONG, "UTF-16 length, as JavaScript");
    assert_eq!(refused(base(json!({"subject": 1}))), "Invalid input: expected string, received number");
    assert_eq!(refused(base(json!({"html": null}))), "Invalid input: expected string, received null");
    assert_eq!(refused(base(json!({"text": {}}))), "Invalid input: expected string, received object");
    assert_eq!(refused(base(json!({"templateId": "xyz"}))), INVALID_TEMPLATE_ID);
    assert_eq!(refused(base(json!({"templateId": "65a0c0de0000000a0000000g"}))), INVALID_TEMPLATE_ID);
    assert_eq!(refused(base(json!({"templateId": true}))), "Invalid input: expected string, received boolean");
    assert_eq!(refused(base(json!({"templateName": ""}))), "Too small: expected string to have >=1 characters");
    assert_eq!(refused(base(json!({"variables": []}))), "Invalid input: expected record, received array");
    assert_eq!(refused(base(json!({"variables": "x"}))), "Invalid input: expected record, received string");
    // The first field in order wins.
    assert_eq!(refused(json!({"to": "bad", "subject": 1, "templateId": "x"})), INVALID_RECIPIENT);
    assert_eq!(refused(base(json!({"text": 1, "templateId": "x"}))), "Invalid input: expected string, received number");
}

#[test]
fn content_or_template() {
    let to = "a@example.com";
    assert_eq!(refused(json!({"to": to})), CONTENT);
    assert_eq!(refused(json!({"to": to, "subject": "s"})), CONTENT);
    assert_eq!(refused(json!({"to": to, "html": "h", "text": "t"})), CONTENT);
    assert_eq!(refused(json!({"to": to, "subject": "   ", "text": "t"})), CONTENT, "a blank subject is absent");
    assert_eq!(refused(json!({"to": to, "subject": "s", "html": "  ", "text": "\n"})), CONTENT);
    assert_eq!(refused(json!({"to": to, "subject": "s", "templateName": "  "})), CONTENT, "a blank name names nothing");
    assert_eq!(refused(json!({"to": to, "templateId": "  "})), CONTENT, "a blank id is absent");
    let id = "65a0c0de0000000a0000000b";
    assert_eq!(refused(json!({"to": to, "templateId": id, "templateName": "welcome"})), ONE_TEMPLATE);
    assert_eq!(
        refused(json!({"to": to, "subject": "s", "text": "t", "templateId": id, "templateName": " "})),
        ONE_TEMPLATE
    );
    // The first refinement is reported before the second.
    assert_eq!(refused(json!({"to": to, "templateId": " ", "templateName": " "})), CONTENT);
}

#[test]
fn parsed_requests() {
    let parsed = SendRequest::parse(&json!({
        "to": "a@example.com", "templateId": " 65A0C0DE0000000A0000000B ", "variables": {"name": "Ana"},
        "from": "evil@example.com", "cc": ["x@example.com"], "bcc": 5, "subject": "  "
    }))
    .unwrap();
    assert_eq!(parsed.template, Some(TemplateRef::Id("65a0c0de0000000a0000000b".into())));
    assert_eq!(parsed.subject, None);
    assert_eq!(parsed.variables["name"], json!("Ana"));
    let parsed = SendRequest::parse(&json!({"to": "a@example.com", "templateName": "  Welcome-2 "})).unwrap();
    assert_eq!(parsed.template, Some(TemplateRef::Name("welcome-2".into())));
    let parsed = SendRequest::parse(&json!({"to": "a@example.com", "subject": " Hi ", "html": "<b>x</b>"})).unwrap();
    assert_eq!(
        (parsed.subject.as_deref(), parsed.html.as_deref(), parsed.text),
        (Some(" Hi "), Some("<b>x</b>"), None)
    );
    assert_eq!(parsed.template, None);
}
