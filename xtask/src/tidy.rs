//! The repository rules, checked by `cargo xtask tidy`, by `cargo xtask ci` and by a `#[test]`.
//!
//! - Every `.rs` file under `crates/`, `bins/`, `xtask/` and `tests/` starts with a `//!` doc
//!   comment (after optional inner attributes and blank lines): a module says what it is for.
//! - No Rust file in the repository carries the `should_panic` or the `ignore` test attribute
//!   (also through `cfg_attr`): a test asserts on a returned error, and a test that cannot run
//!   here is skipped by name with the reason printed, never silently.
//! - No `.rs` file under `crates/` or `bins/` is longer than [`MAX_LINES`] lines: a nudge to split
//!   the module.
//! - No `.rs`, `.md` or `.toml` file has trailing whitespace.
//! - Every crate manifest under those four folders opts into the workspace lints with
//!   `[lints] workspace = true`.
//!
//! Each problem is reported as `path:line: message`. The walk skips `.git`, `target`,
//! `node_modules` and `.tools` (what `.ci/run` installs) folders and the default data folder
//! `data/` at the root. The rules are pure
//! functions of a file's path and text ([`check_file`], [`check_manifest`]), tested on made-up
//! files in `tidy/tests.rs`.

#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The longest a `.rs` file under `crates/` or `bins/` may be.
const MAX_LINES: usize = 800;

/// Folders that hold workspace crates: their `.rs` files need a `//!` doc, their manifests the
/// workspace lints.
const CRATE_FOLDERS: &[&str] = &["crates", "bins", "xtask", "tests"];

/// Folders whose `.rs` files are held to [`MAX_LINES`].
const LENGTH_FOLDERS: &[&str] = &["crates", "bins"];

/// Folders that are never walked, wherever they are.
const SKIPPED_FOLDERS: &[&str] = &[".git", "target", "node_modules", ".tools"];

/// Test attributes no Rust file may carry. The names are kept apart from the attribute syntax so
/// that this file does not trip its own rule.
const BANNED_ATTRIBUTES: &[(&str, &str)] = &[
    ("should_panic", "return and assert on an error instead of expecting a panic"),
    ("ignore", "a test that cannot run here is skipped by name with the reason printed, never silently"),
];

/// One broken rule, at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The path relative to the repository root, with `/` separators.
    pub(crate) path: String,
    /// 1-based.
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// `cargo xtask tidy`: checks the repository at `root` and prints every problem.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let (files, problems) = check_repository(root)?;
    if problems.is_empty() {
        println!("tidy: {files} files checked, no problem");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    bail!("tidy: {} problem(s), listed above", problems.len())
}

/// Checks every file of the repository at `root`; returns how many files were read and the
/// problems, in path order.
pub(crate) fn check_repository(root: &Path) -> anyhow::Result<(usize, Vec<Problem>)> {
    let mut paths = Vec::new();
    walk(root, root, &mut paths)?;
    paths.sort();
    let mut files = 0;
    let mut problems = Vec::new();
    for relative in paths {
        let Some(name) = relative.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let checked = name == "Cargo.toml" || [".rs", ".md", ".toml"].iter().any(|extension| name.ends_with(extension));
        if !checked {
            continue;
        }
        let path = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let text = fs::read_to_string(root.join(&relative)).with_context(|| format!("could not read {path}"))?;
        files += 1;
        problems.extend(check_file(&path, &text));
        if name == "Cargo.toml" && in_folders(&path, CRATE_FOLDERS) {
            problems.extend(check_manifest(&path, &text));
        }
    }
    Ok((files, problems))
}

