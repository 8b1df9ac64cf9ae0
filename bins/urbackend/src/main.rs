//! The `urbackend` binary: command line, configuration and wiring.
//!
//! The data-plane issue fills this with `urbackend serve`, `urbackend project create` and
//! `urbackend collection put` (see design.md, "The command line"). Until then it says so and
//! exits with a non-zero status, rather than pretending to serve.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "urbackend: the HTTP server is not implemented yet in this revision; \
         the RLS engine (crates/rls-core) and the query language (crates/query) are."
    );
    ExitCode::from(2)
}
