//! argon2id computed in memory the hashing thread keeps: each thread of the pool holds one
//! buffer of blocks, grown to the largest cost it has seen, instead of allocating (and handing
//! back to the C allocator, which keeps it per thread) 19 MiB per hash. Hashes are PHC strings,
//! the same as the argon2 crate's own `hash_password` writes.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use super::{HashCost, PasswordError};

/// The largest memory cost a stored hash may ask for (1 GiB): a corrupt or hostile hash must
/// not make the server allocate without bound.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// The length of the hashes this server writes.
const OUTPUT_LEN: usize = 32;

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn hashing(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hashing(e.to_string())
}

/// Runs `argon` over the thread's buffer.
fn compute(
    argon: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    MEMORY.with(|cell| {
        let mut memory = cell.try_borrow_mut().map_err(hashing)?;
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let memory = memory.get_mut(..blocks).ok_or_else(|| hashing("memory buffer too small"))?;
        argon.hash_password_into_with_memory(password, salt, out, memory).map_err(hashing)
    })
}

/// A new argon2id hash of `password` as a PHC string.
pub(super) fn hash(cost: HashCost, password: &str) -> Result<String, PasswordError> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(OUTPUT_LEN)).map_err(hashing)?;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes).map_err(hashing)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_LEN];
    compute(&argon, params.block_count(), password.as_bytes(), salt_raw, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hashing)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a parsed argon2 hash (any variant, version and cost).
pub(super) fn verify(parsed: &PasswordHash<'_>, password: &str) -> Result<bool, PasswordError> {
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| PasswordError::UnknownFormat)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| PasswordError::UnknownFormat)?
        .unwrap_or_default();
    let params = Params::try_from(parsed).map_err(|_| PasswordError::UnknownFormat)?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return Err(PasswordError::UnknownFormat);
    }
    let expected = parsed.hash.ok_or(PasswordError::UnknownFormat)?;
    let salt = parsed.salt.ok_or(PasswordError::UnknownFormat)?;
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|_| PasswordError::UnknownFormat)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon, params.block_count(), password.as_bytes(), salt_raw, &mut out)?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    const COST: HashCost = HashCost { memory_kib: 64, passes: 2, lanes: 1 };

    #[test]
    fn our_hashes_are_the_argon2_crates_hashes() {
        let ours = hash(COST, "pw-1").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"pw-1", &parsed).is_ok(), "{ours}");
        assert!(Argon2::default().verify_password(b"pw-2", &parsed).is_err());
        let theirs_params = Params::new(COST.memory_kib, COST.passes, COST.lanes, None).unwrap();
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let theirs =
            Argon2::new(Algorithm::Argon2i, Version::V0x10, theirs_params).hash_password(b"pw-1", &salt).unwrap();
        assert!(verify(&theirs, "pw-1").unwrap());
        assert!(!verify(&theirs, "pw-2").unwrap());
    }

    #[test]
    fn hostile_costs_are_refused() {
        let text =
            "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let parsed = PasswordHash::new(text).unwrap();
        assert_eq!(verify(&parsed, "x"), Err(PasswordError::UnknownFormat));
    }
}
