//! Mail in the binary: the mail service `serve` runs (SMTP when a host is configured, else
//! `.eml` files in `<data-dir>/mail`), and `mail template put|list`.

use std::sync::Arc;

use anyhow::Context;
use mail::{Delivery, MailConfig, MailService, SmtpConfig, Template, TemplateStore, TlsMode};
use platform::Platform;
use serde_json::{Value, json};
use store::DocumentStore;

use crate::cli::{MailArgs, MailCommand, PutArgs, SmtpTls, StoreArgs, TemplateCommand};
use crate::stores;

/// The mail service of a server.
pub(crate) async fn service(
    args: &MailArgs,
    store_args: &StoreArgs,
    store: Arc<dyn DocumentStore>,
) -> anyhow::Result<MailService> {
    let host = args.smtp_host.as_deref().map(str::trim).filter(|host| !host.is_empty());
    let delivery = match host {
        Some(host) => Delivery::Smtp(SmtpConfig {
            host: host.to_owned(),
            port: args.smtp_port,
            tls: match args.smtp_tls {
                SmtpTls::None => TlsMode::None,
                SmtpTls::Starttls => TlsMode::StartTls,
                SmtpTls::Tls => TlsMode::Tls,
            },
            username: args.smtp_username.clone().filter(|u| !u.is_empty()),
            password: args.smtp_password.clone(),
        }),
        None => Delivery::Folder(store_args.data_dir.join("mail")),
    };
    let config = MailConfig { monthly_limit: args.mail_per_month, from: args.mail_from.clone(), delivery };
    match &config.delivery {
        Delivery::Smtp(smtp) => tracing::info!(host = %smtp.host, port = smtp.port(), "mail goes to the SMTP server"),
        Delivery::Folder(dir) => {
            tracing::info!(folder = %dir.display(), "no SMTP host configured: mail is written as .eml files");
        }
    }
    MailService::open(store, config).await.map_err(|e| anyhow::anyhow!("starting the mail service: {e}"))
}

/// `urbackend mail template put|list`.
pub(crate) async fn run(command: MailCommand) -> anyhow::Result<()> {
    let MailCommand::Template(command) = command;
    let (project, store_args) = match &command {
        TemplateCommand::Put(PutArgs { project, store, .. }) | TemplateCommand::List { project, store } => {
            (project, store)
        }
    };
    let (store, _) = stores::open(store_args).await?;
    let platform = Platform::open(store.clone()).await.context("opening the platform")?;
    let project = platform.project(project).with_context(|| format!("no project {project}"))?;
    let templates = TemplateStore::on(store);
    let failed = |e: mail::MailError| anyhow::anyhow!("{}", e.client_message());
    match command {
        TemplateCommand::Put(PutArgs { file, .. }) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let value: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let template = Template::definition(&project.id, &value).map_err(failed)?;
            let stored = templates.put(&project.id, &template).await.map_err(failed)?;
            let mut out = serde_json::to_value(&stored)?;
            if let Some(object) = out.as_object_mut() {
                object.insert("projectId".into(), json!(project.id));
            }
            println!("{out}");
        }
        TemplateCommand::List { .. } => {
            let own = templates.list(&project.id).await.map_err(failed)?;
            let global: Vec<Value> = mail::builtin::builtins()
                .iter()
                .map(|t| json!({"id": t.id, "scope": t.scope, "key": t.key, "name": t.name, "subject": t.subject}))
                .collect();
            println!("{}", json!({"projectId": project.id, "templates": own, "global": global}));
        }
    }
    Ok(())
}
