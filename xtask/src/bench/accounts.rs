//! The account figures of `cargo xtask bench`, on a second project created with its users
//! collection, against the server of the data runs once they are done, with the account limits
//! off and the server's default password hash concurrency (read from `urbackend serve --help`,
//! [`hash_concurrency`]): that bound is what keeps logins from taking every core from data
//! requests, so it is the one to measure.
//!
//! 1. signs up the users over HTTP, a few keep-alive connections at once ([`sign_up`]);
//! 2. logins per second: wrk POSTs `/login` with [`LOGIN_CONNECTIONS`] connections, cycling
//!    through the users' credentials;
//! 3. refreshes per second: after a sanity login and refresh, the chained-token driver of
//!    [`super::refresh`];
//! 4. the private list of 20 with RLS on, alone and while a login storm (the wrk of step 2) runs
//!    the whole time, in the order alone, storm, storm, alone so that a drift of the shared
//!    machine weighs on both sides alike; each side is its two runs combined.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::http::Connection;
use super::process::{self, RssSampler, Server, Stderr};
use super::refresh::{self, LOGIN};
use super::report::{Accounts, HttpRun};
use super::wrk::Scenario;
use super::{CONNECTIONS, LIST, Plan, Project, combined, measure, measure_along, prepare, print_run, step};

/// wrk connections of the login runs, alone and as a storm.
const LOGIN_CONNECTIONS: u32 = 50;
/// Connections that sign the users up at once.
const SIGNUP_CONNECTIONS: usize = 4;
/// The signup endpoint.
const SIGNUP: &str = "/api/userAuth/signup";

/// What the account runs work on.
pub(super) struct Setup<'a> {
    /// The `urbackend` binary (for its `serve --help`).
    pub(super) urbackend: &'a Path,
    /// The accounts project.
    pub(super) project: &'a Project,
    /// The private list of 20 with RLS on, on the data project.
    pub(super) list: &'a Scenario,
}

/// Runs the account measurements against `server`.
pub(super) fn run(wrk: &Path, server: &Server, dir: &Path, plan: &Plan, setup: &Setup<'_>) -> anyhow::Result<Accounts> {
    let hash_concurrency = hash_concurrency(setup.urbackend)?;
    let key = setup.project.publishable.as_str();
    let credentials = credentials(plan.accounts);
    step(&format!("accounts: signing up {} users over HTTP", credentials.len()));
    let started = Instant::now();
    sign_up(server.addr, key, &credentials)?;
    let signup_seconds = started.elapsed().as_secs_f64();

    step(&format!("accounts: logins (password hash concurrency {hash_concurrency}, the server's default)"));
    let login = Scenario {
        method: "POST",
        paths: vec![LOGIN.to_owned()],
        headers: vec![("x-api-key".to_owned(), key.to_owned())],
        bodies: credentials.clone(),
    };
    let logins = prepare(wrk, server, dir, plan, "logins".to_owned(), LOGIN_CONNECTIONS, &login)?;
    let (measured, max_rss) = measure(wrk, server, plan, &logins)?;
    let logins_run = HttpRun { how: logins.how.clone(), measured, max_rss };

    step(&format!("accounts: refreshes, {} clients each chaining its own tokens", plan.refresh_clients));
    let first = credentials.first().context("no credentials")?;
    check_refresh(server.addr, key, first)?;
    if !process::wait_idle(server.pid(), Duration::from_secs(180)) {
        eprintln!("bench: the server is still busy after 180 s; measuring refreshes anyway");
    }
    let sampler = RssSampler::start(server.pid());
    let driven = refresh::run(&refresh::Load {
        addr: server.addr,
        key,
        credentials: &credentials,
        clients: plan.refresh_clients,
        warmup: Duration::from_secs(plan.warmup),
        seconds: plan.seconds,
    });
    let max_rss = sampler.finish();
    let driven = driven?;
    print_run("refreshes", &driven.measured, max_rss);
    if let Some(error) = &driven.first_error {
        eprintln!("bench: the first refresh error: {error}");
    }
    let refreshes = HttpRun {
        how: format!("`POST {}` (publishable key + `x-refresh-token`)", refresh::REFRESH),
        measured: driven.measured,
        max_rss,
    };

    step("accounts: the private list alone and during a login storm");
    let list = prepare(wrk, server, dir, plan, format!("{LIST}, RLS on"), CONNECTIONS, setup.list)?;
    let alone_1 = measure(wrk, server, plan, &list)?;
    let (storm_1, logins_1) = measure_along(wrk, server, plan, &list, Some(&logins))?;
    let (storm_2, logins_2) = measure_along(wrk, server, plan, &list, Some(&logins))?;
    let alone_2 = measure(wrk, server, plan, &list)?;
    let (Some(logins_1), Some(logins_2)) = (logins_1, logins_2) else { bail!("the login storm did not run") };
    Ok(Accounts {
        users: credentials.len(),
        signup_seconds,
        hash_concurrency,
        login_connections: LOGIN_CONNECTIONS,
        list_connections: CONNECTIONS,
        refresh_clients: plan.refresh_clients,
        logins: logins_run,
        refreshes,
        refresh_first_error: driven.first_error,
        list_alone: combined(&list.how, alone_1, alone_2),
        list_storm: combined(&list.how, storm_1, storm_2),
        storm_logins: combined(&logins.how, (logins_1, storm_1.1), (logins_2, storm_2.1)),
    })
}

