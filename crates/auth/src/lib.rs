//! End-user accounts of urbackend-rs.
//!
//! Today this crate holds the access tokens ([`token`]): HS256 JWTs signed with the project's
//! secret, with the claims of the original (`userId`, `projectId`, `iat`, `exp`), and password
//! hashing ([`password`]): argon2id off the async workers with a bound, bcrypt hashes from
//! urBackend accepted and upgraded. The accounts issue adds the accounts themselves, refresh
//! sessions with atomic rotation, one-time codes with attempt limits and the OAuth providers.
//!
//! It must never know HTTP, and it never reads the wall clock itself: time is a parameter.

pub mod password;
pub mod token;
