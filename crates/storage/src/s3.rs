//! S3-compatible object stores (AWS S3, Cloudflare R2, MinIO, …) through `object_store`'s
//! `AmazonS3`: the settings of one bucket ([`S3Settings`], the server's own or a project's),
//! the client built from them (path-style addressing, region `auto` unless given, over rustls
//! with ring), presigned `PUT` URLs for `upload-request`, and the public URL of an object
//! (`<public URL host>/<path>`, else `<endpoint>/<bucket>/<path>`, else the AWS virtual-host form
//! `https://<bucket>.s3.<region>.amazonaws.com/<path>`, as the original).
//!
//! A presigned `PUT` binds the method, the object path, the expiry and the `Content-Type`; not
//! the size. Size and type (from the bytes) are checked at `upload-confirm`, which deletes an
//! object that fails them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::{Method, SignedUrlOptions, Signer};
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use crate::error::StorageError;

/// The region when none is given (the original's default; what R2 expects).
pub const DEFAULT_REGION: &str = "auto";

/// Where one S3-compatible bucket is and how to reach it. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The bucket.
    pub bucket: String,
    /// The service's base URL (`https://<account>.r2.cloudflarestorage.com`,
    /// `http://127.0.0.1:9000`); none: AWS S3 of the region.
    pub endpoint: Option<String>,
    /// The region (none: [`DEFAULT_REGION`]).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The base URL objects are publicly served from (a CDN or custom domain), if any.
    pub public_url_host: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("public_url_host", &self.public_url_host)
            .finish()
    }
}

/// Text that is present and not blank.
fn given(text: Option<&String>) -> Option<&str> {
    text.map(|s| s.trim()).filter(|s| !s.is_empty())
}

impl S3Settings {
    /// The region in use.
    pub fn region(&self) -> &str {
        given(self.region.as_ref()).unwrap_or(DEFAULT_REGION)
    }

    /// The base of every object's public URL (no trailing `/`).
    pub fn public_base(&self) -> String {
        if let Some(host) = given(self.public_url_host.as_ref()) {
            return host.trim_end_matches('/').to_owned();
        }
        if let Some(endpoint) = given(self.endpoint.as_ref()) {
            return format!("{}/{}", endpoint.trim_end_matches('/'), self.bucket);
        }
        format!("https://{}.s3.{}.amazonaws.com", self.bucket, self.region())
    }

    /// The client of the bucket.
    pub fn build(&self) -> Result<S3Bucket, StorageError> {
        if self.bucket.trim().is_empty() || self.access_key_id.is_empty() || self.secret_access_key.is_empty() {
            return Err(StorageError::Internal("S3 storage needs a bucket and credentials".into()));
        }
        // reqwest is built without a crypto provider of its own: ring, process-wide (a second
        // install is refused, which is fine: one is in place).
        let _already = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(self.bucket.trim())
            .with_region(self.region())
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_access_key)
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = given(self.endpoint.as_ref()) {
            builder =
                builder.with_endpoint(endpoint.trim_end_matches('/')).with_allow_http(endpoint.starts_with("http://"));
        }
        Ok(S3Bucket { store: Arc::new(builder.build()?), public_base: self.public_base() })
    }
}

/// A bucket's client and public URL base.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    pub(crate) store: Arc<AmazonS3>,
    public_base: String,
}

impl S3Bucket {
    /// The public URL of an object.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}/{path}", self.public_base)
    }

    /// A presigned `PUT` URL of an object, valid for `ttl_seconds`, bound to `content_type`: the
    /// bucket refuses the upload unless it carries exactly that `Content-Type` (both official
    /// SDKs send the type they asked for), so an object cannot be served with a type other than
    /// the one the request declared. The size cannot be bound in a presigned URL; the
    /// confirmation checks it.
    pub async fn presigned_put(
        &self,
        path: &str,
        content_type: &str,
        ttl_seconds: i64,
    ) -> Result<String, StorageError> {
        let ttl = Duration::from_secs(u64::try_from(ttl_seconds.max(1)).unwrap_or(1));
        let value = HeaderValue::from_str(content_type.trim())
            .map_err(|_| StorageError::BadRequest("filename, contentType, and size are required."))?;
        let mut options = SignedUrlOptions::default();
        options.signed_headers.insert(CONTENT_TYPE, value);
        let url = self.store.signed_url_opts(Method::PUT, &Path::from(path), ttl, &options).await?;
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> S3Settings {
        S3Settings {
            bucket: "files".into(),
            endpoint: None,
            region: None,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            public_url_host: None,
        }
    }

    #[test]
    fn public_urls_follow_the_original() {
        let mut s = settings();
        assert_eq!(s.public_base(), "https://files.s3.auto.amazonaws.com");
        s.region = Some("eu-west-1".into());
        assert_eq!(s.public_base(), "https://files.s3.eu-west-1.amazonaws.com");
        s.endpoint = Some("http://127.0.0.1:9000/".into());
        assert_eq!(s.public_base(), "http://127.0.0.1:9000/files");
        s.public_url_host = Some("https://cdn.example.com/".into());
        assert_eq!(s.build().unwrap().public_url("p/x.png"), "https://cdn.example.com/p/x.png");
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", settings()).contains("wJalr"));
    }

    #[tokio::test]
    async fn presigned_urls_are_path_style_and_expire() {
        let mut s = settings();
        s.endpoint = Some("http://127.0.0.1:9000".into());
        let url = s.build().unwrap().presigned_put("p/u_a.png", "image/png", 600).await.unwrap();
        assert!(url.starts_with("http://127.0.0.1:9000/files/p/u_a.png?"), "{url}");
        assert!(url.contains("X-Amz-Expires=600") && url.contains("X-Amz-Signature="), "{url}");
        assert!(url.contains("X-Amz-SignedHeaders=content-type%3Bhost"), "the type is bound: {url}");
        assert!(!url.contains("wJalr"), "{url}");
    }
}
