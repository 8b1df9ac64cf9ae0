//! The HTTP layer of urbackend-rs (actix-web).
//!
//! This crate will hold the routes, extractors, the one error mapping to the wire shape
//! `{"success":false,"error":…,"code":…,"message":…}`, and the app factory shared by the binary and
//! the tests. Handlers stay thin: HTTP in, a call into a library crate, HTTP out.
//!
//! It never makes an authorization decision of its own: every data request goes through `rls-core`.
