//! The refresh driver. wrk cannot play refreshes: each answer carries the refresh token the next
//! request must send, and a token sent twice revokes its whole family. So `clients` threads each
//! log in once in header mode, wait until all have, and then refresh in a loop over their own
//! keep-alive connection, every request with the token the previous answer returned, through a
//! warm-up and then the measured window.
//!
//! Requests and latencies count in the window only; errors count whenever they happen (a login
//! that fails, a refresh answered with anything but 200 and a new token, a connection error),
//! the first one kept with its answer. After an error the client logs in again and goes on with
//! the new token; if that login fails too, the client stops.

use std::net::SocketAddr;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use super::http::Connection;
use super::wrk::Measured;

/// The login endpoint.
pub(super) const LOGIN: &str = "/api/userAuth/login";
/// The refresh endpoint.
pub(super) const REFRESH: &str = "/api/userAuth/refresh-token";

/// The load to drive.
pub(super) struct Load<'a> {
    pub(super) addr: SocketAddr,
    /// The project's publishable key.
    pub(super) key: &'a str,
    /// Login bodies: client *i* logs in with body *i* (cycled).
    pub(super) credentials: &'a [String],
    pub(super) clients: usize,
    pub(super) warmup: Duration,
    pub(super) seconds: u64,
}

/// What the driver measured, in wrk's terms (`status_errors`: answers other than 200 with a
/// token, and failed logins; `socket_errors`: connection errors), and the first error.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Driven {
    pub(super) measured: Measured,
    pub(super) first_error: Option<String>,
}

/// The headers of a login in header mode (`token`: none) or of a refresh with `token`.
pub(super) fn headers(key: &str, token: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![("x-api-key".to_owned(), key.to_owned())];
    match token {
        Some(token) => headers.push(("x-refresh-token".to_owned(), token.to_owned())),
        None => headers.push(("x-refresh-token-mode".to_owned(), "header".to_owned())),
    }
    headers
}

/// The `refreshToken` of an answer's body.
fn refresh_token(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value.get("refreshToken").and_then(Value::as_str).map(str::to_owned)
}

/// Why an exchange did not give a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// No answer: the connection failed.
    Socket(String),
    /// An answer other than 200 with a refresh token.
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Socket(text) | Failure::Refused(text) => f.write_str(text),
        }
    }
}

/// One exchange that must answer 200 with a refresh token: the token.
fn expect_token(outcome: anyhow::Result<(u16, String)>, what: &str) -> Result<String, Failure> {
    let (status, body) = outcome.map_err(|error| Failure::Socket(format!("{what}: {error:#}")))?;
    match refresh_token(&body) {
        Some(token) if status == 200 => Ok(token),
        _ => Err(Failure::Refused(format!("{what} answered {status}: {body}"))),
    }
}

/// Logs in with `credentials` in header mode: the refresh token.
pub(super) fn login(connection: &mut Connection, key: &str, credentials: &str) -> Result<String, Failure> {
    expect_token(connection.send("POST", LOGIN, &headers(key, None), Some(credentials)), "login")
}

/// Refreshes with `token`: the next token.
pub(super) fn refresh(connection: &mut Connection, key: &str, token: &str) -> Result<String, Failure> {
    expect_token(connection.send("POST", REFRESH, &headers(key, Some(token)), None), "refresh")
}

/// One client's counts.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    status_errors: u64,
    socket_errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u64>,
}

impl Tally {
    fn error(&mut self, failure: Failure) {
        match &failure {
            Failure::Socket(_) => self.socket_errors += 1,
            Failure::Refused(_) => self.status_errors += 1,
        }
        self.first_error.get_or_insert_with(|| failure.to_string());
    }
}

/// Runs the load: the figures of the window, every client's counts added.
pub(super) fn run(load: &Load<'_>) -> anyhow::Result<Driven> {
    if load.clients == 0 || load.credentials.is_empty() {
        bail!("the refresh driver needs clients and credentials");
    }
    let start = Barrier::new(load.clients);
    let tallies = thread::scope(|scope| {
        let start = &start;
        let handles: Vec<_> = (0..load.clients).map(|i| scope.spawn(move || client(load, i, start))).collect();
        handles.into_iter().map(|handle| handle.join()).collect::<Result<Vec<Tally>, _>>()
    })
    .map_err(|_| anyhow::anyhow!("a refresh client panicked"))?;
    Ok(summarise(tallies, load.seconds))
}

