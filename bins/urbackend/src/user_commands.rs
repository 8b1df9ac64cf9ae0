//! `urbackend user list` and `urbackend user delete`: a project's end users as the operator
//! manages them (through `auth::UserDirectory`). Lists never show password hashes; a deletion
//! revokes the user's refresh sessions, and running servers refuse the user's access tokens
//! within a second.

use std::sync::Arc;

use anyhow::Context;
use auth::{UserDirectory, UserRef};
use clap::Subcommand;
use platform::Platform;
use serde_json::json;

use crate::cli::StoreArgs;
use crate::stores;

/// The most users one `user list` prints.
const MAX_LIST: u32 = 1_000;

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Print a project's users as JSON lines, oldest first, without their password hashes
    /// (`--after` the last id printed continues the list).
    List {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// Start after this user id.
        #[arg(long)]
        after: Option<String>,
        /// How many users at most (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LIST)))]
        limit: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a user (by id or e-mail) and revoke all of their sessions; their access tokens are
    /// refused within a second. Prints `{"deleted": true, "user": …}`, or `{"deleted": false}`
    /// when there is no such user.
    Delete {
        /// The project id.
        #[arg(long, env = "URBACKEND_PROJECT")]
        project: String,
        /// The user's id.
        #[arg(long, required_unless_present = "email", conflicts_with = "email")]
        id: Option<String>,
        /// The user's e-mail address.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub(crate) async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::List { project, after, limit, store } => {
            let (directory, project) = open(&project, &store).await?;
            let users = directory.list(&project, after.as_deref(), limit).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            for user in users {
                println!("{}", serde_json::Value::Object(user));
            }
            Ok(())
        }
        UserCommand::Delete { project, id, email, store } => {
            let (directory, project) = open(&project, &store).await?;
            let who = match (&id, &email) {
                (Some(id), _) => UserRef::Id(id),
                (None, Some(email)) => UserRef::Email(email),
                (None, None) => anyhow::bail!("name the user with --id or --email"),
            };
            let out = match directory.delete(&project, who).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Some(user) => json!({"deleted": true, "user": user}),
                None => json!({"deleted": false}),
            };
            println!("{out}");
            Ok(())
        }
    }
}

async fn open(project: &str, args: &StoreArgs) -> anyhow::Result<(UserDirectory, Arc<platform::Project>)> {
    let (store, _) = stores::open(args).await?;
    let platform = Platform::open(store.clone()).await.context("opening the platform")?;
    let project = platform.project(project).with_context(|| format!("no project {project}"))?;
    let resolver = Arc::new(stores::Resolver::new(store.clone(), stores::master_key(args)?));
    Ok((UserDirectory::new(store, resolver), project))
}
