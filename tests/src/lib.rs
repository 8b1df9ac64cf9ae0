//! The harness of the black-box tests: it builds the `urbackend` binary once, starts servers on
//! free loopback ports with temporary data directories, drives the command line, and talks HTTP.
//!
//! Tests use only what a user has: the binary, its command line and HTTP. Each test runs on two
//! lanes ([`Lane`]): the embedded store, and MongoDB (a jongodb server started for the test, or
//! the MongoDB that `URBACKEND_TEST_MONGODB_URI` names).
//!
//! This is test code: a failure to set up (a server that does not start, a command that fails)
//! is a test failure, so the harness panics with the reason instead of returning errors.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

pub mod oauth_provider;
pub mod sdk;
pub mod webhook_receiver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

mod s3;
mod smtp;

pub use s3::{Object, S3Service, get as s3_get};
pub use smtp::SmtpSink;

/// Environment variables of the server that a test sets explicitly (never inherited).
const SERVER_ENV: &[&str] = &[
    "URBACKEND_SMTP_HOST",
    "URBACKEND_SMTP_PORT",
    "URBACKEND_SMTP_TLS",
    "URBACKEND_SMTP_USERNAME",
    "URBACKEND_SMTP_PASSWORD",
    "URBACKEND_MAIL_FROM",
    "URBACKEND_MAIL_PER_MONTH",
    "URBACKEND_S3_BUCKET",
    "URBACKEND_S3_ENDPOINT",
    "URBACKEND_S3_REGION",
    "URBACKEND_S3_ACCESS_KEY_ID",
    "URBACKEND_S3_SECRET_ACCESS_KEY",
    "URBACKEND_S3_PUBLIC_URL",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The `urbackend` binary, built once per test run with the same cargo (a copy private to this
/// test process).
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "urbackend", "--bin", "urbackend"])
            .current_dir(workspace_root())
            .status();
        assert!(matches!(status, Ok(s) if s.success()), "building the urbackend binary failed: {status:?}");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
        // A private copy: another checkout sharing the target directory may rebuild the binary
        // while this run's servers start.
        let built = target.join("debug").join("urbackend");
        // Named by the build's size and time, so that runs of one build share one copy.
        let meta = std::fs::metadata(&built).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
        let stamp = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let name = format!("urbackend-under-test-{}-{}", meta.len(), stamp.map_or(0, |d| d.as_nanos()));
        let copies = target.join("under-test");
        let _ = std::fs::create_dir_all(&copies);
        let private = copies.join(name);
        if !private.exists() {
            prune_copies(&copies);
            let partial = private.with_extension(format!("partial-{}", std::process::id()));
            std::fs::copy(&built, &partial).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
            std::fs::rename(&partial, &private).unwrap_or_else(|e| panic!("{}: {e}", private.display()));
        }
        private
    })
}

/// Removes private copies of older builds (older than six hours: no test run takes that long),
/// so that rebuilding during development does not fill the disk.
fn prune_copies(dir: &Path) {
    let old = std::time::Duration::from_secs(6 * 3600);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let stale = entry.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok());
        if stale.is_some_and(|age| age > old) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty directory.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("urbackend-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a server keeps its state: a data directory, or a MongoDB database.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The embedded store in this directory.
    Embedded(PathBuf),
    /// MongoDB at this URI (with a database name unique to the test).
    Mongo(String),
}

impl Backend {
    /// The store arguments for the command line.
    pub fn args(&self) -> Vec<String> {
        match self {
            Backend::Embedded(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Backend::Mongo(uri) => vec!["--mongodb-uri".into(), uri.clone()],
        }
    }
}

/// Runs the command line with the backend's store arguments and returns its stdout as JSON.
pub fn cli(backend: &Backend, args: &[&str]) -> Value {
    let output = Command::new(binary()).args(args).args(backend.args()).output().expect("running urbackend");
    assert!(output.status.success(), "urbackend {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the command printed JSON")
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status (0 when the request failed to get an answer).
    pub status: u16,
    /// The JSON body (`Value::Null` if none).
    pub body: Value,
    /// The `Set-Cookie` header values.
    pub cookies: Vec<String>,
}

impl Reply {
    /// The value of the cookie `name` this answer sets, if any (empty when it clears it).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
    }
}

/// A running server, stopped on drop.
pub struct Server {
    child: Child,
    /// The server's working directory (removed with it).
    _workdir: TempDir,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts `urbackend serve` on a free port and waits until it answers.
    pub fn start(backend: &Backend) -> Server {
        Server::start_with(backend, &[])
    }

    /// Starts a server with extra flags.
    pub fn start_with(backend: &Backend, extra: &[&str]) -> Server {
        Server::start_with_env(backend, extra, &[])
    }