/// One client: logs in, waits for the others, refreshes until the window ends.
fn client(load: &Load<'_>, index: usize, start: &Barrier) -> Tally {
    let mut tally = Tally::default();
    let credentials = load.credentials.get(index % load.credentials.len()).map_or("", String::as_str);
    let ready = Connection::open(load.addr)
        .map_err(|error| Failure::Socket(format!("connecting: {error:#}")))
        .and_then(|mut connection| login(&mut connection, load.key, credentials).map(|token| (connection, token)));
    start.wait();
    let (mut connection, mut token) = match ready {
        Ok(ready) => ready,
        Err(failure) => {
            tally.error(failure);
            return tally;
        }
    };
    let window = Instant::now() + load.warmup;
    let end = window + Duration::from_secs(load.seconds);
    loop {
        let sent = Instant::now();
        if sent >= end {
            return tally;
        }
        let outcome = refresh(&mut connection, load.key, &token);
        let counted = sent >= window;
        match outcome {
            Ok(next) => {
                token = next;
                if counted {
                    tally.requests += 1;
                    tally.latencies_us.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
            }
            Err(failure) => {
                tally.error(failure);
                match login(&mut connection, load.key, credentials) {
                    Ok(fresh) => token = fresh,
                    Err(failure) => {
                        tally.error(failure);
                        return tally;
                    }
                }
            }
        }
    }
}

/// The clients' counts as one measurement over `seconds`.
fn summarise(tallies: Vec<Tally>, seconds: u64) -> Driven {
    let mut driven = Driven::default();
    let mut latencies = Vec::new();
    for tally in tallies {
        driven.measured.requests += tally.requests;
        driven.measured.status_errors += tally.status_errors;
        driven.measured.socket_errors += tally.socket_errors;
        driven.first_error = driven.first_error.or(tally.first_error);
        latencies.extend(tally.latencies_us);
    }
    latencies.sort_unstable();
    driven.measured.seconds = seconds as f64;
    driven.measured.p50_ms = percentile(&latencies, 50.0) as f64 / 1e3;
    driven.measured.p99_ms = percentile(&latencies, 99.0) as f64 / 1e3;
    driven
}

/// The `p`th percentile of `sorted` by nearest rank (the smallest value with at least `p`% of
/// the values at or below it); 0 when there are none.
pub(super) fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), 50);
        assert_eq!(percentile(&hundred, 99.0), 99);
        assert_eq!(percentile(&hundred, 100.0), 100);
        assert_eq!(percentile(&hundred, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[1, 2, 3], 50.0), 2);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn tallies_add_up() {
        let a = Tally { requests: 3, latencies_us: vec![3000, 1000, 2000], ..Tally::default() };
        let mut b = Tally { requests: 1, latencies_us: vec![4000], ..Tally::default() };
        b.error(Failure::Refused("refresh answered 401: {\"message\":\"revoked\"}".to_owned()));
        b.error(Failure::Socket("refresh: reset".to_owned()));
        let driven = summarise(vec![a, b], 2);
        let m = driven.measured;
        assert_eq!((m.requests, m.status_errors, m.socket_errors), (4, 1, 1));
        assert!((m.rps() - 2.0).abs() < 1e-9);
        assert!((m.p50_ms - 2.0).abs() < 1e-9 && (m.p99_ms - 4.0).abs() < 1e-9);
        assert_eq!(driven.first_error.as_deref(), Some("refresh answered 401: {\"message\":\"revoked\"}"));
    }

    #[test]
    fn only_200_with_a_token_is_a_success() {
        let ok = expect_token(Ok((200, r#"{"refreshToken":"t2","accessToken":"a"}"#.to_owned())), "refresh");
        assert_eq!(ok.unwrap(), "t2");
        assert!(expect_token(Ok((200, r#"{"accessToken":"a"}"#.to_owned())), "refresh").is_err());
        assert!(expect_token(Ok((401, r#"{"refreshToken":"t"}"#.to_owned())), "refresh").is_err());
        let lost = expect_token(Err(anyhow::anyhow!("reset")), "refresh").unwrap_err();
        assert_eq!(lost, Failure::Socket("refresh: reset".to_owned()));
    }

    #[test]
    fn logins_ask_for_the_token_in_the_body() {
        let login = headers("pk", None);
        assert!(login.contains(&("x-refresh-token-mode".to_owned(), "header".to_owned())));
        let refresh = headers("pk", Some("t"));
        assert!(refresh.contains(&("x-refresh-token".to_owned(), "t".to_owned())));
        assert!(refresh.contains(&("x-api-key".to_owned(), "pk".to_owned())));
    }
}
