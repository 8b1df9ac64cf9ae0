//! The official SDKs for the conformance suite: where they are installed, and running one of
//! the programs in `tests/sdk/` against a server.
//!
//! `.ci/run` installs the npm package `@urbackend/sdk` into `.tools/sdk` and the PyPI package
//! `urbackend` into the `.tools/py` virtual environment; `URBACKEND_TEST_NODE_SDK` (a folder
//! holding `node_modules/@urbackend/sdk`) and `URBACKEND_TEST_PYTHON` (an interpreter that can
//! import `urbackend`) point elsewhere. A missing SDK, the wrong version of one, or a missing
//! Node.js fails the test with the way to fix it; it never skips.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::workspace_root;

/// The npm package version the suite is written against.
pub const NODE_SDK_VERSION: &str = "0.4.8";
/// The PyPI package version the suite is written against.
pub const PYTHON_SDK_VERSION: &str = "0.1.0";

/// One SDK program: the command that runs it.
pub struct SdkProgram {
    command: Command,
    label: &'static str,
}

/// What a program reported: the methods it checked, in order.
#[derive(Debug)]
pub struct SdkReport {
    /// The names after `ok ` on each line of its standard output.
    pub checked: Vec<String>,
}

impl SdkProgram {
    /// `node tests/sdk/conformance.mjs`, importing the installed `@urbackend/sdk`.
    pub fn node() -> SdkProgram {
        let folder = std::env::var_os("URBACKEND_TEST_NODE_SDK")
            .filter(|f| !f.is_empty())
            .map_or_else(|| workspace_root().join(".tools/sdk"), PathBuf::from);
        let package = folder.join("node_modules/@urbackend/sdk");
        let manifest = std::fs::read_to_string(package.join("package.json")).unwrap_or_else(|e| {
            panic!(
                "the TypeScript SDK is not installed at {} ({e}): run .ci/run, or `npm install --prefix <dir> \
                 @urbackend/sdk@{NODE_SDK_VERSION}` and set URBACKEND_TEST_NODE_SDK=<dir>",
                package.display()
            )
        });
        let version = serde_json::from_str::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|m| m["version"].as_str().map(str::to_owned));
        assert_eq!(
            version.as_deref(),
            Some(NODE_SDK_VERSION),
            "the suite is written for @urbackend/sdk {NODE_SDK_VERSION}; {} holds another version",
            package.display()
        );
        let node = Command::new("node").arg("--version").output();
        assert!(
            matches!(&node, Ok(out) if out.status.success()),
            "Node.js (`node`) is needed to run the TypeScript SDK: {node:?}"
        );
        let mut command = Command::new("node");
        command.arg(workspace_root().join("tests/sdk/conformance.mjs"));
        command.env("URBACKEND_SDK_MODULE", package.join("dist/index.mjs"));
        SdkProgram { command, label: "node tests/sdk/conformance.mjs" }
    }

    /// `$URBACKEND_TEST_PYTHON tests/sdk/conformance.py`, importing the installed `urbackend`.
    pub fn python() -> SdkProgram {
        let python = std::env::var("URBACKEND_TEST_PYTHON")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| workspace_root().join(".tools/py/bin/python").display().to_string());
        let probe = Command::new(&python).args(["-c", "import urbackend; print(urbackend.__version__)"]).output();
        let version = match &probe {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            _ => panic!(
                "the Python SDK cannot be imported with `{python}` ({probe:?}): run .ci/run, or install \
                 urbackend=={PYTHON_SDK_VERSION} and set URBACKEND_TEST_PYTHON to that interpreter"
            ),
        };
        assert_eq!(version, PYTHON_SDK_VERSION, "the suite is written for urbackend {PYTHON_SDK_VERSION} (`{python}`)");
        let mut command = Command::new(python);
        command.arg(workspace_root().join("tests/sdk/conformance.py"));
        SdkProgram { command, label: "python tests/sdk/conformance.py" }
    }

    /// Runs the program with these environment variables; a non-zero exit fails the test with
    /// everything it printed.
    pub fn run(mut self, env: &[(&str, String)]) -> SdkReport {
        let output: Output = self
            .command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("NODE_OPTIONS")
            .output()
            .unwrap_or_else(|e| panic!("could not run `{}`: {e}", self.label));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`{}` failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            self.label,
            output.status
        );
        let checked = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("ok "))
            .map(|l| l.split(|c: char| c.is_whitespace() || c == ':').next().unwrap_or_default().to_owned());
        SdkReport { checked: checked.collect() }
    }
}
