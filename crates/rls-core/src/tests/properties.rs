//! Property tests: the engine agrees with the reference model over generated requests, and the
//! security invariants hold; deliberately broken engines make the same properties fail.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};

use super::model::{COLLECTIONS, Case, KEYS, OWNER_FIELDS, expected};
use super::{Op, Outcome, rls, run};
use crate::{Caller, ReadScope, Target};

/// Generated cases per property, in every run (CI included).
const CASES: u32 = 10_000;

/// An engine under test: the real one, or a deliberately broken variant.
type Engine = fn(&Case) -> Outcome;

fn real_engine(case: &Case) -> Outcome {
    let config = rls(case.enabled, case.mode, case.owner_field, case.require_auth);
    let target =
        if case.exists { Target::existing(case.collection, &config) } else { Target::missing(case.collection) };
    let caller = if case.secret { Caller::secret() } else { Caller::publishable(case.user) };
    run(&caller, &target, &case.op)
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => Just(json!("alice")),
        3 => Just(json!("bob")),
        1 => Just(json!("")),
        1 => Just(Value::Null),
        1 => Just(json!(7)),
        1 => Just(json!(true)),
        1 => Just(json!(["alice"])),
        1 => Just(json!({"x": 1})),
        1 => Just(json!({"$ne": null})),
        1 => Just(json!({"a": [{"b": 1}]})),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    // Keys that relate to some owner field are drawn more often than the others.
    let (owner_like, others): (Vec<&str>, Vec<&str>) =
        KEYS.iter().map(|(raw, _)| *raw).partition(|raw| raw.to_lowercase().contains("id"));
    let key = prop_oneof![3 => prop::sample::select(owner_like), 1 => prop::sample::select(others)];
    let entry = (key, value());
    prop::collection::vec(entry, 0..4).prop_map(|entries| {
        let mut map = Map::new();
        for (key, value) in entries {
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    })
}

fn item() -> impl Strategy<Value = Value> {
    prop_oneof![8 => body(), 1 => Just(json!(3)), 1 => Just(json!(["x"]))]
}

fn id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["0123456789abcdef01234567", "0123456789ABCDEF01234567", "xyz", "0123456789abcdef0123456"])
        .prop_map(str::to_owned)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::List),
        1 => Just(Op::Get),
        1 => Just(Op::Count),
        1 => Just(Op::Populate),
        3 => prop_oneof![4 => body(), 1 => item()].prop_map(Op::Insert),
        2 => prop_oneof![
            8 => prop::collection::vec(item(), 0..4).prop_map(Value::Array),
            1 => Just(Value::Array(vec![json!({}); 101])),
            1 => body(),
        ]
        .prop_map(Op::Bulk),
        2 => (id(), body()).prop_map(|(id, body)| Op::Patch(id, body)),
        1 => (id(), item()).prop_map(|(id, body)| Op::Put(id, body)),
        2 => id().prop_map(Op::Delete),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let who = (any::<bool>(), prop::sample::select(vec![None, Some("alice"), Some("bob")]));
    let target = (
        prop::sample::select(COLLECTIONS.iter().map(|(name, _)| *name).collect::<Vec<_>>()),
        prop::bool::weighted(0.9),
    );
    let config = (
        prop::bool::weighted(0.8),
        prop_oneof![
            3 => Just("public-read"),
            3 => Just("private"),
            1 => Just("owner-write-only"),
            1 => prop::sample::select(vec!["weird", "", "Private"]),
        ],
        prop_oneof![
            4 => Just(OWNER_FIELDS[0].0),
            2 => Just(OWNER_FIELDS[1].0),
            1 => Just(OWNER_FIELDS[2].0),
            1 => prop::sample::select(OWNER_FIELDS[3..].iter().map(|(field, _)| *field).collect::<Vec<_>>()),
        ],
        prop::bool::weighted(0.8),
    );
    (who, target, config, op()).prop_map(
        |((secret, user), (collection, exists), (enabled, mode, owner_field, require_auth), op)| Case {
            secret,
            user,
            collection,
            exists,
            enabled,
            mode,
            owner_field,
            require_auth,
            op,
        },
    )
}

/// Which random source a run uses.
#[derive(Clone, Copy)]
enum Seed {
    /// A fresh seed each run: the real engine is explored anew every time.
    Fresh,
    /// A fixed seed: the negative controls must be caught on every run, not by luck.
    Fixed,
}

fn runner(cases: u32, seed: Seed) -> TestRunner {
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() };
    match seed {
        Seed::Fresh => TestRunner::new(config),
        Seed::Fixed => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    }
}

/// Statuses only for denials: the model does not restate texts (the matrix test does).
fn comparable(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Denied(status, _) => Outcome::Denied(status, String::new()),
        other => other,
    }
}

/// Runs the model comparison; the error is proptest's report of the minimal failing case.
fn agrees_with_model(engine: Engine, seed: Seed) -> Result<(), String> {
    runner(CASES, seed)
        .run(&case(), |case| {
            prop_assert_eq!(comparable(engine(&case)), expected(&case), "case: {:?}", case);
            Ok(())
        })
        .map_err(|error| error.to_string())
}

fn has_operator_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k.trim().starts_with('$') || has_operator_key(v)),
        Value::Array(items) => items.iter().any(has_operator_key),
        _ => false,
    }
}

