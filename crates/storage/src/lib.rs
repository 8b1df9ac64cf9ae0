//! File storage of urbackend-rs (spec §9), through `object_store`: the server's storage is a
//! local directory (default `<data-dir>/files/`) or an S3-compatible bucket (`s3`), and a project
//! may bring its own bucket (`backend` picks per request); the object path scheme with its traversal check (`paths`),
//! signed upload URLs served by our own server (`signed`), the type decided from the bytes
//! (`types`), uploads streamed with their size enforced as they arrive (`upload`), and the
//! per-project quota in the shared platform store (`quota`). Direct uploads to a bucket are
//! checked (size, type, quota) and recorded at confirmation (`confirm`). Uploads a stopped server
//! left unfinished are cleaned up, and their reserved quota recounted, by `sweep`.
//!
//! [`Files`] holds the use cases of `/api/storage`, each returning the original's success body.
//! Each use case acts in a [`Scope`]: the whole project for the secret key, or one user's folder
//! when the project lets its users upload with the publishable key and their token.
//! It knows nothing of HTTP: failures are typed ([`StorageError`]) and the API layer maps them.

mod backend;
mod confirm;
mod error;
pub mod paths;
mod quota;
mod records;
pub mod s3;
pub mod signed;
pub mod sweep;
pub mod types;
mod upload;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};
use store::DocumentStore;

pub use backend::{EXTERNAL_PROVIDER, PROVIDER, ProjectStorage};
pub use error::{ACCESS_DENIED, StorageError};
pub use paths::Scope;
pub use quota::Ledger;
pub use records::{FILES_COLLECTION, KEYS_COLLECTION, LEDGER_COLLECTION, REQUESTS_COLLECTION};
pub use s3::S3Settings;

use backend::{Backend, Backends, Kind};
use records::{Records, derived_id};
use signed::{Signer, UploadGrant};

/// Server configuration of file storage.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The directory of the local backend (unused with an S3 bucket).
    pub root: PathBuf,
    /// The server's public base URL (no trailing `/`), for file and upload URLs.
    pub public_url: String,
    /// The largest file, in bytes.
    pub max_file_bytes: u64,
    /// Each project's quota in bytes (0: unlimited).
    pub quota_bytes: u64,
    /// Allowed content types.
    pub allowed_types: Vec<String>,
    /// Lifetime of a signed upload URL, in seconds.
    pub upload_url_ttl_seconds: i64,
}

/// A file to send back.
pub struct Download {
    /// The bytes, as they are read from the backend (never buffered whole).
    pub body: futures_util::stream::BoxStream<'static, Result<Bytes, StorageError>>,
    /// The file's size in bytes.
    pub size: u64,
    /// The `Content-Type` to send.
    pub content_type: String,
    /// Whether the file may be shown inline (else: `attachment`).
    pub inline: bool,
    /// The file's name (last path segment).
    pub name: String,
}

/// The use cases of `/api/storage`.
pub struct Files {
    backends: Backends,
    records: Arc<Records>,
    signer: Signer,
    config: StorageConfig,
}

impl Files {
    /// Storage in the local directory `config.root` (created if missing), with its records in
    /// the platform store.
    pub async fn local(config: StorageConfig, platform: Arc<dyn DocumentStore>) -> Result<Files, StorageError> {
        std::fs::create_dir_all(&config.root)
            .map_err(|e| StorageError::Internal(format!("{}: {e}", config.root.display())))?;
        let objects = Arc::new(LocalFileSystem::new_with_prefix(&config.root)?);
        Files::new(objects, config, platform).await
    }

    /// Storage over any object store, uploaded through this server.
    pub async fn new(
        objects: Arc<dyn ObjectStore>,
        config: StorageConfig,
        platform: Arc<dyn DocumentStore>,
    ) -> Result<Files, StorageError> {
        let base = format!("{}/api/storage/files", config.public_url);
        Files::with_backend(config, platform, |ledger| Ok(Backend::local(objects, base, ledger))).await
    }

    /// Storage in an S3-compatible bucket, uploaded straight to it (presigned URLs).
    pub async fn s3(
        settings: &S3Settings,
        config: StorageConfig,
        platform: Arc<dyn DocumentStore>,
    ) -> Result<Files, StorageError> {
        let bucket = settings.build()?;
        Files::with_backend(config, platform, |ledger| Ok(Backend::s3(bucket, ledger, PROVIDER))).await
    }

