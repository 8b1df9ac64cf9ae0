//! Aggregation: the original's pipeline texts (spec §5.8, §15.2), the publishable allow-list
//! and the escapes it closes (spec §17 finding 1; security case 6).

use serde_json::{Value, json};

use super::{Op, Outcome, rls, run};
use crate::{Caller, Target, authorize_aggregate};

const ALICE: &str = "665f1c2b9d3e4a0012345678";

fn aggregate(caller: &Caller<'_>, mode: &str, pipeline: Value) -> Outcome {
    let config = rls(true, mode, "userId", true);
    run(caller, &Target::existing("posts", &config), &Op::Aggregate(json!({ "pipeline": pipeline })))
}

fn blocked() -> Outcome {
    Outcome::Denied(400, "Aggregation pipeline contains blocked stage.".into())
}

#[test]
fn pipeline_shape_uses_the_original_texts() {
    let alice = Caller::publishable(Some(ALICE));
    let config = rls(true, "public-read", "userId", true);
    let target = Target::existing("posts", &config);
    let cases = [
        (json!({}), "Invalid input: expected array, received undefined"),
        (json!({"pipeline": {"$match": {}}}), "Invalid input: expected array, received object"),
        (json!({"pipeline": "x"}), "Invalid input: expected array, received string"),
        (json!({"pipeline": null}), "Invalid input: expected array, received null"),
        (json!({"pipeline": []}), "Pipeline must contain at least one stage."),
        (json!({"pipeline": [{}]}), "Each aggregation stage must be a non-empty object."),
        (json!({"pipeline": [3]}), "Invalid input: expected object, received number"),
        (
            json!({"pipeline": [{"$match": {}, "$lookup": {}}]}),
            "Each aggregation stage must have exactly one stage operator.",
        ),
        (json!([]), "Invalid input: expected object, received array"),
    ];
    for (body, text) in cases {
        let outcome = run(&alice, &target, &Op::Aggregate(body.clone()));
        assert_eq!(outcome, Outcome::Denied(400, text.into()), "{body}");
    }
    let too_many = Value::Array(vec![json!({"$limit": 1}); 51]);
    assert_eq!(aggregate(&alice, "public-read", too_many).status(), 400);
}

#[test]
fn publishable_keys_may_reshape_their_documents() {
    let alice = Caller::publishable(Some(ALICE));
    let pipeline = json!([
        {"$match": {"status": "open", "$expr": {"$gt": ["$views", 10]}}},
        {"$group": {"_id": "$status", "n": {"$sum": 1}}},
        {"$sort": {"n": -1}},
        {"$project": {"n": 1, "label": {"$concat": ["$_id", "!"]}}},
        {"$skip": 1}, {"$limit": 5}, {"$unwind": "$tags"}, {"$count": "total"}
    ]);
    let Outcome::Aggregate(stages) = aggregate(&alice, "public-read", pipeline.clone()) else {
        panic!("a reshaping pipeline must be allowed")
    };
    assert_eq!(Value::Array(stages), pipeline, "public-read adds no scope stage");
}

