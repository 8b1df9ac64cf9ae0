//! A project's own S3-compatible bucket (spec §9.1, "external" storage): the settings in the
//! original's decrypted form, `{storageProvider, bucket, region, endpoint, accessKeyId,
//! secretAccessKey, publicUrlHost}`, stored as one secret encrypted with the master key under
//! `resources.storage.{isExternal, config}` of the project document (as the original), so the
//! credentials are never at rest in the clear and never shown (`Debug` redacts the secret key).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secrets::{EncryptedSecret, MasterKey, SecretError};

/// The provider names the original accepts for an S3-compatible bucket.
pub const S3_PROVIDERS: [&str; 2] = ["s3", "cloudflare_r2"];

/// A project's bucket, decrypted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ByoStorage {
    /// `s3` or `cloudflare_r2`.
    pub storage_provider: String,
    /// The bucket.
    pub bucket: String,
    /// The region (absent: `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The service's base URL (absent: AWS S3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The base URL objects are publicly served from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url_host: Option<String>,
}

impl fmt::Debug for ByoStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByoStorage")
            .field("storage_provider", &self.storage_provider)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("secret_access_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ByoStorage {
    /// Whether the settings are usable: a known provider, a bucket and both credentials.
    pub fn is_complete(&self) -> bool {
        S3_PROVIDERS.contains(&self.storage_provider.as_str())
            && !self.bucket.trim().is_empty()
            && !self.access_key_id.trim().is_empty()
            && !self.secret_access_key.is_empty()
    }
}

impl MasterKey {
    /// Encrypts a project's bucket settings.
    pub fn encrypt_storage(&self, settings: &ByoStorage) -> Result<EncryptedSecret, SecretError> {
        let plain = serde_json::to_vec(settings).map_err(|_| SecretError::Malformed)?;
        self.encrypt(&plain)
    }

    /// Decrypts a project's bucket settings; settings that are not an S3-compatible bucket
    /// (the original's Supabase form, say) are [`SecretError::Malformed`].
    pub fn decrypt_storage(&self, secret: &EncryptedSecret) -> Result<ByoStorage, SecretError> {
        let settings: ByoStorage =
            serde_json::from_slice(&self.decrypt(secret)?).map_err(|_| SecretError::Malformed)?;
        if settings.is_complete() { Ok(settings) } else { Err(SecretError::Malformed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ByoStorage {
        ByoStorage {
            storage_provider: "s3".into(),
            bucket: "b".into(),
            region: None,
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            public_url_host: None,
        }
    }

    #[test]
    fn round_trip_in_the_original_field_names_and_redacted() {
        let key = MasterKey::generate().unwrap();
        let secret = key.encrypt_storage(&settings()).unwrap();
        assert!(!secret.encrypted.contains(&hex::encode("very-secret")));
        assert_eq!(key.decrypt_storage(&secret).unwrap(), settings());
        let plain: serde_json::Value = serde_json::from_slice(&key.decrypt(&secret).unwrap()).unwrap();
        assert_eq!(plain["secretAccessKey"], "very-secret");
        assert_eq!(plain["storageProvider"], "s3");
        assert!(!format!("{:?}", settings()).contains("very-secret"));
    }

    #[test]
    fn supabase_settings_and_wrong_keys_are_refused() {
        let key = MasterKey::generate().unwrap();
        let supabase =
            key.encrypt_str(r#"{"storageUrl":"https://x.supabase.co","storageKey":"k","storageProvider":"supabase"}"#);
        assert_eq!(key.decrypt_storage(&supabase.unwrap()), Err(SecretError::Malformed));
        let other = MasterKey::generate().unwrap();
        assert_eq!(other.decrypt_storage(&key.encrypt_storage(&settings()).unwrap()), Err(SecretError::Decrypt));
    }
}