/// The login bodies of `count` users.
fn credentials(count: usize) -> Vec<String> {
    let body = |i: usize| json!({"email": format!("user{i}@bench.example"), "password": format!("password-{i}")});
    (0..count).map(|i| body(i).to_string()).collect()
}

/// Signs every user up (201 each), [`SIGNUP_CONNECTIONS`] at once.
fn sign_up(addr: SocketAddr, key: &str, credentials: &[String]) -> anyhow::Result<()> {
    let headers = [("x-api-key".to_owned(), key.to_owned())];
    let share = credentials.len().div_ceil(SIGNUP_CONNECTIONS).max(1);
    thread::scope(|scope| {
        let threads: Vec<_> = credentials
            .chunks(share)
            .map(|chunk| {
                let headers = &headers;
                scope.spawn(move || -> anyhow::Result<()> {
                    let mut connection = Connection::open(addr)?;
                    for body in chunk {
                        let (status, answer) = connection.send("POST", SIGNUP, headers, Some(body))?;
                        if status != 201 {
                            bail!("the signup of `{body}` answered {status}: {answer}");
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        threads.into_iter().try_for_each(|thread| thread.join().map_err(|_| anyhow::anyhow!("a signup panicked"))?)
    })
}

/// The sanity check before the refresh run: a login in header mode, then a refresh that answers
/// a new token.
fn check_refresh(addr: SocketAddr, key: &str, credentials: &str) -> anyhow::Result<()> {
    let mut connection = Connection::open(addr)?;
    let first = refresh::login(&mut connection, key, credentials).map_err(|e| anyhow::anyhow!("{e}"))?;
    let next = refresh::refresh(&mut connection, key, &first).map_err(|e| anyhow::anyhow!("{e}"))?;
    if next == first {
        bail!("the refresh answered the token it was sent");
    }
    Ok(())
}

/// The server's default `--password-hash-concurrency`, from `urbackend serve --help` (without
/// the environment variable that would override it, as the server runs).
fn hash_concurrency(urbackend: &Path) -> anyhow::Result<usize> {
    let mut command = Command::new(urbackend);
    command.args(["serve", "--help"]).env_remove(process::HASH_CONCURRENCY_ENV);
    let help = process::run_bounded(&mut command, Duration::from_secs(60), Stderr::Capture)?;
    help_default(&help, "--password-hash-concurrency")
        .with_context(|| format!("`urbackend serve --help` gives no default for --password-hash-concurrency:\n{help}"))
}

/// The `[default: N]` that clap's help gives `flag` (before the next flag's entry).
fn help_default(help: &str, flag: &str) -> Option<usize> {
    let (_, entry) = help.split_once(&format!("{flag} "))?;
    let mut lines = entry.lines();
    let own = lines.next().into_iter().chain(lines.take_while(|line| !line.trim_start().starts_with('-')));
    let value = own.filter_map(|line| line.split_once("[default: ")).find_map(|(_, rest)| rest.split_once(']'))?.0;
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_default_from_clap_help() {
        let long = "      --refresh-limit-per-user <REFRESH_LIMIT_PER_USER>\n          Refreshes per minute\n\n          \
                    [env: URBACKEND_REFRESH_LIMIT_PER_USER=]\n          [default: 20]\n\n      \
                    --password-hash-concurrency <PASSWORD_HASH_CONCURRENCY>\n          Password hashes computed \
                    at once\n\n          [env: URBACKEND_PASSWORD_HASH_CONCURRENCY=]\n          [default: 2]\n\n  \
                    -h, --help\n          Print help\n";
        assert_eq!(help_default(long, "--password-hash-concurrency"), Some(2));
        assert_eq!(help_default(long, "--refresh-limit-per-user"), Some(20));
        let short = "      --password-hash-concurrency <N>  Password hashes at once [default: 3]\n  -h, --help  Help\n";
        assert_eq!(help_default(short, "--password-hash-concurrency"), Some(3));
        let without = "      --password-hash-concurrency <N>  No default\n      --workers <W>  [default: 9]\n";
        assert_eq!(help_default(without, "--password-hash-concurrency"), None);
        assert_eq!(help_default(long, "--missing"), None);
    }

    #[test]
    fn every_user_has_credentials_of_their_own() {
        let all = credentials(3);
        assert_eq!(all.len(), 3);
        assert_eq!(all.first().map(String::as_str), Some(r#"{"email":"user0@bench.example","password":"password-0"}"#));
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), 3);
    }
}