/// The security invariants, independent of the model.
fn check_invariants(case: &Case, outcome: &Outcome) -> Result<(), TestCaseError> {
    let users_collection = COLLECTIONS.iter().any(|(name, users)| *name == case.collection && *users);
    if case.secret {
        let rls_denial = matches!(outcome, Outcome::Denied(401 | 403, _));
        prop_assert!(!rls_denial || users_collection, "secret key denied by RLS: {:?}", outcome);
        return Ok(());
    }
    let user = case.user;
    match outcome {
        Outcome::Read(scope) if case.enabled && case.mode == "private" => {
            let own = ReadScope::Owner { field: case.owner_field.to_owned(), user: user.unwrap_or("").to_owned() };
            prop_assert_eq!(scope, &own, "private read wider than the caller's own documents");
        }
        Outcome::Inserted(documents) => {
            for document in documents {
                let stored = document.get(case.owner_field);
                match user {
                    Some(user) => prop_assert_eq!(stored, Some(&json!(user)), "insert not owned by the caller"),
                    None => prop_assert_eq!(stored, None, "anonymous insert carries an owner"),
                }
                prop_assert!(!has_operator_key(&Value::Object(document.clone())), "operator stored");
            }
        }
        Outcome::Updated { owner, set } => {
            prop_assert_eq!(
                owner,
                &Some((case.owner_field.to_owned(), user.unwrap_or("").to_owned())),
                "update not scoped by the caller"
            );
            for key in set.keys() {
                let first = key.split('.').next().unwrap_or(key);
                prop_assert!(
                    first.to_lowercase() != case.owner_field.to_lowercase(),
                    "update touches the owner: {}",
                    key
                );
            }
            prop_assert!(!has_operator_key(&Value::Object(set.clone())), "operator in update");
        }
        Outcome::Deleted { owner } => {
            prop_assert_eq!(owner, &Some((case.owner_field.to_owned(), user.unwrap_or("").to_owned())));
        }
        _ => {}
    }
    Ok(())
}

/// Runs the invariants; the error is proptest's report of the minimal failing case.
fn holds_invariants(engine: Engine, seed: Seed) -> Result<(), String> {
    runner(CASES, seed).run(&case(), |case| check_invariants(&case, &engine(&case))).map_err(|error| error.to_string())
}

#[test]
fn engine_agrees_with_the_reference_model() {
    if let Err(error) = agrees_with_model(real_engine, Seed::Fresh) {
        panic!("{error}");
    }
}

#[test]
fn security_invariants_hold() {
    if let Err(error) = holds_invariants(real_engine, Seed::Fresh) {
        panic!("{error}");
    }
}

// Negative controls: each broken engine must be caught by the properties above.

fn skips_owner_injection(case: &Case) -> Outcome {
    match real_engine(case) {
        Outcome::Inserted(mut documents) if !case.secret && case.user.is_some() => {
            for document in &mut documents {
                document.shift_remove(case.owner_field);
            }
            Outcome::Inserted(documents)
        }
        other => other,
    }
}

fn private_reads_everything(case: &Case) -> Outcome {
    let is_read = matches!(case.op, Op::List | Op::Get | Op::Count | Op::Populate);
    match real_engine(case) {
        Outcome::Read(ReadScope::Owner { .. }) | Outcome::Denied(401, _) if is_read => Outcome::Read(ReadScope::All),
        other => other,
    }
}

fn lets_the_owner_change(case: &Case) -> Outcome {
    match real_engine(case) {
        Outcome::Denied(403, text) if text.ends_with("cannot be changed under RLS.") => Outcome::Updated {
            owner: case.user.map(|user| (case.owner_field.to_owned(), user.to_owned())),
            set: [(case.owner_field.to_owned(), json!("bob"))].into_iter().collect(),
        },
        other => other,
    }
}

fn trusts_raw_keys(case: &Case) -> Outcome {
    // The original's parser differential: a padded owner key passes as "another field".
    match (&case.op, real_engine(case)) {
        (Op::Insert(Value::Object(body)), Outcome::Denied(403, _)) if body.contains_key(" userId") => {
            let mut document: Map<String, Value> = body.clone();
            let smuggled = document.shift_remove(" userId").unwrap_or(Value::Null);
            document.insert("userId".to_owned(), smuggled);
            Outcome::Inserted(vec![document])
        }
        (_, outcome) => outcome,
    }
}

fn secret_key_obeys_rls(case: &Case) -> Outcome {
    if case.secret {
        let mut as_publishable = case.clone();
        as_publishable.secret = false;
        as_publishable.user = None;
        real_engine(&as_publishable)
    } else {
        real_engine(case)
    }
}

#[test]
fn broken_engines_are_caught() {
    let broken: [(&str, Engine); 5] = [
        ("skips owner injection", skips_owner_injection),
        ("private reads everything", private_reads_everything),
        ("lets the owner change", lets_the_owner_change),
        ("trusts raw keys", trusts_raw_keys),
        ("secret key obeys RLS", secret_key_obeys_rls),
    ];
    for (name, engine) in broken {
        assert!(agrees_with_model(engine, Seed::Fixed).is_err(), "the model comparison missed: {name}");
        assert!(holds_invariants(engine, Seed::Fixed).is_err(), "the invariants missed: {name}");
    }
}
