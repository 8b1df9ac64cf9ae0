//! `cargo xtask`: the project's own automation, written in Rust instead of shell scripts.
//!
//! This follows the cargo-xtask convention (<https://github.com/matklad/cargo-xtask>): the alias
//! in `.cargo/config.toml` turns `cargo xtask …` into a run of this binary. It depends on no
//! workspace crate and on two external ones (`anyhow`, `serde_json`), so it builds in seconds and
//! still works when a library crate does not compile; arguments are parsed by hand.
//!
//! - `ci` runs everything CI runs, in order, and stops at the first failure ([`ci`]);
//! - `deps` checks the dependency direction between crates ([`deps`]);
//! - `tidy` checks the repository rules ([`tidy`]);
//! - `bench` runs the performance benchmark and writes docs/BENCHMARKS.md ([`bench`]).
//!
//! The `deps` and `tidy` checks are also `#[test]`s, so `cargo test` enforces them too.

mod bench;
mod ci;
mod deps;
mod tidy;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci      run every check CI runs, in order, stopping at the first failure:
          cargo fmt --check, tidy, deps, cargo clippy (-D warnings), cargo test (whole workspace),
          then the SDK conformance suite (the official SDKs against the server)
  deps    check the dependency direction between crates
          (the layering table lives in xtask/src/deps.rs)
  tidy    check the repository rules (module docs, banned test attributes, file length,
          trailing whitespace, workspace lints in every crate)
  bench   run the performance benchmark on loopback and write docs/BENCHMARKS.md: installs wrk
          if missing (apt-get), builds urbackend in release mode, seeds 100,000 documents, measures
          get by id, private list of 20 and insert (RLS on and off, wrk and the raw store), the
          server's resident memory, then on a project with users: logins/s, refreshes/s (chained
          tokens) and the private list's p99 alone and during a login storm; takes a few minutes
          --quick: 10,000 documents, 50 users and 3 s runs, written to
          target/bench/BENCHMARKS.quick.md
  help    print this text";

fn main() -> ExitCode {
    match run(env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<OsString>) -> anyhow::Result<()> {
    let args = args
        .into_iter()
        .map(|arg| arg.into_string().map_err(|arg| anyhow::format_err!("argument {arg:?} is not valid UTF-8")))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    if matches!(command.as_str(), "help" | "-h" | "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    if !rest.is_empty() && command != "bench" {
        bail!("`cargo xtask {command}` takes no arguments, got `{}`", rest.join(" "));
    }
    let root = project_root()?;
    match command.as_str() {
        "ci" => ci::run(&root),
        "deps" => deps::run(&root),
        "tidy" => tidy::run(&root),
        "bench" => bench::run(&root, rest),
        other => {
            eprintln!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}

/// The workspace root: the parent of this package's directory.
fn project_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}

/// A `cargo` command run from the workspace root.
///
/// It is the cargo that runs this binary (`$CARGO`), so that every step uses one toolchain; the
/// environment, `CARGO_TERM_COLOR` included, is inherited unchanged.
fn cargo(root: &Path) -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}
