//! Sorting (directions, ties broken by `_id`, MongoDB's order across types, the default order)
//! and paging (offset pages, cursor pages through a whole collection).

use query::Schema;
use rls_core::ReadScope;
use serde_json::{Value, json};

use super::{CaseResult, Coll, Ctx, Failure, ensure, ensure_eq, ids, oid, parse};
use crate::Document;

fn oids(ns: &[u32]) -> Vec<String> {
    ns.iter().map(|&n| oid(n)).collect()
}

/// Runs a REST query string and returns the page.
async fn page(cx: &Ctx<'_>, coll: &Coll, raw: &str) -> Result<crate::Page, Failure> {
    let query = parse(raw, &coll.schema)?;
    Ok(cx.store().find(&coll.spec(), &ReadScope::All, &query).await?)
}

/// Checks that a query returns the stored documents with these ids, in this order.
async fn check_order(cx: &Ctx<'_>, coll: &Coll, stored: &[Document], raw: &str, expected: &[u32]) -> CaseResult {
    let got = page(cx, coll, raw).await?;
    ensure_eq!(ids(&got.items), oids(expected), "{raw}: order");
    let full: Vec<Document> =
        got.items.iter().filter_map(|item| stored.iter().find(|s| s.get("_id") == item.get("_id")).cloned()).collect();
    ensure_eq!(got.items, full, "{raw}: documents as stored");
    Ok(())
}

/// Ascending and descending sorts; equal keys are ordered by `_id` in the key's direction, or as
/// an explicit `_id` key says.
pub(crate) async fn sort_with_ties_uses_id(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new().with("n", query::FieldType::Number));
    let stored = cx
        .insert(
            &coll,
            [(1, 2), (2, 1), (3, 2), (4, 1), (5, 3)].iter().map(|(id, n)| json!({"_id": oid(*id), "n": n})).collect(),
        )
        .await?;
    check_order(cx, &coll, &stored, "sort=n", &[2, 4, 1, 3, 5]).await?;
    check_order(cx, &coll, &stored, "sort=-n", &[5, 3, 1, 4, 2]).await?;
    check_order(cx, &coll, &stored, "sort=n:desc,_id:asc", &[5, 1, 3, 2, 4]).await?;
    check_order(cx, &coll, &stored, "sort=_id:desc", &[5, 4, 3, 2, 1]).await?;
    check_order(cx, &coll, &stored, "sort=n&n_gte=2&limit=2", &[1, 3]).await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// MongoDB's order across types: missing = null < numbers < strings (byte-wise) < objects <