#[test]
fn publishable_keys_cannot_escape_the_collection_or_run_code() {
    let alice = Caller::publishable(Some(ALICE));
    let escapes = [
        json!([{"$lookup": {"from": "users", "localField": "userId", "foreignField": "_id", "as": "u"}}]),
        json!([{"$lookup": {"from": "projects", "pipeline": [], "as": "p"}}]),
        json!([{"$unionWith": "users"}]),
        json!([{"$unionWith": {"coll": "posts", "pipeline": []}}]),
        json!([{"$graphLookup": {"from": "users", "startWith": "$x", "connectFromField": "a", "connectToField": "b", "as": "g"}}]),
        json!([{"$facet": {"a": [{"$lookup": {"from": "users", "as": "u", "pipeline": []}}]}}]),
        json!([{"$facet": {"a": [{"$count": "n"}]}}]),
        json!([{"$out": "stolen"}]),
        json!([{"$merge": {"into": "stolen"}}]),
        json!([{"$match": {"$where": "sleep(100) || true"}}]),
        json!([{"$match": {"$expr": {"$function": {"body": "return 1", "args": [], "lang": "js"}}}}]),
        json!([{"$project": {"x": {"$function": {"body": "return 1", "args": [], "lang": "js"}}}}]),
        json!([{"$group": {"_id": null, "x": {"$accumulator": {"init": "function(){}", "lang": "js"}}}}]),
        json!([{"$addFields": {"x": {"$let": {"vars": {}, "in": {" $function": {}}}}}}]),
        json!([{"$collStats": {}}]),
        json!([{"$currentOp": {}}]),
        json!([{"$indexStats": {}}]),
        json!([{"$documents": [{"a": 1}]}]),
        json!([{"$planCacheStats": {}}]),
        json!([{"$listSessions": {}}]),
        json!([{"$changeStream": {}}]),
        json!([{"$match": {}}, {"$densify": {"field": "x"}}]),
    ];
    for pipeline in escapes {
        for mode in ["public-read", "private"] {
            assert_eq!(aggregate(&alice, mode, pipeline.clone()), blocked(), "{mode}: {pipeline}");
        }
    }
}

#[test]
fn the_scope_is_the_first_stage_and_cannot_be_reordered() {
    let alice = Caller::publishable(Some(ALICE));
    let Outcome::Aggregate(stages) =
        aggregate(&alice, "private", json!([{"$sort": {"a": 1}}, {"$match": {"userId": {"$ne": ALICE}}}]))
    else {
        panic!("allowed")
    };
    assert_eq!(stages[0], json!({"$match": {"userId": ALICE}}));
    assert_eq!(stages.len(), 3);
}

#[test]
fn secret_key_may_use_any_stage_but_writes() {
    let secret = Caller::secret();
    let config = rls(true, "private", "userId", true);
    let target = Target::existing("posts", &config);
    let body = json!({"pipeline": [
        {"$lookup": {"from": "comments", "localField": "_id", "foreignField": "postId", "as": "c",
                     "pipeline": [{"$unionWith": {"coll": "archive"}}]}},
        {"$graphLookup": {"from": "nodes", "startWith": "$n", "connectFromField": "a", "connectToField": "b", "as": "g"}},
        {"$facet": {"x": [{"$unionWith": "drafts"}]}},
        {"$match": {"$where": "true"}}
    ]});
    let plan = authorize_aggregate(&secret, &target, &body).unwrap();
    let mut foreign = plan.foreign_collections.clone();
    foreign.sort();
    assert_eq!(foreign, ["archive", "comments", "drafts", "nodes"]);
    assert_eq!(plan.pipeline().len(), 4, "no scope stage for the secret key");

    for pipeline in [
        json!([{"$out": "x"}]),
        json!([{"$merge": "x"}]),
        json!([{"$lookup": {"from": "c", "as": "c", "pipeline": [{"$out": "x"}]}}]),
    ] {
        assert_eq!(aggregate(&secret, "private", pipeline.clone()), blocked(), "{pipeline}");
    }
    let users = Outcome::Denied(403, "Use /api/userAuth endpoints for users collection operations.".into());
    for pipeline in [
        json!([{"$lookup": {"from": "users", "as": "u", "localField": "a", "foreignField": "b"}}]),
        json!([{"$unionWith": " Users"}]),
        json!([{"$facet": {"x": [{"$graphLookup": {"from": "users", "as": "g"}}]}}]),
    ] {
        assert_eq!(aggregate(&secret, "private", pipeline.clone()), users, "{pipeline}");
    }
    assert_eq!(
        aggregate(&secret, "private", json!([{"$lookup": {"from": {"db": "admin", "coll": "x"}, "as": "u"}}])),
        blocked()
    );
}
