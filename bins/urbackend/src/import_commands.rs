//! `project import` and `collection import`: a project and its documents moved over from
//! urBackend (docs/MIGRATING.md). The reading and checking is `platform::import`; this module
//! opens the stores, encrypts a project database URI it is given, and prints the outcome as JSON
//! (never a key, a secret or a URI).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use platform::import::documents_from_export;
use platform::{Platform, ProjectImport};
use serde_json::{Value, json};
use store::{CollectionSpec, DocumentStore};

use crate::cli::StoreArgs;
use crate::stores;

/// Documents per insert.
const BATCH: usize = 500;

fn read_json(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}

/// `urbackend project import --file F [--database-uri URI]`.
pub(crate) async fn import_project(file: &Path, database_uri: Option<String>, args: &StoreArgs) -> anyhow::Result<()> {
    let mut import =
        ProjectImport::from_export(&read_json(file)?).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let data: Option<Arc<dyn DocumentStore>> = match (import.own_database, database_uri) {
        (true, Some(uri)) => {
            let key = stores::master_key(args)?
                .context("a project database needs URBACKEND_MASTER_KEY (64 hex characters) to encrypt its URI")?;
            let data =
                store_mongo::MongoStore::connect(&uri, None).await.context("connecting to the project's MongoDB")?;
            data.ping().await.context("the project's MongoDB does not answer")?;
            import.project.byo_db = Some(key.encrypt_db_uri(&uri).context("encrypting the URI")?);
            import.set_again.retain(|s| s.setting != "resources.db.config");
            Some(Arc::new(data))
        }
        (true, None) => bail!(
            "project {} keeps its data in its own MongoDB (resources.db.isExternal), whose URI urBackend \
             stored encrypted with its own key: give it with --database-uri (or URBACKEND_PROJECT_MONGODB_URI)",
            import.project.id
        ),
        (false, Some(_)) => bail!(
            "project {} keeps its data in urBackend's own database, not in a MongoDB of its own: leave out \
             --database-uri and copy the data over (docs/MIGRATING.md)",
            import.project.id
        ),
        (false, None) => None,
    };
    let (store, _) = stores::open(args).await?;
    let platform = Platform::open(store).await.context("opening the platform")?;
    let project = platform.import_project(&import, data.as_deref()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let set_again: Vec<Value> = import.set_again.iter().map(|s| json!({"setting": s.setting, "how": s.how})).collect();
    let out = json!({
        "projectId": project.id,
        "name": project.name,
        "collections": project.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        "authEnabled": project.auth_enabled,
        "ownDatabase": project.uses_own_database(),
        "keptKeys": true,
        "keptJwtSecret": !import.new_jwt_secret,
        "setAgain": set_again,
    });
    println!("{out}");
    Ok(())
}

/// `urbackend collection import --project ID --collection NAME --file F`.
pub(crate) async fn import_documents(
    project_id: &str,
    collection: &str,
    file: &Path,
    args: &StoreArgs,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let docs = documents_from_export(&text, collection).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (store, _) = stores::open(args).await?;
    let platform = Platform::open(store.clone()).await.context("opening the platform")?;
    let project = platform.project(project_id).with_context(|| format!("no project {project_id}"))?;
    let def = project
        .collection(collection)
        .with_context(|| format!("project {project_id} has no collection {collection:?} (import the project first)"))?;
    let resolver = stores::Resolver::new(store, stores::master_key(args)?);
    let data = dataplane::StoreResolver::store_for(&resolver, &project).await?;
    let physical = project.physical_name(collection);
    let schema = def.query_schema();
    let spec = CollectionSpec { physical: &physical, schema: &schema };
    let mut inserted = 0;
    let mut docs = docs.into_iter().peekable();
    while docs.peek().is_some() {
        let batch: Vec<_> = docs.by_ref().take(BATCH).collect();
        let count = batch.len();
        data.insert(&spec, batch).await.with_context(|| {
            format!("inserting documents {}..{} (the earlier ones are stored)", inserted + 1, inserted + count)
        })?;
        inserted += count;
    }
    println!("{}", json!({"projectId": project.id, "collection": collection, "inserted": inserted}));
    Ok(())
}
