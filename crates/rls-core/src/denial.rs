//! Denials: the typed "no" of every decision, with its HTTP status and exact wire text.
//!
//! A [`Denial`] is a value, not an exception: the engine returns it and the HTTP layer turns it
//! into `{"success":false,"error":<message>,"code":<status>}`. The status and the internal label
//! follow from the [`DenialKind`] through one exhaustive table ([`DenialKind::status`],
//! [`DenialKind::label`]); the message is the client-facing text of the urBackend wire contract
//! (spec §7.3–7.5 and Appendix A) or, for the holes the original left open, a text of our own that
//! docs/COMPATIBILITY.md records.

use std::fmt;

/// Why a request was refused. Each kind has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialKind {
    /// The `users` collection is only reachable through `/api/userAuth` (403).
    UsersCollection,
    /// The collection is not part of the project (404).
    CollectionNotFound,
    /// A private read without a valid user token (401).
    ReadAuthRequired,
    /// A publishable-key write without a valid user token (401).
    WriteAuthRequired,
    /// A publishable-key write to a collection whose RLS is off (403).
    WriteBlocked,
    /// The collection's RLS mode is not one the engine knows: fail closed (403).
    UnsupportedMode,
    /// The collection's RLS configuration is malformed (bad owner field): fail closed (403).
    InvalidConfig,
    /// An insert into a collection whose owner field is `_id` (403).
    InsertDenied,
    /// The document does not belong to the caller (403).
    OwnerMismatch,
    /// The body tries to change the owner field (403).
    OwnerImmutable,
    /// The request body is malformed or carries forbidden keys or values (400).
    InvalidBody,
    /// The document id is not a 24-hex ObjectId (400).
    InvalidId,
    /// No document with that id within the caller's scope (404).
    DocumentNotFound,
    /// The aggregation pipeline is malformed (400).
    InvalidPipeline,
    /// The aggregation pipeline uses a stage or operator the caller may not use (400).
    BlockedStage,
}

impl DenialKind {
    /// The HTTP status of this kind of denial.
    pub fn status(self) -> u16 {
        match self {
            DenialKind::InvalidBody
            | DenialKind::InvalidId
            | DenialKind::InvalidPipeline
            | DenialKind::BlockedStage => 400,
            DenialKind::ReadAuthRequired | DenialKind::WriteAuthRequired => 401,
            DenialKind::UsersCollection
            | DenialKind::WriteBlocked
            | DenialKind::UnsupportedMode
            | DenialKind::InvalidConfig
            | DenialKind::InsertDenied
            | DenialKind::OwnerMismatch
            | DenialKind::OwnerImmutable => 403,
            DenialKind::CollectionNotFound | DenialKind::DocumentNotFound => 404,
        }
    }

    /// The short internal label the original put in its `error` field (logs and metrics only;
    /// the wire carries the message).
    pub fn label(self) -> &'static str {
        match self {
            DenialKind::UsersCollection => "Users collection blocked",
            DenialKind::CollectionNotFound => "Collection not found",
            DenialKind::ReadAuthRequired | DenialKind::WriteAuthRequired => "Authentication required",
            DenialKind::WriteBlocked => "Write blocked for publishable key",
            DenialKind::UnsupportedMode => "Unsupported RLS mode",
            DenialKind::InvalidConfig => "Invalid RLS configuration",
            DenialKind::InsertDenied => "Insert denied",
            DenialKind::OwnerMismatch => "RLS owner mismatch",
            DenialKind::OwnerImmutable => "Owner field immutable",
            DenialKind::InvalidBody => "Invalid request body",
            DenialKind::InvalidId => "Invalid ID format",
            DenialKind::DocumentNotFound => "Document not found",
            DenialKind::InvalidPipeline => "Invalid aggregation pipeline",
            DenialKind::BlockedStage => "Blocked aggregation stage",
        }
    }
}

/// A refused request: its kind (and so its status) and the exact client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Denial {
    kind: DenialKind,
    message: String,
}

/// Displays the client-facing message (the wire text); the kind and status are in `Debug`.
impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Denial {
    /// A denial of `kind` with the given client-facing message.
    pub fn new(kind: DenialKind, message: impl Into<String>) -> Self {
        Denial { kind, message: message.into() }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> DenialKind {
        self.kind
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The exact text for the wire error body.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn users_collection() -> Self {
        Denial::new(DenialKind::UsersCollection, "Use /api/userAuth endpoints for users collection operations.")
    }

    pub(crate) fn collection_not_found() -> Self {
        Denial::new(DenialKind::CollectionNotFound, "Collection not found")
    }

    pub(crate) fn read_auth_required() -> Self {
        Denial::new(DenialKind::ReadAuthRequired, "Provide a valid user Bearer token for private reads.")
    }

    /// `401 Provide a valid user Bearer token for write operations.`, for callers that re-check a grant (defence in depth).
    pub fn write_auth_required() -> Self {
        Denial::new(DenialKind::WriteAuthRequired, "Provide a valid user Bearer token for write operations.")
    }

    pub(crate) fn write_blocked() -> Self {
        Denial::new(DenialKind::WriteBlocked, "Enable RLS for this collection to allow publishable-key writes.")
    }

    pub(crate) fn unsupported_mode() -> Self {
        Denial::new(DenialKind::UnsupportedMode, "Unsupported RLS mode")
    }

    pub(crate) fn invalid_owner_field(field: &str) -> Self {
        Denial::new(DenialKind::InvalidConfig, format!("RLS ownerField '{field}' is not a valid field name."))
    }

    pub(crate) fn insert_denied_id_owner() -> Self {
        Denial::new(DenialKind::InsertDenied, "RLS ownerField '_id' is not valid for insert ownership checks.")
    }

    /// `403 Item at index <i> must have <ownerField> equal to your user id`, for callers that re-check a grant (defence in depth).
    pub fn item_owner_mismatch(index: usize, owner_field: &str) -> Self {
        Denial::new(
            DenialKind::OwnerMismatch,
            format!("Item at index {index} must have {owner_field} equal to your user id"),
        )
    }

    pub(crate) fn not_your_document() -> Self {
        Denial::new(DenialKind::OwnerMismatch, "You can only modify your own document.")
    }

    /// `403 <ownerField> cannot be changed under RLS.`, for callers that re-check a grant (defence in depth).
    pub fn owner_immutable(owner_field: &str) -> Self {
        Denial::new(DenialKind::OwnerImmutable, format!("{owner_field} cannot be changed under RLS."))
    }

    pub(crate) fn invalid_body(message: impl Into<String>) -> Self {
        Denial::new(DenialKind::InvalidBody, message)
    }

    pub(crate) fn invalid_id() -> Self {
        Denial::new(DenialKind::InvalidId, "Invalid ID format.")
    }

    pub(crate) fn document_not_found() -> Self {
        Denial::new(DenialKind::DocumentNotFound, "Document not found.")
    }

    pub(crate) fn invalid_pipeline(message: impl Into<String>) -> Self {
        Denial::new(DenialKind::InvalidPipeline, message)
    }

    pub(crate) fn blocked_stage() -> Self {
        Denial::new(DenialKind::BlockedStage, "Aggregation pipeline contains blocked stage.")
    }
}
