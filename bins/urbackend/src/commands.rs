//! The subcommands: `project …` and `collection put` change the configuration in the store and
//! print JSON; `serve` runs the server; `mail …` is in `mail_commands`, the imports from urBackend
//! in `import_commands`.

use std::sync::Arc;

use anyhow::Context;
use platform::{CollectionDef, CreateOptions, Platform};
use serde_json::json;

use crate::cli::{Cli, CollectionCommand, Command, ProjectCommand, PutArgs};
use crate::{admin_commands, files, import_commands, mail_commands, serve, stores, user_commands, webhook_commands};

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Mail(command) => mail_commands::run(command).await,
        Command::Admin(command) => admin_commands::run(command).await,
        Command::User(command) => user_commands::run(command).await,
        Command::Webhook(command) => webhook_commands::run(command).await,
        Command::Project(ProjectCommand::Create { name, no_users, store }) => {
            let (store, _) = stores::open(&store).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let options = CreateOptions { with_users_collection: !no_users };
            let (project, keys) = platform.create_project(&name, options).await.context("creating the project")?;
            let out = json!({
                "projectId": project.id,
                "name": project.name,
                "publishableKey": keys.publishable,
                "secretKey": keys.secret,
                "jwtSecret": project.jwt_secret,
            });
            println!("{out}");
            Ok(())
        }
        Command::Project(ProjectCommand::SetStorage(args)) => files::set_storage(args).await,
        Command::Project(ProjectCommand::Import { file, database_uri, store }) => {
            import_commands::import_project(&file, database_uri, &store).await
        }
        Command::Collection(CollectionCommand::Import { project, collection, file, store }) => {
            import_commands::import_documents(&project, &collection, &file, &store).await
        }
        Command::Project(ProjectCommand::SetOrigins { project, origins, store }) => {
            let (store, _) = stores::open(&store).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let origins: Vec<String> =
                origins.into_iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
            let updated = platform.set_allowed_domains(&project, origins).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": updated.id, "allowedDomains": updated.allowed_domains}));
            Ok(())
        }
        Command::Project(ProjectCommand::SetSiteUrl { project, url, store }) => {
            let (store, _) = stores::open(&store).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let updated = platform.set_site_url(&project, &url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": updated.id, "siteUrl": updated.site_url}));
            Ok(())
        }
        Command::Project(ProjectCommand::SetUserFileUploads { project, enabled, store }) => {
            let (store, _) = stores::open(&store).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let updated =
                platform.set_user_file_uploads(&project, enabled).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": updated.id, "userFileUploads": updated.user_file_uploads}));
            Ok(())
        }
        Command::Project(ProjectCommand::SetOauth {
            project,
            provider,
            client_id,
            client_secret,
            redirect_uri,
            disable,
            store: store_args,
        }) => {
            let client_secret = match client_secret {
                Some(secret) => {
                    let key = stores::master_key(&store_args)?.context(
                        "storing an OAuth client secret needs URBACKEND_MASTER_KEY (64 hex characters) to encrypt it",
                    )?;
                    Some(key.encrypt_str(&secret).context("encrypting the client secret")?)
                }
                None => None,
            };
            let (store, _) = stores::open(&store_args).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let update = platform::OAuthProviderUpdate { enabled: !disable, client_id, client_secret, redirect_uri };
            let updated =
                platform.set_auth_provider(&project, &provider, update).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let config = updated.auth_providers.get(&provider).cloned().unwrap_or_default();
            println!(
                "{}",
                json!({"projectId": updated.id, "provider": provider, "enabled": config.enabled,
                    "clientId": config.client_id, "hasClientSecret": config.client_secret.is_some(),
                    "redirectUri": config.redirect_uri})
            );
            Ok(())
        }
        Command::Project(ProjectCommand::RotateKey { project, key, store }) => {
            let (store, _) = stores::open(&store).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let role = if key == "secret" { platform::KeyRole::Secret } else { platform::KeyRole::Publishable };
            let fresh = platform.rotate_key(&project, role).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": project, "key": fresh}));
            Ok(())
        }
        Command::Project(ProjectCommand::Token { project, user, ttl, store: store_args }) => {
            let (store, _) = stores::open(&store_args).await?;
            let platform = Platform::open(store.clone()).await.context("opening the platform")?;
            let found = platform.project(&project).with_context(|| format!("no project {project}"))?;
            let resolver = Arc::new(stores::Resolver::new(store.clone(), stores::master_key(&store_args)?));
            let directory = auth::UserDirectory::new(store, resolver);
            if directory.lacks(&found, &user).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                anyhow::bail!(
                    "project {project} has a users collection without a user {user}: servers would refuse the token"
                );
            }
            let now = chrono_now();
            let claims = auth::token::AccessClaims {
                user_id: user,
                project_id: found.id.clone(),
                issued_at: now,
                expires_at: now.saturating_add(ttl),
            };
            println!("{}", json!({"token": auth::token::sign(found.jwt_secret.as_bytes(), &claims)}));
            Ok(())
        }
        Command::Project(ProjectCommand::SetDatabase { project, uri, clear: _, store: store_args }) => {
            let (store, _) = stores::open(&store_args).await?;
            let platform = Platform::open(store).await.context("opening the platform")?;
            let secret = match uri {
                Some(uri) => {
                    let key = stores::master_key(&store_args)?.context(
                        "a project database needs URBACKEND_MASTER_KEY (64 hex characters) to encrypt its URI",
                    )?;
                    let data = store_mongo::MongoStore::connect(&uri, None)
                        .await
                        .context("connecting to the project's MongoDB")?;
                    store::DocumentStore::ping(&data).await.context("the project's MongoDB does not answer")?;
                    Some(key.encrypt_db_uri(&uri).context("encrypting the URI")?)
                }
                None => None,
            };
            let updated = platform.set_byo_db(&project, secret).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": updated.id, "ownDatabase": updated.uses_own_database()}));
            Ok(())
        }
        Command::Collection(CollectionCommand::Put(PutArgs { project, file, store: store_args })) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let value: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let def = CollectionDef::from_json(&value).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            let (store, _) = stores::open(&store_args).await?;
            let platform = Arc::new(Platform::open(store.clone()).await.context("opening the platform")?);
            let saved = match platform.project(&project) {
                Some(p) if p.uses_own_database() => {
                    let resolver = stores::Resolver::new(store, stores::master_key(&store_args)?);
                    let data = dataplane::StoreResolver::store_for(&resolver, &p).await?;
                    platform.put_collection_in(&project, def, data.as_ref()).await
                }
                _ => platform.put_collection(&project, def).await,
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"projectId": project, "collection": saved}));
            Ok(())
        }
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
