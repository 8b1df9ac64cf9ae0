//! The dependency-direction check: crates depend downward only, and the pure crates stay pure.
//!
//! [`Graph::load`] reads `cargo metadata --format-version 1 --locked` into a small model: every
//! package of the resolve, whether it is a workspace crate, and its *normal* dependencies only.
//! Dev- and build-dependencies are left out, for a crate's closure and for every dependency's
//! closure alike: they never reach a user of the crate. [`check`] is a pure function over that
//! model, so the tests run it on the real workspace and on mutated copies of it.
//!
//! The rules:
//!
//! 1. The pure crates (`rls-core`, `query`) do no I/O: no crate of [`IO_CRATES`] and no `actix*`
//!    crate may be in their normal closure, and no workspace crate but the other pure one.
//! 2. Every direct normal edge between workspace crates must be allowed by [`LAYERS`], the
//!    layering table; a workspace crate missing from the table is a violation too. No library
//!    crate may depend on `api-actix` or the `urbackend` binary, not even transitively, and
//!    workspace crates form no cycle.
//! 3. Each violation is one line naming the crate, the forbidden dependency and the shortest path
//!    through which it arrives, as in `rls-core -> serde_json -> tokio`.
//!
//! `cargo metadata` reports one resolve for the whole workspace, with features unified across
//! all members, so an optional dependency switched on by one crate shows in the closure of every
//! crate that reaches the package. The check may therefore report more than a crate built alone
//! would pull in, never less; a workspace build compiles that feature in anyway.

#[cfg(test)]
mod tests;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

/// The layering table: for each workspace crate, its layer and the workspace crates it may use
/// as direct normal dependencies. One line per crate; a new crate gets its line in the change
/// that adds it (and each crate's `Cargo.toml` repeats its rule in a comment).
#[rustfmt::skip]
const LAYERS: &[(&str, Layer, Uses)] = &[
    ("rls-core",        Layer::Pure,    Uses::Only(&["query"])),
    ("query",           Layer::Pure,    Uses::Only(&["rls-core"])),
    ("store",           Layer::Library, Uses::Only(&["rls-core", "query"])),
    ("store-sqlite",    Layer::Library, Uses::Only(&["store", "rls-core", "query"])),
    ("store-mongo",     Layer::Library, Uses::Only(&["store", "rls-core", "query"])),
    ("auth",            Layer::Library, Uses::Only(&["platform", "store", "rls-core", "query"])),
    ("platform",        Layer::Library, Uses::Only(&["store", "rls-core", "query"])),
    ("dataplane",       Layer::Library, Uses::Only(&["platform", "store", "rls-core", "query"])),
    ("mail",            Layer::Library, Uses::Only(&["platform", "store", "rls-core", "query"])),
    ("storage",         Layer::Library, Uses::Only(&["store", "rls-core", "query"])),
    ("analytics",       Layer::Library, Uses::Only(&["platform", "store", "rls-core", "query"])),
    ("webhooks",        Layer::Library, Uses::Only(&["analytics", "platform", "store", "rls-core", "query"])),
    ("api-actix",       Layer::Library, Uses::AllLibraries),
    ("urbackend",       Layer::Binary,  Uses::AllLibraries),
    ("xtask",           Layer::Tool,    Uses::Only(&[])),
    ("urbackend-tests", Layer::Tests,   Uses::Anything),
];

/// Crates that do I/O (async runtimes, sockets, HTTP, databases, object storage): none may be in
/// a pure crate's normal closure. Every `actix` crate is banned as well (see [`is_io_crate`]).
const IO_CRATES: &[&str] =
    &["tokio", "mio", "hyper", "reqwest", "mongodb", "bson", "rusqlite", "libsqlite3-sys", "object_store", "socket2"];

/// The crates on top of the layering: no library crate may reach them.
const TOP_LEVEL: &[&str] = &["api-actix", "urbackend"];

