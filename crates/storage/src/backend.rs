//! Where a project's files go: the server's own storage (a local directory or an S3-compatible
//! bucket, `provider: "internal"`, charged to the project's quota) or the project's own bucket
//! (`provider: "external"`, configured per project, not charged to the server's quota: totals
//! are still kept). [`Backends`] picks the backend of each request: a project's own bucket when
//! [`ProjectStorage`] has settings for it, the server's otherwise. A project's client is built
//! once and kept while its settings stay the same (any change, or their removal, replaces it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use object_store::{Attribute, Attributes, ObjectStore, PutMultipartOptions};

use crate::error::StorageError;
use crate::quota::Ledger;
use crate::records::{Records, derived_id};
use crate::s3::{S3Bucket, S3Settings};

/// The provider name of the server's own storage.
pub const PROVIDER: &str = "internal";
/// The provider name of a project's own bucket.
pub const EXTERNAL_PROVIDER: &str = "external";

/// A project's own storage settings, looked up per request (the server implements it over its
/// project configuration).
pub trait ProjectStorage: Send + Sync {
    /// The project's own bucket, if it has one.
    fn settings(&self, project_id: &str) -> Result<Option<S3Settings>, StorageError>;
}

/// How uploads reach a backend.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// Through this server (signed upload URLs of our own); files served at `<base>/<path>`.
    Local {
        /// `<public URL>/api/storage/files`.
        base: String,
    },
    /// Straight to the bucket (presigned URLs).
    S3(S3Bucket),
}

/// One storage backend.
pub(crate) struct Backend {
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) kind: Kind,
    pub(crate) ledger: Ledger,
    pub(crate) provider: &'static str,
}

impl Backend {
    pub(crate) fn local(objects: Arc<dyn ObjectStore>, base: String, ledger: Ledger) -> Backend {
        Backend { objects, kind: Kind::Local { base }, ledger, provider: PROVIDER }
    }

    pub(crate) fn s3(bucket: S3Bucket, ledger: Ledger, provider: &'static str) -> Backend {
        Backend { objects: bucket.store.clone(), kind: Kind::S3(bucket), ledger, provider }
    }

    /// The file record of a new upload to `path` (`uploading` until it is stored); it names the
    /// provider, so that deleting it later releases quota only for the server's storage.
    pub(crate) fn new_record(&self, project_id: &str, path: &str) -> serde_json::Value {
        serde_json::json!({
            "_id": derived_id(path), "projectId": project_id, "path": path, "state": "uploading",
            "provider": self.provider,
        })
    }

    /// How an object of `content_type` is written: a bucket serves objects itself, so it is
    /// told their type; the local directory keeps no attributes (this server serves its files
    /// with the type of their record).
    pub(crate) fn put_options(&self, content_type: &str) -> PutMultipartOptions {
        let mut attributes = Attributes::new();
        if let Kind::S3(_) = self.kind {
            attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        }
        PutMultipartOptions { attributes, ..PutMultipartOptions::default() }
    }

    /// The public URL of an object.
    pub(crate) fn url(&self, path: &str) -> String {
        match &self.kind {
            Kind::Local { base } => format!("{base}/{path}"),
            Kind::S3(bucket) => bucket.public_url(path),
        }
    }
}

/// The server's backend and the projects' own ones.
pub(crate) struct Backends {
    internal: Arc<Backend>,
    projects: Option<Arc<dyn ProjectStorage>>,
    records: Arc<Records>,
    built: Mutex<HashMap<String, (S3Settings, Arc<Backend>)>>,
}

impl Backends {
    pub(crate) fn new(internal: Backend, records: Arc<Records>) -> Backends {
        Backends { internal: Arc::new(internal), projects: None, records, built: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn with_projects(mut self, projects: Arc<dyn ProjectStorage>) -> Backends {
        self.projects = Some(projects);
        self
    }

    pub(crate) fn internal(&self) -> &Backend {
        &self.internal
    }

    /// The backend of a project.
    pub(crate) fn of(&self, project_id: &str) -> Result<Arc<Backend>, StorageError> {
        let Some(projects) = &self.projects else { return Ok(Arc::clone(&self.internal)) };
        let settings = projects.settings(project_id)?;
        let mut built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(settings) = settings else {
            built.remove(project_id);
            return Ok(Arc::clone(&self.internal));
        };
        if let Some((known, backend)) = built.get(project_id) {
            if *known == settings {
                return Ok(Arc::clone(backend));
            }
        }
        let ledger = Ledger::uncounted(Arc::clone(&self.records));
        let backend = Arc::new(Backend::s3(settings.build()?, ledger, EXTERNAL_PROVIDER));
        built.insert(project_id.to_owned(), (settings, Arc::clone(&backend)));
        Ok(backend)
    }
}
