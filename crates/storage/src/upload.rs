//! Streaming an upload into the object store: the type is decided on the first bytes before
//! anything is written, every chunk is counted against the size limit as it arrives (the upload
//! is aborted, and nothing stored, at the first byte too many: the body is never buffered whole),
//! and quota is reserved ahead of the bytes in steps. A bucket is told the type it is to serve
//! the object with.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::backend::Backend;
use crate::error::StorageError;
use crate::types::{SNIFF_BYTES, decide};

/// Quota is reserved ahead of the bytes in steps of this size.
const RESERVE_STEP: u64 = 1024 * 1024;

/// The limits of one upload.
pub(crate) struct Limits<'a> {
    /// The most bytes accepted.
    pub(crate) max: u64,
    /// The refusal past `max`.
    pub(crate) too_large: fn(u64) -> StorageError,
    /// The declared content type.
    pub(crate) declared: &'a str,
    /// The allowed types.
    pub(crate) allowed: &'a [String],
    /// Bytes already reserved for this upload.
    pub(crate) reserved: u64,
}

/// What was stored.
pub(crate) struct Written {
    pub(crate) size: u64,
    pub(crate) content_type: String,
    /// The bytes reserved in the ledger for it (≥ size).
    pub(crate) reserved: u64,
}

/// A failed upload, with the bytes still reserved for it (to release).
pub(crate) struct Failed {
    pub(crate) error: StorageError,
    pub(crate) reserved: u64,
}

/// Streams `body` to `path`.
pub(crate) async fn write<S, E>(
    backend: &Backend,
    project_id: &str,
    path: &Path,
    mut body: S,
    limits: Limits<'_>,
) -> Result<Written, Failed>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut reserved = limits.reserved;
    let fail = |error: StorageError, reserved: u64| Failed { error, reserved };
    let mut total: u64 = 0;
    let mut head: Vec<u8> = Vec::new();
    let mut pending: Vec<Bytes> = Vec::new();
    // 1. The first bytes: size-checked, then the type decided before anything is written.
    let mut ended = false;
    while head.len() < SNIFF_BYTES {
        match body.next().await {
            None => {
                ended = true;
                break;
            }
            Some(Err(e)) => return Err(fail(StorageError::Body(e.to_string()), reserved)),
            Some(Ok(chunk)) => {
                total += chunk.len() as u64;
                if total > limits.max {
                    return Err(fail((limits.too_large)(limits.max), reserved));
                }
                let take = chunk.len().min(SNIFF_BYTES - head.len());
                head.extend_from_slice(chunk.get(..take).unwrap_or_default());
                pending.push(chunk);
            }
        }
    }
    if total == 0 {
        return Err(fail(StorageError::BadRequest("No file uploaded."), reserved));
    }
    let content_type = decide(limits.declared, &head, limits.allowed).map_err(|e| fail(e, reserved))?;
    // 2. The object, written as the bytes arrive.
    let options = backend.put_options(&content_type);
    let upload = backend.objects.put_multipart_opts(path, options).await.map_err(|e| fail(e.into(), reserved))?;
    let mut writer = WriteMultipart::new(upload);
    let mut written: u64 = 0;
    let mut pending = pending.into_iter();
    loop {
        let chunk = match pending.next() {
            Some(chunk) => chunk,
            None if ended => break,
            None => match body.next().await {
                None => break,
                Some(Err(e)) => return abort(writer, fail(StorageError::Body(e.to_string()), reserved)).await,
                Some(Ok(chunk)) => chunk,
            },
        };
        written += chunk.len() as u64;
        if written > limits.max {
            return abort(writer, fail((limits.too_large)(limits.max), reserved)).await;
        }
        if written > reserved {
            let step = (written - reserved).max(RESERVE_STEP).min(limits.max.saturating_sub(reserved));
            if let Err(e) = backend.ledger.reserve(project_id, step).await {
                return abort(writer, fail(e, reserved)).await;
            }
            reserved += step;
        }
        if let Err(e) = writer.wait_for_capacity(4).await {
            return Err(fail(e.into(), reserved));
        }
        writer.write(&chunk);
    }
    writer.finish().await.map_err(|e| fail(e.into(), reserved))?;
    Ok(Written { size: written, content_type, reserved })
}

async fn abort(writer: WriteMultipart, failed: Failed) -> Result<Written, Failed> {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "aborting an upload failed");
    }
    Err(failed)
}

/// Deletes an object; a missing one is fine.
pub(crate) async fn remove(store: &dyn ObjectStore, path: &Path) -> Result<(), StorageError> {
    match store.delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