/// booleans (`false < true`).
pub(crate) async fn sort_across_types(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let values = [
        (1, None),
        (2, Some(json!(null))),
        (3, Some(json!(1))),
        (4, Some(json!(2.5))),
        (5, Some(json!("a"))),
        (6, Some(json!("B"))),
        (7, Some(json!({"x": 1}))),
        (8, Some(json!(true))),
        (9, Some(json!(false))),
        (10, Some(json!(-3))),
    ];
    let docs = values
        .iter()
        .map(|(id, v)| {
            let mut d = json!({"_id": oid(*id)});
            if let (Some(v), Value::Object(map)) = (v, &mut d) {
                map.insert("v".into(), v.clone());
            }
            d
        })
        .collect();
    let stored = cx.insert(&coll, docs).await?;
    check_order(cx, &coll, &stored, "sort=v", &[1, 2, 10, 3, 4, 6, 5, 7, 9, 8]).await?;
    check_order(cx, &coll, &stored, "sort=-v", &[8, 9, 7, 5, 6, 4, 3, 10, 2, 1]).await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Without `sort`, the newest documents come first (`createdAt` descending, then `_id`).
pub(crate) async fn sort_default_is_created_at_descending(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let mut stored = cx.insert(&coll, (1..=4).map(|n| json!({"_id": oid(n)})).collect()).await?;
    stored.extend(cx.insert(&coll, vec![json!({"_id": oid(5)})]).await?);
    check_order(cx, &coll, &stored, "", &[5, 4, 3, 2, 1]).await?;
    check_order(cx, &coll, &stored, "limit=2&page=2", &[3, 2]).await?;
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// `page`/`limit` pages, with `has_more` telling whether another page follows.
pub(crate) async fn offset_paging(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new());
    let stored = cx.insert(&coll, (1..=7).map(|n| json!({"_id": oid(n), "n": n})).collect()).await?;
    for (page_no, expected, more) in
        [(1, vec![1, 2, 3], true), (2, vec![4, 5, 6], true), (3, vec![7], false), (4, vec![], false)]
    {
        let raw = format!("sort=n&limit=3&page={page_no}");
        check_order(cx, &coll, &stored, &raw, &expected).await?;
        ensure_eq!(page(cx, &coll, &raw).await?.has_more, more, "{raw}: has_more");
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Follows cursor pages (`cursor=start`, then the cursor of each page's last item) to the end and
/// returns the ids in the order seen.
async fn walk(cx: &Ctx<'_>, coll: &Coll, params: &str, field: &str, limit: u32) -> Result<Vec<String>, Failure> {
    let mut seen = Vec::new();
    let mut cursor = "start".to_owned();
    for _ in 0..100 {
        let raw = format!("cursor={}&limit={limit}{params}", cursor.replace('+', "%2B"));
        let got = page(cx, coll, &raw).await?;
        ensure!(got.items.len() <= limit as usize, "{raw}: page larger than the limit");
        seen.extend(ids(&got.items));
        if !got.has_more {
            return Ok(seen);
        }
        let last = got.items.last().ok_or_else(|| Failure(format!("{raw}: has_more on an empty page")))?;
        let value = last.get(field).cloned().unwrap_or(Value::Null);
        cursor = query::cursor::encode(&value, &super::id_of(last)?);
    }
    Err(Failure(format!("cursor paging with {params} did not end")))
}

/// Cursor pages visit every document exactly once, in order, also when the sort field has
/// duplicates, nulls and missing values, in both directions and for any page size.
pub(crate) async fn cursor_paging_visits_every_document_once(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new().with("g", query::FieldType::Number));
    let values = [(1, json!(3)), (2, json!(1)), (3, json!(null)), (4, json!(2)), (5, json!(1)), (7, json!(3))];
    let mut docs: Vec<Value> = values.iter().map(|(id, g)| json!({"_id": oid(*id), "g": g})).collect();
    docs.extend([json!({"_id": oid(6)}), json!({"_id": oid(8), "g": 2}), json!({"_id": oid(9), "g": null})]);
    docs.extend([json!({"_id": oid(10), "g": 1}), json!({"_id": oid(11), "g": 5.5})]);
    cx.insert(&coll, docs).await?;
    let ascending = oids(&[3, 6, 9, 2, 5, 10, 4, 8, 1, 7, 11]);
    let descending = oids(&[11, 7, 1, 8, 4, 10, 5, 2, 9, 6, 3]);
    for limit in [1, 2, 3, 4, 11, 100] {
        ensure_eq!(walk(cx, &coll, "&sort=g", "g", limit).await?, ascending, "ascending, limit {limit}");
        ensure_eq!(walk(cx, &coll, "&sort=-g", "g", limit).await?, descending, "descending, limit {limit}");
    }
    ensure_eq!(walk(cx, &coll, "&sort=g&g_gte=2", "g", 2).await?, oids(&[4, 8, 1, 7, 11]), "with a filter");
    cx.cleanup(&[&coll]).await;
    Ok(())
}

/// Cursor pages on a string field, and on the default order (`createdAt` descending).
pub(crate) async fn cursor_paging_on_strings_and_default_order(cx: &Ctx<'_>) -> CaseResult {
    let coll = cx.coll("things", Schema::new().with("name", query::FieldType::String));
    let names = [(1, Some("b")), (2, Some("a")), (3, Some("c")), (4, Some("a")), (5, None), (6, Some("B"))];
    let docs = names
        .iter()
        .map(|(id, name)| match name {
            Some(name) => json!({"_id": oid(*id), "name": name}),
            None => json!({"_id": oid(*id)}),
        })
        .collect();
    cx.insert(&coll, docs).await?;
    for limit in [1, 2, 4] {
        ensure_eq!(walk(cx, &coll, "&sort=name", "name", limit).await?, oids(&[5, 6, 2, 4, 1, 3]), "names, {limit}");
        ensure_eq!(
            walk(cx, &coll, "&sort=name:desc", "name", limit).await?,
            oids(&[3, 1, 4, 2, 6, 5]),
            "desc, {limit}"
        );
        let newest_first = walk(cx, &coll, "", "createdAt", limit).await?;
        ensure_eq!(newest_first, oids(&[6, 5, 4, 3, 2, 1]), "default order, {limit}");
    }
    cx.cleanup(&[&coll]).await;
    Ok(())
}
