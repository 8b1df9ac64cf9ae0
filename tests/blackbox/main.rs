//! Black-box tests of the `urbackend` binary: one test binary, modules by topic.
//!
//! Every test starts its own server (embedded store in a temporary directory, or MongoDB when
//! `URBACKEND_TEST_MONGODB_URI` is set: the MongoDB lane) and talks to it only over HTTP and the
//! command line.

// Test code: a failed expectation is a test failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod accounts;
mod analytics;
mod codes;
mod fixture;
mod http_edges;
mod import;
mod lifecycle;
mod mail;
mod matrix;
mod operators;
mod queries;
mod schemas;
mod sdk;
mod sessions;
mod social;
mod storage;
mod storage_s3;
mod user_files;
mod webhooks;

/// Runs each named test `fn(Lane)` twice: `embedded::<name>` and `mongo::<name>`.
#[macro_export]
macro_rules! on_both_lanes {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[test]
            fn $name() {
                super::$name(urbackend_tests::Lane::Embedded)
            })*
        }
        mod mongo {
            $(#[test]
            fn $name() {
                super::$name(urbackend_tests::Lane::Mongo)
            })*
        }
    };
}
