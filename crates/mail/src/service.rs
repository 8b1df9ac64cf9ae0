//! [`MailService`]: `POST /api/mail/send` as a use case (spec §10) and the auth code e-mails of
//! spec §8.13, over the template store, the quota and the transport.

use std::sync::Arc;

use lettre::message::Mailbox;
use platform::Project;
use serde::Serialize;
use serde_json::{Map, Value, json};
use store::DocumentStore;

use crate::builtin::builtin;
use crate::error::MailError;
use crate::quota::{Quota, period_of};
use crate::records::Records;
use crate::render::{Mode, render, sanitize_variables};
use crate::request::{INVALID_RECIPIENT, SendRequest};
use crate::templates::{Scope, Template, TemplateStore};
use crate::transport::{Delivery, Transport, compose};

/// The sender when none is configured.
pub const DEFAULT_FROM: &str = "urBackend <urbackend@localhost>";
/// How long the auth codes of the accounts API live, as their e-mails say.
pub const AUTH_CODE_MINUTES: u32 = 5;

/// The mail service's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Mails per project and calendar month (UTC) through `POST /api/mail/send`; 0: unlimited.
    pub monthly_limit: u32,
    /// The sender, `Name <address>` or `address`.
    pub from: String,
    /// Where mail goes.
    pub delivery: Delivery,
}

/// Which auth code e-mail to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCodeKind {
    /// E-mail verification (subject `Verify your account`, built-in template `otp`).
    Verification,
    /// Password reset (subject `Reset your password`, built-in template `password-reset`).
    PasswordReset,
}

/// The template a send used, as the answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateUsed {
    /// The template id.
    pub id: String,
    /// `project` or `global`.
    pub scope: Scope,
    /// The key.
    pub key: String,
    /// The name.
    pub name: String,
}

/// The outcome of a send: the `data` of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The message id (24 hex digits; the `Message-ID` is `<id@sender-domain>`).
    pub id: String,
    /// `smtp` or `folder`.
    pub provider: &'static str,
    /// Mails the project sent this month, this one included.
    pub monthly_usage: u64,
    /// The monthly limit; `-1` when unlimited.
    pub monthly_limit: i64,
    /// The template used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_used: Option<TemplateUsed>,
}

