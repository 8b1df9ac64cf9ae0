//! The processes the benchmark drives, each bounded in time: one-shot commands (with their output
//! captured), release builds (the executables found through cargo's JSON messages), the server
//! (killed when its guard drops, so also on error, and started with every limit that would
//! refuse the benchmark's load turned off), a sampler of the server's resident memory, and the
//! installation of `wrk`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

/// How the child's stderr is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stderr {
    /// Captured, and shown only when the command fails.
    Capture,
    /// Passed through to the terminal (progress of builds and long steps).
    Show,
}

/// Runs `command` to completion within `limit` and returns its stdout; kills it past the limit.
/// A non-zero exit is an error carrying the end of stderr.
pub(super) fn run_bounded(command: &mut Command, limit: Duration, stderr: Stderr) -> anyhow::Result<String> {
    let what = describe(command);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    command.stderr(match stderr {
        Stderr::Capture => Stdio::piped(),
        Stderr::Show => Stdio::inherit(),
    });
    let mut child = command.spawn().with_context(|| format!("could not start `{what}`"))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().with_context(|| format!("waiting for `{what}`"))? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{what}` did not finish within {}s and was killed", limit.as_secs());
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr_text = err.join().unwrap_or_default();
    if !status.success() {
        bail!("`{what}` exited with {status}\n{}", tail(&stderr_text, 40));
    }
    Ok(stdout)
}

/// Reads a pipe to its end on a thread (so that a chatty child never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The last `lines` lines of `text`.
pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all.iter().skip(all.len().saturating_sub(lines)).copied().collect::<Vec<_>>().join("\n")
}

fn describe(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Builds one target in release mode and returns its executable, as cargo reports it.
pub(super) fn build_release(root: &Path, package: &str, target: &[&str]) -> anyhow::Result<PathBuf> {
    let mut command = crate::cargo(root);
    command.args(["build", "--release", "--message-format=json-render-diagnostics", "-p", package]).args(target);
    let stdout = run_bounded(&mut command, Duration::from_secs(3600), Stderr::Show)?;
    let name = target.last().copied().unwrap_or(package);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|msg| msg.get("reason").and_then(Value::as_str) == Some("compiler-artifact"))
        .filter(|msg| msg.pointer("/target/name").and_then(Value::as_str) == Some(name))
        .find_map(|msg| msg.get("executable").and_then(Value::as_str).map(PathBuf::from))
        .with_context(|| format!("cargo built no executable named `{name}`"))
}

/// A program on `PATH`.
pub(super) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// `wrk`, installed with apt-get when missing (Debian's package; `apt-get update` first only if
/// the plain install fails).
pub(super) fn ensure_wrk() -> anyhow::Result<PathBuf> {
    if let Some(wrk) = which("wrk") {
        return Ok(wrk);
    }
    eprintln!("bench: wrk is missing; installing it with apt-get");
    let Some(apt) = which("apt-get") else {
        bail!("wrk is not installed and there is no apt-get: install wrk (https://github.com/wg/wrk) and rerun");
    };
    let install = |apt: &Path| {
        run_bounded(
            Command::new(apt)
                .args(["install", "-y", "--no-install-recommends", "wrk"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
            Stderr::Capture,
        )
    };
    if install(&apt).is_err() {
        run_bounded(Command::new(&apt).arg("update"), Duration::from_secs(600), Stderr::Capture)
            .context("apt-get update (needed to install wrk; run as root)")?;
        install(&apt).context("apt-get install wrk (run as root)")?;
    }
    which("wrk").context("apt-get installed wrk but it is not on PATH")
}

/// The `serve` flags that turn off every limit the load would run into: requests per IP and per
/// project, failed logins per account and per IP, refreshes per IP and per user. The password
/// hash concurrency is left at the server's default.
pub(super) const LIMITS_OFF: &[&str] = &[
    "--rate-limit-per-ip",
    "0",
    "--rate-limit-per-project",
    "0",
    "--login-failures-per-account",
    "0",
    "--login-failures-per-ip",
    "0",
    "--refresh-limit-per-ip",
    "0",
    "--refresh-limit-per-user",
    "0",
];

/// The environment variable that would override the server's default password hash concurrency
/// (removed from the server's environment, so that the default is what runs).
pub(super) const HASH_CONCURRENCY_ENV: &str = "URBACKEND_PASSWORD_HASH_CONCURRENCY";

/// The running server; killed (and reaped) when dropped.
pub(super) struct Server {
    child: Child,
    /// Where it listens.
    pub(super) addr: SocketAddr,
}

impl Server {
    /// Starts `urbackend serve` on a free loopback port with [`LIMITS_OFF`] and waits (at most
    /// 30 s) for the line that says where it listens. Its stderr goes to `log`.
    pub(super) fn start(binary: &Path, data_dir: &Path, log: &Path) -> anyhow::Result<Server> {
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(LIMITS_OFF)
            .env("RUST_LOG", "warn")
            .env_remove(HASH_CONCURRENCY_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = command.spawn().context("could not start `urbackend serve`")?;
        let stdout = child.stdout.take();
        let (lines, receiver) = mpsc::channel();
        thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Keep reading after the first line so the server never blocks on stdout.
                let _ = lines.send(line);
            }
        });
        // From here on the guard kills the child on every path out.
        let mut server = Server { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        server.addr = addr;
                        return Ok(server);
                    }
                }
                Err(_) => {
                    let log_text = std::fs::read_to_string(log).unwrap_or_default();
                    let state = match server.child.try_wait() {
                        Ok(Some(status)) => format!("exited with {status}"),
                        _ => "did not say where it listens within 30 s".to_owned(),
                    };
                    bail!("the server {state}\n{}", tail(&log_text, 40));
                }
            }
        }
    }

    /// The server's process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `urbackend listening on http://127.0.0.1:PORT (store: …)` → the address.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on http://").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Samples a process's resident memory every 100 ms: `VmRSS` (everything resident) and
/// `RssAnon` (the heap and stacks, without file-backed pages such as SQLite's memory map).
pub(super) struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Rss>,
}

