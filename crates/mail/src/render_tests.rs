//! Tests of template rendering: escaping, triple braces, dotted paths, missing variables and the
//! URL rule.

use serde_json::{Map, Value, json};

use super::*;

fn vars(value: Value) -> Map<String, Value> {
    sanitize_variables(value.as_object().unwrap())
}

#[test]
fn double_braces_escape_in_html_only() {
    let v = vars(json!({"name": "<b>Tom & \"Jerry\"</b> it's"}));
    assert_eq!(render("Hi {{name}}!", &v, Mode::Html), "Hi &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; it&#39;s!");
    assert_eq!(render("Hi {{name}}!", &v, Mode::Text), "Hi <b>Tom & \"Jerry\"</b> it's!");
}

#[test]
fn triple_braces_insert_raw_in_every_mode() {
    let v = vars(json!({"block": "<p>raw</p>"}));
    assert_eq!(render("{{{block}}}", &v, Mode::Html), "<p>raw</p>");
    assert_eq!(render("{{{ block }}}|{{ block }}", &v, Mode::Html), "<p>raw</p>|&lt;p&gt;raw&lt;/p&gt;");
}

#[test]
fn dotted_paths_arrays_and_missing_values() {
    let v =
        vars(json!({"user": {"name": "Ana", "tags": ["a", null, 3]}, "n": 2.5, "big": 1e21, "ok": true, "nil": null}));
    assert_eq!(render("{{user.name}}", &v, Mode::Text), "Ana");
    assert_eq!(render("{{user.tags.0}}/{{user.tags.2}}/{{user.tags.length}}", &v, Mode::Text), "a/3/3");
    assert_eq!(render("{{user.tags}}", &v, Mode::Text), "a,,3");
    assert_eq!(render("{{user}}", &v, Mode::Text), "[object Object]");
    assert_eq!(render("{{n}} {{big}} {{ok}}", &v, Mode::Text), "2.5 1e+21 true");
    assert_eq!(render("[{{nil}}][{{missing}}][{{user.name.first}}][{{user.nope.x}}]", &v, Mode::Text), "[][][][]");
}

#[test]
fn text_that_is_not_a_placeholder_stays() {
    let v = vars(json!({"a": "A"}));
    assert_eq!(render("{{}} {{ }} {{a b}} {a} }} {{", &v, Mode::Text), "{{}} {{ }} {{a b}} {a} }} {{");
    assert_eq!(render("{{{a}}", &v, Mode::Html), "{A");
    assert_eq!(render("{{{{a}}}}", &v, Mode::Html), "{A}");
    assert_eq!(render("{{{a}}}}", &v, Mode::Html), "A}");
    assert_eq!(render("日本{{a}}語", &v, Mode::Text), "日本A語");
}

#[test]
fn inserted_values_are_not_rendered_again() {
    let v = vars(json!({"evil": "{{secret}}", "secret": "s3cr3t"}));
    assert_eq!(render("{{{evil}}} {{evil}}", &v, Mode::Text), "{{secret}} {{secret}}");
}

#[test]
fn url_and_uri_keys_keep_only_http_urls() {
    let v = vars(json!({
        "appUrl": "https://example.com",
        "resetURL": "  http://example.com/a b?x=<y>  ",
        "redirect_uri": "javascript:alert(1)",
        "dataUrl": "data:text/html,<script>",
        "relativeUrl": "/path",
        "nested": {"inviteUrl": "ftp://example.com", "plain": "javascript:ok"},
        "links": {"mirrorUrl": ["https://a.example", "vbscript:x"], "urls": ["vbscript:kept"]},
        "numberUrl": 5,
        "curl": "mailto:someone@example.com",
    }));
    assert_eq!(v["appUrl"], json!("https://example.com/"), "normal form, as URL.toString()");
    assert_eq!(v["resetURL"], json!("http://example.com/a%20b?x=%3Cy%3E"));
    assert_eq!(v["redirect_uri"], json!(""));
    assert_eq!(v["dataUrl"], json!(""));
    assert_eq!(v["relativeUrl"], json!(""));
    assert_eq!(v["nested"], json!({"inviteUrl": "", "plain": "javascript:ok"}), "only …url/…uri keys");
    assert_eq!(v["links"]["mirrorUrl"], json!(["https://a.example/", ""]), "array elements take the array's key");
    assert_eq!(v["links"]["urls"], json!(["vbscript:kept"]), "the key must end in url or uri");
    assert_eq!(v["numberUrl"], json!(5), "only strings are reduced");
    assert_eq!(v["curl"], json!(""));
    let html = render("<a href=\"{{redirect_uri}}\">{{appUrl}}</a>", &v, Mode::Html);
    assert_eq!(html, "<a href=\"\">https://example.com/</a>");
}

#[test]
fn safe_urls() {
    assert_eq!(safe_url("HTTPS://Example.COM:443/x"), "https://example.com/x");
    assert_eq!(safe_url("https://user:pw@example.com"), "https://user:pw@example.com/");
    assert_eq!(safe_url(""), "");
    assert_eq!(safe_url("   "), "");
    assert_eq!(safe_url("JavaScript:alert(1)"), "");
    assert_eq!(safe_url("java\nscript:alert(1)"), "");
    assert_eq!(safe_url("example.com"), "");
}
