//! Aggregation: the publishable subset (`$match`, `$group`, `$sort`, `$count`, `$unwind`,
//! `$project`, `$sortByCount`), always within the plan's scope, which applies before any stage.

use query::Schema;
use serde_json::{Value, json};

use super::{CaseResult, Coll, Ctx, Failure, aggregate_plan, ensure_eq};

async fn fixture(cx: &Ctx<'_>) -> Result<Coll, Failure> {
    let coll = cx.coll("sales", Schema::new());
    cx.insert(
        &coll,
        vec![
            json!({"owner": "u1", "cat": "a", "n": 1, "name": "x", "tags": ["a", "b"]}),
            json!({"owner": "u1", "cat": "b", "n": 2, "name": "y", "tags": []}),
            json!({"owner": "u1", "cat": "a", "n": 3, "name": "z", "tags": ["b"]}),
            json!({"owner": "u2", "cat": "a", "n": 100, "name": "q", "tags": ["a"]}),
            json!({"cat": "b", "n": 1000, "name": "w"}),
        ],
    )
    .await?;
    Ok(coll)
}

async fn run(cx: &Ctx<'_>, coll: &Coll, user: Option<&str>, stages: Value) -> Result<Vec<Value>, Failure> {
    Ok(cx.store().aggregate(&coll.spec(), &aggregate_plan(user, stages)?).await?)
}

/// `$group` with accumulators, then `$sort`, within an owner scope and with the secret key.
pub(crate) async fn aggregate_group_and_sort_within_scope(cx: &Ctx<'_>) -> CaseResult {
    let coll = fixture(cx).await?;
    let by_cat = json!([
        {"$group": {"_id": "$cat", "total": {"$sum": "$n"}, "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}}
    ]);
    let got = run(cx, &coll, Some("u1"), by_cat.clone()).await?;
    ensure_eq!(
        got,
        vec![json!({"_id": "a", "total": 4, "count": 2}), json!({"_id": "b", "total": 2, "count": 1})],
        "u1"
    );
    let got = run(cx, &coll, None, by_cat).await?;
    let expected = vec![json!({"_id": "a", "total": 104, "count": 3}), json!({"_id": "b", "total": 1002, "count": 2})];
    ensure_eq!(got, expected, "secret key");
    let stats = json!([
        {"$sort": {"n": -1}},
        {"$group": {"_id": null, "avg": {"$avg": "$n"}, "min": {"$min": "$n"}, "max": {"$max": "$n"},
                    "ns": {"$push": "$n"}, "first": {"$first": "$name"}, "last": {"$last": "$name"}}}
    ]);
    let got = run(cx, &coll, Some("u1"), stats).await?;
    let expected = json!({"_id": null, "avg": 2, "min": 1, "max": 3, "ns": [3, 2, 1], "first": "z", "last": "x"});
    ensure_eq!(got, vec![expected], "accumulators");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `$match` with operators, then `$count` (no document when nothing matches).
pub(crate) async fn aggregate_match_and_count(cx: &Ctx<'_>) -> CaseResult {
    let coll = fixture(cx).await?;
    let stages = json!([{"$match": {"n": {"$gte": 2}}}, {"$count": "c"}]);
    ensure_eq!(run(cx, &coll, Some("u1"), stages.clone()).await?, vec![json!({"c": 2})], "u1");
    ensure_eq!(run(cx, &coll, None, stages).await?, vec![json!({"c": 4})], "secret key");
    let stages =
        json!([{"$match": {"$or": [{"cat": "b"}, {"tags": "a"}], "owner": {"$exists": true}}}, {"$count": "c"}]);
    ensure_eq!(run(cx, &coll, None, stages).await?, vec![json!({"c": 3})], "$or, element match, $exists");
    let stages = json!([{"$match": {"cat": "nope"}}, {"$count": "c"}]);
    ensure_eq!(run(cx, &coll, Some("u1"), stages).await?, Vec::<Value>::new(), "nothing to count");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `$unwind` (plain and preserving), `$project` (inclusion, `_id: 0`, renaming) and
/// `$sortByCount`.
pub(crate) async fn aggregate_unwind_and_project(cx: &Ctx<'_>) -> CaseResult {
    let coll = fixture(cx).await?;
    let stages = json!([
        {"$unwind": "$tags"},
        {"$project": {"_id": 0, "name": 1, "tag": "$tags"}},
        {"$sort": {"tag": 1, "name": 1}}
    ]);
    let expected =
        vec![json!({"name": "x", "tag": "a"}), json!({"name": "x", "tag": "b"}), json!({"name": "z", "tag": "b"})];
    ensure_eq!(run(cx, &coll, Some("u1"), stages).await?, expected, "unwind and project");
    let stages = json!([{"$unwind": "$tags"}, {"$sortByCount": "$tags"}]);
    ensure_eq!(
        run(cx, &coll, Some("u1"), stages).await?,
        vec![json!({"_id": "b", "count": 2}), json!({"_id": "a", "count": 1})],
        "sortByCount"
    );
    let stages = json!([
        {"$match": {"owner": {"$exists": true}}},
        {"$unwind": {"path": "$tags", "preserveNullAndEmptyArrays": true}},
        {"$project": {"_id": 0, "name": 1, "tags": 1}},
        {"$sort": {"name": 1, "tags": 1}}
    ]);
    let expected = vec![
        json!({"name": "q", "tags": "a"}),
        json!({"name": "x", "tags": "a"}),
        json!({"name": "x", "tags": "b"}),
        json!({"name": "y"}),
        json!({"name": "z", "tags": "b"}),
    ];
    ensure_eq!(run(cx, &coll, None, stages).await?, expected, "preserving empty arrays");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// The scope applies before the caller's stages: no stage can reach another owner's documents.
pub(crate) async fn aggregate_scope_applies_first(cx: &Ctx<'_>) -> CaseResult {
    let coll = fixture(cx).await?;
    let others = json!([{"$match": {"owner": "u2"}}]);
    ensure_eq!(run(cx, &coll, Some("u1"), others).await?, Vec::<Value>::new(), "u2's documents under u1's scope");
    let by_owner = json!([{"$group": {"_id": "$owner", "c": {"$sum": 1}}}, {"$sort": {"_id": 1}}]);
    ensure_eq!(run(cx, &coll, Some("u1"), by_owner.clone()).await?, vec![json!({"_id": "u1", "c": 3})], "u1's groups");
    let expected = vec![json!({"_id": null, "c": 1}), json!({"_id": "u1", "c": 3}), json!({"_id": "u2", "c": 1})];
    ensure_eq!(run(cx, &coll, None, by_owner).await?, expected, "secret key sees every owner");
    cx.cleanup(&[&coll]).await;
    Ok(())
}