    /// Starts a server with extra flags and environment variables (the mail settings are never
    /// inherited from the test's own environment).
    pub fn start_with_env(backend: &Backend, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(binary());
        for name in SERVER_ENV {
            command.env_remove(name);
        }
        // The working directory of its own: a server on MongoDB still writes files (mail without
        // SMTP, uploads) under its default data directory, `./data`.
        let workdir = TempDir::new("server-workdir");
        let mut child = command
            .current_dir(workdir.path())
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .args(backend.args())
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting urbackend serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("reading the listen line");
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let server = Server { child, _workdir: workdir, base };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.request("GET", "/api/health/live", &[], None).0 != 200 {
            assert!(Instant::now() < deadline, "server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Sends a request; returns status and JSON body (`Value::Null` if none).
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> (u16, Value) {
        let reply = self.exchange(method, path, headers, body);
        (reply.status, reply.body)
    }

    /// Sends a request; returns status, JSON body and the `Set-Cookie` headers.
    pub fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
        let mut request = ureq::request(method, &format!("{}{path}", self.base)).timeout(Duration::from_secs(30));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_json(body.clone()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => {
                return Reply { status: 0, body: Value::String(error.to_string()), cookies: Vec::new() };
            }
        };
        let status = response.status();
        let cookies = response.all("set-cookie").into_iter().map(str::to_owned).collect();
        let text = response.into_string().unwrap_or_default();
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), cookies }
    }

    /// Sends a `GET` to an absolute URL or a path of this server without following redirects
    /// (a browser step of a redirect flow); returns the answer and its `Location`.
    pub fn navigate(&self, url: &str, headers: &[(&str, &str)]) -> (Reply, Option<String>) {
        let url = if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.base) };
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(30)).build();
        let mut request = agent.get(&url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let response = match request.call() {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => {
                return (Reply { status: 0, body: Value::String(error.to_string()), cookies: Vec::new() }, None);
            }
        };
        let status = response.status();
        let location = response.header("location").map(str::to_owned);
        let cookies = response.all("set-cookie").into_iter().map(str::to_owned).collect();
        let text = response.into_string().unwrap_or_default();
        (Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), cookies }, location)
    }

    /// Stops the server (as a crash would: no graceful shutdown).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which store the servers of a test run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The embedded SQLite store in a temporary directory.
    Embedded,
    /// MongoDB: `URBACKEND_TEST_MONGODB_URI` when set (a real MongoDB), else a jongodb server
    /// started for the test. A MongoDB lane that cannot run fails, never passes.
    Mongo,
}

/// A MongoDB server for one test: a jongodb process (killed on drop), or the configured URI.
pub struct MongoServer {
    /// The URI, without a database.
    pub uri: String,
    child: Option<Child>,
}

impl MongoServer {
    /// The configured MongoDB, or a fresh jongodb.
    pub fn start() -> MongoServer {
        if let Ok(uri) = std::env::var("URBACKEND_TEST_MONGODB_URI") {
            if !uri.is_empty() {
                return MongoServer { uri, child: None };
            }
        }
        MongoServer::jongodb(0)
    }

    /// A fresh jongodb on `port` (0: a free one), whatever the environment says.
    pub fn jongodb(port: u16) -> MongoServer {
        let bin = std::env::var_os("URBACKEND_JONGODB_BIN").map(PathBuf::from).unwrap_or_else(|| {
            workspace_root().join(".tools/jongodb/node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb")
        });
        assert!(
            bin.is_file(),
            "the MongoDB lane cannot run: no jongodb at {} (run .ci/run, set URBACKEND_JONGODB_BIN, \
             or set URBACKEND_TEST_MONGODB_URI to a MongoDB)",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting jongodb");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let uri = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("JONGODB_URI=").map(|u| u.trim().to_owned()))
            .expect("jongodb printed no JONGODB_URI");
        std::thread::spawn(move || for _ in lines {});
        MongoServer { uri, child: Some(child) }
    }

    /// The port in the URI.
    pub fn port(&self) -> u16 {
        self.uri
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split(['/', '?']).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server (as a crash would).
    pub fn kill(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.child = None;
    }

    /// A URI naming `database` on this server.
    pub fn database_uri(&self, database: &str) -> String {
        let (base, query) = self.uri.split_once('?').map_or((self.uri.as_str(), None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let host_end = base.get(scheme_end..).and_then(|rest| rest.find('/')).map_or(base.len(), |i| scheme_end + i);
        let mut out = format!("{}/{database}", base.get(..host_end).unwrap_or(base));
        if let Some(query) = query {
            out.push('?');
            out.push_str(query);
        }
        out
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
