//! The conformance suite: the same cases, with the same expected results, for every backend.
//!
//! A backend's test calls [`run_all`] with its store and a `skip` function that names the cases
//! it cannot run and why (a MongoDB stand-in that lacks a server command, say); skipped cases are
//! reported (`SKIP <case>: <reason>`), never dropped silently. Each case works in collections of
//! its own, named with a prefix unique to the run, so cases do not interfere and a shared server
//! can be used; each case drops what it created at the end (best effort).
//!
//! ```ignore
//! let report = store::conformance::run_all(&my_store, &|case| match case {
//!     "drop_collection_removes_documents_and_indexes" => Some("the test server lacks `drop`"),
//!     _ => None,
//! })
//! .await;
//! assert!(report.is_success(), "{report}");
//! ```
//!
//! Cases assert full results (documents, values and order). Filter cases additionally check
//! their hand-written expectations against the reference evaluator ([`query::Filter::matches`]
//! and [`rls_core::ReadScope::permits`]), so an expectation cannot silently drift from the
//! semantics it documents. [`CASES`] lists every case by name; [`run_case`] runs one.

mod aggregate;
mod basic;
mod find;
mod indexes;
mod order;
mod writes;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use query::{Condition, FieldPath, Filter, ListQuery, Op, Pagination, Schema, SortKey, SortOrder};
use rls_core::{Caller, DocId, ReadScope, RlsConfig, RlsMode, Target, WriteScope};
use serde_json::Value;

use crate::{CollectionSpec, Document, DocumentStore, StoreError};

/// Why a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure(format!("unexpected store error: {e:?}"))
    }
}

/// The result of one case.
pub type CaseResult = Result<(), Failure>;

/// A case's entry point.
pub type CaseFn = for<'a> fn(&'a Ctx<'a>) -> Pin<Box<dyn Future<Output = CaseResult> + 'a>>;

/// A named case.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case's name (stable; `skip` functions match on it).
    pub name: &'static str,
    /// Runs the case.
    pub run: CaseFn,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Fails the case with a formatted message (and the line) unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::conformance::Failure(format!("line {}: {}", line!(), format!($($fmt)+))));
        }
    };
}

/// Fails the case unless the two values are equal (JSON values compare with numbers normalised).
macro_rules! ensure_eq {
    ($actual:expr, $expected:expr, $($fmt:tt)+) => {{
        let (actual, expected) = (&$actual, &$expected);
        if !$crate::conformance::Same::same(actual, expected) {
            return Err($crate::conformance::Failure(format!(
                "line {}: {}\n  actual:   {:?}\n  expected: {:?}",
                line!(),
                format!($($fmt)+),
                actual,
                expected
            )));
        }
    }};
}

use {ensure, ensure_eq};

/// Equality for assertions: JSON numbers compare by value (`2` equals `2.0`), maps ignore key order.
pub trait Same {
    /// Whether `self` and `other` are the same for the suite.
    fn same(&self, other: &Self) -> bool;
}

impl Same for Value {
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.same(w)))
            }
            (a, b) => a == b,
        }
    }
}

impl Same for Document {
    fn same(&self, other: &Self) -> bool {
        Value::Object(self.clone()).same(&Value::Object(other.clone()))
    }
}

impl<T: Same> Same for Vec<T> {
    fn same(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a.same(b))
    }
}

impl<T: Same> Same for Option<T> {
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.same(b),
            (None, None) => true,
            _ => false,
        }
    }
}

macro_rules! same_by_eq {
    ($($t:ty),*) => { $(impl Same for $t { fn same(&self, other: &Self) -> bool { self == other } })* };
}
same_by_eq!(String, &str, bool, u64, usize, StoreError, ());

impl<T: Same + ?Sized> Same for &T {
    fn same(&self, other: &Self) -> bool {
        (**self).same(*other)
    }
}

impl<T: Same, E: Same> Same for Result<T, E> {
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Ok(a), Ok(b)) => a.same(b),
            (Err(a), Err(b)) => a.same(b),
            _ => false,
        }
    }
}

impl<A: Same, B: Same> Same for (A, B) {
    fn same(&self, other: &Self) -> bool {
        self.0.same(&other.0) && self.1.same(&other.1)
    }
}

/// The context of one case: the store and the run's unique collection prefix.
pub struct Ctx<'a> {
    store: &'a dyn DocumentStore,
    prefix: String,
}

/// A collection a case works in: its physical name and schema.
pub(crate) struct Coll {
    physical: String,
    schema: Schema,
}

impl Coll {
    /// The spec the store methods take.
    pub(crate) fn spec(&self) -> CollectionSpec<'_> {
        CollectionSpec { physical: &self.physical, schema: &self.schema }
    }
}

