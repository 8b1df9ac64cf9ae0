//! File storage of urbackend-rs, through `object_store`.
//!
//! This crate will hold the object key scheme (project prefix, sanitised names), size and content
//! type limits, and the local-directory default with an S3-compatible option.
//!
//! It knows nothing of row-level security or HTTP: the API layer asks `rls-core` first.
