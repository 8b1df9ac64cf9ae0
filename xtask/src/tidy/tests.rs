//! Tests of the repository rules: the repository itself is tidy, and each rule catches a made-up
//! file that breaks it (and accepts one that does not), reporting the right line.
//!
//! Banned attributes are spelled with `concat!`, so that this file does not trip the rule.

use super::*;

/// The repository rules, enforced by `cargo test` as well as by `cargo xtask tidy`.
#[test]
fn the_repository_is_tidy() {
    let root = crate::project_root().unwrap();
    let (files, problems) = check_repository(&root).unwrap();
    let listed: String = problems.iter().map(|problem| format!("\n  {problem}")).collect();
    assert!(problems.is_empty(), "tidy problems:{listed}");
    // The walk did find the repository (this very file at least).
    assert!(files > 3, "only {files} files checked");
}

fn lines_of(problems: &[Problem]) -> Vec<usize> {
    problems.iter().map(|problem| problem.line).collect()
}

#[test]
fn a_rust_file_needs_a_module_doc_first() {
    let good = "//! What this is.\n\nfn f() {}\n";
    assert_eq!(check_file("crates/a/src/lib.rs", good), []);
    let with_attributes = "#![forbid(unsafe_code)]\n#![cfg_attr(\n    docsrs,\n    feature(doc_cfg)\n)]\n\n//! Doc.\n";
    assert_eq!(check_file("crates/a/src/lib.rs", with_attributes), []);

    let bad = "\n// A plain comment.\n//! Doc too late.\n";
    let problems = check_file("crates/a/src/lib.rs", bad);
    assert_eq!(lines_of(&problems), [2]);
    assert_eq!(
        problems[0].to_string(),
        "crates/a/src/lib.rs:2: a Rust file starts with a `//!` doc comment (after inner \
         attributes) saying what the module is for"
    );
    assert_eq!(lines_of(&check_file("xtask/src/x.rs", "")), [1]);
    assert_eq!(lines_of(&check_file("tests/src/lib.rs", "use x;\n")), [1]);
    assert_eq!(lines_of(&check_file("bins/b/src/main.rs", "fn main() {}\n")), [1]);
    // Outside the crate folders the rule does not apply.
    assert_eq!(check_file("docs/example.rs", "fn main() {}\n"), []);
}

#[test]
fn banned_test_attributes_are_reported_with_their_line() {
    // `concat!` keeps the attribute names apart, so that this file passes its own rule.
    let text = [
        "//! Doc.",
        "#[test]",
        concat!("#[should_", "panic]"),
        "fn a() {}",
        concat!("#[ig", "nore = \"slow\"]"),
        concat!("#[cfg_attr(miri, ig", "nore)]"),
        concat!("#[ should_", "panic(expected = \"x\")]"),
    ]
    .join("\n");
    let problems = check_file("anywhere/src/lib.rs", &text);
    assert_eq!(lines_of(&problems), [3, 5, 6, 7]);
    assert!(problems[0].message.contains("should_panic"), "{}", problems[0]);
    assert!(problems[1].message.contains("ignore"), "{}", problems[1]);

    // Look-alikes are fine.
    let fine = "//! Doc.\n#[ignored_by_nobody]\n// ignore this comment\nlet ignore = 1;\n#[test]\n";
    assert_eq!(check_file("crates/a/src/lib.rs", fine), []);
}

#[test]
fn long_files_are_reported_in_crates_and_bins_only() {
    let long = format!("//! Doc.\n{}", "fn f() {}\n".repeat(MAX_LINES));
    let problems = check_file("crates/a/src/lib.rs", &long);
    assert_eq!(lines_of(&problems), [MAX_LINES + 1]);
    assert!(problems[0].message.contains("801 lines"), "{}", problems[0]);
    assert_eq!(lines_of(&check_file("bins/b/src/main.rs", &long)), [MAX_LINES + 1]);
    assert_eq!(check_file("xtask/src/big.rs", &long), []);

    let just_fits = format!("//! Doc.\n{}", "fn f() {}\n".repeat(MAX_LINES - 1));
    assert_eq!(check_file("crates/a/src/lib.rs", &just_fits), []);
}

#[test]
fn trailing_whitespace_is_reported_in_rust_markdown_and_toml() {
    let text = "//! Doc. \nfn f() {}\t\nok\r\nfine\n";
    assert_eq!(lines_of(&check_file("crates/a/src/lib.rs", text)), [1, 2, 3]);
    assert_eq!(lines_of(&check_file("docs/A.md", "# A  \n\ntext\n")), [1]);
    assert_eq!(lines_of(&check_file("Cargo.toml", "[workspace] \n")), [1]);
    assert_eq!(check_file(".ci/run", "echo hi  \n"), []);
}

#[test]
fn a_crate_manifest_needs_the_workspace_lints() {
    let good = "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n\n[dependencies]\n";
    assert_eq!(check_manifest("crates/a/Cargo.toml", good), []);
    let dotted = "lints.workspace = true # comment\n[package]\nname = \"a\"\n";
    assert_eq!(check_manifest("crates/a/Cargo.toml", dotted), []);

    let missing = "[package]\nname = \"a\"\n";
    assert_eq!(
        check_manifest("crates/a/Cargo.toml", missing)[0].to_string(),
        "crates/a/Cargo.toml:1: a crate manifest opts into the workspace lints: `[lints]` with \
         `workspace = true`"
    );
    let local = "[package]\nname = \"a\"\n\n[lints]\n[lints.rust]\nunsafe_code = \"forbid\"\n";
    assert_eq!(lines_of(&check_manifest("crates/a/Cargo.toml", local)), [4]);
    let elsewhere = "[package]\nname = \"a\"\nworkspace = true\n[dependencies]\n";
    assert_eq!(lines_of(&check_manifest("crates/a/Cargo.toml", elsewhere)), [1]);
}

#[test]
fn the_walk_skips_build_output_and_reads_only_the_checked_kinds() {
    let root = std::env::temp_dir().join(format!("xtask-tidy-walk-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    for dir in ["crates/a/src", "crates/a/target/debug", "node_modules/x", "data", "docs"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    let files = [
        ("crates/a/src/lib.rs", "no module doc\n"),
        ("crates/a/Cargo.toml", "[package]\nname = \"a\"\n"),
        ("crates/a/target/debug/build.rs", "no module doc\n"),
        ("node_modules/x/README.md", "trailing \n"),
        ("data/notes.md", "trailing \n"),
        ("docs/ok.md", "fine\n"),
        ("docs/picture.txt", "trailing \n"),
    ];
    for (path, text) in files {
        fs::write(root.join(path), text).unwrap();
    }
    let (count, problems) = check_repository(&root).unwrap();
    fs::remove_dir_all(&root).unwrap();

    let found: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        found.iter().map(|line| line.split(':').take(2).collect::<Vec<_>>().join(":")).collect::<Vec<_>>(),
        ["crates/a/Cargo.toml:1", "crates/a/src/lib.rs:1"],
        "{found:#?}"
    );
    assert_eq!(count, 3);
}
