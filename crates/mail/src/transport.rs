//! Delivery: SMTP through lettre (tokio, rustls; plain, STARTTLS or implicit TLS), or, when no
//! SMTP server is configured, a folder where each mail becomes one `.eml` file (RFC 5322 text),
//! so that a fresh server works and a developer can read the codes it sends.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::MailError;

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain text (for a relay on the same machine or network).
    None,
    /// Plain text upgraded with STARTTLS, which is required (default port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (default port 465).
    Tls,
}

/// An SMTP server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name (also the name its certificate must carry).
    pub host: String,
    /// Port; by default 25, 587 or 465 after the TLS mode.
    pub port: Option<u16>,
    /// How the connection is secured.
    pub tls: TlsMode,
    /// User name for `AUTH`, if the server wants one.
    pub username: Option<String>,
    /// Password for `AUTH`.
    pub password: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port())
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl SmtpConfig {
    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        })
    }
}

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// To an SMTP server.
    Smtp(SmtpConfig),
    /// Into `.eml` files in this folder (created with the first mail).
    Folder(PathBuf),
}

/// A built transport.
pub(crate) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

impl Transport {
    pub(crate) fn build(delivery: &Delivery) -> Result<Transport, MailError> {
        match delivery {
            Delivery::Folder(dir) => Ok(Transport::Folder(dir.clone())),
            Delivery::Smtp(config) => {
                let tls =
                    || TlsParameters::new(config.host.clone()).map_err(|e| MailError::Config(format!("SMTP TLS: {e}")));
                let tls = match config.tls {
                    TlsMode::None => Tls::None,
                    TlsMode::StartTls => Tls::Required(tls()?),
                    TlsMode::Tls => Tls::Wrapper(tls()?),
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
                    .port(config.port())
                    .tls(tls)
                    .timeout(Some(SMTP_TIMEOUT));
                if let Some(username) = &config.username {
                    let password = config.password.clone().unwrap_or_default();
                    builder = builder.credentials(Credentials::new(username.clone(), password));
                }
                Ok(Transport::Smtp(builder.build()))
            }
        }
    }

    /// `"smtp"` or `"folder"`, the `provider` of a send's answer.
    pub(crate) fn provider(&self) -> &'static str {
        match self {
            Transport::Smtp(_) => "smtp",
            Transport::Folder(_) => "folder",
        }
    }

    /// Delivers one message; `id` names its file in the folder. The log line names the
    /// recipient and the subject, never the body.
    pub(crate) async fn deliver(&self, message: &Message, id: &str, to: &str, subject: &str) -> Result<(), MailError> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(message.clone()).await.map(|_| tracing::debug!(%to, %subject, "mail sent")).map_err(|e| {
                    tracing::warn!(error = %e, "SMTP delivery failed");
                    let reason = if e.status().is_some() {
                        format!("the mail server refused the message: {e}")
                    } else if e.is_tls() || e.is_client() {
                        // Also a server that does not offer the required STARTTLS: never plain text.
                        "no secure connection to the mail server could be made".to_owned()
                    } else {
                        "the mail server could not be reached".to_owned()
                    };
                    MailError::Delivery(format!("Mail delivery failed: {reason}."))
                })
            }
            Transport::Folder(dir) => {
                let name = format!("{}-{id}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
                let (dir, bytes) = (dir.clone(), message.formatted());
                let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes).map(|()| name))
                    .await
                    .map_err(|e| MailError::Internal(format!("mail folder writer: {e}")))?;
                let name = written.map_err(|e| MailError::Internal(format!("writing the mail file: {e}")))?;
                tracing::info!(%to, %subject, file = %name, "mail written to the mail folder");
                Ok(())
            }
        }
    }
}

/// Writes `name` in `dir` (created when missing) through a temporary file, so readers never see
/// half a mail.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, dir.join(name))
}

/// One message: `multipart/alternative` when it has both parts, else the one it has.
pub(crate) fn compose(
    from: Mailbox,
    to: Mailbox,
    subject: &str,
    html: Option<String>,
    text: Option<String>,
    id: &str,
) -> Result<Message, MailError> {
    let domain = from.email.domain().to_owned();
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!("<{id}@{domain}>")));
    let built = match (html, text) {
        (Some(html), Some(text)) => builder.multipart(MultiPart::alternative_plain_html(text, html)),
        (Some(html), None) => builder.singlepart(SinglePart::html(html)),
        (None, Some(text)) => builder.singlepart(SinglePart::plain(text)),
        (None, None) => builder.header(ContentType::TEXT_PLAIN).body(String::new()),
    };
    built.map_err(|e| MailError::Internal(format!("composing the message: {e}")))
}
