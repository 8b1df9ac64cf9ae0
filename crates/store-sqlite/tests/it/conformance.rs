//! The shared conformance suite on a temporary database file.

use store::conformance::{CASES, run_all};

use crate::common::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_without_skips() {
    let dir = TempDir::new("conformance");
    let store = dir.store();
    let started = std::time::Instant::now();
    let report = run_all(&store, &|_| None).await;
    println!("{report}in {:?}", started.elapsed());
    assert!(report.is_success(), "{report}");
    assert!(report.skipped.is_empty(), "the embedded store skips nothing: {report}");
    assert_eq!(report.passed.len(), CASES.len());
}
