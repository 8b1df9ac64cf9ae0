//! The delivery client: one POST with blocking `ureq` (run on the blocking pool), a timeout, no
//! redirects followed, and the SSRF guard inside the resolver: the host is resolved once, every
//! address is classified, and the connection goes to those very addresses, so a DNS answer
//! cannot change between the check and the connect (no rebinding window).

use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::address;

/// The longest response body kept in the delivery log (spec §11.3).
pub const MAX_RESPONSE_CHARS: usize = 1024;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// The target.
    pub url: &'a str,
    /// The exact body.
    pub body: &'a str,
    /// `X-urBackend-Signature`.
    pub signature: &'a str,
    /// `X-urBackend-Event`.
    pub event: &'a str,
    /// `X-urBackend-Delivery-Id`.
    pub delivery_id: &'a str,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The answer's status, if there was one.
    pub status: Option<u16>,
    /// The answer's body, at most [`MAX_RESPONSE_CHARS`] characters (then ending `...`).
    pub body: String,
    /// The failure, if any.
    pub error: Option<String>,
    /// Whether the SSRF guard refused the target (nothing was sent).
    pub refused: bool,
    /// How long it took.
    pub duration_ms: u64,
}

/// Resolves `netloc` and refuses every address that is not public (unless allowed).
fn resolve(netloc: &str, allow_private: bool, refusal: &Mutex<Option<String>>) -> std::io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
    if !allow_private {
        if let Some((ip, reason)) = addrs.iter().find_map(|a| address::classify(a.ip()).map(|r| (a.ip(), r))) {
            let text = address::refusal(ip, reason);
            if let Ok(mut cell) = refusal.lock() {
                *cell = Some(text.clone());
            }
            return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, text));
        }
    }
    Ok(addrs)
}

/// Sends one delivery (blocking).
pub fn post(delivery: &Delivery<'_>, timeout: Duration, allow_private: bool) -> Outcome {
    let started = Instant::now();
    let refusal: Arc<Mutex<Option<String>>> = Arc::default();
    let cell = refusal.clone();
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(timeout)
        .resolver(move |netloc: &str| resolve(netloc, allow_private, &cell))
        .build();
    let result = agent
        .post(delivery.url)
        .set("Content-Type", "application/json")
        .set("X-urBackend-Signature", delivery.signature)
        .set("X-urBackend-Event", delivery.event)
        .set("X-urBackend-Delivery-Id", delivery.delivery_id)
        .set("User-Agent", "urBackend-Webhooks/1.0")
        .send_string(delivery.body);
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let answered = |response: ureq::Response| {
        let status = response.status();
        let body = read_body(response);
        let error = (!(200..300).contains(&status)).then(|| match status {
            300..=399 => format!("HTTP {status} (redirects are not followed)"),
            _ => format!("HTTP {status}"),
        });
        Outcome { status: Some(status), body, error, refused: false, duration_ms }
    };
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => answered(response),
        Err(ureq::Error::Transport(transport)) => {
            let refused = refusal.lock().ok().and_then(|cell| cell.clone());
            let error = match (&refused, transport.kind()) {
                (Some(text), _) => text.clone(),
                (None, ureq::ErrorKind::Io) if transport.to_string().contains("timed out") => {
                    format!("Request timeout ({}s)", timeout.as_secs())
                }
                (None, _) => transport.to_string(),
            };
            Outcome { status: None, body: String::new(), error: Some(error), refused: refused.is_some(), duration_ms }
        }
    }
}

fn read_body(response: ureq::Response) -> String {
    let mut bytes = Vec::new();
    let _ = response.into_reader().take(16 * 1024).read_to_end(&mut bytes);
    truncate(&String::from_utf8_lossy(&bytes))
}

/// At most [`MAX_RESPONSE_CHARS`] characters, ending `...` when cut.
pub fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_RESPONSE_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_RESPONSE_CHARS).collect();
    out.push_str("...");
    out
}
