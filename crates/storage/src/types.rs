//! The type of an upload, decided from its first bytes (magic numbers, the `infer` crate) and
//! checked against the declared type and the server's allow-list; and how a stored file is
//! served (inline only for a short list of passive types, as an attachment otherwise).
//!
//! Rules: when the bytes have a recognisable signature, that type is the file's type and the
//! declared type must be it (or the generic `application/octet-stream`); when they have none,
//! only a declared *textual* type is believed, and only for UTF-8 bytes. Either way the result
//! must be on the allow-list.

use crate::error::StorageError;

/// How many leading bytes the type is decided on.
pub const SNIFF_BYTES: usize = 8192;

/// Types served inline (passive content a browser does not run); everything else is served as
/// an `application/octet-stream` attachment. All of them are allowed by default.
const INLINE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "text/plain",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/aac",
    "audio/x-flac",
    "audio/mp4",
    "video/mp4",
    "video/webm",
    "video/ogg",
];

/// Allowed by default besides the inline types (served as attachments). The generic type is the
/// one of bytes with no signature that their uploader did not type either (the TypeScript SDK
/// declares it for every `Buffer`): stored, and only ever served as a download.
const ALSO_ALLOWED: &[&str] =
    &["application/pdf", "text/csv", "application/json", "application/zip", "video/quicktime", GENERIC];

/// The default allow-list: common images, PDF, plain text, JSON, CSV, zip, audio and video, and
/// untyped bytes (`application/octet-stream`, served as an attachment).
pub fn default_allowed() -> Vec<String> {
    INLINE.iter().chain(ALSO_ALLOWED).map(|s| (*s).to_owned()).collect()
}

/// Declared types believed without a signature (for UTF-8 bytes).
const TEXTUAL: &[&str] =
    &["text/plain", "text/csv", "application/json", "text/html", "image/svg+xml", "application/xml", "text/xml"];

/// The generic type: "the client does not know".
pub const GENERIC: &str = "application/octet-stream";

/// The media type of a `Content-Type` value: lower case, parameters dropped.
pub fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// The type of a file from its first bytes and its declared type, checked against `allowed`.
pub fn decide(declared: &str, head: &[u8], allowed: &[String]) -> Result<String, StorageError> {
    let declared = essence(declared);
    let sniffed = infer::get(head).map(|t| t.mime_type().to_owned());
    let kind = match sniffed {
        Some(sniffed) if declared == sniffed || declared == GENERIC || declared.is_empty() => sniffed,
        Some(sniffed) if is_xml(&sniffed) && declared == "image/svg+xml" => declared,
        Some(sniffed) => {
            return Err(StorageError::UnsupportedType(format!(
                "File content ({sniffed}) does not match the declared type ({declared})."
            )));
        }
        None if TEXTUAL.contains(&declared.as_str()) && utf8_prefix(head) => declared,
        None if TEXTUAL.contains(&declared.as_str()) => {
            return Err(StorageError::UnsupportedType(format!(
                "File content is not text, but the declared type is {declared}."
            )));
        }
        None if declared == GENERIC || declared.is_empty() => GENERIC.to_owned(),
        None => {
            return Err(StorageError::UnsupportedType(format!(
                "File content does not match the declared type ({declared})."
            )));
        }
    };
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&kind)) {
        return Err(StorageError::UnsupportedType(format!("File type {kind} is not allowed.")));
    }
    Ok(kind)
}

fn is_xml(kind: &str) -> bool {
    matches!(kind, "text/xml" | "application/xml")
}

/// Whether the bytes are UTF-8, allowing a character cut at the end of the sample.
fn utf8_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() >= SNIFF_BYTES,
    }
}

/// How a stored file of this type is served: `(Content-Type, inline?)`.
pub fn serving(kind: &str) -> (String, bool) {
    let kind = essence(kind);
    if INLINE.contains(&kind.as_str()) {
        let value = if kind == "text/plain" { "text/plain; charset=utf-8".to_owned() } else { kind };
        (value, true)
    } else {
        (GENERIC.to_owned(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn all() -> Vec<String> {
        let mut list = default_allowed();
        list.extend(["text/html".to_owned(), "image/svg+xml".to_owned()]);
        list
    }

    fn defaults() -> Vec<String> {
        default_allowed()
    }

    #[test]
    fn sniffed_types_win() {
        assert_eq!(decide("image/png", PNG, &defaults()).unwrap(), "image/png");
        assert_eq!(decide("application/octet-stream", PNG, &defaults()).unwrap(), "image/png");
        assert_eq!(decide("IMAGE/PNG; charset=x", PNG, &defaults()).unwrap(), "image/png");
        assert!(decide("image/jpeg", PNG, &defaults()).is_err());
        assert!(decide("text/plain", PNG, &defaults()).is_err());
    }

    #[test]
    fn html_and_svg_cannot_pass_as_images() {
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        assert!(decide("image/png", html, &all()).is_err());
        assert!(decide("text/html", html, &defaults()).is_err());
        assert_eq!(decide("text/html", html, &all()).unwrap(), "text/html");
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(decide("image/png", svg, &all()).is_err());
        assert!(decide("image/svg+xml", svg, &defaults()).is_err());
        assert_eq!(decide("image/svg+xml", svg, &all()).unwrap(), "image/svg+xml");
    }

    #[test]
    fn text_needs_utf8_and_untyped_bytes_are_generic() {
        assert_eq!(decide("text/plain", b"hello", &defaults()).unwrap(), "text/plain");
        assert_eq!(decide("application/json", b"{\"a\":1}", &defaults()).unwrap(), "application/json");
        assert!(decide("text/plain", &[0xff, 0xfe, 0x00, 0x01], &defaults()).is_err());
        assert!(decide("image/png", b"no signature here", &defaults()).is_err());
        assert!(decide("image/png", b"no signature here", &[GENERIC.to_owned()]).is_err(), "a false type stays false");
        assert_eq!(decide("application/octet-stream", b"???", &defaults()).unwrap(), GENERIC);
        assert_eq!(decide("", b"???", &defaults()).unwrap(), GENERIC);
        let strict: Vec<String> = defaults().into_iter().filter(|t| t != GENERIC).collect();
        assert!(decide("application/octet-stream", b"???", &strict).is_err());
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        assert!(decide("application/octet-stream", html, &defaults()).is_err(), "untyped HTML is still HTML");
    }

    #[test]
    fn only_passive_types_are_inline() {
        assert_eq!(serving("image/png"), ("image/png".to_owned(), true));
        assert_eq!(serving("text/plain"), ("text/plain; charset=utf-8".to_owned(), true));
        for active in ["text/html", "image/svg+xml", "application/xml", "application/pdf", "application/json", "x/y"] {
            assert_eq!(serving(active), (GENERIC.to_owned(), false), "{active}");
        }
    }
}
