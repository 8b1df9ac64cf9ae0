//! The `urbackend` binary: command line, configuration and wiring.
//!
//! `urbackend serve` runs the HTTP API; `urbackend project create` and `urbackend collection put`
//! change the configuration in the same store, and a running server sees the change within a
//! second (design.md, "The command line"). Every flag has an environment variable.

mod admin_commands;
mod cli;
mod commands;
mod files;
mod import_commands;
mod mail_commands;
mod mailer;
mod serve;
mod stores;
mod user_commands;
mod webhook_commands;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    cli::init_tracing(cli.log_format);
    actix_web::rt::System::new().block_on(commands::run(cli))
}