/// Where a workspace crate sits in the layering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// No I/O: may use only the other pure crate among workspace crates.
    Pure,
    /// A library crate; must not reach the top-level crates.
    Library,
    /// The `urbackend` binary.
    Binary,
    /// The project's automation.
    Tool,
    /// The black-box test package.
    Tests,
}

/// Which workspace crates a crate may use directly.
#[derive(Debug)]
enum Uses {
    /// Exactly these.
    Only(&'static [&'static str]),
    /// Every crate whose layer is [`Layer::Pure`] or [`Layer::Library`].
    AllLibraries,
    /// Any workspace crate.
    Anything,
}

impl Uses {
    fn allows(&self, dependency: &str) -> bool {
        match self {
            Uses::Only(crates) => crates.contains(&dependency),
            Uses::AllLibraries => matches!(layer_of(dependency), Some((Layer::Pure | Layer::Library, _))),
            Uses::Anything => true,
        }
    }
}

fn layer_of(name: &str) -> Option<(Layer, &'static Uses)> {
    LAYERS.iter().find(|(krate, _, _)| *krate == name).map(|(_, layer, uses)| (*layer, uses))
}

fn is_io_crate(name: &str) -> bool {
    IO_CRATES.contains(&name) || name == "actix" || name.starts_with("actix-")
}

/// The packages of a resolve and their normal dependency edges.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    packages: Vec<Package>,
}

#[derive(Debug, Clone)]
struct Package {
    name: String,
    /// Whether it is a member of the workspace.
    member: bool,
    /// Indices (into [`Graph::packages`]) of its normal dependencies.
    deps: BTreeSet<usize>,
}

/// The packages a breadth-first search from `start` reached, each with the package it was
/// reached from. `start` itself is in `parents` only when a cycle leads back to it.
struct Reach {
    start: usize,
    parents: BTreeMap<usize, usize>,
}

