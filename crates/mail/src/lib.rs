//! Mail for urbackend-rs: `POST /api/mail/send` (spec §10) and the auth code e-mails of the
//! accounts API (spec §8.13).
//!
//! * [`request`]: the request body validated into a [`SendRequest`], with the original's texts.
//! * [`templates`] and [`builtin`]: project templates kept in the platform store, and the
//!   built-in global ones (`welcome`, `welcome-2`, `otp`, `password-reset`, `invite`).
//! * [`render`]: `{{path}}` (HTML-escaped in HTML) and `{{{path}}}` (raw) placeholders, with
//!   URL variables reduced to http(s) links. Pure.
//! * [`quota`]: the monthly quota per project, counted in the shared store so that every server
//!   on it shares the count, atomically.
//! * [`transport`]: SMTP (lettre over rustls) or, without an SMTP server, `.eml` files in a
//!   folder.
//! * [`MailService`]: the use cases over all of these.
//!
//! Errors are typed ([`MailError`], with [`MailError::status`]) and mapped once, in the HTTP
//! layer. Rendering escapes by default: only a template's own `{{{…}}}` inserts raw text.
//!
//! ```
//! use mail::render::{Mode, render, sanitize_variables};
//! use serde_json::json;
//!
//! let vars = json!({"name": "<Ana>", "appUrl": "javascript:alert(1)"});
//! let vars = sanitize_variables(vars.as_object().unwrap_or(&Default::default()));
//! let html = render("<a href=\"{{appUrl}}\">Hi {{name}}</a>", &vars, Mode::Html);
//! assert_eq!(html, "<a href=\"\">Hi &lt;Ana&gt;</a>");
//! ```

pub mod builtin;
mod error;
pub mod quota;
mod records;
pub mod render;
pub mod request;
mod service;
pub mod templates;
pub mod transport;

pub use error::{
    CONTENT_REQUIRED, INTERNAL_ERROR, MailError, QUOTA_EXCEEDED, SUBJECT_REQUIRED, TEMPLATE_EXISTS, TEMPLATE_NOT_FOUND,
};
pub use records::{TEMPLATES_COLLECTION, USAGE_COLLECTION};
pub use request::{SendRequest, TemplateRef};
pub use service::{AUTH_CODE_MINUTES, AuthCodeKind, DEFAULT_FROM, MailConfig, MailService, Sent, TemplateUsed};
pub use templates::{Scope, Template, TemplateStore};
pub use transport::{Delivery, SmtpConfig, TlsMode};
