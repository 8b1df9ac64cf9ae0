//! End-user accounts of urbackend-rs (spec §8): the `/api/userAuth` use cases, tokens and the
//! secrets behind them.
//!
//! * [`Accounts`]: signup, login, me, public profiles, profile updates, e-mail verification,
//!   password reset and change, refresh-token rotation and logout, over a project's `users`
//!   collection (found through [`platform::StoreResolver`]) and the reserved collections of the
//!   platform store (refresh sessions, one-time codes, latches).
//! * [`token`]: access tokens, HS256 JWTs signed with the project's secret, claims `userId`,
//!   `projectId`, `iat`, `exp`; verification refuses every other algorithm, other projects'
//!   tokens, expired and not-yet-valid ones.
//! * [`social`]: social login with GitHub and Google: OAuth states bound to the browser, local
//!   verification of Google id_tokens, e-mail linking only between verified addresses, and the
//!   one-time exchange of the refresh token.
//! * [`UserDirectory`]: the operator's list and deletion of a project's users; a deleted user's
//!   access tokens stop working within a second ([`Accounts::token_user`]).
//! * [`password`]: argon2id off the async workers behind a bound; bcrypt hashes from urBackend
//!   accepted and upgraded on login; a dummy verification for unknown accounts.
//!
//! Single use (refresh rotation, one-time codes) and attempt limits rest on one atomic
//! primitive every store backend has: an insert of an existing `_id` fails (see `system`). So
//! they hold across concurrent requests and across server processes sharing a store.
//!
//! It never knows HTTP, and it never reads the wall clock itself: time is a parameter.

mod accounts;
mod codes;
mod config;
mod directory;
mod error;
pub mod input;
pub mod password;
mod presence;
mod random;
mod recovery;
mod sessions;
pub mod social;
mod sweep;
mod system;
mod throttle;
pub mod token;
mod users;

pub use accounts::{AUTH_UNAVAILABLE, Accounts, CodeMailer, Issued, LOGIN_THROTTLED, SignupOutcome};
pub use codes::{CodePurpose, CodeRules};
pub use config::{AccountsConfig, TokenLifetime};
pub use directory::{UserDirectory, UserRef};
pub use error::{AuthError, INTERNAL_ERROR, UNAVAILABLE, texts};
pub use presence::PRESENCE_TTL_MS;
pub use sessions::{ClientInfo, texts as refresh_texts};
pub use social::{CallbackQuery, Finished, Social, SocialConfig, Started};
pub use sweep::Swept;
pub use system::{CODES_COLLECTION, LATCHES_COLLECTION, SESSIONS_COLLECTION};
pub use throttle::Limit;
pub use users::{PROTECTED_FIELDS, is_protected};