/// Sends mail for projects. Cheap to share behind an `Arc`; `Send + Sync`.
pub struct MailService {
    templates: TemplateStore,
    quota: Quota,
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for MailService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailService")
            .field("provider", &self.transport.provider())
            .field("monthly_limit", &self.quota.limit())
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// The parts of a mail after templates and overrides, before rendering.
struct Draft {
    subject: String,
    html: String,
    text: String,
}

impl MailService {
    /// Opens the service on the platform store: checks the configuration, creates the mail folder
    /// or the SMTP client, and ensures the indexes of the mail collections.
    pub async fn open(store: Arc<dyn DocumentStore>, config: MailConfig) -> Result<MailService, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("the sender {:?} is not an e-mail address: {e}", config.from)))?;
        let transport = Transport::build(&config.delivery)?;
        let records = Arc::new(Records::new(store));
        records.ensure_indexes().await?;
        Ok(MailService {
            templates: TemplateStore::new(records.clone()),
            quota: Quota::new(records, config.monthly_limit),
            transport,
            from,
        })
    }

    /// The project templates and the built-ins.
    pub fn templates(&self) -> &TemplateStore {
        &self.templates
    }

    /// The monthly quota.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    /// `POST /api/mail/send` for a secret-key caller of `project`: validates the body, resolves
    /// the template, renders, takes a quota slot, delivers (giving the slot back on failure).
    pub async fn send(&self, project: &Project, body: &Value) -> Result<Sent, MailError> {
        let request = SendRequest::parse(body)?;
        let to: Mailbox = request.to.parse().map_err(|_| MailError::Invalid(INVALID_RECIPIENT.to_owned()))?;
        let (template, draft) = self.draft(&project.id, &request).await?;
        let (subject, html, text) = rendered(&draft, &sanitize_variables(&request.variables))?;
        let reservation = self.quota.reserve(&project.id, &period_of(chrono::Utc::now())).await?;
        let id = store::new_object_id();
        let delivered = match compose(self.from.clone(), to, &subject, html, text, &id) {
            Ok(message) => self.transport.deliver(&message, &id, &request.to, &subject).await,
            Err(e) => Err(e),
        };
        if let Err(e) = delivered {
            if let Err(release) = self.quota.release(&reservation).await {
                tracing::error!(error = %release, "could not give back a mail quota slot");
            }
            return Err(e);
        }
        let limit = self.quota.limit();
        Ok(Sent {
            id,
            provider: self.transport.provider(),
            monthly_usage: reservation.usage,
            monthly_limit: if limit == 0 { -1 } else { i64::from(limit) },
            template_used: template.map(|t| TemplateUsed { id: t.id, scope: t.scope, key: t.key, name: t.name }),
        })
    }

    /// The subject and bodies before rendering: the request's, completed from its template.
    async fn draft(&self, project_id: &str, request: &SendRequest) -> Result<(Option<Template>, Draft), MailError> {
        let given = |part: &Option<String>| part.clone().filter(|p| !p.trim().is_empty());
        let mut draft = Draft {
            subject: given(&request.subject).unwrap_or_default(),
            html: given(&request.html).unwrap_or_default(),
            text: given(&request.text).unwrap_or_default(),
        };
        let Some(reference) = &request.template else { return Ok((None, draft)) };
        let template = self.templates.resolve(project_id, reference).await?.ok_or(MailError::TemplateNotFound)?;
        for (part, from_template) in [
            (&mut draft.subject, &template.subject),
            (&mut draft.html, &template.html),
            (&mut draft.text, &template.text),
        ] {
            if part.is_empty() {
                part.clone_from(from_template);
            }
        }
        Ok((Some(template), draft))
    }

    /// Sends an auth code e-mail (spec §8.13) from the built-in `otp` or `password-reset`
    /// template, in the project's name. Not counted against the monthly quota.
    pub async fn send_auth_code(
        &self,
        project: &Project,
        to: &str,
        kind: AuthCodeKind,
        code: &str,
    ) -> Result<(), MailError> {
        let recipient = to;
        let to: Mailbox = to.parse().map_err(|_| MailError::Invalid(INVALID_RECIPIENT.to_owned()))?;
        let (key, subject) = match kind {
            AuthCodeKind::Verification => ("otp", "Verify your account"),
            AuthCodeKind::PasswordReset => ("password-reset", "Reset your password"),
        };
        let template = builtin(key).ok_or_else(|| MailError::Internal(format!("no built-in template {key}")))?;
        let draft = Draft { subject: subject.to_owned(), html: template.html.clone(), text: template.text.clone() };
        let mut vars = Map::new();
        vars.insert("otp".into(), json!(code));
        vars.insert("projectName".into(), json!(project.name));
        vars.insert("expiresInMinutes".into(), json!(AUTH_CODE_MINUTES));
        let (subject, html, text) = rendered(&draft, &vars)?;
        let from = Mailbox::new(Some(project.name.clone()), self.from.email.clone());
        let id = store::new_object_id();
        let message = compose(from, to, &subject, html, text, &id)?;
        self.transport.deliver(&message, &id, recipient, &subject).await
    }
}

/// Renders a draft (spec §10 steps 3–4): the subject and a body are required before and after
/// rendering; empty parts stay out of the message.
fn rendered(draft: &Draft, vars: &Map<String, Value>) -> Result<(String, Option<String>, Option<String>), MailError> {
    check(&draft.subject, &draft.html, &draft.text)?;
    let subject = render(&draft.subject, vars, Mode::Text);
    let html = render(&draft.html, vars, Mode::Html);
    let text = render(&draft.text, vars, Mode::Text);
    check(&subject, &html, &text)?;
    let part = |p: String| if p.trim().is_empty() { None } else { Some(p) };
    Ok((subject, part(html), part(text)))
}

fn check(subject: &str, html: &str, text: &str) -> Result<(), MailError> {
    if subject.trim().is_empty() {
        return Err(MailError::SubjectRequired);
    }
    if html.trim().is_empty() && text.trim().is_empty() {
        return Err(MailError::ContentRequired);
    }
    Ok(())
}
