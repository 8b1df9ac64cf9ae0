//! Secrets drawn from the operating system's CSPRNG: refresh-token parts (UUID v4 and 32 random
//! bytes), six-digit one-time codes (uniform, no modulo bias), OAuth states and exchange codes.

use crate::error::AuthError;

fn bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| AuthError::Internal(format!("random source unavailable: {e}")))?;
    Ok(out)
}

/// `n` random bytes as lower-case hex (`2n` characters).
pub(crate) fn hex_secret<const N: usize>() -> Result<String, AuthError> {
    Ok(hex::encode(bytes::<N>()?))
}

/// A random UUID version 4 in its canonical lower-case form.
pub(crate) fn uuid_v4() -> Result<String, AuthError> {
    let mut b = bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let [a0, a1, a2, a3, b0, b1, c0, c1, d0, d1, e @ ..] = b;
    Ok(format!(
        "{}-{}-{}-{}-{}",
        hex::encode([a0, a1, a2, a3]),
        hex::encode([b0, b1]),
        hex::encode([c0, c1]),
        hex::encode([d0, d1]),
        hex::encode(e)
    ))
}

/// A uniformly drawn six-digit code, 100000–999999 as the original (`crypto.randomInt`).
pub(crate) fn six_digit_code() -> Result<String, AuthError> {
    // Rejection sampling over u32 keeps the draw uniform.
    const SPAN: u32 = 900_000;
    const ZONE: u32 = u32::MAX - (u32::MAX % SPAN);
    loop {
        let n = u32::from_le_bytes(bytes::<4>()?);
        if n < ZONE {
            return Ok((100_000 + n % SPAN).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(id, uuid_v4().unwrap());
    }

    #[test]
    fn codes_have_six_digits() {
        for _ in 0..1000 {
            let code = six_digit_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
            assert_ne!(code.as_bytes()[0], b'0');
        }
    }
}
