//! Read decisions: list, get one, count, and populate/expand into a referenced collection.
//!
//! A read is either refused or granted with a [`ReadScope`]: all documents, or only those whose
//! owner field equals the caller. The store ANDs the scope with whatever the query asks for, so a
//! query can narrow a scope and never widen it.

use serde_json::Value;

use crate::config::{Caller, EffectiveMode, KeyRole, Target};
use crate::denial::Denial;

/// The read operations that take a plain scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadOp {
    /// `GET /api/data/:collection`.
    List,
    /// `GET /api/data/:collection/:id`.
    Get,
    /// `GET /api/data/:collection?count=true`.
    Count,
    /// Following a reference into this collection (`populate`/`expand` from another one).
    Populate,
}

/// Which documents a read may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReadScope {
    /// Every document of the collection.
    All,
    /// Only the documents whose `field` equals `user` (exact string equality).
    Owner {
        /// The owner field.
        field: String,
        /// The caller's user id.
        user: String,
    },
}

impl ReadScope {
    /// Whether a stored document (as JSON) lies inside the scope. Backends translate the scope
    /// into their own filter; this is the reference meaning they must agree with.
    pub fn permits(&self, doc: &Value) -> bool {
        match self {
            ReadScope::All => true,
            ReadScope::Owner { field, user } => doc.get(field).and_then(Value::as_str) == Some(user.as_str()),
        }
    }
}

/// Decides a read. The operation does not change the outcome today (every read surface shares
/// one rule, spec §7.3), but callers name it so that the decision is explicit at each surface.
pub fn authorize_read(caller: &Caller<'_>, target: &Target<'_>, op: ReadOp) -> Result<ReadScope, Denial> {
    let _ = op;
    let rls = target.resolve()?;
    if caller.role() == KeyRole::Secret || !rls.enabled {
        return Ok(ReadScope::All);
    }
    match rls.mode.effective()? {
        EffectiveMode::PublicRead => Ok(ReadScope::All),
        EffectiveMode::Private => {
            let field = rls.checked_owner_field()?;
            let user = caller.user().ok_or_else(Denial::read_auth_required)?;
            Ok(ReadScope::Owner { field: field.to_owned(), user: user.to_owned() })
        }
    }
}
