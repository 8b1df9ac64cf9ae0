//! Tests of rls-core: the behaviour matrix of spec §7 (one row per row), the holes the original
//! left open, aggregation, and property tests against an independent reference model.
//!
//! Every operation is driven through [`run`], which reduces the engine's answer to an
//! [`Outcome`] so that tables and properties compare plain values.

use serde_json::{Map, Value};

use crate::{
    Caller, ReadOp, ReadScope, RlsConfig, Target, authorize_aggregate, authorize_bulk_insert, authorize_delete,
    authorize_insert, authorize_read, authorize_update,
};

mod aggregate;
mod hygiene;
mod matrix;
mod model;
mod properties;

/// One operation on a collection, with its body where it has one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    List,
    Get,
    Count,
    Populate,
    Aggregate(Value),
    Insert(Value),
    Bulk(Value),
    Put(String, Value),
    Patch(String, Value),
    Delete(String),
}

/// What the engine decided, reduced to plain values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Denied(u16, String),
    Read(ReadScope),
    Aggregate(Vec<Value>),
    Inserted(Vec<Map<String, Value>>),
    Updated { owner: Option<(String, String)>, set: Map<String, Value> },
    Deleted { owner: Option<(String, String)> },
}

impl Outcome {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Outcome::Denied(status, _) => *status,
            _ => 200,
        }
    }
}

/// Runs one operation through the engine.
pub(crate) fn run(caller: &Caller<'_>, target: &Target<'_>, op: &Op) -> Outcome {
    let result = match op {
        Op::List => authorize_read(caller, target, ReadOp::List).map(Outcome::Read),
        Op::Get => authorize_read(caller, target, ReadOp::Get).map(Outcome::Read),
        Op::Count => authorize_read(caller, target, ReadOp::Count).map(Outcome::Read),
        Op::Populate => authorize_read(caller, target, ReadOp::Populate).map(Outcome::Read),
        Op::Aggregate(body) => {
            authorize_aggregate(caller, target, body).map(|plan| Outcome::Aggregate(plan.pipeline()))
        }
        Op::Insert(body) => authorize_insert(caller, target, body).map(|grant| Outcome::Inserted(grant.documents)),
        Op::Bulk(body) => authorize_bulk_insert(caller, target, body).map(|grant| Outcome::Inserted(grant.documents)),
        Op::Put(id, body) | Op::Patch(id, body) => authorize_update(caller, target, id, body)
            .map(|grant| Outcome::Updated { owner: owner_pair(grant.scope.owner()), set: grant.set }),
        Op::Delete(id) => {
            authorize_delete(caller, target, id).map(|scope| Outcome::Deleted { owner: owner_pair(scope.owner()) })
        }
    };
    result.unwrap_or_else(|denial| Outcome::Denied(denial.status(), denial.message().to_owned()))
}

fn owner_pair(owner: Option<&crate::OwnerMatch>) -> Option<(String, String)> {
    owner.map(|owner| (owner.field.clone(), owner.user.clone()))
}

/// An RLS configuration from its stored parts.
pub(crate) fn rls(enabled: bool, mode: &str, owner_field: &str, require_auth_for_write: bool) -> RlsConfig {
    RlsConfig {
        enabled,
        mode: crate::RlsMode::parse(mode),
        owner_field: owner_field.to_owned(),
        require_auth_for_write,
    }
}

/// A JSON object literal as a map.
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
