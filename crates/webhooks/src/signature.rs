//! Signatures (spec §11.3): `X-urBackend-Signature: sha256=<hex HMAC-SHA256(secret, body)>` over
//! the exact bytes of the body sent, and a constant-time check for receivers.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header value for a body: `sha256=` and 64 lower-case hex characters.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, body)))
}

fn mac(secret: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; an empty MAC never verifies.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Whether a header value is the signature of the body, compared in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(given) = hex::decode(given) else { return false };
    let expected = mac(secret, body);
    !expected.is_empty() && bool::from(expected.as_slice().ct_eq(given.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_accepts_only_the_signature_of_these_bytes_with_this_secret() {
        let header = sign(b"s3cret-s3cret-16", br#"{"a":1}"#);
        assert!(verify(b"s3cret-s3cret-16", br#"{"a":1}"#, &header));
        assert!(!verify(b"s3cret-s3cret-17", br#"{"a":1}"#, &header));
        assert!(!verify(b"s3cret-s3cret-16", br#"{"a": 1}"#, &header));
        assert!(!verify(b"s3cret-s3cret-16", br#"{"a":1}"#, header.trim_start_matches("sha256=")));
        assert!(!verify(b"s3cret-s3cret-16", br#"{"a":1}"#, "sha256=zz"));
        assert!(!verify(b"s3cret-s3cret-16", br#"{"a":1}"#, &header[..header.len() - 2]));
    }
}
