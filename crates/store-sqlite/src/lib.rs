//! The embedded default backend of urbackend-rs: bundled SQLite in WAL mode.
//!
//! This crate will implement the `store` trait on SQLite with MongoDB semantics for every query
//! operator the REST query language offers, so that `urbackend serve` runs with zero setup.
//!
//! It must never know HTTP, and it must never widen a scope handed to it by `rls-core`.
