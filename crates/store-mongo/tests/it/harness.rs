//! The test server: the MongoDB named by `URBACKEND_TEST_MONGODB_URI` when it is set (a real
//! MongoDB or Atlas, each test on a database of its own, dropped when the test ends), else a
//! jongodb started for this test binary from `URBACKEND_JONGODB_BIN` (or the copy `.ci/run`
//! installs under `.tools/jongodb`), on a free port, killed when the binary exits. When neither is
//! possible the tests fail with a message saying so: a MongoDB lane that did not run must not pass.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use query::Schema;
use store::CollectionSpec;
use store_mongo::MongoStore;

/// The environment variable naming a real MongoDB to test against.
pub(crate) const MONGODB_URI_ENV: &str = "URBACKEND_TEST_MONGODB_URI";
/// The environment variable naming the jongodb binary.
pub(crate) const JONGODB_BIN_ENV: &str = "URBACKEND_JONGODB_BIN";

/// The server this test binary talks to.
pub(crate) struct Server {
    /// Its connection string.
    pub(crate) uri: String,
    /// Whether it is jongodb (some features are missing there; tests skip them by name).
    pub(crate) jongodb: bool,
    /// The jongodb process, kept for the life of the test binary.
    _process: Option<Jongodb>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The test server, started on first use. Panics with a clear message when there is none.
pub(crate) fn server() -> &'static Server {
    let server = SERVER.get_or_init(|| match std::env::var(MONGODB_URI_ENV) {
        Ok(uri) if !uri.trim().is_empty() => Ok(Server { uri, jongodb: false, _process: None }),
        _ => Jongodb::start(0).map(|j| Server { uri: j.uri.clone(), jongodb: true, _process: Some(j) }),
    });
    match server {
        Ok(server) => server,
        Err(reason) => panic!(
            "no MongoDB to test against: set {MONGODB_URI_ENV} to a MongoDB URI, or install jongodb \
             (`bash .ci/run` does: npm install --prefix .tools/jongodb \
             @jongodb/memory-server-bin-linux-x64-gnu@0.1.6) or point {JONGODB_BIN_ENV} at its binary. \
             The MongoDB lane must not pass without a server. Cause: {reason}"
        ),
    }
}

/// Whether the tests run against jongodb.
pub(crate) fn on_jongodb() -> bool {
    server().jongodb
}

/// Prints that a case is skipped, by name and with the reason (never silently): straight to the
/// process's stderr, which the test harness does not capture, so it shows in every run.
pub(crate) fn skip(case: &str, reason: &str) {
    note(&format!("SKIPPED {case}: {reason}"));
}

/// Prints a line to the process's stderr, past the test harness's capture.
pub(crate) fn note(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "store-mongo: {line}");
}

/// The jongodb binary: `URBACKEND_JONGODB_BIN`, else `.tools/jongodb/...` in the workspace.
pub(crate) fn jongodb_bin() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(JONGODB_BIN_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{JONGODB_BIN_ENV}={} is not a file", path.display()))
        };
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(".tools/jongodb/node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{JONGODB_BIN_ENV} is not set and {} does not exist", path.display()))
    }
}

/// A jongodb process, watched by a shell that kills it when this test binary exits.
pub(crate) struct Jongodb {
    /// The URI it printed.
    pub(crate) uri: String,
    /// Its port.
    pub(crate) port: u16,
    pid: u32,
    killed: std::sync::atomic::AtomicBool,
}

/// The watchdog: starts jongodb in the background, prints its pid, and kills it as soon as the
/// test process (`$1`) is gone.
const WATCHDOG: &str = r#"
"$0" "$2" & child=$!
echo "JONGODB_PID=$child"
while kill -0 "$1" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3; done
kill "$child" 2>/dev/null
"#;

impl Jongodb {
    /// Starts jongodb on `port` (0: a free one) and waits for its URI (retrying a few seconds
    /// while the port is still held by a previous process).
    pub(crate) fn start(port: u16) -> Result<Jongodb, String> {
        let bin = jongodb_bin()?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match Self::try_start(&bin, port) {
                Ok(j) => return Ok(j),
                Err(e) if Instant::now() < deadline => {
                    eprintln!("jongodb did not start ({e}); retrying");
                    std::thread::sleep(Duration::from_millis(300));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn try_start(bin: &std::path::Path, port: u16) -> Result<Jongodb, String> {
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG])
            .arg(bin)
            .arg(std::process::id().to_string())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut pid, mut uri) = (None, None);
        for line in lines.by_ref() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(p) = line.strip_prefix("JONGODB_PID=") {
                pid = p.trim().parse::<u32>().ok();
            } else if let Some(u) = line.strip_prefix("JONGODB_URI=") {
                uri = Some(u.trim().to_owned());
                break;
            }
        }
        // Keep draining its output so that it never blocks on a full pipe; reap the shell.
        std::thread::spawn(move || {
            for _ in lines {}
            let _ = child.wait();
        });
        let uri = uri.ok_or("jongodb exited without printing JONGODB_URI")?;
        let pid = pid.ok_or("the watchdog printed no pid")?;
        let port = uri
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no port in {uri}"))?;
        Ok(Jongodb { uri, port, pid, killed: std::sync::atomic::AtomicBool::new(false) })
    }

    /// Kills the process (SIGKILL) and waits until it is gone.
    pub(crate) fn kill(&self) {
        if self.killed.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = Command::new("kill").args(["-9", &self.pid.to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            // Gone, or a zombie its watchdog has not reaped yet (its sockets are closed).
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
            if matches!(state, None | Some('Z' | 'X')) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Jongodb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh database name, unique per run and per test.
pub(crate) fn unique_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("ubt_{secs}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A store on a database of its own; call [`TestDb::finish`] at the end of the test.
pub(crate) struct TestDb {
    /// The store under test.
    pub(crate) store: MongoStore,
}

impl TestDb {
    /// A store on a fresh database of the test server.
    pub(crate) async fn new() -> TestDb {
        let server = server();
        let store = MongoStore::connect(&server.uri, Some(&unique_database())).await.expect("connect");
        TestDb { store }
    }

    /// Drops the database on a real MongoDB (jongodb keeps it in memory until it exits, and
    /// may lack `dropDatabase`).
    pub(crate) async fn finish(self) {
        if !on_jongodb() {
            self.store.drop_database().await.expect("drop the test database");
        }
    }
}

/// A collection spec (the schema must outlive it).
pub(crate) fn spec<'a>(physical: &'a str, schema: &'a Schema) -> CollectionSpec<'a> {
    CollectionSpec { physical, schema }
}

/// A write scope as rls-core grants it: the secret key's (`user: None`) or a publishable key's
/// for `user` on a private collection owned through `owner_field`.
pub(crate) fn write_scope(id: &str, user: Option<&str>, owner_field: &str) -> rls_core::WriteScope {
    let config = rls_core::RlsConfig::enabled(rls_core::RlsMode::Private, owner_field);
    let target = rls_core::Target::existing("things", &config);
    let caller = match user {
        Some(user) => rls_core::Caller::publishable(Some(user)),
        None => rls_core::Caller::secret(),
    };
    rls_core::authorize_delete(&caller, &target, id).expect("a granted write scope")
}

/// A JSON object literal as a document.
pub(crate) fn obj(value: serde_json::Value) -> store::Document {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A document id from a stored document's `_id`.
pub(crate) fn doc_id(doc: &store::Document) -> rls_core::DocId {
    rls_core::DocId::parse(doc["_id"].as_str().expect("_id")).expect("hex _id")
}
