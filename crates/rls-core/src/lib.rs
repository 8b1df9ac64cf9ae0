//! Row-level security decisions for document collections, pure and total.
//!
//! `rls-core` answers one question for every request to a collection: may this caller do this,
//! and if so, within which documents? It does no I/O, has no async code, reads no clock, holds no
//! global state and knows no database or HTTP type; it is embeddable by any Rust service (the
//! example below is one). Its inputs are the key role (publishable or secret), the verified end
//! user or none, the collection's RLS configuration (`enabled`, `mode`, `ownerField`,
//! `requireAuthForWrite`), the operation and, where it matters, the request body.
//!
//! # The rules
//!
//! * The `users` collection is never reachable here, under any spelling (trimmed, case-folded,
//!   invisible characters removed): `403 Use /api/userAuth endpoints for users collection
//!   operations.` A collection the project does not have is `404 Collection not found`.
//! * A **secret key** bypasses RLS: every read sees all documents, every write is allowed and
//!   nothing is injected. Its bodies still pass the hygiene rules below.
//! * **Publishable reads**: RLS off or `public-read` (and its legacy alias `owner-write-only`) see
//!   all documents; `private` needs a user (`401 Provide a valid user Bearer token for private
//!   reads.`) and sees only documents whose owner field equals that user. Populate/expand into a
//!   collection is a read of that collection under the same rules.
//! * **Publishable writes** need RLS on (`403 Enable RLS for this collection to allow
//!   publishable-key writes.`) and a user (`401 Provide a valid user Bearer token for write
//!   operations.`); with `requireAuthForWrite: false` an anonymous caller may insert documents
//!   that carry no owner, and nothing else. Inserts get the owner field set to the caller; an item
//!   that names someone else is `403 Item at index <i> must have <ownerField> equal to your user
//!   id`. Updates and deletes are granted with a [`WriteScope`] (`_id` **and** owner) that the
//!   store applies inside the write; a body that changes the owner is `403 <ownerField> cannot be
//!   changed under RLS.`
//! * **Fail closed**: an unknown mode is `403 Unsupported RLS mode`; an owner field that is not a
//!   plain field name is `403 RLS ownerField '<f>' is not a valid field name.`
//! * **Body hygiene** (every role): top-level keys are normalised (invisible characters removed,
//!   NFC, trimmed) before any decision, and the normalised document is what gets stored; two keys
//!   that normalise alike, a key that looks like the owner field but is not it (`userID`), a `$`
//!   key at any depth, or an owner value that is not a string are `400`.
//! * **Aggregation**: publishable keys get an allow-list of reshaping stages and no operator that
//!   reads elsewhere or runs code, at any depth; the scope becomes the first stage. The secret key
//!   may use any stage except `$out`/`$merge`.
//!
//! Every denial is a [`Denial`] value carrying the HTTP status and the exact wire text of the
//! urBackend contract (spec §7 and Appendix A); docs/COMPATIBILITY.md lists where we differ.
//!
//! # Embedding
//!
//! A service that keeps its own documents can ask `rls-core` before every read and write:
//!
//! ```
//! use rls_core::{Caller, ReadOp, ReadScope, RlsConfig, RlsMode, Target};
//! use serde_json::json;
//!
//! // The collection's configuration, as the service stores it.
//! let notes = RlsConfig::enabled(RlsMode::Private, "ownerId");
//! let target = Target::existing("notes", &notes);
//!
//! // A browser request by user "u1": its reads are narrowed to its own notes.
//! let alice = Caller::publishable(Some("u1"));
//! let scope = rls_core::authorize_read(&alice, &target, ReadOp::List)?;
//! assert_eq!(scope, ReadScope::Owner { field: "ownerId".into(), user: "u1".into() });
//! assert!(scope.permits(&json!({"ownerId": "u1", "text": "mine"})));
//! assert!(!scope.permits(&json!({"ownerId": "u2", "text": "theirs"})));
//!
//! // Its insert is stamped with its id; naming another owner is refused.
//! let grant = rls_core::authorize_insert(&alice, &target, &json!({"text": "hi"}))?;
//! assert_eq!(grant.documents[0]["ownerId"], "u1");
//! let denial = rls_core::authorize_insert(&alice, &target, &json!({"ownerId": "u2"})).unwrap_err();
//! assert_eq!((denial.status(), denial.message()), (403, "Item at index 0 must have ownerId equal to your user id"));
//!
//! // Anonymous callers cannot read private notes at all.
//! let anonymous = Caller::publishable(None);
//! let denial = rls_core::authorize_read(&anonymous, &target, ReadOp::Get).unwrap_err();
//! assert_eq!(denial.status(), 401);
//!
//! // An update is granted with a scope the service puts into its write filter.
//! let grant = rls_core::authorize_update(&alice, &target, "0123456789abcdef01234567", &json!({"text": "edited"}))?;
//! assert!(grant.scope.permits(&json!({"_id": "0123456789abcdef01234567", "ownerId": "u1"})));
//! assert!(!grant.scope.permits(&json!({"_id": "0123456789abcdef01234567", "ownerId": "u2"})));
//! # Ok::<(), rls_core::Denial>(())
//! ```

mod aggregate;
mod config;
mod denial;
mod keys;
mod read;
mod write;

pub use aggregate::{AggregatePlan, MAX_PIPELINE_STAGES, authorize_aggregate};
pub use config::{Caller, KeyRole, RlsConfig, RlsMode, Target, is_users_collection};
pub use denial::{Denial, DenialKind};
pub use keys::{MAX_BODY_DEPTH, normalize_key};
pub use read::{ReadOp, ReadScope, authorize_read};
pub use write::{
    DocId, InsertGrant, MAX_BULK_ITEMS, OwnerMatch, UpdateGrant, WriteScope, authorize_bulk_insert, authorize_delete,
    authorize_insert, authorize_update,
};

#[cfg(test)]
mod tests;
