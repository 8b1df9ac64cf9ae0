//! `cargo xtask bench [--quick]`: the performance benchmark of the embedded store, end to end on
//! loopback, written to docs/BENCHMARKS.md.
//!
//! It is a benchmark, not a test: it measures and reports, and a missed target is reported, not
//! failed. Everything goes through processes (this crate depends on no workspace crate):
//!
//! 1. installs `wrk` if missing ([`process::ensure_wrk`]) and builds, in release mode, the
//!    `urbackend` binary and the `raw_bench` example of `store-sqlite`;
//! 2. in a temporary data directory, creates a project (`--no-users`) and two collections with
//!    the same model, `items` (RLS `private` on `userId`) and `items_open` (RLS off), with the
//!    CLI; the example seeds 100,000 documents into each (1,000 users × 100) straight into the
//!    store file and writes the ids of `user0`'s documents;
//! 3. the example measures the raw store reads in-process (no HTTP, as many concurrent tasks as
//!    the HTTP runs have connections);
//! 4. starts the server on 127.0.0.1 with the rate limits off and runs wrk for get by id and the
//!    private list of 20, each with RLS on and with RLS off (same work without RLS), each after a
//!    sanity request and a warm-up run, sampling the server's resident memory;
//! 5. inserts grow the collections, so they come last: with the server stopped the example
//!    measures the raw insert, then the server restarts for the HTTP inserts (owner injection
//!    with RLS on, the secret key with RLS off);
//! 6. on a second project, created with its users collection, the account figures
//!    ([`accounts`]): logins per second, refreshes per second (a driver of its own,
//!    [`refresh`], since each refresh must send the token the previous one returned), and the
//!    private list's p99 alone and during a login storm;
//! 7. kills the server (also on error: [`process::Server`] is a guard), removes the data
//!    directory and writes the report ([`report`]).
//!
//! `--quick` seeds 10,000 documents, signs up 50 users, drives 20 refresh clients and runs 3 s
//! per measurement, and writes `target/bench/BENCHMARKS.quick.md` instead, so that trying the
//! command out never replaces the reference figures.

mod accounts;
mod http;
mod process;
mod refresh;
mod report;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use self::process::{Rss, RssSampler, Server, Stderr};
use self::report::{HttpRun, Machine, RawOp, Report, Row};
use self::wrk::{Measured, Scenario};

/// The user whose documents the reads address.
const READER: &str = "user0";
/// The user the inserts write as (not a reader, so the read set does not grow).
const WRITER: &str = "bench-writer";
/// Concurrent connections (and raw-store tasks).
const CONNECTIONS: u32 = 100;
/// Documents per user.
const PER_USER: usize = 100;
/// The operations, as the report names them.
const GET: &str = "get by id";
const LIST: &str = "private list of 20";
const INSERT: &str = "insert with owner injection";

/// How big and how long.
#[derive(Debug, Clone, Copy)]
struct Plan {
    quick: bool,
    /// Owners of the seeded documents.
    users: usize,
    seconds: u64,
    warmup: u64,
    /// Accounts signed up for the login and refresh runs.
    accounts: usize,
    /// Threads of the refresh driver.
    refresh_clients: usize,
}

impl Plan {
    fn parse(args: &[String]) -> anyhow::Result<Plan> {
        match args {
            [] => Ok(Plan { quick: false, users: 1_000, seconds: 10, warmup: 2, accounts: 200, refresh_clients: 50 }),
            [flag] if flag == "--quick" => {
                Ok(Plan { quick: true, users: 100, seconds: 3, warmup: 1, accounts: 50, refresh_clients: 20 })
            }
            _ => bail!("`cargo xtask bench` takes only `--quick`, got `{}`", args.join(" ")),
        }
    }