impl<'a> Ctx<'a> {
    /// The store under test.
    pub(crate) fn store(&self) -> &'a dyn DocumentStore {
        self.store
    }

    /// A fresh collection for this case (`name` unique within the case).
    pub(crate) fn coll(&self, name: &str, schema: Schema) -> Coll {
        Coll { physical: format!("{}_{name}", self.prefix), schema }
    }

    /// Inserts JSON objects and returns them as stored.
    pub(crate) async fn insert(&self, coll: &Coll, docs: Vec<Value>) -> Result<Vec<Document>, Failure> {
        let docs = docs.into_iter().map(doc).collect::<Result<Vec<_>, _>>()?;
        Ok(self.store.insert(&coll.spec(), docs).await?)
    }

    /// The documents a filter finds within a scope, ordered by `_id`.
    pub(crate) async fn find_by_id_order(
        &self,
        coll: &Coll,
        scope: &ReadScope,
        filter: Filter,
    ) -> Result<Vec<Document>, Failure> {
        let query =
            list_query(filter, vec![sort_key("_id", SortOrder::Asc)?], Pagination::Offset { page: 1, limit: 100 });
        Ok(self.store.find(&coll.spec(), scope, &query).await?.items)
    }

    /// Drops a collection, ignoring errors (cleanup).
    pub(crate) async fn cleanup(&self, colls: &[&Coll]) {
        for coll in colls {
            let _ = self.store.drop_collection(&coll.spec()).await;
        }
    }
}

/// A JSON object as a document.
pub(crate) fn doc(value: Value) -> Result<Document, Failure> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Failure(format!("fixture is not an object: {other}"))),
    }
}

/// A deterministic ObjectId for fixtures: `n` in hexadecimal, 24 digits, after a fixed prefix.
pub(crate) fn oid(n: u32) -> String {
    format!("65a0c0de0000000a{n:08x}")
}

/// A validated document id.
pub(crate) fn doc_id(id: &str) -> Result<DocId, Failure> {
    DocId::parse(id).map_err(|e| Failure(format!("bad fixture id {id}: {e:?}")))
}

/// A field path.
pub(crate) fn path(p: &str) -> Result<FieldPath, Failure> {
    FieldPath::new(p).map_err(|e| Failure(format!("bad path {p}: {e}")))
}

/// A condition.
pub(crate) fn cond(p: &str, op: Op) -> Result<Condition, Failure> {
    Ok(Condition::new(path(p)?, op))
}

/// A filter of conditions.
pub(crate) fn filter(conditions: Vec<Condition>) -> Filter {
    let mut f = Filter::new();
    for c in conditions {
        f.and(c);
    }
    f
}

/// A sort key.
pub(crate) fn sort_key(p: &str, order: SortOrder) -> Result<SortKey, Failure> {
    Ok(SortKey { path: path(p)?, order })
}

/// A list query.
pub(crate) fn list_query(filter: Filter, sort: Vec<SortKey>, pagination: Pagination) -> ListQuery {
    ListQuery { filter, sort, pagination, projection: None, populate: Vec::new(), count: false, meta: None }
}

/// Parses a REST query string.
pub(crate) fn parse(raw: &str, schema: &Schema) -> Result<ListQuery, Failure> {
    query::parse(raw, schema).map_err(|e| Failure(format!("query {raw:?} refused: {e}")))
}

/// The documents at these positions (fixture helper that cannot panic).
pub(crate) fn pick(docs: &[Document], positions: &[usize]) -> Result<Vec<Document>, Failure> {
    positions
        .iter()
        .map(|&i| docs.get(i).cloned().ok_or_else(|| Failure(format!("no document at position {i}"))))
        .collect()
}

/// The document at a position.
pub(crate) fn nth(docs: &[Document], i: usize) -> Result<Document, Failure> {
    docs.get(i).cloned().ok_or_else(|| Failure(format!("no document at position {i}")))
}

/// The ids of documents, in order.
pub(crate) fn ids(docs: &[Document]) -> Vec<String> {
    docs.iter().map(|d| d.get("_id").and_then(Value::as_str).unwrap_or("<no _id>").to_owned()).collect()
}

