//! Tests of the dependency-direction check.
//!
//! The real workspace must pass. Then the real graph is mutated, one forbidden edge at a time (an
//! I/O crate in a pure crate, directly and through an intermediate crate, a library crate on top
//! of api-actix, a workspace edge the table lacks, an unknown workspace crate, a cycle), the check
//! must report exactly the expected violation with its path, and pass again once the edge is gone.
//! Where the real graph can make other crates inherit the injected edge (a pure crate that uses the
//! other one), the expectation says so explicitly.

use std::sync::OnceLock;

use serde_json::json;

use super::*;

/// The real workspace graph, loaded once per test run.
fn real_graph() -> Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(|| Graph::load(&crate::project_root().unwrap()).unwrap()).clone()
}

fn member(graph: &Graph, name: &str) -> usize {
    graph
        .members()
        .find(|(_, package)| package.name == name)
        .map(|(index, _)| index)
        .unwrap_or_else(|| panic!("no workspace crate named {name}"))
}

/// Adds a package that is not in the real graph (a synthetic one, even if a real package of that
/// name exists) and returns its index.
fn synthetic(graph: &mut Graph, name: &str, member: bool) -> usize {
    graph.packages.push(Package { name: name.to_owned(), member, deps: BTreeSet::new() });
    graph.packages.len() - 1
}

fn add_edge(graph: &mut Graph, from: usize, to: usize) {
    assert!(graph.packages[from].deps.insert(to), "edge already there");
}

fn remove_edge(graph: &mut Graph, from: usize, to: usize) {
    assert!(graph.packages[from].deps.remove(&to), "edge not there");
}

fn depends_directly(graph: &Graph, from: &str, to: &str) -> bool {
    let to = member(graph, to);
    graph.packages[member(graph, from)].deps.contains(&to)
}

fn forbidden(krate: &str, dependency: &str, rule: Rule, path: &[&str]) -> Violation {
    Violation::forbidden(krate, dependency, rule, path.iter().map(|name| (*name).to_owned()).collect())
}

fn sorted(mut violations: Vec<Violation>) -> Vec<Violation> {
    violations.sort();
    violations
}

fn lines(violations: &[Violation]) -> String {
    violations.iter().map(|violation| format!("\n  {violation}")).collect()
}

#[test]
fn the_real_workspace_passes() {
    let graph = real_graph();
    let violations = check(&graph);
    assert!(violations.is_empty(), "violations:{}", lines(&violations));
    // Every crate of the table that exists is seen as a workspace crate.
    for krate in ["rls-core", "query", "xtask"] {
        member(&graph, krate);
    }
}

#[test]
fn an_io_crate_in_a_pure_crate_fails_then_passes_once_removed() {
    let mut graph = real_graph();
    let core = member(&graph, "rls-core");
    let tokio = synthetic(&mut graph, "tokio", false);
    add_edge(&mut graph, core, tokio);

    let mut expected = vec![forbidden("rls-core", "tokio", Rule::PureDoesNoIo, &["rls-core", "tokio"])];
    if depends_directly(&graph, "query", "rls-core") {
        expected.push(forbidden("query", "tokio", Rule::PureDoesNoIo, &["query", "rls-core", "tokio"]));
    }
    assert_eq!(check(&graph), sorted(expected));

    remove_edge(&mut graph, core, tokio);
    assert_eq!(check(&graph), []);
}

#[test]
fn an_io_crate_reached_through_an_intermediate_crate_is_reported_with_its_path() {
    let mut graph = real_graph();
    let query = member(&graph, "query");
    let helper = synthetic(&mut graph, "sql-helper", false);
    let rusqlite = synthetic(&mut graph, "rusqlite", false);
    add_edge(&mut graph, helper, rusqlite);
    add_edge(&mut graph, query, helper);

    let mut expected = vec![forbidden("query", "rusqlite", Rule::PureDoesNoIo, &["query", "sql-helper", "rusqlite"])];
    if depends_directly(&graph, "rls-core", "query") {
        expected.push(forbidden(
            "rls-core",
            "rusqlite",
            Rule::PureDoesNoIo,
            &["rls-core", "query", "sql-helper", "rusqlite"],
        ));
    }
    assert_eq!(check(&graph), sorted(expected));

    remove_edge(&mut graph, query, helper);
    assert_eq!(check(&graph), []);
}

#[test]
fn every_actix_crate_is_an_io_crate() {
    for name in ["actix", "actix-web", "actix-rt", "actix-http", "tokio", "libsqlite3-sys"] {
        assert!(is_io_crate(name), "{name}");
    }
    for name in ["factix", "serde_json", "thiserror", "tokio-util-free"] {
        assert!(!is_io_crate(name), "{name}");
    }
}