    fn command(&self) -> &'static str {
        if self.quick { "cargo xtask bench --quick" } else { "cargo xtask bench" }
    }
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("urbackend-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The project the CLI created.
struct Project {
    id: String,
    publishable: String,
    secret: String,
}

/// `cargo xtask bench [--quick]`.
pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let plan = Plan::parse(args)?;
    let started = Instant::now();
    let mut machine = Machine::probe();
    let wrk = process::ensure_wrk()?;
    step("building urbackend and the raw_bench example (release)");
    let urbackend = process::build_release(root, "urbackend", &["--bin", "urbackend"])?;
    let raw_bench = process::build_release(root, "store-sqlite", &["--example", "raw_bench"])?;
    let dir = TempDir::new()?;
    let data = dir.0.join("data");
    let cli = Cli { binary: &urbackend, data_dir: &data };

    step("creating the project and the collections");
    let project = cli.create_project("bench", false)?;
    let accounts_project = cli.create_project("bench-accounts", true)?;
    cli.put_collection(&project, &dir.0, json!({"enabled": true, "mode": "private", "ownerField": "userId"}), "items")?;
    cli.put_collection(
        &project,
        &dir.0,
        json!({"enabled": false, "mode": "public-read", "ownerField": "userId"}),
        "items_open",
    )?;

    let documents = plan.users * PER_USER;
    step(&format!("seeding {documents} documents into each collection"));
    let db = data.join("urbackend.sqlite3");
    let ids_file = dir.0.join("ids.json");
    let seed_started = Instant::now();
    let mut seed = Command::new(&raw_bench);
    seed.arg("seed").arg("--db").arg(&db).args(["--project", &project.id]);
    seed.args(["--users", &plan.users.to_string(), "--per-user", &PER_USER.to_string(), "--user", READER]);
    seed.arg("--ids-out").arg(&ids_file);
    process::run_bounded(&mut seed, Duration::from_secs(1800), Stderr::Show)?;
    let seed_seconds = seed_started.elapsed().as_secs_f64();
    let ids: Value = serde_json::from_str(&std::fs::read_to_string(&ids_file)?)?;

    step("raw store: reads in-process, without HTTP");
    let mut raw = raw_store(&raw_bench, &db, &project, &ids_file, &plan, "reads")?;

    let reader_token = cli.token(&project, READER)?;
    let writer_token = cli.token(&project, WRITER)?;
    let scenarios = Scenarios { project: &project, ids: &ids, reader: &reader_token, writer: &writer_token };
    let log = dir.0.join("server.log");
    step("HTTP: reads");
    let mut server = Server::start(&urbackend, &data, &log)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = process::rss(server.pid());
    let mut rows = Vec::new();
    let all = scenarios.all()?;
    let list = all.iter().find(|s| s.0 == LIST).map(|s| s.2.clone()).context("no list scenario")?;
    for (operation, target_rps, on, off) in all {
        if operation == INSERT {
            // Inserts grow the collections, so they come after every read, the raw ones first
            // (with the server stopped, as for the raw reads).
            drop(server);
            step("raw store: inserts in-process, without HTTP");
            raw.extend(raw_store(&raw_bench, &db, &project, &ids_file, &plan, "inserts")?);
            step("HTTP: inserts");
            server = Server::start(&urbackend, &data, &log)?;
        }
        let (on, off) = on_off(&wrk, &server, &dir.0, &plan, operation, &on, &off)?;
        let raw_op = match operation {
            GET => "get",
            LIST => "find",
            _ => "insert",
        };
        let raw = raw.iter().find(|r| r.rls && r.op == raw_op).cloned();
        let caveat = (operation == LIST).then_some(
            "the RLS-off request filters `userId=user0` with no index to use (the owner index serves \
             the RLS scope only), so it scans the whole collection for the page and again for the \
             total; the ratio shows the owner index at work",
        );
        rows.push(Row { operation, target_rps, on, off, raw, caveat });
    }
    let setup = accounts::Setup { urbackend: &urbackend, project: &accounts_project, list: &list };
    let accounts = accounts::run(&wrk, &server, &dir.0, &plan, &setup)?;
    drop(server);
    machine.load_after = report::load_average();

    let report = Report {
        command: plan.command().to_owned(),
        date: report::utc_now(),
        commit: report::git_commit(root),
        machine,
        quick: plan.quick,
        documents,
        users: plan.users,
        seconds: plan.seconds,
        connections: CONNECTIONS,
        seed_seconds,
        rows,
        raw,
        idle_rss,
        accounts: Some(accounts),
    };
    let path = if plan.quick {
        root.join("target").join("bench").join("BENCHMARKS.quick.md")
    } else {
        root.join("docs").join("BENCHMARKS.md")
    };
    let existing = std::fs::read_to_string(&path).ok();
    let text = report::render(&report, &report::kept_notes(existing.as_deref()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    print_summary(&report);
    eprintln!("bench: wrote {} ({:.0} s in all)", path.display(), started.elapsed().as_secs_f64());
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n==> bench: {what}");
}

/// The `urbackend` commands that set the benchmark up.
struct Cli<'a> {
    binary: &'a Path,
    data_dir: &'a Path,
}

impl Cli<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.binary);
        command.args(args).arg("--data-dir").arg(self.data_dir).env("RUST_LOG", "warn");
        command
    }

    fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let stdout = process::run_bounded(&mut self.command(args), Duration::from_secs(120), Stderr::Capture)?;
        let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
        serde_json::from_str(line).with_context(|| format!("`urbackend {}` printed no JSON: {stdout}", args.join(" ")))
    }

    /// A project; `users`: with user auth enabled and its users collection.
    fn create_project(&self, name: &str, users: bool) -> anyhow::Result<Project> {
        let mut args = vec!["project", "create", name];
        if !users {
            args.push("--no-users");
        }
        let out = self.json(&args)?;
        let field = |key: &str| {
            out.get(key).and_then(Value::as_str).map(str::to_owned).with_context(|| format!("no `{key}` in {out}"))
        };
        Ok(Project { id: field("projectId")?, publishable: field("publishableKey")?, secret: field("secretKey")? })
    }

    fn put_collection(&self, project: &Project, dir: &Path, rls: Value, name: &str) -> anyhow::Result<()> {
        let definition = json!({
            "name": name,
            "model": [
                {"key": "title", "type": "String"},
                {"key": "n", "type": "Number"},
                {"key": "userId", "type": "String"},
            ],
            "rls": rls,
        });
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, definition.to_string())?;
        let file = file.to_string_lossy().into_owned();
        self.json(&["collection", "put", "--project", &project.id, "--file", &file]).map(|_| ())
    }

    fn token(&self, project: &Project, user: &str) -> anyhow::Result<String> {
        let out = self.json(&["project", "token", "--project", &project.id, "--user", user, "--ttl", "86400"])?;
        out.get("token").and_then(Value::as_str).map(str::to_owned).with_context(|| format!("no token in {out}"))
    }
}

