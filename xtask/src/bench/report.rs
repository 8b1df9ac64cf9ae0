//! docs/BENCHMARKS.md: the command, the date and commit, the machine, the measured tables, the
//! account figures ([`accounts`]), resident memory and which targets hold, rendered from the
//! figures as plain Markdown. Everything after
//! [`NOTES_MARKER`] in the existing file (hand-written analysis) is kept when the file is
//! rewritten.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::process::Rss;
use super::wrk::Measured;

mod accounts;

pub(super) use self::accounts::Accounts;

/// The line after which the file is hand-written and survives a rerun.
pub(super) const NOTES_MARKER: &str =
    "<!-- notes: everything below this line is kept when `cargo xtask bench` rewrites this file -->";

/// The targets of the performance issue (embedded store, 2 cores).
pub(super) const TARGET_GET_RPS: f64 = 15_000.0;
pub(super) const TARGET_LIST_RPS: f64 = 5_000.0;
pub(super) const TARGET_INSERT_RPS: f64 = 3_000.0;
/// RLS on may cost at most this share of the RLS-off throughput.
pub(super) const TARGET_RLS_COST: f64 = 0.05;
/// Resident memory with 100 concurrent connections, in MiB.
pub(super) const TARGET_RSS_MIB: f64 = 60.0;

/// The machine the figures come from.
#[derive(Debug, Clone, Default)]
pub(super) struct Machine {
    pub(super) cores: usize,
    pub(super) cpu: String,
    pub(super) memory_kib: u64,
    pub(super) kernel: String,
    pub(super) load_before: String,
    pub(super) load_after: String,
}

impl Machine {
    /// Reads `/proc` (fields stay empty where it cannot).
    pub(super) fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        Machine {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: field(&cpuinfo, "model name"),
            memory_kib: field(&meminfo, "MemTotal").trim_end_matches("kB").trim().parse().unwrap_or(0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned(),
            load_before: load_average(),
            load_after: String::new(),
        }
    }
}

/// The 1/5/15-minute load averages.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One raw-store measurement, as the `raw_bench` example prints it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct RawOp {
    pub(super) op: String,
    pub(super) collection: String,
    pub(super) rls: bool,
    pub(super) ops_per_sec: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) errors: u64,
    pub(super) first_error: Option<String>,
}

