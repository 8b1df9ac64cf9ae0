//! Password hashing: argon2id for new hashes, bcrypt accepted for users moved over from
//! urBackend, computed off the async workers with a bound on how many run at once.
//!
//! Parameters (OWASP's argon2id recommendation): 19 MiB of memory, 2 passes, 1 lane, stored in
//! the PHC string so that they can be raised later without invalidating old hashes. Each hash
//! takes tens of milliseconds of one core and 19 MiB, so [`PasswordHasher`] runs them on a small
//! fixed pool of low-priority threads (`pool`): a login storm queues instead of starving data
//! requests or exhausting memory. [`PasswordHasher::verify_dummy`] spends the same time for an unknown
//! account as for a wrong password, so that timing does not tell which e-mails exist.

mod argon;
mod pool;

use std::sync::Arc;

use argon2::Params;
use argon2::password_hash::PasswordHash;

use self::pool::HashPool;

/// The argon2id parameters: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Parallel lanes.
    pub lanes: u32,
}

impl HashCost {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
    pub const RECOMMENDED: HashCost = HashCost { memory_kib: 19 * 1024, passes: 2, lanes: 1 };

    /// The smallest cost argon2 accepts. For tests only: it offers no protection.
    pub const DANGER_TEST_MINIMUM: HashCost = HashCost { memory_kib: 8, passes: 1, lanes: 1 };
}

/// Why hashing or verification could not be carried out (not "wrong password", which is
/// `Ok(false)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The stored hash is neither an argon2 PHC string nor a bcrypt hash.
    #[error("unrecognised password hash format")]
    UnknownFormat,
    /// The hashing library refused (invalid parameters, say).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The blocking task did not complete.
    #[error("password hashing task failed")]
    Task,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Whether the password matched.
    pub matches: bool,
    /// A new argon2id hash to store, when the password matched a hash in an older format
    /// (bcrypt) or with a lower cost.
    pub rehash: Option<String>,
}

/// Hashes and verifies passwords off the async workers, at most `concurrency` at a time.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    cost: HashCost,
    pool: HashPool,
    dummy: Arc<String>,
}

impl PasswordHasher {
    /// A hasher with this cost, running at most `concurrency` hashes at once (on as many
    /// threads of its own).
    pub fn new(cost: HashCost, concurrency: usize) -> Result<PasswordHasher, PasswordError> {
        let dummy = hash_blocking(cost, "urbackend dummy password for unknown accounts")?;
        let pool = HashPool::start(concurrency).map_err(|e| PasswordError::Hashing(format!("hashing threads: {e}")))?;
        Ok(PasswordHasher { cost, pool, dummy: Arc::new(dummy) })
    }

    /// A new argon2id hash (PHC string) of `password`.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let cost = self.cost;
        self.run(move || hash_blocking(cost, &password)).await?
    }

    /// Verifies `password` against a stored argon2 or bcrypt hash.
    pub async fn verify(&self, password: String, stored: String) -> Result<Verified, PasswordError> {
        let cost = self.cost;
        self.run(move || verify_blocking(cost, &password, &stored)).await?
    }

    /// Spends the time of a verification against a hash no password matches (for unknown
    /// accounts), and answers `false`.
    pub async fn verify_dummy(&self, password: String) -> Result<bool, PasswordError> {
        let cost = self.cost;
        let dummy = self.dummy.clone();
        // The dummy's password is not secret, so even a match answers `false`.
        self.run(move || verify_blocking(cost, &password, &dummy)).await??;
        Ok(false)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        self.pool.run(work).await.ok_or(PasswordError::Task)
    }
}

fn hash_blocking(cost: HashCost, password: &str) -> Result<String, PasswordError> {
    argon::hash(cost, password)
}

fn verify_blocking(cost: HashCost, password: &str, stored: &str) -> Result<Verified, PasswordError> {
    if stored.starts_with("$argon2") {
        let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::UnknownFormat)?;
        let matches = argon::verify(&parsed, password)?;
        let weaker = Params::try_from(&parsed).map_or(true, |p| {
            parsed.algorithm.as_str() != "argon2id"
                || p.m_cost() < cost.memory_kib
                || p.t_cost() < cost.passes
                || p.p_cost() < cost.lanes
        });
        let rehash = if matches && weaker { Some(hash_blocking(cost, password)?) } else { None };
        return Ok(Verified { matches, rehash });
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        let matches = bcrypt::verify(password, stored).map_err(|_| PasswordError::UnknownFormat)?;
        let rehash = if matches { Some(hash_blocking(cost, password)?) } else { None };
        return Ok(Verified { matches, rehash });
    }
    Err(PasswordError::UnknownFormat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(HashCost::DANGER_TEST_MINIMUM, 2).unwrap()
    }

    #[tokio::test]
    async fn argon2id_round_trip() {
        let hasher = hasher();
        let hash = hasher.hash("secret123".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert_eq!(
            hasher.verify("secret123".into(), hash.clone()).await.unwrap(),
            Verified { matches: true, rehash: None }
        );
        assert!(!hasher.verify("secret124".into(), hash.clone()).await.unwrap().matches);
        assert_ne!(hash, hasher.hash("secret123".into()).await.unwrap(), "salted");
    }

    #[tokio::test]
    async fn bcrypt_hashes_from_urbackend_verify_and_are_upgraded() {
        let hasher = hasher();
        let legacy = bcrypt::hash("secret123", 4).unwrap();
        let verified = hasher.verify("secret123".into(), legacy.clone()).await.unwrap();
        assert!(verified.matches);
        let upgraded = verified.rehash.expect("a bcrypt match is rehashed");
        assert!(upgraded.starts_with("$argon2id$"));
        assert!(hasher.verify("secret123".into(), upgraded).await.unwrap().matches);
        let wrong = hasher.verify("nope".into(), legacy).await.unwrap();
        assert_eq!(wrong, Verified { matches: false, rehash: None });
    }

    #[tokio::test]
    async fn weaker_argon2_hashes_are_upgraded_and_garbage_is_an_error() {
        let weak = hasher().hash("pw".into()).await.unwrap();
        let strong = PasswordHasher::new(HashCost { memory_kib: 64, passes: 2, lanes: 1 }, 1).unwrap();
        let verified = strong.verify("pw".into(), weak).await.unwrap();
        assert!(verified.matches && verified.rehash.is_some());
        assert_eq!(strong.verify("pw".into(), "plaintext".into()).await, Err(PasswordError::UnknownFormat));
        assert!(!strong.verify_dummy("urbackend dummy password for unknown accounts".into()).await.unwrap());
    }
}