    async fn with_backend(
        config: StorageConfig,
        platform: Arc<dyn DocumentStore>,
        backend: impl FnOnce(Ledger) -> Result<Backend, StorageError>,
    ) -> Result<Files, StorageError> {
        let records = Arc::new(Records::new(platform));
        records.ensure_indexes().await?;
        let signer = Signer::new(signing_secret(&records).await?);
        let internal = backend(Ledger::new(Arc::clone(&records), config.quota_bytes))?;
        Ok(Files { backends: Backends::new(internal, Arc::clone(&records)), records, signer, config })
    }

    /// Projects may bring their own bucket: `projects` says which.
    pub fn with_project_storage(mut self, projects: Arc<dyn ProjectStorage>) -> Files {
        self.backends = self.backends.with_projects(projects);
        self
    }

    /// The quota ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.internal().ledger
    }

    fn internal(&self) -> &Backend {
        self.backends.internal()
    }

    /// `POST /api/storage/upload`: one multipart file part, streamed. 201 body.
    pub async fn upload<S, E>(
        &self,
        scope: &Scope<'_>,
        filename: &str,
        declared: &str,
        body: S,
    ) -> Result<Value, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let backend = self.backends.of(scope.project_id)?;
        let path = scope.new_path(filename)?;
        let limits = upload::Limits {
            max: self.config.max_file_bytes,
            too_large: |limit| StorageError::TooLarge { limit },
            declared,
            allowed: &self.config.allowed_types,
            reserved: 0,
        };
        self.store_object(&backend, scope.project_id, &path, body, limits).await?;
        Ok(
            json!({"message": "File uploaded successfully", "url": backend.url(&path), "path": path, "provider": backend.provider}),
        )
    }

    /// `POST /api/storage/upload-request` `{filename, contentType, size}`: a signed PUT URL (a
    /// presigned one of the bucket, without `token`, for an S3 backend and a secret-key caller).
    ///
    /// End users (a user [`Scope`]) always get a URL of this server, whatever the backend: a
    /// presigned PUT cannot bind the size, so a bucket would take any number of bytes from
    /// whoever holds the URL; this server streams them into the backend and stops at the
    /// declared size.
    pub async fn upload_request(&self, scope: &Scope<'_>, body: &Value, now: i64) -> Result<Value, StorageError> {
        let project_id = scope.project_id;
        const REQUIRED: &str = "filename, contentType, and size are required.";
        let text = |k: &str| body.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
        let (Some(filename), Some(content_type)) = (text("filename"), text("contentType")) else {
            return Err(StorageError::BadRequest(REQUIRED));
        };
        let size = positive_size(body.get("size")).ok_or(StorageError::BadRequest(REQUIRED))?;
        if size > self.config.max_file_bytes {
            return Err(StorageError::TooLarge { limit: self.config.max_file_bytes });
        }
        let backend = self.backends.of(project_id)?;
        let path = scope.new_path(filename)?;
        if let (Kind::S3(bucket), None) = (&backend.kind, scope.user_id) {
            if !backend.ledger.fits(project_id, size).await? {
                return Err(StorageError::InternalLimit);
            }
            let signed_url = bucket.presigned_put(&path, content_type, self.config.upload_url_ttl_seconds).await?;
            let request =
                json!({"_id": derived_id(&path), "projectId": project_id, "path": path, "state": "requested"});
            self.records.insert_new(REQUESTS_COLLECTION, request).await?;
            return Ok(json!({"signedUrl": signed_url, "filePath": path}));
        }
        if !backend.ledger.fits(project_id, size).await? {
            return Err(StorageError::QuotaExceeded);
        }
        let grant = UploadGrant {
            project_id: project_id.to_owned(),
            path: path.clone(),
            size,
            content_type: types::essence(content_type),
            expires_at: now + self.config.upload_url_ttl_seconds,
        };
        let token = self.signer.sign(&grant)?;
        let signed_url = format!("{}/api/storage/signed/{token}", self.config.public_url);
        Ok(json!({"signedUrl": signed_url, "token": token, "filePath": path}))
    }

    /// `PUT /api/storage/signed/<token>`: the bytes of a signed upload, at most the declared size.
    pub async fn put_signed<S, E>(
        &self,
        token: &str,
        content_type: Option<&str>,
        body: S,
        now: i64,
    ) -> Result<Value, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let grant = self.signer.verify(token, now)?;
        if content_type.map(types::essence).as_deref() != Some(grant.content_type.as_str()) {
            return Err(StorageError::ContentTypeMismatch);
        }
        let path = paths::client_path(&grant.project_id, &grant.path)?;
        // Into whichever backend the project uses now (its own bucket may be new since the URL
        // was issued).
        let backend = self.backends.of(&grant.project_id)?;
        // One PUT per URL: the file record is the latch.
        if !self.records.insert_new(FILES_COLLECTION, backend.new_record(&grant.project_id, &grant.path)).await? {
            return Err(StorageError::AlreadyUsed);
        }
        let max = grant.size.min(self.config.max_file_bytes);
        if let Err(e) = backend.ledger.reserve(&grant.project_id, max).await {
            self.records.delete(FILES_COLLECTION, &derived_id(&grant.path)).await?;
            return Err(e);
        }
        let limits = upload::Limits {
            max,
            too_large: |declared| StorageError::MoreThanDeclared { declared },
            declared: &grant.content_type,
            allowed: &self.config.allowed_types,
            reserved: max,
        };
        let written = upload::write(&backend, &grant.project_id, &path, body, limits).await;
        self.finish(&backend, &grant.project_id, &grant.path, written).await?;
        Ok(json!({"message": "Upload complete", "path": grant.path}))
    }

    async fn store_object<S, E>(
        &self,
        backend: &Backend,
        project_id: &str,
        path: &str,
        body: S,
        limits: upload::Limits<'_>,
    ) -> Result<(), StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if !self.records.insert_new(FILES_COLLECTION, backend.new_record(project_id, path)).await? {
            return Err(StorageError::Internal(format!("fresh path {path} taken")));
        }
        let object = Path::from(path);
        let result = upload::write(backend, project_id, &object, body, limits).await;
        self.finish(backend, project_id, path, result).await
    }

    /// Records a finished upload (or undoes a failed one) and settles the reservation.
    async fn finish(
        &self,
        backend: &Backend,
        project_id: &str,
        path: &str,
        result: Result<upload::Written, upload::Failed>,
    ) -> Result<(), StorageError> {
        let id = derived_id(path);
        match result {
            Ok(written) => {
                let set = json!({"state": "stored", "size": written.size, "contentType": written.content_type});
                if self.records.update(FILES_COLLECTION, &id, set).await?.is_none() {
                    // Deleted while it was being written: the delete wins.
                    upload::remove(&*backend.objects, &Path::from(path)).await?;
                    backend.ledger.release(project_id, written.reserved).await?;
                    return Err(StorageError::NotReady);
                }
                backend.ledger.release(project_id, written.reserved.saturating_sub(written.size)).await
            }
            Err(failed) => {
                self.records.delete(FILES_COLLECTION, &id).await?;
                backend.ledger.release(project_id, failed.reserved).await?;
                Err(failed.error)
            }
        }
    }

    /// The stored record of a client path in the project: `(path, size, content type)`.
    async fn stored(&self, path: &Path) -> Result<Option<(u64, String)>, StorageError> {
        let Some(doc) = self.records.get(FILES_COLLECTION, &derived_id(path.as_ref())).await? else { return Ok(None) };
        if doc.get("state").and_then(Value::as_str) != Some("stored") {
            return Ok(None);
        }
        let size = doc.get("size").and_then(Value::as_u64).unwrap_or(0);
        let kind = doc.get("contentType").and_then(Value::as_str).unwrap_or(types::GENERIC).to_owned();
        Ok(Some((size, kind)))
    }

    /// `POST /api/storage/upload-confirm` `{filePath, size}`.
    pub async fn confirm(&self, scope: &Scope<'_>, body: &Value) -> Result<Value, StorageError> {
        let project_id = scope.project_id;
        const REQUIRED: &str = "filePath and size are required.";
        let raw = body.get("filePath").and_then(Value::as_str).filter(|s| !s.is_empty());
        let raw = raw.ok_or(StorageError::BadRequest(REQUIRED))?;
        let declared = positive_size(body.get("size")).ok_or(StorageError::BadRequest(REQUIRED))?;
        let path = scope.check(raw)?;
        let backend = self.backends.of(project_id)?;
        if let Kind::S3(_) = &backend.kind {
            return self.confirm_direct(&backend, project_id, &path, declared).await;
        }
        let (size, _) = self.stored(&path).await?.ok_or(StorageError::NotReady)?;
        self.confirmed(&backend, project_id, &path, size, declared).await
    }

    /// The answer to a confirmation of a stored object of `size` bytes (the object goes when the
    /// declared size is off by more than 64 bytes).
    async fn confirmed(
        &self,
        backend: &Backend,
        project_id: &str,
        path: &Path,
        size: u64,
        declared: u64,
    ) -> Result<Value, StorageError> {
        if size.abs_diff(declared) > 64 {
            self.remove(backend, project_id, path).await?;
            return Err(StorageError::SizeMismatch);
        }
        let url = backend.url(path.as_ref());
        Ok(json!({"message": "Upload confirmed", "path": path.as_ref(), "provider": backend.provider, "url": url}))
    }

    /// Removes an object, its record and its bytes from the ledger; whether it existed.
    async fn remove(&self, backend: &Backend, project_id: &str, path: &Path) -> Result<bool, StorageError> {
        upload::remove(&*backend.objects, path).await?;
        let Some(doc) = self.records.delete(FILES_COLLECTION, &derived_id(path.as_ref())).await? else {
            return Ok(false);
        };
        // Only the server's storage is charged, whichever backend the project uses now.
        let external = doc.get("provider").and_then(Value::as_str) == Some(EXTERNAL_PROVIDER);
        if doc.get("state").and_then(Value::as_str) == Some("stored") && !external {
            let size = doc.get("size").and_then(Value::as_u64).unwrap_or(0);
            self.internal().ledger.release(project_id, size).await?;
        }
        Ok(true)
    }

    /// `DELETE /api/storage/file` `{path}`: 200 also for a file that does not exist.
    pub async fn delete(&self, scope: &Scope<'_>, body: &Value) -> Result<Value, StorageError> {
        let raw = body.get("path").and_then(Value::as_str).filter(|s| !s.is_empty());
        let raw = raw.ok_or(StorageError::BadRequest("File path is required."))?;
        let path = scope.check(raw)?;
        let backend = self.backends.of(scope.project_id)?;
        self.remove(&backend, scope.project_id, &path).await?;
        Ok(json!({"message": "File deleted successfully"}))
    }

    /// `DELETE /api/storage/all`: every object of the project.
    pub async fn delete_all(&self, project_id: &str) -> Result<Value, StorageError> {
        let backend = self.backends.of(project_id)?;
        let mut deleted: u64 = 0;
        loop {
            let batch = self.records.find_project(FILES_COLLECTION, project_id, 100).await?;
            if batch.is_empty() {
                break;
            }
            for doc in batch {
                let Some(raw) = doc.get("path").and_then(Value::as_str) else { continue };
                let path = paths::client_path(project_id, raw)?;
                if self.remove(&backend, project_id, &path).await? {
                    deleted += 1;
                }
            }
        }
        // Objects without a record (none are expected) go too.
        let prefix = paths::project_prefix(project_id)?;
        let listed: Vec<_> = futures_util::StreamExt::collect(backend.objects.list(Some(&prefix))).await;
        for meta in listed {
            upload::remove(&*backend.objects, &meta?.location).await?;
            deleted += 1;
        }
        Ok(json!({"success": true, "deleted": deleted, "provider": backend.provider}))
    }

    /// `GET /api/storage/files/<path>`: a stored file, with how to serve it.
    pub async fn download(&self, raw: &str) -> Result<Download, StorageError> {
        let project_id = raw.trim_start_matches('/').split('/').next().unwrap_or_default();
        let path = paths::client_path(project_id, raw).map_err(|_| StorageError::NotFound)?;
        let (_, kind) = self.stored(&path).await?.ok_or(StorageError::NotFound)?;
        let backend = self.backends.of(project_id)?;
        let found = match backend.objects.get(&path).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Err(StorageError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let size = found.meta.size;
        let body = futures_util::StreamExt::boxed(futures_util::StreamExt::map(found.into_stream(), |chunk| {
            chunk.map_err(StorageError::from)
        }));
        let (content_type, inline) = types::serving(&kind);
        let name = path.filename().unwrap_or("file").to_owned();
        Ok(Download { body, size, content_type, inline, name })
    }
}

/// A positive integral size (a JSON number, or a numeric string as the original's `Number()`).
fn positive_size(value: Option<&Value>) -> Option<u64> {
    let n = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n > 0.0 && n <= 9.0e15).then(|| n.ceil() as u64)
}

/// The upload-URL signing secret: created once in the platform store, shared by every server.
async fn signing_secret(records: &Records) -> Result<Vec<u8>, StorageError> {
    let id = derived_id("storage-signing-secret");
    if let Some(doc) = records.get(KEYS_COLLECTION, &id).await? {
        return secret_of(&doc);
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StorageError::Internal(format!("random: {e}")))?;
    records.insert_new(KEYS_COLLECTION, json!({"_id": id, "secret": hex::encode(secret)})).await?;
    // Another server may have won the race: everyone uses the stored one.
    let doc =
        records.get(KEYS_COLLECTION, &id).await?.ok_or_else(|| StorageError::Internal("signing secret".into()))?;
    secret_of(&doc)
}

fn secret_of(doc: &store::Document) -> Result<Vec<u8>, StorageError> {
    let text = doc.get("secret").and_then(Value::as_str).unwrap_or_default();
    hex::decode(text).map_err(|_| StorageError::Internal("stored signing secret is not hex".into()))
}
