//! The storage interface of urbackend-rs.
//!
//! This crate will hold the `Store` trait that the platform and the data API need (insert one and
//! many, get by id within a read scope, find with the `query` AST, count, update and delete within
//! a write scope in one database operation, unique indexes, collection catalogue, the safe
//! aggregation subset), its typed error (not found, duplicate key, unavailable, invalid input) and
//! the conformance suite that every backend runs.
//!
//! It must never know a concrete database driver or HTTP: backends depend on it, not the reverse.
