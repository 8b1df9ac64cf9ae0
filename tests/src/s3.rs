//! A real S3 service for the storage tests: moto in server mode (`python -m moto.server`) on a
//! free loopback port, with a bucket created through its S3 API, and plain HTTP reads of what the
//! bucket holds, to check the server's work from outside. Moto checks no signatures, but refuses
//! anonymous reads of private objects (and fails on public-read bucket policies), so the reads
//! carry an `Authorization` header naming an access key: they read as the bucket's owner.
//!
//! The interpreter is `URBACKEND_TEST_PYTHON` (`.ci/run` installs moto into its virtual
//! environment), else `python3`. When moto cannot be started the test fails with the reason; it
//! never passes or skips silently.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TempDir;

/// A running moto server, stopped on drop.
pub struct S3Service {
    child: Child,
    _dir: TempDir,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// An object read back: status and bytes.
pub struct Object {
    /// The HTTP status (404: no such object).
    pub status: u16,
    /// The body.
    pub bytes: Vec<u8>,
    /// The `Content-Type` the service serves it with.
    pub content_type: Option<String>,
}

fn python() -> String {
    std::env::var("URBACKEND_TEST_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".to_owned())
}

fn cannot_start(python: &str, why: &str) -> String {
    format!(
        "the S3 tests need moto's server (moto[server] 5.2.5) under {python}: {why}\n\
         `.ci/run` installs it into .tools/py; or set URBACKEND_TEST_PYTHON to an interpreter that has it"
    )
}

/// What moto needs to take a request as the bucket owner's (it does not check the signature).
const OWNER: &str = "AWS4-HMAC-SHA256 Credential=moto-key/20260101/us-east-1/s3/aws4_request, \
                     SignedHeaders=host, Signature=00";

/// An object (or listing) at a URL of the S3 service, read as the bucket's owner.
pub fn get(url: &str) -> Object {
    let result = ureq::get(url).set("Authorization", OWNER).timeout(Duration::from_secs(10)).call();
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("GET {url}: {error}"),
    };
    let status = response.status();
    let content_type = response.header("content-type").map(str::to_owned);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).expect("reading the object");
    Object { status, bytes, content_type }
}

impl S3Service {
    /// Starts moto and waits until it answers.
    pub fn start() -> S3Service {
        let python = python();
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = TempDir::new("moto");
        let mut child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}", cannot_start(&python, &format!("could not run it: {e}"))));
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ureq::get(&format!("{endpoint}/")).timeout(Duration::from_secs(2)).call().is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{}", cannot_start(&python, &format!("it exited with {status}")));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{}", cannot_start(&python, "it did not answer within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        S3Service { child, _dir: dir, endpoint }
    }

    /// Creates a bucket (`PUT /<bucket>`).
    pub fn create_bucket(&self, bucket: &str) {
        let url = format!("{}/{bucket}", self.endpoint);
        let response = ureq::put(&url).timeout(Duration::from_secs(10)).call();
        assert!(response.is_ok(), "creating the bucket {bucket}: {response:?}");
    }

    /// An object of a bucket.
    pub fn object(&self, bucket: &str, key: &str) -> Object {
        get(&format!("{}/{bucket}/{key}", self.endpoint))
    }

    /// The keys of a bucket under a prefix.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listed = get(&format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint));
        assert_eq!(listed.status, 200, "listing {bucket}");
        let text = String::from_utf8_lossy(&listed.bytes).into_owned();
        text.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()).map(str::to_owned).collect()
    }
}

impl Drop for S3Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
