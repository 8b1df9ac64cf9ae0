//! `upload-confirm` of a direct upload to a bucket: the bytes went to a presigned URL, which
//! binds neither their size nor their type, so everything is checked here, on the object itself.
//!
//! The file record is the latch: the first confirmation inserts it (`uploading`), so of two
//! racing confirmations one does the work and the other answers from the record (`stored`: the
//! ordinary answer, nothing charged twice; still `uploading`: not ready, retry). The winner then
//! reads the object's size (`HEAD`: missing is 409 not ready), refuses a size off the declared
//! one by more than 64 bytes (400) or above the largest file (413), decides the type on the first
//! bytes (ranged `GET`, against the declared `Content-Type` the object was put with and the
//! allow-list, as an upload through this server), charges the size to the quota ledger
//! atomically (over: 403 `Internal storage limit exceeded.`), and records the file. Every refusal
//! deletes the object and the record.

use object_store::path::Path;
use object_store::{Attribute, GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};

use crate::backend::Backend;
use crate::error::StorageError;
use crate::records::{FILES_COLLECTION, derived_id};
use crate::types::{SNIFF_BYTES, decide};
use crate::{Files, upload};

/// The object as checked: its size and type.
struct Checked {
    size: u64,
    content_type: String,
}

impl Files {
    /// Confirms a direct upload of `path` (inside `project_id`) of `declared` bytes.
    pub(crate) async fn confirm_direct(
        &self,
        backend: &Backend,
        project_id: &str,
        path: &Path,
        declared: u64,
    ) -> Result<Value, StorageError> {
        let id = derived_id(path.as_ref());
        if !self.records.insert_new(FILES_COLLECTION, backend.new_record(project_id, path.as_ref())).await? {
            let (size, _) = self.stored(path).await?.ok_or(StorageError::NotReady)?;
            return self.confirmed(backend, project_id, path, size, declared).await;
        }
        match self.check(backend, project_id, path, declared).await {
            Ok(checked) => {
                let set = json!({"state": "stored", "size": checked.size, "contentType": checked.content_type});
                if self.records.update(FILES_COLLECTION, &id, set).await?.is_none() {
                    // Deleted while it was being checked: the delete wins.
                    upload::remove(&*backend.objects, path).await?;
                    backend.ledger.release(project_id, checked.size).await?;
                    return Err(StorageError::NotReady);
                }
                self.confirmed(backend, project_id, path, checked.size, declared).await
            }
            Err(error) => {
                self.records.delete(FILES_COLLECTION, &id).await?;
                upload::remove(&*backend.objects, path).await?;
                Err(error)
            }
        }
    }

    /// The checks of a direct upload; on success its size is charged to the ledger.
    async fn check(
        &self,
        backend: &Backend,
        project_id: &str,
        path: &Path,
        declared: u64,
    ) -> Result<Checked, StorageError> {
        let objects: &dyn ObjectStore = &*backend.objects;
        let size = match objects.head(path).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => return Err(StorageError::NotReady),
            Err(e) => return Err(e.into()),
        };
        if size.abs_diff(declared) > 64 {
            return Err(StorageError::SizeMismatch);
        }
        if size > self.config.max_file_bytes {
            return Err(StorageError::TooLarge { limit: self.config.max_file_bytes });
        }
        if size == 0 {
            return Err(StorageError::BadRequest("No file uploaded."));
        }
        let range = GetRange::Bounded(0..size.min(SNIFF_BYTES as u64));
        let got = objects.get_opts(path, GetOptions { range: Some(range), ..GetOptions::default() }).await?;
        let put_as = got.attributes.get(&Attribute::ContentType).map(|v| v.to_string()).unwrap_or_default();
        let head = got.bytes().await?;
        let content_type = decide(&put_as, &head, &self.config.allowed_types)?;
        backend.ledger.reserve(project_id, size).await.map_err(|e| match e {
            StorageError::QuotaExceeded => StorageError::InternalLimit,
            other => other,
        })?;
        Ok(Checked { size, content_type })
    }
}
