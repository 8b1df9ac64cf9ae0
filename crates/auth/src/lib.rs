//! End-user accounts of urbackend-rs.
//!
//! This crate will hold argon2id password hashing (off the async workers, with a bound), access
//! tokens (HS256 JWT with a pinned algorithm), refresh sessions with atomic rotation, one-time
//! codes with attempt limits, API key generation and hashing, and the OAuth providers.
//!
//! It must never know HTTP, and it never reads the wall clock itself: time is a parameter.
