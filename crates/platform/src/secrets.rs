//! Secrets at rest (spec §13.6): AES-256-GCM with a 32-byte master key given in configuration
//! as 64 hex characters, a random 16-byte IV per secret, and the stored form of the original,
//! `{"encrypted": <hex ciphertext>, "iv": <hex>, "tag": <hex auth tag>}`, so that values written
//! by the original decrypt here and the other way round. A wrong key or tampered data is an
//! error, never a panic. A bring-your-own MongoDB URI is stored as the encryption of
//! `{"dbUri": "<uri>"}`, as the original did. Nothing here shows a key or a plaintext in its
//! `Debug` output.

use std::fmt;

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Tag};
use serde::{Deserialize, Serialize};

use crate::keys::random_32;

/// AES-256-GCM with the original's 16-byte IVs.
type Cipher = AesGcm<Aes256, U16>;

/// What can go wrong with a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The configured master key is not 64 hexadecimal characters.
    #[error("The encryption key must be 64 hexadecimal characters (32 bytes).")]
    InvalidMasterKey,
    /// The stored value is not hex of the expected sizes, or its plaintext is not what it
    /// should hold.
    #[error("The stored secret is malformed.")]
    Malformed,
    /// Authentication failed: a wrong key or tampered data.
    #[error("The stored secret could not be decrypted (wrong key or tampered data).")]
    Decrypt,
    /// The operating system's random source failed.
    #[error("the random number source is unavailable")]
    Random,
}

/// The master key secrets are encrypted with. `Debug` redacts it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A secret as stored: hex ciphertext, IV and tag. Its `Debug` shows sizes only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedSecret {
    /// The ciphertext, hex.
    pub encrypted: String,
    /// The 16-byte IV, hex.
    pub iv: String,
    /// The 16-byte GCM authentication tag, hex.
    pub tag: String,
}

impl fmt::Debug for EncryptedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedSecret({} hex chars)", self.encrypted.len())
    }
}

