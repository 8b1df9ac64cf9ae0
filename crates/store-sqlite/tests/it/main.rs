//! Integration tests of the SQLite store: the conformance suite, a differential property test
//! against the reference evaluator, durability across reopening, and concurrency through the
//! group-commit writer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;
mod concurrency;
mod conformance;
mod differential;
mod durability;
mod embedded;
mod perf;