/// Resident sizes in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Rss {
    /// `VmRSS`.
    pub(super) total_kib: u64,
    /// `RssAnon`.
    pub(super) anon_kib: u64,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub(super) fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut max = Rss::default();
            loop {
                let now = rss(pid);
                max.total_kib = max.total_kib.max(now.total_kib);
                max.anon_kib = max.anon_kib.max(now.anon_kib);
                if flag.load(Ordering::Relaxed) {
                    return max;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        RssSampler { stop, handle }
    }

    /// Stops sampling; the largest sizes seen.
    pub(super) fn finish(self) -> Rss {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

/// The resident sizes of `pid` now (zero where `/proc` does not say).
pub(super) fn rss(pid: u32) -> Rss {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    Rss { total_kib: field("VmRSS:"), anon_kib: field("RssAnon:") }
}

/// CPU time used so far by `pid` (user + system), in clock ticks (`USER_HZ`, 100 per second on
/// Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start with the state (field 3);
    // utime and stime are fields 14 and 15.
    let (_, after) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Waits, at most `limit`, until `pid` uses less than 5% of a core over half a second, so that
/// the work a previous run left behind (requests wrk stopped waiting for still run to the end)
/// does not weigh on the next run. Whether it got idle.
pub(super) fn wait_idle(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut last = cpu_ticks(pid).unwrap_or(0);
    loop {
        thread::sleep(Duration::from_millis(500));
        let now = cpu_ticks(pid).unwrap_or(0);
        if now.saturating_sub(last) <= 2 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        let line = "urbackend listening on http://127.0.0.1:40123 (store: sqlite:/tmp/x)";
        assert_eq!(listening_address(line), Some(SocketAddr::from(([127, 0, 0, 1], 40123))));
        assert_eq!(listening_address("something else"), None);
    }

    #[test]
    fn reads_its_own_cpu_time() {
        assert!(cpu_ticks(std::process::id()).is_some());
        assert_eq!(cpu_ticks(u32::MAX), None);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
