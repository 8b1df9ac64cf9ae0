//! The HTTP client of the provider calls: blocking `ureq` (rustls) on tokio's blocking pool,
//! with a timeout per request, no redirects followed and bodies capped, so that a slow or hostile
//! provider endpoint can hold neither an async worker nor unbounded memory. Every failure is a
//! [`ProviderError`] whose detail goes to the logs, never to the browser.

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

/// The largest provider answer read, in bytes.
const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// A provider call that failed (the text is for the logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The request did not get an answer (connection, TLS, timeout).
    #[error("{url}: {detail}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The provider answered something unusable (a status, a body that is not JSON, an
    /// `error` field, a missing token).
    #[error("{url}: {detail}")]
    Answer {
        /// The endpoint.
        url: String,
        /// What was wrong with it.
        detail: String,
    },
}

impl ProviderError {
    pub(crate) fn answer(url: &str, detail: impl Into<String>) -> ProviderError {
        ProviderError::Answer { url: url.to_owned(), detail: detail.into() }
    }
}

/// A provider's JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fetched {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body as JSON (`Null` when it is not JSON).
    pub(crate) body: Value,
    /// `Cache-Control: max-age` in seconds, when given.
    pub(crate) max_age: Option<u64>,
}

impl Fetched {
    /// The body of a 2xx answer, else an error naming the status.
    pub(crate) fn ok_body(self, url: &str) -> Result<Value, ProviderError> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(ProviderError::answer(url, format!("status {}", self.status)))
        }
    }
}

/// The request to send.
enum Body {
    None,
    Form(Vec<(String, String)>),
}

/// The shared client.
#[derive(Clone)]
pub(crate) struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    pub(crate) fn new(timeout: Duration) -> HttpClient {
        let agent =
            ureq::AgentBuilder::new().timeout(timeout).redirects(0).user_agent("urbackend-rs social login").build();
        HttpClient { agent }
    }

    /// `POST` of a form (`application/x-www-form-urlencoded`), asking for JSON.
    pub(crate) async fn post_form(&self, url: &str, fields: Vec<(String, String)>) -> Result<Fetched, ProviderError> {
        self.send("POST", url, Vec::new(), Body::Form(fields)).await
    }

    /// `GET` with extra headers, asking for JSON.
    pub(crate) async fn get(&self, url: &str, headers: Vec<(&'static str, String)>) -> Result<Fetched, ProviderError> {
        self.send("GET", url, headers, Body::None).await
    }

    async fn send(
        &self,
        method: &'static str,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Body,
    ) -> Result<Fetched, ProviderError> {
        let agent = self.agent.clone();
        let owned_url = url.to_owned();
        tokio::task::spawn_blocking(move || send_blocking(&agent, method, &owned_url, &headers, body)).await.map_err(
            |e| ProviderError::Transport { url: url.to_owned(), detail: format!("blocking task failed: {e}") },
        )?
    }
}

fn send_blocking(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&'static str, String)],
    body: Body,
) -> Result<Fetched, ProviderError> {
    let mut request = agent.request(method, url).set("Accept", "application/json");
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let result = match body {
        Body::None => request.call(),
        Body::Form(fields) => {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            request.send_form(&pairs)
        }
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(transport)) => {
            return Err(ProviderError::Transport { url: url.to_owned(), detail: transport.to_string() });
        }
    };
    let status = response.status();
    let max_age = response.header("cache-control").and_then(max_age);
    let mut text = String::new();
    response
        .into_reader()
        .take(MAX_BODY_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| ProviderError::Transport { url: url.to_owned(), detail: format!("reading the answer: {e}") })?;
    Ok(Fetched { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), max_age })
}

/// The `max-age` of a `Cache-Control` value (`no-store`/`no-cache` count as 0).
pub(crate) fn max_age(cache_control: &str) -> Option<u64> {
    let mut age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            age = value.trim_matches('"').parse().ok();
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_of_cache_control() {
        assert_eq!(max_age("public, max-age=19870, must-revalidate, no-transform"), Some(19870));
        assert_eq!(max_age("Max-Age=\"60\""), Some(60));
        assert_eq!(max_age("no-store, max-age=600"), Some(0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-1"), None);
    }
}