impl RawOp {
    /// Reads one line of the example's output.
    pub(super) fn from_json(value: &Value) -> Option<RawOp> {
        let number = |key: &str| value.get(key).and_then(Value::as_f64);
        Some(RawOp {
            op: value.get("op")?.as_str()?.to_owned(),
            collection: value.get("collection")?.as_str()?.to_owned(),
            rls: value.get("rls")?.as_bool()?,
            ops_per_sec: number("ops_per_sec")?,
            p50_ms: number("p50_us")? / 1e3,
            p99_ms: number("p99_us")? / 1e3,
            errors: value.get("errors").and_then(Value::as_u64).unwrap_or(0),
            first_error: value.get("first_error").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// One HTTP run.
#[derive(Debug, Clone, Default)]
pub(super) struct HttpRun {
    /// What was requested, for the detail table.
    pub(super) how: String,
    pub(super) measured: Measured,
    /// The server's largest resident sizes during the run.
    pub(super) max_rss: Rss,
}

impl HttpRun {
    /// Its table cells: req/s, p50, p99, errors, max RSS (anon).
    fn cells(&self) -> String {
        let m = &self.measured;
        format!(
            "{} | {} | {} | {} | {:.1} MiB ({:.1})",
            thousands(m.rps()),
            ms(m.p50_ms),
            ms(m.p99_ms),
            m.status_errors + m.socket_errors,
            mib(self.max_rss.total_kib),
            mib(self.max_rss.anon_kib),
        )
    }
}

/// One operation: its HTTP runs with RLS on and off and the raw store figure.
#[derive(Debug, Clone, Default)]
pub(super) struct Row {
    pub(super) operation: &'static str,
    pub(super) target_rps: f64,
    pub(super) on: HttpRun,
    pub(super) off: HttpRun,
    pub(super) raw: Option<RawOp>,
    /// Why the on/off ratio does not measure the price of RLS, when it does not.
    pub(super) caveat: Option<&'static str>,
}

impl Row {
    /// RLS on over RLS off, in requests per second.
    pub(super) fn on_off(&self) -> f64 {
        ratio(self.on.measured.rps(), self.off.measured.rps())
    }

    /// RLS-on HTTP over the raw store.
    pub(super) fn api_raw(&self) -> Option<f64> {
        self.raw.as_ref().map(|raw| ratio(self.on.measured.rps(), raw.ops_per_sec))
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Everything the report says.
#[derive(Debug, Clone, Default)]
pub(super) struct Report {
    pub(super) command: String,
    pub(super) date: String,
    pub(super) commit: String,
    pub(super) machine: Machine,
    pub(super) quick: bool,
    pub(super) documents: usize,
    pub(super) users: usize,
    pub(super) seconds: u64,
    pub(super) connections: u32,
    pub(super) seed_seconds: f64,
    pub(super) rows: Vec<Row>,
    pub(super) raw: Vec<RawOp>,
    /// The server's resident sizes just after it started.
    pub(super) idle_rss: Rss,
    pub(super) accounts: Option<Accounts>,
}

impl Report {
    /// The largest resident sizes over every HTTP run.
    pub(super) fn max_rss(&self) -> Rss {
        let runs = self.rows.iter().flat_map(|r| [r.on.max_rss, r.off.max_rss]);
        runs.fold(Rss::default(), |a, b| Rss {
            total_kib: a.total_kib.max(b.total_kib),
            anon_kib: a.anon_kib.max(b.anon_kib),
        })
    }

    /// Each target: its statement, whether it holds, and the measured figure.
    pub(super) fn targets(&self) -> Vec<(String, bool, String)> {
        let mut out = Vec::new();
        for row in &self.rows {
            let rps = row.on.measured.rps();
            out.push((
                format!("{} (RLS on) ≥ {} req/s", row.operation, thousands(row.target_rps)),
                rps >= row.target_rps && row.on.measured.error_share() < 0.01,
                format!("{} req/s", thousands(rps)),
            ));
        }
        for row in &self.rows {
            let cost = 1.0 - row.on_off();
            let caveat = row.caveat.map(|c| format!("; not a measure of RLS: {c}")).unwrap_or_default();
            out.push((
                format!("{}: RLS on costs ≤ {:.0}% against off", row.operation, TARGET_RLS_COST * 100.0),
                cost <= TARGET_RLS_COST,
                format!("on/off = {:.2} ({}){caveat}", row.on_off(), signed_cost(cost)),
            ));
        }
        let (rss, anon) = (mib(self.max_rss().total_kib), mib(self.max_rss().anon_kib));
        out.push((
            format!("resident memory (`VmRSS`) ≤ {TARGET_RSS_MIB:.0} MiB with {} connections", self.connections),
            rss > 0.0 && rss <= TARGET_RSS_MIB,
            format!("{rss:.1} MiB, of which {anon:.1} MiB heap and stacks (`RssAnon`)"),
        ));
        if let Some(accounts) = &self.accounts {
            out.push(accounts.target());
        }
        out
    }
}

/// How RLS on compares with off, from `cost` = 1 − on/off.
fn signed_cost(cost: f64) -> String {
    if cost >= 0.0 {
        format!("RLS on costs {:.1}%", cost * 100.0)
    } else if cost > -1.0 {
        format!("RLS on {:.1}% faster", -cost * 100.0)
    } else {
        format!("RLS on {:.0}× faster", 1.0 - cost)
    }
}

/// `12345.6` → `12,346`.
pub(super) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0} ms") } else { format!("{value:.2} ms") }
}

/// The Markdown file: the generated part, then the marker and `notes` (kept from the old file).
pub(super) fn render(report: &Report, notes: &str) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Generated by `{}` on {} (commit {}){}. Rerun it to refresh this file; \
         the notes at the end are kept.\n",
        report.command,
        report.date,
        report.commit,
        if report.quick { " — **a quick run: fewer documents and 3 s runs, not the reference figures**" } else { "" },
    );
    let _ = writeln!(md, "## Machine\n");
    let _ = writeln!(md, "- cores: {} (`nproc`)", m.cores);
    let _ = writeln!(md, "- CPU: {}", if m.cpu.is_empty() { "unknown" } else { &m.cpu });
    let _ = writeln!(md, "- memory: {:.1} GiB", m.memory_kib as f64 / 1024.0 / 1024.0);
    let _ = writeln!(md, "- kernel: Linux {}", m.kernel);
    let _ = writeln!(md, "- load average (1/5/15 min) before: {}, after: {}", m.load_before, m.load_after);
    let _ = writeln!(
        md,
        "- the load generator (wrk, 2 threads) runs on the same cores as the server, and the machine is \
         shared: absolute figures move from run to run, **ratios are what to compare**.\n"
    );
    let _ = writeln!(md, "## Setup\n");
    let _ = writeln!(
        md,
        "- data: one project (`--no-users`), collections `items` (RLS on: `private`, owner field `userId`) \
         and `items_open` (RLS off), same model (`title` String, `n` Number, `userId` String), \
         {} documents each ({} users, document *i* owned by user *i* mod {}), seeded straight into the \
         store file in {:.1} s;",
        thousands(report.documents as f64),
        thousands(report.users as f64),
        report.users,
        report.seed_seconds,
    );
    let _ = writeln!(
        md,
        "- server: `urbackend serve --bind 127.0.0.1:0 {}` (release build, embedded SQLite store, one HTTP \
         worker per core, request log on, the default password hash concurrency);",
        super::process::LIMITS_OFF.join(" "),
    );
    let _ = writeln!(
        md,
        "- HTTP: `wrk -t2 -c{} -d{}s --timeout 30s --latency` on 127.0.0.1, with Lua scripts for the \
         headers and bodies; reads as `user0`, inserts as another user so that the read set stays the \
         same; per operation a sanity request and a warm-up run for each side, then four measured runs \
         in the order RLS on, off, off, on (so that a drift of the shared machine weighs on both sides \
         alike), each side reported as its two runs combined (requests over time; percentiles averaged); \
         before each run the benchmark waits until the server is idle, because the requests wrk stops \
         waiting for at the end of a run still run to completion;",
        report.connections, report.seconds
    );
    let _ = writeln!(
        md,
        "- raw store: `crates/store-sqlite/examples/raw_bench.rs`, the same operations through \
         `SqliteStore` (`DocumentStore`) in-process, {} concurrent Tokio tasks, {} s each after a warm-up, \
         with the server stopped so that nothing else uses the file (the reads before the HTTP runs, \
         the inserts after the HTTP reads, since inserts grow the collections).\n",
        report.connections, report.seconds
    );
    let _ = writeln!(md, "## Results\n");
    let _ =
        writeln!(md, "| Operation | RLS on req/s | p50 | p99 | RLS off req/s | on/off | raw store ops/s | API/raw |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in &report.rows {
        let on = &row.on.measured;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} | {} | {} |",
            row.operation,
            thousands(on.rps()),
            ms(on.p50_ms),
            ms(on.p99_ms),
            thousands(row.off.measured.rps()),
            row.on_off(),
            row.raw.as_ref().map_or_else(|| "—".to_owned(), |r| thousands(r.ops_per_sec)),
            row.api_raw().map_or_else(|| "—".to_owned(), |r| format!("{r:.2}")),
        );
    }
    let _ = writeln!(
        md,
        "\nThe raw column is the store alone with RLS on (owner scope): get by id, find 20 (without the \
         count the list endpoint adds; see find+count below), insert one document."
    );
    for row in &report.rows {
        if let Some(caveat) = row.caveat {
            let _ = writeln!(md, "The on/off ratio of *{}* is not a measure of RLS: {caveat}.", row.operation);
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "### Every HTTP run\n");
    let _ = writeln!(md, "| Run | Request | req/s | p50 | p99 | errors | max RSS (anon) |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|");
    for row in &report.rows {
        for (rls, run) in [("RLS on", &row.on), ("RLS off", &row.off)] {
            let _ = writeln!(md, "| {}, {rls} | {} | {} |", row.operation, run.how, run.cells());
        }
    }
    let _ = writeln!(md, "\n### Every raw store run\n");
    let _ = writeln!(md, "| Operation | Collection (scope) | ops/s | p50 | p99 | errors |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|");
    for raw in &report.raw {
        let scope = if raw.rls { "owner scope" } else { "`ReadScope::All`" };
        let _ = writeln!(
            md,
            "| {} | `{}` ({scope}) | {} | {} | {} | {}{} |",
            raw.op,
            raw.collection,
            thousands(raw.ops_per_sec),
            ms(raw.p50_ms),
            ms(raw.p99_ms),
            raw.errors,
            raw.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default(),
        );
    }
    if let Some(accounts) = &report.accounts {
        accounts.render(&mut md, report.seconds);
    }
    let _ = writeln!(md, "\n## Resident memory\n");
    let (idle, max) = (report.idle_rss, report.max_rss());
    let _ = writeln!(
        md,
        "`VmRSS` of the server from `/proc/<pid>/status`, sampled every 100 ms: {:.1} MiB idle after start, \
         **{:.1} MiB at most** during the {}-connection data runs (the account runs come after them and \
         are left out here: their memory is in their own table). Of that, `RssAnon` (heap and stacks) was at \
         most {:.1} MiB ({:.1} MiB idle); the rest is file-backed: the pages of the database file that \
         SQLite's memory map (`mmap_size`, 256 MiB per connection) has touched, which the kernel can \
         reclaim and which grows with the data read.\n",
        mib(idle.total_kib),
        mib(max.total_kib),
        report.connections,
        mib(max.anon_kib),
        mib(idle.anon_kib),
    );
    let _ = writeln!(md, "## Targets\n");
    let targets = report.targets();
    for (statement, holds, measured) in &targets {
        let verdict = if *holds { "holds" } else { "**does not hold**" };
        let _ = writeln!(md, "- {statement}: {verdict} — measured {measured}");
    }
    let missed: Vec<&str> = targets.iter().filter(|t| !t.1).map(|t| t.0.as_str()).collect();
    if missed.is_empty() {
        let _ = writeln!(md, "\nEvery target holds on this run.");
    } else {
        let _ = writeln!(md, "\n{} of {} targets do not hold on this run.", missed.len(), targets.len());
    }
    let _ = writeln!(md, "\n{NOTES_MARKER}\n");
    md.push_str(notes.trim_start_matches('\n'));
    if !md.ends_with('\n') {
        md.push('\n');
    }
    md
}

/// The hand-written part of an existing file (after the marker), or a placeholder.
pub(super) fn kept_notes(existing: Option<&str>) -> String {
    existing
        .and_then(|text| text.split_once(NOTES_MARKER))
        .map(|(_, notes)| notes.to_owned())
        .unwrap_or_else(|| "## Notes\n\n(None yet.)\n".to_owned())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub(super) fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The checked-out commit, with `+dirty` when the tree has changes.
pub(super) fn git_commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty { format!("{commit}+dirty") } else { commit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
    }

    #[test]
    fn costs_read_plainly() {
        assert_eq!(signed_cost(0.123), "RLS on costs 12.3%");
        assert_eq!(signed_cost(-0.05), "RLS on 5.0% faster");
        assert_eq!(signed_cost(-56.0), "RLS on 57× faster");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(15_000.2), "15,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn notes_survive_a_rewrite() {
        let report = Report { command: "cargo xtask bench".into(), ..Report::default() };
        let first = render(&report, &kept_notes(None));
        assert!(first.contains("(None yet.)"));
        let edited = first.replace("(None yet.)", "The list is slow because …");
        let second = render(&report, &kept_notes(Some(&edited)));
        assert!(second.contains("The list is slow because …"));
        assert_eq!(second.matches(NOTES_MARKER).count(), 1);
    }

    #[test]
    fn targets_say_which_hold() {
        let fast = Measured { requests: 200_000, seconds: 10.0, p50_ms: 1.0, p99_ms: 5.0, ..Measured::default() };
        let slow = Measured { requests: 10_000, ..fast };
        let run = |measured| HttpRun {
            how: String::new(),
            measured,
            max_rss: Rss { total_kib: 30 * 1024, anon_kib: 20 * 1024 },
        };
        let report = Report {
            connections: 100,
            rows: vec![Row {
                operation: "get by id",
                target_rps: TARGET_GET_RPS,
                on: run(slow),
                off: run(fast),
                raw: None,
                caveat: None,
            }],
            ..Report::default()
        };
        let targets = report.targets();
        assert_eq!(targets.len(), 3);
        assert!(!targets.iter().any(|t| t.0.starts_with("get by id (RLS on)") && t.1));
        assert!(targets.iter().any(|t| t.0.contains("RLS on costs") && !t.1));
        assert!(targets.iter().any(|t| t.0.starts_with("resident memory") && t.1));
    }
}
