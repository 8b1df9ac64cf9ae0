//! Template rendering (spec §10 step 4), pure: `{{{path}}}` inserts a variable as it is,
//! `{{path}}` inserts it HTML-escaped in HTML and as it is in the subject and the text part.
//! Paths are dotted (`user.name`, `items.0`); a missing variable renders as nothing.
//!
//! Before rendering, [`sanitize_variables`] reduces every string variable whose key ends in
//! `url` or `uri` (any case, at any depth; array elements take their array's key) to a valid
//! `http:`/`https:` URL in its normal form, or to `""` (so `javascript:` links never reach a
//! mail).
//!
//! The template is scanned once, left to right; inserted values are never scanned again, so a
//! variable cannot smuggle in another placeholder.

use serde_json::{Map, Value};

/// Where a rendered string goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The HTML part: `{{path}}` is HTML-escaped.
    Html,
    /// The subject or the text part: nothing is escaped.
    Text,
}

/// The variables with every `…url`/`…uri` string reduced to a safe URL or `""`.
pub fn sanitize_variables(vars: &Map<String, Value>) -> Map<String, Value> {
    vars.iter().map(|(key, value)| (key.clone(), sanitize(value, key))).collect()
}

fn sanitize(value: &Value, key: &str) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|item| sanitize(item, key)).collect()),
        Value::Object(map) => Value::Object(sanitize_variables(map)),
        Value::String(text) if is_url_key(key) => Value::String(safe_url(text)),
        other => other.clone(),
    }
}

fn is_url_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.ends_with("url") || lower.ends_with("uri")
}

/// The URL in its normal form (as a browser's `URL.toString()`) if it is an absolute `http:`
/// or `https:` URL, else `""`.
pub fn safe_url(raw: &str) -> String {
    let raw = raw.trim();
    match url::Url::parse(raw) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => parsed.to_string(),
        _ => String::new(),
    }
}

/// Renders `template` with `vars` (already sanitized).
pub fn render(template: &str, vars: &Map<String, Value>, mode: Mode) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, from_braces) = rest.split_at(start);
        out.push_str(before);
        if let Some((path, after)) = placeholder(from_braces, 3) {
            out.push_str(&value_text(lookup(vars, path)));
            rest = after;
        } else if let Some((path, after)) = placeholder(from_braces, 2) {
            let text = value_text(lookup(vars, path));
            match mode {
                Mode::Html => out.push_str(&escape_html(&text)),
                Mode::Text => out.push_str(&text),
            }
            rest = after;
        } else {
            // Not a placeholder here: keep one brace and look again from the next character.
            out.push('{');
            rest = from_braces.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// Parses `{{ path }}` (with `braces` braces on each side) at the start of `text`; returns the
/// path and what follows the placeholder.
fn placeholder(text: &str, braces: usize) -> Option<(&str, &str)> {
    let open = "{".repeat(braces);
    let close = "}".repeat(braces);
    let inner = text.strip_prefix(open.as_str())?.trim_start();
    let end = inner.find(|c: char| !is_path_char(c)).unwrap_or(inner.len());
    let (path, after) = inner.split_at(end);
    if path.is_empty() {
        return None;
    }
    let after = after.trim_start().strip_prefix(close.as_str())?;
    Some((path, after))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A variable by dotted path (empty segments are skipped); `None` when missing.
fn lookup<'a>(vars: &'a Map<String, Value>, path: &str) -> Option<Lookup<'a>> {
    let mut current = Lookup::Root(vars);
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        current = match current {
            Lookup::Root(map) | Lookup::Value(Value::Object(map)) => Lookup::Value(map.get(segment)?),
            Lookup::Value(Value::Array(items)) if segment == "length" => Lookup::Length(items.len()),
            Lookup::Value(Value::Array(items)) => Lookup::Value(items.get(segment.parse::<usize>().ok()?)?),
            _ => return None,
        };
    }
    Some(current)
}

/// Where a path led.
enum Lookup<'a> {
    /// The variables themselves (a path of only dots).
    Root(&'a Map<String, Value>),
    /// A value.
    Value(&'a Value),
    /// An array's `length`.
    Length(usize),
}

/// The text of a variable as JavaScript's `String(value)` gives it (missing and `null` are
/// empty).
fn value_text(found: Option<Lookup<'_>>) -> String {
    match found {
        None => String::new(),
        Some(Lookup::Root(_)) => "[object Object]".to_owned(),
        Some(Lookup::Length(n)) => n.to_string(),
        Some(Lookup::Value(value)) => js_string(value),
    }
}

fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js_number(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| if item.is_null() { String::new() } else { js_string(item) })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// A number as JavaScript prints it (integers plainly, exponent form from 1e21 and below 1e-6).
fn js_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let Some(f) = n.as_f64() else { return n.to_string() };
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let formatted = format!("{f:e}");
        return match formatted.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => format!("{mantissa}e+{exponent}"),
            _ => formatted,
        };
    }
    format!("{f}")
}

/// Escapes `& < > " '` as the original did.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