/// A decrypted secret (a database URI, say). `Debug` and `Display` redact it; read it with
/// [`SecretString::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a plaintext.
    pub fn new(text: impl Into<String>) -> SecretString {
        SecretString(text.into())
    }

    /// The plaintext.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl MasterKey {
    /// The key from its configured form: exactly 64 hexadecimal characters (surrounding white
    /// space ignored).
    pub fn from_hex(text: &str) -> Result<MasterKey, SecretError> {
        let text = text.trim();
        let mut key = [0u8; 32];
        if text.len() != 64 {
            return Err(SecretError::InvalidMasterKey);
        }
        hex::decode_to_slice(text, &mut key).map_err(|_| SecretError::InvalidMasterKey)?;
        Ok(MasterKey(key))
    }

    /// A new random key (for a first-run configuration).
    pub fn generate() -> Result<MasterKey, SecretError> {
        random_32().map(MasterKey).map_err(|_| SecretError::Random)
    }

    /// The key in its configured form, 64 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn cipher(&self) -> Cipher {
        Cipher::new(&self.0.into())
    }

    /// Encrypts with a fresh random IV.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<EncryptedSecret, SecretError> {
        let random = random_32().map_err(|_| SecretError::Random)?;
        let iv: GenericArray<u8, U16> =
            GenericArray::from_exact_iter(random.into_iter().take(16)).ok_or(SecretError::Random)?;
        let mut buffer = plaintext.to_vec();
        let tag = self.cipher().encrypt_in_place_detached(&iv, b"", &mut buffer).map_err(|_| SecretError::Malformed)?;
        Ok(EncryptedSecret { encrypted: hex::encode(buffer), iv: hex::encode(iv), tag: hex::encode(tag) })
    }

    /// Decrypts and authenticates.
    pub fn decrypt(&self, secret: &EncryptedSecret) -> Result<Vec<u8>, SecretError> {
        let mut buffer = hex::decode(&secret.encrypted).map_err(|_| SecretError::Malformed)?;
        let iv_bytes = hex::decode(&secret.iv).map_err(|_| SecretError::Malformed)?;
        let tag_bytes = hex::decode(&secret.tag).map_err(|_| SecretError::Malformed)?;
        let iv: GenericArray<u8, U16> = GenericArray::from_exact_iter(iv_bytes).ok_or(SecretError::Malformed)?;
        let tag: Tag = GenericArray::from_exact_iter(tag_bytes).ok_or(SecretError::Malformed)?;
        self.cipher().decrypt_in_place_detached(&iv, b"", &mut buffer, &tag).map_err(|_| SecretError::Decrypt)?;
        Ok(buffer)
    }

    /// Encrypts a text.
    pub fn encrypt_str(&self, plaintext: &str) -> Result<EncryptedSecret, SecretError> {
        self.encrypt(plaintext.as_bytes())
    }

    /// Decrypts a text.
    pub fn decrypt_str(&self, secret: &EncryptedSecret) -> Result<SecretString, SecretError> {
        String::from_utf8(self.decrypt(secret)?).map(SecretString).map_err(|_| SecretError::Malformed)
    }

    /// Encrypts a bring-your-own MongoDB URI in the original's form, `{"dbUri": "<uri>"}`.
    pub fn encrypt_db_uri(&self, uri: &str) -> Result<EncryptedSecret, SecretError> {
        self.encrypt(serde_json::json!({ "dbUri": uri }).to_string().as_bytes())
    }

    /// Decrypts a bring-your-own MongoDB URI stored by [`MasterKey::encrypt_db_uri`] (or by the
    /// original).
    pub fn decrypt_db_uri(&self, secret: &EncryptedSecret) -> Result<SecretString, SecretError> {
        let plain = self.decrypt(secret)?;
        let value: serde_json::Value = serde_json::from_slice(&plain).map_err(|_| SecretError::Malformed)?;
        value.get("dbUri").and_then(serde_json::Value::as_str).map(SecretString::new).ok_or(SecretError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const URI: &str = "mongodb+srv://u:p@cluster0.example.net/app";

    #[test]
    fn round_trip() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let secret = key.encrypt_str("hello").unwrap();
        assert_eq!(secret.iv.len(), 32);
        assert_eq!(secret.tag.len(), 32);
        assert_eq!(secret.encrypted.len(), 10);
        assert_eq!(key.decrypt_str(&secret).unwrap().expose(), "hello");
        assert_ne!(key.encrypt_str("hello").unwrap().iv, secret.iv, "fresh IV each time");
        let uri = key.encrypt_db_uri(URI).unwrap();
        assert_eq!(key.decrypt_db_uri(&uri).unwrap().expose(), URI);
    }

    #[test]
    fn decrypts_what_the_original_wrote() {
        // Node: crypto.createCipheriv("aes-256-gcm", key, iv) over JSON.stringify({dbUri}).
        let stored = EncryptedSecret {
            encrypted: "518147de4dbfa454f9bc72de8373e2f4e06e300b080e7e8388281af67a5953f478f49453bbb6c7dc83795cc7362cd284355bd712f678".into(),
            iv: "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf".into(),
            tag: "b746a306cc73c4d4d6d68aa9d523edad".into(),
        };
        let key = MasterKey::from_hex(KEY).unwrap();
        assert_eq!(key.decrypt_db_uri(&stored).unwrap().expose(), URI);
    }

    #[test]
    fn wrong_key_and_tampering_are_errors() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let other = MasterKey::generate().unwrap();
        let secret = key.encrypt_db_uri(URI).unwrap();
        assert_eq!(other.decrypt(&secret), Err(SecretError::Decrypt));

        let mut flipped = secret.clone();
        let first = u8::from_str_radix(&flipped.encrypted[..2], 16).unwrap() ^ 1;
        flipped.encrypted.replace_range(..2, &format!("{first:02x}"));
        assert_eq!(key.decrypt(&flipped), Err(SecretError::Decrypt));

        let mut bad_tag = secret.clone();
        bad_tag.tag = "00".repeat(16);
        assert_eq!(key.decrypt(&bad_tag), Err(SecretError::Decrypt));

        for broken in [
            EncryptedSecret { iv: "zz".into(), ..secret.clone() },
            EncryptedSecret { iv: "00".repeat(12), ..secret.clone() },
            EncryptedSecret { tag: "00".repeat(15), ..secret.clone() },
            EncryptedSecret { encrypted: "abc".into(), ..secret.clone() },
        ] {
            assert_eq!(key.decrypt(&broken), Err(SecretError::Malformed));
        }
        let not_json = key.encrypt_str("not json").unwrap();
        assert_eq!(key.decrypt_db_uri(&not_json), Err(SecretError::Malformed));
    }

    #[test]
    fn master_key_must_be_64_hex() {
        assert!(MasterKey::from_hex(&format!(" {KEY}\n")).is_ok());
        for bad in ["", "00", &KEY[..63], &format!("{KEY}00"), &"zz".repeat(32), &"é".repeat(32)] {
            assert_eq!(MasterKey::from_hex(bad).err(), Some(SecretError::InvalidMasterKey), "{bad}");
        }
        let key = MasterKey::generate().unwrap();
        assert_eq!(MasterKey::from_hex(&key.to_hex()).unwrap().0, key.0);
    }

    #[test]
    fn debug_redacts() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let uri = key.decrypt_db_uri(&key.encrypt_db_uri(URI).unwrap()).unwrap();
        for shown in [format!("{key:?}"), format!("{uri:?}"), format!("{uri}")] {
            assert!(!shown.contains("0102") && !shown.contains("mongodb"), "{shown}");
        }
    }
}
