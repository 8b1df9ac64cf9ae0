//! Integration tests of store-mongo over the MongoDB wire protocol, against a real MongoDB when
//! `URBACKEND_TEST_MONGODB_URI` is set, else against jongodb (see `harness`): conversions,
//! writes and scopes, paging, indexes and aggregation, failure and recovery, the BYO client
//! cache, and a differential property test against the reference evaluator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod conformance;
mod conversions;
mod differential;
mod harness;
mod indexes;
mod paging;
mod recovery;
mod writes;
