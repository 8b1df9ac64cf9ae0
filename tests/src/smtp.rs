//! A real SMTP server for the mail tests: Python's `aiosmtpd` running
//! `tests/support/smtp_sink.py`, which writes every message it accepts as one JSON file (the
//! envelope and the decoded message).
//!
//! The interpreter is `URBACKEND_TEST_PYTHON` (`.ci/run` points it at a virtual environment with
//! aiosmtpd), else `python3`. When the server cannot be started the test fails with the reason;
//! it never passes or skips silently.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{TempDir, workspace_root};

/// A running SMTP server on loopback, stopped on drop.
pub struct SmtpSink {
    child: Child,
    /// Held open: the server exits when it closes.
    _stdin: Option<ChildStdin>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: TempDir,
}

impl SmtpSink {
    /// Starts the server and waits until it listens.
    pub fn start() -> SmtpSink {
        let python = std::env::var("URBACKEND_TEST_PYTHON")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "python3".to_owned());
        let script = workspace_root().join("tests/support/smtp_sink.py");
        let dir = TempDir::new("smtp-sink");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}", cannot_start(&python, &format!("could not run it: {e}"))));
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let port = receiver
            .recv_timeout(Duration::from_secs(20))
            .ok()
            .and_then(|line| line.strip_prefix("SMTP_PORT=").and_then(|p| p.trim().parse::<u16>().ok()));
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("{}", cannot_start(&python, &format!("it printed no SMTP_PORT line; its stderr:\n{stderr}")));
        };
        let stdin = child.stdin.take();
        SmtpSink { child, _stdin: stdin, port, dir }
    }

    /// The folder it writes one `<n>.json` file per accepted message into (for programs that
    /// read the mail themselves).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("reading a message")).expect("JSON"))
            .collect()
    }

    /// Waits (up to 10 s) until `n` messages have arrived and returns them.
    pub fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(Instant::now() < deadline, "{} message(s) arrived, expected {n}", messages.len());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn cannot_start(python: &str, why: &str) -> String {
    format!(
        "the SMTP test server (aiosmtpd, tests/support/smtp_sink.py) could not be started with `{python}`: {why}\n\
         Run .ci/run (it creates .tools/py with aiosmtpd and sets URBACKEND_TEST_PYTHON), or set \
         URBACKEND_TEST_PYTHON to a Python that has aiosmtpd installed."
    )
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
