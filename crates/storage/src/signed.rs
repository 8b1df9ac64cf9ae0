//! Signed upload tokens of the local backend: the `signedUrl` of `upload-request` is
//! `<public URL>/api/storage/signed/<token>`, and the token binds the project, the object path,
//! the declared size (the most bytes the PUT may carry), the content type and an expiry, under an
//! HMAC-SHA256 with the server's signing secret (shared by every server on one platform store).
//!
//! Form: `base64url(JSON claims) "." base64url(HMAC(secret, first part))`, compared in constant
//! time (`Mac::verify_slice`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::StorageError;

/// What a signed upload allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    /// The project.
    pub project_id: String,
    /// The object path (inside the project).
    pub path: String,
    /// The declared size: the most bytes the upload may carry.
    pub size: u64,
    /// The content type the PUT must carry.
    pub content_type: String,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Signs and verifies upload tokens.
pub struct Signer {
    secret: Vec<u8>,
}

impl Signer {
    /// A signer with this secret.
    pub fn new(secret: Vec<u8>) -> Signer {
        Signer { secret }
    }

    fn mac(&self) -> Result<Hmac<Sha256>, StorageError> {
        Hmac::<Sha256>::new_from_slice(&self.secret).map_err(|e| StorageError::Internal(format!("hmac key: {e}")))
    }

    /// The token of a grant.
    pub fn sign(&self, grant: &UploadGrant) -> Result<String, StorageError> {
        let claims = json!({
            "p": grant.project_id, "k": grant.path, "s": grant.size, "t": grant.content_type, "e": grant.expires_at,
        });
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = self.mac()?;
        mac.update(body.as_bytes());
        Ok(format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
    }

    /// The grant of a token whose signature verifies and which has not expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<UploadGrant, StorageError> {
        let (body, signature) = token.split_once('.').ok_or(StorageError::BadSignature)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| StorageError::BadSignature)?;
        let mut mac = self.mac()?;
        mac.update(body.as_bytes());
        mac.verify_slice(&signature).map_err(|_| StorageError::BadSignature)?;
        let claims = URL_SAFE_NO_PAD.decode(body).map_err(|_| StorageError::BadSignature)?;
        let claims: Value = serde_json::from_slice(&claims).map_err(|_| StorageError::BadSignature)?;
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned).ok_or(StorageError::BadSignature);
        let grant = UploadGrant {
            project_id: text("p")?,
            path: text("k")?,
            size: claims.get("s").and_then(Value::as_u64).ok_or(StorageError::BadSignature)?,
            content_type: text("t")?,
            expires_at: claims.get("e").and_then(Value::as_i64).ok_or(StorageError::BadSignature)?,
        };
        if now >= grant.expires_at {
            return Err(StorageError::Expired);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> UploadGrant {
        UploadGrant {
            project_id: "p1".into(),
            path: "p1/u_a.png".into(),
            size: 10,
            content_type: "image/png".into(),
            expires_at: 1_000,
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let signer = Signer::new(b"secret".to_vec());
        let token = signer.sign(&grant()).unwrap();
        assert_eq!(signer.verify(&token, 999).unwrap(), grant());
        assert!(matches!(signer.verify(&token, 1_000), Err(StorageError::Expired)));
    }

    #[test]
    fn tampering_is_refused() {
        let signer = Signer::new(b"secret".to_vec());
        let token = signer.sign(&grant()).unwrap();
        let (body, sig) = token.split_once('.').unwrap();
        // Another size, signed with nothing.
        let forged = URL_SAFE_NO_PAD
            .encode(json!({"p":"p1","k":"p1/u_a.png","s":999_999,"t":"image/png","e":1_000}).to_string());
        for bad in [
            format!("{forged}.{sig}"),
            format!("{body}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("{body}x.{sig}"),
            body.to_owned(),
            String::new(),
            format!("{body}.{sig}A"),
        ] {
            assert!(matches!(signer.verify(&bad, 0), Err(StorageError::BadSignature)), "{bad} accepted");
        }
        // Another server secret.
        assert!(matches!(Signer::new(b"other".to_vec()).verify(&token, 0), Err(StorageError::BadSignature)));
    }
}
