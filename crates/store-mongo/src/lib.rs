//! The MongoDB backend of urbackend-rs, over the official driver.
//!
//! This crate will implement the `store` trait on MongoDB, translate the `query` AST into filter
//! documents, and manage per-project bring-your-own MongoDB URIs (stored encrypted).
//!
//! It must never know HTTP, and it is the only place where a `bson` document is built.