impl Graph {
    /// Runs `cargo metadata` in the workspace at `root` and builds the graph from its output.
    pub(crate) fn load(root: &Path) -> anyhow::Result<Graph> {
        let output = crate::cargo(root)
            .args(["metadata", "--format-version", "1", "--locked"])
            .output()
            .context("could not start `cargo metadata`")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata --format-version 1 --locked` exited with {}:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).context("`cargo metadata` printed something that is not JSON")?;
        Graph::from_metadata(&metadata)
    }

    /// Builds the graph from the JSON that `cargo metadata --format-version 1` prints.
    ///
    /// An edge is kept when one of its `dep_kinds` has a `null` kind (a normal dependency, on any
    /// target); edges that are only dev- or build-dependencies are dropped.
    pub(crate) fn from_metadata(metadata: &Value) -> anyhow::Result<Graph> {
        let members: BTreeSet<&str> = array(metadata, "workspace_members")?
            .iter()
            .map(|id| id.as_str().context("a workspace member id is not a string"))
            .collect::<anyhow::Result<_>>()?;
        let mut packages = Vec::new();
        let mut index = BTreeMap::new();
        for package in array(metadata, "packages")? {
            let id = string(package, "id")?;
            index.insert(id, packages.len());
            packages.push(Package {
                name: string(package, "name")?.to_owned(),
                member: members.contains(id),
                deps: BTreeSet::new(),
            });
        }
        let resolve =
            metadata.get("resolve").context("`cargo metadata` has no `resolve` (was it run with --no-deps?)")?;
        for node in array(resolve, "nodes")? {
            let from = lookup(&index, string(node, "id")?)?;
            let mut deps = BTreeSet::new();
            for dep in array(node, "deps")? {
                let normal = array(dep, "dep_kinds")?.iter().any(|kind| kind.get("kind").is_some_and(Value::is_null));
                if normal {
                    deps.insert(lookup(&index, string(dep, "pkg")?)?);
                }
            }
            if let Some(package) = packages.get_mut(from) {
                package.deps = deps;
            }
        }
        Ok(Graph { packages })
    }

    /// The workspace crates, with their indices.
    fn members(&self) -> impl Iterator<Item = (usize, &Package)> {
        self.packages.iter().enumerate().filter(|(_, package)| package.member)
    }

    fn name(&self, index: usize) -> &str {
        self.packages.get(index).map_or("<unknown package>", |package| package.name.as_str())
    }

    fn is_member(&self, index: usize) -> bool {
        self.packages.get(index).is_some_and(|package| package.member)
    }

    /// Breadth-first search over normal edges from `start`.
    fn reach(&self, start: usize) -> Reach {
        let mut parents = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            let Some(package) = self.packages.get(current) else {
                continue;
            };
            for &dep in &package.deps {
                if let Entry::Vacant(vacant) = parents.entry(dep) {
                    vacant.insert(current);
                    if dep != start {
                        queue.push_back(dep);
                    }
                }
            }
        }
        Reach { start, parents }
    }

    /// The names along the shortest path from `reach.start` to `to` (both included).
    fn path(&self, reach: &Reach, to: usize) -> Vec<String> {
        let mut names = vec![self.name(to).to_owned()];
        let mut current = to;
        while let Some(&parent) = reach.parents.get(&current) {
            names.push(self.name(parent).to_owned());
            if parent == reach.start {
                break;
            }
            current = parent;
        }
        names.reverse();
        names
    }
}

fn array<'a>(value: &'a Value, key: &str) -> anyhow::Result<&'a Vec<Value>> {
    value
        .get(key)
        .and_then(Value::as_array)
        .with_context(|| format!("`cargo metadata`: `{key}` is missing or not an array"))
}

fn string<'a>(value: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("`cargo metadata`: `{key}` is missing or not a string"))
}

fn lookup(index: &BTreeMap<&str, usize>, id: &str) -> anyhow::Result<usize> {
    index.get(id).copied().with_context(|| format!("`cargo metadata`: package `{id}` is not in `packages`"))
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Violation {
    /// A workspace crate that has no line in [`LAYERS`].
    MissingFromTable { krate: String },
    /// `krate` has `dependency` in its normal closure, against `rule`; `path` runs from `krate`
    /// to `dependency`.
    Forbidden { krate: String, dependency: String, rule: Rule, path: Vec<String> },
    /// `krate` depends on itself; `path` starts and ends with it.
    Cycle { krate: String, path: Vec<String> },
}

/// The rule a [`Violation::Forbidden`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rule {
    /// A pure crate reaches a crate that does I/O.
    PureDoesNoIo,
    /// A pure crate reaches a workspace crate other than the pure ones.
    PureUsesOnlyPure,
    /// A library crate reaches `api-actix` or the binary.
    NothingDependsOnTop,
    /// A direct workspace edge that the layering table does not allow.
    EdgeNotInTable,
}

impl Rule {
    /// Why the rule exists, as the middle of a violation's line.
    fn why(self, krate: &str) -> String {
        let why = match self {
            Rule::PureDoesNoIo => {
                "a pure crate does no I/O, so no async runtime, socket, HTTP, database or object-storage crate \
                 may be among its normal dependencies"
            }
            Rule::PureUsesOnlyPure => {
                "a pure crate may use no workspace crate but the other pure one (rls-core, query)"
            }
            Rule::NothingDependsOnTop => {
                "no library crate may depend on api-actix or the urbackend binary, not even transitively"
            }
            Rule::EdgeNotInTable => {
                let allowed = match layer_of(krate) {
                    Some((_, Uses::Only([]))) | None => "no workspace crate".to_owned(),
                    Some((_, Uses::Only(crates))) => crates.join(", "),
                    Some((_, Uses::AllLibraries)) => "the library crates".to_owned(),
                    Some((_, Uses::Anything)) => "any workspace crate".to_owned(),
                };
                return format!("the layering table in xtask/src/deps.rs lets {krate} use {allowed}");
            }
        };
        why.to_owned()
    }
}

impl Violation {
    fn forbidden(krate: &str, dependency: &str, rule: Rule, path: Vec<String>) -> Violation {
        Violation::Forbidden { krate: krate.to_owned(), dependency: dependency.to_owned(), rule, path }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::MissingFromTable { krate } => write!(
                f,
                "{krate} is a workspace crate missing from the layering table: add it to the \
                 layering table in xtask/src/deps.rs (its layer and the workspace crates it may use)"
            ),
            Violation::Forbidden { krate, dependency, rule, path } => {
                let why = rule.why(krate);
                write!(f, "{krate} must not depend on {dependency}: {why}; it arrives through {}", path.join(" -> "))
            }
            Violation::Cycle { krate, path } => {
                write!(f, "{krate} depends on itself (workspace crates must form no cycle): {}", path.join(" -> "))
            }
        }
    }
}

/// Checks `graph` against the layering rules (see the module documentation).
///
/// A (crate, dependency) pair is reported once, under the first rule it breaks in this order:
/// purity, the top-level crates, the table; the result is sorted.
pub(crate) fn check(graph: &Graph) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cycles: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    let mut report = |violation: Violation, violations: &mut Vec<Violation>| {
        if let Violation::Forbidden { krate, dependency, .. } = &violation {
            if !reported.insert((krate.clone(), dependency.clone())) {
                return;
            }
        }
        violations.push(violation);
    };

    for (index, package) in graph.members() {
        let krate = package.name.as_str();
        let Some((layer, uses)) = layer_of(krate) else {
            report(Violation::MissingFromTable { krate: krate.to_owned() }, &mut violations);
            continue;
        };
        let reach = graph.reach(index);
        // Shortest paths first, so that each forbidden crate is reported through its shortest path.
        let mut reached: Vec<(Vec<String>, usize)> =
            reach.parents.keys().filter(|&&dep| dep != index).map(|&dep| (graph.path(&reach, dep), dep)).collect();
        reached.sort_by_key(|(path, dep)| (path.len(), *dep));

        for (path, dep) in &reached {
            let name = graph.name(*dep);
            let rule = if layer == Layer::Pure && graph.is_member(*dep) {
                (layer_of(name).map(|(layer, _)| layer) != Some(Layer::Pure)).then_some(Rule::PureUsesOnlyPure)
            } else if layer == Layer::Pure && is_io_crate(name) {
                Some(Rule::PureDoesNoIo)
            } else {
                None
            };
            if let Some(rule) = rule {
                report(Violation::forbidden(krate, name, rule, path.clone()), &mut violations);
            }
        }
        if matches!(layer, Layer::Pure | Layer::Library) {
            for (path, dep) in &reached {
                let name = graph.name(*dep);
                if graph.is_member(*dep) && TOP_LEVEL.contains(&name) {
                    report(Violation::forbidden(krate, name, Rule::NothingDependsOnTop, path.clone()), &mut violations);
                }
            }
        }
        for &dep in &package.deps {
            let name = graph.name(dep);
            if graph.is_member(dep) && !uses.allows(name) {
                let path = vec![krate.to_owned(), name.to_owned()];
                report(Violation::forbidden(krate, name, Rule::EdgeNotInTable, path), &mut violations);
            }
        }
        if reach.parents.contains_key(&index) {
            let path = graph.path(&reach, index);
            // One report per cycle, however many of its crates find it.
            if cycles.insert(path.iter().cloned().collect()) {
                report(Violation::Cycle { krate: krate.to_owned(), path }, &mut violations);
            }
        }
    }
    violations.sort();
    violations
}

/// `cargo xtask deps`: loads the workspace graph, checks it and prints every violation.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let graph = Graph::load(root)?;
    let violations = check(&graph);
    if violations.is_empty() {
        println!(
            "deps: {} workspace crates follow the layering table; the pure crates (rls-core, \
             query) reach no I/O crate",
            graph.members().count()
        );
        return Ok(());
    }
    for violation in &violations {
        eprintln!("{violation}");
    }
    bail!("{} dependency-direction violation(s), listed above", violations.len())
}