/// Runs the raw-store measurements (`ops`: `reads` or `inserts`) and reads their lines.
fn raw_store(
    raw_bench: &Path,
    db: &Path,
    project: &Project,
    ids: &Path,
    plan: &Plan,
    ops: &str,
) -> anyhow::Result<Vec<RawOp>> {
    let mut command = Command::new(raw_bench);
    command.arg("run").arg("--db").arg(db).args(["--project", &project.id, "--user", READER, "--writer", WRITER]);
    command.arg("--ids").arg(ids).args(["--concurrency", &CONNECTIONS.to_string()]);
    command.args(["--seconds", &plan.seconds.to_string(), "--ops", ops]);
    let expected = if ops == "reads" { 6 } else { 2 };
    // Each measurement has a warm-up of at most 2 s; leave room for slow ends.
    let limit = Duration::from_secs(expected * (plan.seconds + 2) + 300);
    let stdout = process::run_bounded(&mut command, limit, Stderr::Show)?;
    let measured: Vec<RawOp> =
        stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).filter_map(|v| RawOp::from_json(&v)).collect();
    for op in &measured {
        eprintln!(
            "raw {:<10} {:<10} {:>10.0} ops/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
            op.op, op.collection, op.ops_per_sec, op.p50_ms, op.p99_ms, op.errors
        );
    }
    if measured.len() as u64 != expected {
        bail!("raw_bench printed {} measurements instead of {expected}:\n{stdout}", measured.len());
    }
    Ok(measured)
}

/// The HTTP workloads.
struct Scenarios<'a> {
    project: &'a Project,
    ids: &'a Value,
    reader: &'a str,
    writer: &'a str,
}

