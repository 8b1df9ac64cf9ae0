//! `cargo xtask ci`: every check CI runs, in the order it runs them.
//!
//! The steps are, in order: `cargo fmt --all -- --check`, the repository rules ([`crate::tidy`]),
//! the dependency-direction check ([`crate::deps`]), `cargo clippy --workspace --all-targets
//! --locked -- -D warnings`, `cargo test --workspace --locked` (the whole suite, doc-tests
//! included, but the SDK conformance suite) and last the SDK conformance suite (the official
//! SDKs' programs in `tests/sdk/`, driven by the black-box module `sdk`). Cheap checks come first
//! so that a formatting slip fails in seconds, not after a full build. The first failing step stops the run with a message naming it; later steps do
//! not run. `.ci/run` calls exactly this, so CI holds no logic that cannot be run locally.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};

/// One step of the CI run.
struct Step {
    /// A short name, printed in the header and in the failure message.
    name: &'static str,
    what: Action,
}

enum Action {
    /// `cargo` with these arguments, from the workspace root.
    Cargo(&'static [&'static str]),
    /// A check of this binary, run in-process.
    Xtask(fn(&Path) -> anyhow::Result<()>),
}

const STEPS: &[Step] = &[
    Step { name: "fmt", what: Action::Cargo(&["fmt", "--all", "--", "--check"]) },
    Step { name: "tidy", what: Action::Xtask(crate::tidy::run) },
    Step { name: "deps", what: Action::Xtask(crate::deps::run) },
    Step {
        name: "clippy",
        what: Action::Cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]),
    },
    Step { name: "test", what: Action::Cargo(&["test", "--workspace", "--locked", "--", "--skip", SDK_TESTS]) },
    Step {
        name: "sdk",
        what: Action::Cargo(&["test", "-p", "urbackend-tests", "--test", "blackbox", "--locked", "--", SDK_TESTS]),
    },
];

/// The test-name filter of the SDK conformance suite (the black-box module `sdk`), which runs
/// after the rest.
const SDK_TESTS: &str = "sdk::";

/// Runs every step in order and stops at the first failure.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    for (number, step) in STEPS.iter().enumerate() {
        let description = match step.what {
            Action::Cargo(args) => format!("cargo {}", args.join(" ")),
            Action::Xtask(_) => format!("cargo xtask {}", step.name),
        };
        eprintln!("\n==> [{}/{}] {}: {description}", number + 1, STEPS.len(), step.name);
        let step_started = Instant::now();
        let outcome = match step.what {
            Action::Cargo(args) => run_cargo(root, args),
            Action::Xtask(check) => check(root),
        };
        let seconds = step_started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => eprintln!("==> {} ok ({seconds:.1}s)", step.name),
            Err(error) => {
                return Err(error.context(format!(
                    "ci step `{}` failed after {seconds:.1}s (`{description}`); \
                     the steps after it did not run",
                    step.name
                )));
            }
        }
    }
    eprintln!("\n==> ci: all {} steps passed ({:.1}s)", STEPS.len(), started.elapsed().as_secs_f64());
    Ok(())
}

fn run_cargo(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = crate::cargo(root)
        .args(args)
        .status()
        .with_context(|| format!("could not start `cargo {}`", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` exited with {status}", args.join(" "));
    }
    Ok(())
}