#[test]
fn a_library_crate_on_top_of_api_actix_fails_then_passes_once_removed() {
    let mut graph = real_graph();
    let store = member(&graph, "store");
    let api = member(&graph, "api-actix");
    add_edge(&mut graph, store, api);

    let expected = forbidden("store", "api-actix", Rule::NothingDependsOnTop, &["store", "api-actix"]);
    let violations = check(&graph);
    assert!(violations.contains(&expected), "got:{}", lines(&violations));
    // The edge is reported once, under the most telling rule, not again as "not in the table".
    let about_the_edge = violations.iter().filter(|violation| {
        matches!(violation, Violation::Forbidden { krate, dependency, .. }
            if krate == "store" && dependency == "api-actix")
    });
    assert_eq!(about_the_edge.count(), 1, "got:{}", lines(&violations));
    // Anything else comes from crates that use store and so inherit the edge (or from a cycle
    // through it): each such path runs through store -> api-actix.
    for violation in &violations {
        let (Violation::Forbidden { path, .. } | Violation::Cycle { path, .. }) = violation else {
            panic!("unexpected violation: {violation}");
        };
        assert!(path.windows(2).any(|step| step == ["store", "api-actix"]), "unrelated violation: {violation}");
    }

    remove_edge(&mut graph, store, api);
    assert_eq!(check(&graph), []);
}

#[test]
fn a_workspace_edge_missing_from_the_table_fails_then_passes_once_removed() {
    let mut graph = real_graph();
    let sqlite = member(&graph, "store-sqlite");
    let mongo = member(&graph, "store-mongo");
    add_edge(&mut graph, sqlite, mongo);

    let violations = check(&graph);
    assert_eq!(
        violations,
        [forbidden("store-sqlite", "store-mongo", Rule::EdgeNotInTable, &["store-sqlite", "store-mongo"],)]
    );
    assert_eq!(
        violations[0].to_string(),
        "store-sqlite must not depend on store-mongo: the layering table in xtask/src/deps.rs \
         lets store-sqlite use store, rls-core, query; it arrives through \
         store-sqlite -> store-mongo"
    );

    remove_edge(&mut graph, sqlite, mongo);
    assert_eq!(check(&graph), []);
}

#[test]
fn a_pure_crate_using_a_non_pure_workspace_crate_is_reported_once() {
    let mut graph = real_graph();
    let core = member(&graph, "rls-core");
    let store = member(&graph, "store");
    add_edge(&mut graph, core, store);

    let mut expected = vec![forbidden("rls-core", "store", Rule::PureUsesOnlyPure, &["rls-core", "store"])];
    if depends_directly(&graph, "query", "rls-core") {
        expected.push(forbidden("query", "store", Rule::PureUsesOnlyPure, &["query", "rls-core", "store"]));
    }
    // If store already uses a pure crate, the new edge also closes cycles, each through it.
    let (cycles, others): (Vec<_>, Vec<_>) =
        check(&graph).into_iter().partition(|violation| matches!(violation, Violation::Cycle { .. }));
    assert_eq!(others, sorted(expected));
    for cycle in &cycles {
        let Violation::Cycle { path, .. } = cycle else { unreachable!() };
        assert!(path.windows(2).any(|step| step == ["rls-core", "store"]));
    }

    remove_edge(&mut graph, core, store);
    assert_eq!(check(&graph), []);
}

#[test]
fn an_unknown_workspace_crate_fails_until_it_is_in_the_table() {
    let mut graph = real_graph();
    let unknown = synthetic(&mut graph, "not-in-table", true);
    assert_eq!(check(&graph), [Violation::MissingFromTable { krate: "not-in-table".to_owned() }]);
    assert_eq!(
        check(&graph)[0].to_string(),
        "not-in-table is a workspace crate missing from the layering table: add it to the layering \
         table in xtask/src/deps.rs (its layer and the workspace crates it may use)"
    );

    // A crate that uses it is told that the table does not allow the edge either.
    let store = member(&graph, "store");
    add_edge(&mut graph, store, unknown);
    assert_eq!(
        check(&graph),
        sorted(vec![
            Violation::MissingFromTable { krate: "not-in-table".to_owned() },
            forbidden("store", "not-in-table", Rule::EdgeNotInTable, &["store", "not-in-table"]),
        ])
    );

    remove_edge(&mut graph, store, unknown);
    graph.packages.pop();
    assert_eq!(check(&graph), []);
}