impl Scenarios<'_> {
    fn headers(&self, key: &str, token: Option<&str>) -> Vec<(String, String)> {
        let mut headers = vec![("x-api-key".to_owned(), key.to_owned())];
        if let Some(token) = token {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        headers
    }

    fn get(&self, collection: &str, token: Option<&str>) -> anyhow::Result<Scenario> {
        let ids = self.ids.get(collection).and_then(Value::as_array).context("no ids")?;
        let paths: Vec<String> =
            ids.iter().filter_map(Value::as_str).map(|id| format!("/api/data/{collection}/{id}")).collect();
        if paths.len() < 2 {
            bail!("the seed wrote {} ids for `{collection}`", paths.len());
        }
        Ok(Scenario {
            method: "GET",
            paths,
            headers: self.headers(&self.project.publishable, token),
            bodies: Vec::new(),
        })
    }

    /// (operation, target req/s, RLS on, RLS off) for each operation.
    fn all(&self) -> anyhow::Result<Vec<(&'static str, f64, Scenario, Scenario)>> {
        let pk = &self.project.publishable;
        let list = |path: String, token| Scenario {
            method: "GET",
            paths: vec![path],
            headers: self.headers(pk, token),
            bodies: Vec::new(),
        };
        let insert = |collection: &str, key: &str, token, body: Value| Scenario {
            method: "POST",
            paths: vec![format!("/api/data/{collection}")],
            headers: self.headers(key, token),
            bodies: vec![body.to_string()],
        };
        Ok(vec![
            (GET, report::TARGET_GET_RPS, self.get("items", Some(self.reader))?, self.get("items_open", None)?),
            (
                LIST,
                report::TARGET_LIST_RPS,
                list("/api/data/items?limit=20".to_owned(), Some(self.reader)),
                list(format!("/api/data/items_open?limit=20&userId={READER}"), None),
            ),
            (
                INSERT,
                report::TARGET_INSERT_RPS,
                insert("items", pk, Some(self.writer), json!({"title": "x", "n": 1})),
                insert("items_open", &self.project.secret, None, json!({"title": "x", "n": 1, "userId": WRITER})),
            ),
        ])
    }
}

/// A scenario ready to measure: checked, its script written, warmed up.
struct Prepared {
    label: String,
    script: PathBuf,
    how: String,
    /// wrk connections.
    connections: u32,
}

/// Checks a scenario with one request (a 2xx, and 20 items for a list), writes its wrk script
/// and runs the warm-up with `connections` connections.
fn prepare(
    wrk_binary: &Path,
    server: &Server,
    dir: &Path,
    plan: &Plan,
    label: String,
    connections: u32,
    scenario: &Scenario,
) -> anyhow::Result<Prepared> {
    let first = scenario.paths.first().context("a scenario without a path")?;
    let body = scenario.bodies.first().map(String::as_str);
    let (status, body) = http::once(server.addr, scenario.method, first, &scenario.headers, body)?;
    if !(200..300).contains(&status) {
        bail!("{label}: `{} {first}` answered {status} before the run: {body}", scenario.method);
    }
    if scenario.method == "GET" && first.contains("limit=20") {
        let items = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.pointer("/data/items").and_then(Value::as_array).map(Vec::len));
        if items != Some(20) {
            bail!("{label}: the list answered {items:?} items instead of 20: {body}");
        }
    }
    let script = dir.join(format!("{}.lua", label.replace([' ', ','], "_")));
    std::fs::write(&script, wrk::script(scenario))?;
    wrk::run(wrk_binary, &script, server.addr, connections, plan.warmup)
        .with_context(|| format!("warming up `{label}`"))?;
    let path = match first.rsplit_once('/') {
        Some((collection, _)) if scenario.paths.len() > 1 => format!("{collection}/:id"),
        _ => first.clone(),
    };
    let how = format!("`{} {path}`{}", scenario.method, describe_auth(scenario));
    Ok(Prepared { label, script, how, connections })
}

/// One measured wrk run, once the server is idle, with its memory sampled.
fn measure(wrk_binary: &Path, server: &Server, plan: &Plan, prepared: &Prepared) -> anyhow::Result<(Measured, Rss)> {
    measure_along(wrk_binary, server, plan, prepared, None).map(|(run, _)| run)
}