/// Collects the files under `dir`, as paths relative to `root`.
fn walk(root: &Path, dir: &Path, paths: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("could not list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("could not list {}", dir.display()))?;
        let path = entry.path();
        let kind = entry.file_type().with_context(|| format!("could not stat {}", path.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            let skipped = SKIPPED_FOLDERS.contains(&name.as_ref()) || (dir == root && name == "data");
            if !skipped {
                walk(root, &path, paths)?;
            }
        } else if kind.is_file() {
            if let Ok(relative) = path.strip_prefix(root) {
                paths.push(relative.to_path_buf());
            }
        }
    }
    Ok(())
}

/// Whether `path` (relative, `/`-separated) lies under one of `folders` at the root.
fn in_folders(path: &str, folders: &[&str]) -> bool {
    path.split_once('/').is_some_and(|(first, _)| folders.contains(&first))
}

/// The rules that look at one file's text. `path` is relative to the root, `/`-separated.
pub(crate) fn check_file(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |line: usize, message: String| {
        problems.push(Problem { path: path.to_owned(), line, message });
    };

    let rust = path.ends_with(".rs");
    if rust && in_folders(path, CRATE_FOLDERS) {
        if let Err(line) = starts_with_module_doc(text) {
            problem(
                line,
                "a Rust file starts with a `//!` doc comment (after inner attributes) saying \
                 what the module is for"
                    .to_owned(),
            );
        }
    }
    if rust {
        for (number, line) in text.lines().enumerate() {
            for (attribute, advice) in BANNED_ATTRIBUTES {
                if has_attribute(line, attribute) {
                    problem(number + 1, format!("the `{attribute}` test attribute is not used here: {advice}"));
                }
            }
        }
    }
    if rust && in_folders(path, LENGTH_FOLDERS) {
        let count = text.lines().count();
        if count > MAX_LINES {
            problem(
                MAX_LINES + 1,
                format!(
                    "the file has {count} lines, more than {MAX_LINES}: split the module into \
                     smaller ones"
                ),
            );
        }
    }
    if rust || path.ends_with(".md") || path.ends_with(".toml") {
        for (number, line) in text.split('\n').enumerate() {
            if line.trim_end() != line {
                problem(number + 1, "trailing whitespace".to_owned());
            }
        }
    }
    problems
}

/// `Ok` when the first line that is neither blank nor part of an inner attribute is a `//!`
/// comment; otherwise the 1-based number of the offending line.
fn starts_with_module_doc(text: &str) -> Result<(), usize> {
    // How many `[` of an inner attribute are still open.
    let mut open = 0usize;
    let mut last = 0;
    for (number, line) in text.lines().enumerate() {
        last = number + 1;
        let trimmed = line.trim();
        if open > 0 || trimmed.starts_with("#![") {
            for character in trimmed.chars() {
                match character {
                    '[' => open += 1,
                    ']' => open = open.saturating_sub(1),
                    _ => {}
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        return if trimmed.starts_with("//!") { Ok(()) } else { Err(number + 1) };
    }
    Err(last.max(1))
}

/// Whether `line` carries the attribute `name`: `#[name`, `# [ name`, or `name` as a word inside a
/// `cfg_attr(…)`.
fn has_attribute(line: &str, name: &str) -> bool {
    let is_word_char = |character: char| character.is_alphanumeric() || character == '_';
    let word_at = |text: &str| text.strip_prefix(name).is_some_and(|rest| !rest.starts_with(is_word_char));
    let mut rest = line;
    while let Some(position) = rest.find('#') {
        let after = rest.get(position + 1..).unwrap_or_default();
        let after = after.trim_start();
        if let Some(inside) = after.strip_prefix('[') {
            if word_at(inside.trim_start()) {
                return true;
            }
        }
        rest = after;
    }
    if let Some((_, inside)) = line.split_once("cfg_attr(") {
        let mut words = inside.split(|character: char| !is_word_char(character));
        if words.any(|word| word == name) {
            return true;
        }
    }
    false
}

/// Checks that a crate manifest opts into the workspace lints: a `[lints]` table with
/// `workspace = true`, or `lints.workspace = true` / `lints = { workspace = true }` before the
/// first table.
pub(crate) fn check_manifest(path: &str, text: &str) -> Vec<Problem> {
    let compact = |line: &str| line.split('#').next().unwrap_or_default().replace([' ', '\t'], "");
    let mut table: Option<String> = None;
    let mut lints_line = None;
    for (number, line) in text.lines().enumerate() {
        let line = compact(line);
        if line.starts_with('[') {
            if line == "[lints]" {
                lints_line = Some(number + 1);
            }
            table = Some(line);
            continue;
        }
        let opted_in = match table.as_deref() {
            Some("[lints]") => line == "workspace=true",
            None => line == "lints.workspace=true" || line == "lints={workspace=true}",
            Some(_) => false,
        };
        if opted_in {
            return Vec::new();
        }
    }
    vec![Problem {
        path: path.to_owned(),
        line: lints_line.unwrap_or(1),
        message: "a crate manifest opts into the workspace lints: `[lints]` with \
                  `workspace = true`"
            .to_owned(),
    }]
}