#[test]
fn a_cycle_between_workspace_crates_is_reported_once() {
    let mut graph = real_graph();
    let core = member(&graph, "rls-core");
    let query = member(&graph, "query");
    // Both edges are in the table; together they form a cycle (cargo itself refuses one, but the
    // check must not rely on that).
    let mut injected = Vec::new();
    for (from, to) in [(core, query), (query, core)] {
        if !graph.packages[from].deps.contains(&to) {
            add_edge(&mut graph, from, to);
            injected.push((from, to));
        }
    }

    let violations = check(&graph);
    let [Violation::Cycle { krate, path }] = violations.as_slice() else {
        panic!("expected one cycle, got:{}", lines(&violations));
    };
    assert_eq!(path.first(), Some(krate));
    assert_eq!(path.last(), Some(krate));
    assert_eq!(path.len(), 3, "{path:?}");

    for (from, to) in injected {
        remove_edge(&mut graph, from, to);
    }
    assert_eq!(check(&graph), []);
}

/// A small metadata document: `rls-core` uses `serde_json` normally, `serde_json` uses `tokio`
/// only through an optional normal edge that is on here, and `proptest` (a dev-dependency) and
/// `cc` (a build-dependency) both pull `mio`, which must not count.
fn synthetic_metadata() -> Value {
    let kind = |kind: Option<&str>| json!([{ "kind": kind, "target": null }]);
    json!({
        "workspace_members": ["path+file:///w/crates/rls-core#0.1.0"],
        "packages": [
            { "id": "path+file:///w/crates/rls-core#0.1.0", "name": "rls-core" },
            { "id": "registry+serde_json@1.0.0", "name": "serde_json" },
            { "id": "registry+tokio@1.0.0", "name": "tokio" },
            { "id": "registry+proptest@1.0.0", "name": "proptest" },
            { "id": "registry+cc@1.0.0", "name": "cc" },
            { "id": "registry+mio@1.0.0", "name": "mio" },
        ],
        "resolve": { "nodes": [
            { "id": "path+file:///w/crates/rls-core#0.1.0", "deps": [
                { "pkg": "registry+serde_json@1.0.0", "dep_kinds": kind(None) },
                { "pkg": "registry+proptest@1.0.0", "dep_kinds": kind(Some("dev")) },
                { "pkg": "registry+cc@1.0.0", "dep_kinds": kind(Some("build")) },
            ] },
            { "id": "registry+serde_json@1.0.0", "deps": [
                { "pkg": "registry+tokio@1.0.0", "dep_kinds": kind(None) },
            ] },
            { "id": "registry+tokio@1.0.0", "deps": [] },
            { "id": "registry+proptest@1.0.0", "deps": [
                { "pkg": "registry+mio@1.0.0", "dep_kinds": kind(None) },
            ] },
            { "id": "registry+cc@1.0.0", "deps": [
                { "pkg": "registry+mio@1.0.0", "dep_kinds": kind(None) },
            ] },
            { "id": "registry+mio@1.0.0", "deps": [] },
        ] },
    })
}

#[test]
fn metadata_keeps_normal_edges_only_and_the_line_names_the_path() {
    let graph = Graph::from_metadata(&synthetic_metadata()).unwrap();
    let violations = check(&graph);
    assert_eq!(violations, [forbidden("rls-core", "tokio", Rule::PureDoesNoIo, &["rls-core", "serde_json", "tokio"],)]);
    assert_eq!(
        violations[0].to_string(),
        "rls-core must not depend on tokio: a pure crate does no I/O, so no async runtime, \
         socket, HTTP, database or object-storage crate may be among its normal dependencies; \
         it arrives through rls-core -> serde_json -> tokio"
    );
}

#[test]
fn an_edge_that_is_both_normal_and_dev_counts_as_normal() {
    let mut metadata = synthetic_metadata();
    metadata["resolve"]["nodes"][0]["deps"][1]["dep_kinds"] =
        json!([{ "kind": "dev", "target": null }, { "kind": null, "target": "cfg(unix)" }]);
    let graph = Graph::from_metadata(&metadata).unwrap();
    let dependencies: Vec<String> = check(&graph)
        .into_iter()
        .filter_map(|violation| match violation {
            Violation::Forbidden { dependency, .. } => Some(dependency),
            _ => None,
        })
        .collect();
    assert_eq!(dependencies, ["mio", "tokio"]);
}

#[test]
fn metadata_without_a_resolve_is_an_error() {
    let mut metadata = synthetic_metadata();
    metadata["resolve"] = Value::Null;
    let error = Graph::from_metadata(&metadata).unwrap_err();
    assert!(format!("{error:#}").contains("nodes"), "{error:#}");
}