/// [`measure`], with `alongside` run by a second wrk for the same time when given (its figures
/// are the second value).
fn measure_along(
    wrk_binary: &Path,
    server: &Server,
    plan: &Plan,
    prepared: &Prepared,
    alongside: Option<&Prepared>,
) -> anyhow::Result<((Measured, Rss), Option<Measured>)> {
    if !process::wait_idle(server.pid(), Duration::from_secs(180)) {
        eprintln!("bench: the server is still busy after 180 s; measuring `{}` anyway", prepared.label);
    }
    let sampler = RssSampler::start(server.pid());
    let run = |p: &Prepared| {
        wrk::run(wrk_binary, &p.script, server.addr, p.connections, plan.seconds)
            .with_context(|| format!("wrk run `{}`", p.label))
    };
    let (outcome, along) = std::thread::scope(|scope| {
        let along = alongside.map(|other| scope.spawn(move || run(other)));
        (run(prepared), along.map(|thread| thread.join()))
    });
    let rss = sampler.finish();
    let (measured, _) = outcome?;
    let along = match along {
        Some(joined) => Some(joined.map_err(|_| anyhow::anyhow!("a wrk thread panicked"))??.0),
        None => None,
    };
    match (alongside, &along) {
        (Some(other), Some(along)) => {
            print_run(&format!("{} during `{}`", prepared.label, other.label), &measured, rss);
            print_run(&format!("{} (alongside)", other.label), along, rss);
        }
        _ => print_run(&prepared.label, &measured, rss),
    }
    Ok(((measured, rss), along))
}

fn print_run(label: &str, measured: &Measured, rss: Rss) {
    eprintln!(
        "http {label:<40} {:>10.0} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}  rss {:.1} MiB (anon {:.1})",
        measured.rps(),
        measured.p50_ms,
        measured.p99_ms,
        measured.status_errors + measured.socket_errors,
        rss.total_kib as f64 / 1024.0,
        rss.anon_kib as f64 / 1024.0,
    );
}

/// Two runs of one scenario as one [`HttpRun`]: their figures combined, the larger memory.
fn combined(how: &str, (a, rss_a): (Measured, Rss), (b, rss_b): (Measured, Rss)) -> HttpRun {
    HttpRun {
        how: how.to_owned(),
        measured: a.combine(&b),
        max_rss: Rss { total_kib: rss_a.total_kib.max(rss_b.total_kib), anon_kib: rss_a.anon_kib.max(rss_b.anon_kib) },
    }
}

/// Measures RLS on and RLS off in the order on, off, off, on, so that a drift of the machine
/// during the four runs weighs on both alike; each side is the combination of its two runs.
fn on_off(
    wrk_binary: &Path,
    server: &Server,
    dir: &Path,
    plan: &Plan,
    operation: &str,
    on: &Scenario,
    off: &Scenario,
) -> anyhow::Result<(HttpRun, HttpRun)> {
    let on = prepare(wrk_binary, server, dir, plan, format!("{operation}, RLS on"), CONNECTIONS, on)?;
    let off = prepare(wrk_binary, server, dir, plan, format!("{operation}, RLS off"), CONNECTIONS, off)?;
    let on_1 = measure(wrk_binary, server, plan, &on)?;
    let off_1 = measure(wrk_binary, server, plan, &off)?;
    let off_2 = measure(wrk_binary, server, plan, &off)?;
    let on_2 = measure(wrk_binary, server, plan, &on)?;
    Ok((combined(&on.how, on_1, on_2), combined(&off.how, off_1, off_2)))
}

/// Which credentials a scenario sends.
fn describe_auth(scenario: &Scenario) -> String {
    let key = scenario.headers.iter().find(|(n, _)| n == "x-api-key").map_or("", |(_, v)| v.as_str());
    let role = if key.starts_with("pk_") { "publishable key" } else { "secret key" };
    let token = if scenario.headers.iter().any(|(n, _)| n == "Authorization") { " + user token" } else { "" };
    let body = match scenario.bodies.as_slice() {
        [] => String::new(),
        [body] => format!(", body `{body}`"),
        [first, ..] => format!(", {} bodies in turn such as `{first}`", scenario.bodies.len()),
    };
    format!(" ({role}{token}{body})")
}

fn print_summary(report: &Report) {
    eprintln!("\n==> bench: targets");
    for (statement, holds, measured) in report.targets() {
        eprintln!("  [{}] {statement}: {measured}", if holds { "ok" } else { "MISS" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_quick_is_accepted() {
        assert!(!Plan::parse(&[]).unwrap().quick);
        assert!(Plan::parse(&["--quick".to_owned()]).unwrap().quick);
        assert!(Plan::parse(&["--fast".to_owned()]).is_err());
    }
}
