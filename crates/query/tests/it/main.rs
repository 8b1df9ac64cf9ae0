//! Integration tests of the `query` crate, through its public API only: example tables for every
//! rule of the language (spec §5.2 and §15.1, security cases B.3 / B.5), the cursor format, the
//! reference evaluator, and property tests (no panic, no RLS widening, evaluator sanity).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod casting;
mod common;
mod cursor;
mod eval;
mod options;
mod props;
mod security;
mod spec;