/// The id of a stored document.
pub(crate) fn id_of(doc: &Document) -> Result<String, Failure> {
    doc.get("_id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| Failure("document without _id".into()))
}

/// The owner scope `owner == user`.
pub(crate) fn owner_scope(user: &str) -> ReadScope {
    ReadScope::Owner { field: "owner".to_owned(), user: user.to_owned() }
}

/// The RLS configuration the suite uses for owner-scoped writes: private, owner field `owner`.
fn private_rls() -> RlsConfig {
    RlsConfig::enabled(RlsMode::Private, "owner")
}

/// A write scope as rls-core grants it: for `user` (publishable key) or for the secret key.
pub(crate) fn write_scope(id: &str, user: Option<&str>) -> Result<WriteScope, Failure> {
    let rls = private_rls();
    let target = Target::existing("things", &rls);
    let caller = match user {
        Some(user) => Caller::publishable(Some(user)),
        None => Caller::secret(),
    };
    rls_core::authorize_delete(&caller, &target, id).map_err(|e| Failure(format!("write scope refused: {e:?}")))
}

/// An aggregation plan as rls-core grants it for `user` (publishable) or the secret key.
pub(crate) fn aggregate_plan(user: Option<&str>, stages: Value) -> Result<rls_core::AggregatePlan, Failure> {
    let rls = private_rls();
    let target = Target::existing("things", &rls);
    let caller = match user {
        Some(user) => Caller::publishable(Some(user)),
        None => Caller::secret(),
    };
    let body = serde_json::json!({ "pipeline": stages });
    rls_core::authorize_aggregate(&caller, &target, &body).map_err(|e| Failure(format!("aggregation refused: {e:?}")))
}

macro_rules! cases {
    ($($module:ident :: $name:ident),* $(,)?) => {
        /// Every case, in the order [`run_all`] runs them.
        pub const CASES: &[Case] = &[$(Case { name: stringify!($name), run: |cx| Box::pin($module::$name(cx)) }),*];
    };
}

cases![
    basic::insert_assigns_id_timestamps_and_version,
    basic::insert_keeps_valid_id_and_overwrites_metadata,
    basic::insert_refuses_invalid_id,
    basic::missing_collection_reads_empty,
    basic::get_by_id,
    basic::get_within_owner_scope,
    basic::get_many_within_scope,
    basic::exists_ignores_scope,
    basic::ping,
    find::find_equality_by_type_bracket,
    find::find_equality_on_arrays_by_element,
    find::find_nested_paths,
    find::find_ne_matches_missing,
    find::find_in,
    find::find_comparisons_within_bracket,
    find::find_exists,
    find::find_regex,
    find::find_dates,
    find::find_object_ids,
    find::find_and_count_within_owner_scope,
    order::sort_with_ties_uses_id,
    order::sort_across_types,
    order::sort_default_is_created_at_descending,
    order::offset_paging,
    order::cursor_paging_visits_every_document_once,
    order::cursor_paging_on_strings_and_default_order,
    writes::update_merges_and_refreshes_updated_at,
    writes::update_dotted_paths,
    writes::update_refuses_changing_id,
    writes::update_and_delete_respect_owner_scope,
    writes::update_and_delete_missing_documents,
    writes::bulk_insert_is_all_or_nothing,
    writes::side_writes_stand_or_fall_with_their_change,
    indexes::unique_index_refuses_existing_duplicates,
    indexes::unique_index_required_counts_missing_values,
    indexes::unique_index_enforced_and_partial,
    indexes::owner_index_is_idempotent,
    indexes::drop_collection_removes_documents_and_indexes,
    aggregate::aggregate_group_and_sort_within_scope,
    aggregate::aggregate_match_and_count,
    aggregate::aggregate_unwind_and_project,
    aggregate::aggregate_scope_applies_first,
];

/// The outcome of a run.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Cases that passed.
    pub passed: Vec<&'static str>,
    /// Cases skipped, with the reason.
    pub skipped: Vec<(&'static str, &'static str)>,
    /// Cases that failed, with the failure.
    pub failed: Vec<(&'static str, String)>,
}

impl Report {
    /// Whether no case failed.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} passed, {} skipped, {} failed", self.passed.len(), self.skipped.len(), self.failed.len())?;
        for (name, reason) in &self.skipped {
            writeln!(f, "SKIP {name}: {reason}")?;
        }
        for (name, failure) in &self.failed {
            writeln!(f, "FAIL {name}: {failure}")?;
        }
        Ok(())
    }
}

/// A prefix unique to this run (collection names start with it).
fn run_prefix() -> String {
    format!("conf_{}", crate::new_object_id())
}

/// Runs every case in order; `skip(name)` returns a reason to skip a case. Prints
/// `SKIP <case>: <reason>` and `FAIL <case>: …` lines to standard error as it goes.
pub async fn run_all(store: &dyn DocumentStore, skip: &dyn Fn(&str) -> Option<&'static str>) -> Report {
    let mut report = Report::default();
    let prefix = run_prefix();
    for case in CASES {
        if let Some(reason) = skip(case.name) {
            eprintln!("SKIP {}: {reason}", case.name);
            report.skipped.push((case.name, reason));
            continue;
        }
        let cx = Ctx { store, prefix: format!("{prefix}_{}", case.name) };
        match (case.run)(&cx).await {
            Ok(()) => report.passed.push(case.name),
            Err(failure) => {
                eprintln!("FAIL {}: {failure}", case.name);
                report.failed.push((case.name, failure.0));
            }
        }
    }
    report
}

/// Runs the case named `name`.
pub async fn run_case(store: &dyn DocumentStore, name: &str) -> CaseResult {
    let case = CASES.iter().find(|c| c.name == name).ok_or_else(|| Failure(format!("no case named {name}")))?;
    let cx = Ctx { store, prefix: format!("{}_{}", run_prefix(), case.name) };
    (case.run)(&cx).await
}
