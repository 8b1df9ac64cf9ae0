//! The reserved parameters: `sort`, `page`, `limit`, `fields`, `populate`/`expand`, `count`,
//! `meta`, and the "at most once" rule.

use query::{FieldPath, Pagination, Projection, SortOrder};

use crate::common::{parse_err, parse_ok};

fn sort_of(q: &str) -> Vec<(String, i32)> {
    parse_ok(q).sort.iter().map(|k| (k.path.as_str().to_owned(), k.order.as_i32())).collect()
}

fn keys(list: &[(&str, i32)]) -> Vec<(String, i32)> {
    list.iter().map(|(p, o)| ((*p).to_owned(), *o)).collect()
}

#[test]
fn sort_rules() {
    for (q, expected) in [
        ("", &[("createdAt", -1), ("_id", -1)][..]),
        ("sort=", &[("createdAt", -1), ("_id", -1)]),
        ("sort=,+,", &[("createdAt", -1), ("_id", -1)]),
        ("sort=price", &[("price", 1), ("_id", 1)]),
        ("sort=price:desc", &[("price", -1), ("_id", -1)]),
        ("sort=price:DeSc", &[("price", -1), ("_id", -1)]),
        ("sort=price:-1", &[("price", -1), ("_id", -1)]),
        ("sort=price:asc", &[("price", 1), ("_id", 1)]),
        ("sort=price:1", &[("price", 1), ("_id", 1)]),
        ("sort=price:whatever", &[("price", 1), ("_id", 1)]),
        ("sort=-price", &[("price", -1), ("_id", -1)]),
        ("sort=-createdAt", &[("createdAt", -1), ("_id", -1)]),
        ("sort=-price:asc", &[("price", 1), ("_id", 1)]),
        ("sort=a,b:desc", &[("a", 1), ("b", -1), ("_id", -1)]),
        ("sort=+a+,+-b+", &[("a", 1), ("b", -1), ("_id", -1)]),
        ("sort=_id:desc", &[("_id", -1)]),
        ("sort=a:desc,_id", &[("a", -1), ("_id", 1)]),
        ("sort=a,b,a:desc", &[("a", -1), ("b", 1), ("_id", 1)]),
        ("sort=address.city", &[("address.city", 1), ("_id", 1)]),
    ] {
        assert_eq!(sort_of(q), keys(expected), "{q}");
    }
    assert_eq!(parse_ok("sort=-price").sort[0].order, SortOrder::Desc);
}

#[test]
fn sort_errors() {
    assert_eq!(parse_err("sort=a,:desc"), r#"Invalid field ":desc" in "sort": field name is empty."#);
    assert_eq!(parse_err("sort=a[0]"), r#"Invalid field "a[0]" in "sort": bracket syntax is not supported."#);
    parse_ok("sort=a,b,c,d,e,f,g,h");
    assert_eq!(parse_err("sort=a,b,c,d,e,f,g,h,i"), r#"Too many entries in "sort" (max 8)."#);
    assert_eq!(parse_err("sort=a&sort=b"), r#"Query parameter "sort" must not be repeated."#);
}

fn offset(q: &str) -> (u64, u32, u64) {
    let p = parse_ok(q).pagination;
    match p {
        Pagination::Offset { page, limit } => (page, limit, p.skip()),
        Pagination::Cursor { .. } => panic!("{q}: offset expected"),
    }
}

#[test]
fn page_and_limit_follow_parse_int() {
    for (q, expected) in [
        ("", (1, 100, 0)),
        ("page=abc", (1, 100, 0)),
        ("page=0", (1, 100, 0)),
        ("page=-0", (1, 100, 0)),
        ("page=", (1, 100, 0)),
        ("page=2abc", (2, 100, 100)),
        ("page=1.9", (1, 100, 0)),
        ("page=+3", (3, 100, 200)),
        ("page=%20%204", (4, 100, 300)),
        ("page=0x10&limit=10", (16, 10, 150)),
        ("page=3&limit=10", (3, 10, 20)),
        ("limit=0", (1, 100, 0)),
        ("limit=abc", (1, 100, 0)),
        ("limit=5", (1, 5, 0)),
        ("limit=5.9", (1, 5, 0)),
        ("limit=100", (1, 100, 0)),
        ("limit=101", (1, 100, 0)),
        ("limit=99999999999999999999999999999999999999999", (1, 100, 0)),
        ("page=10000&limit=100", (10000, 100, 999_900)),
        ("page=1000000&limit=1", (1_000_000, 1, 999_999)),
    ] {
        assert_eq!(offset(q), expected, "{q}");
    }
}

#[test]
fn page_and_limit_errors() {
    let positive = |p: &str| format!(r#"Invalid value for "{p}": expected a positive integer."#);
    assert_eq!(parse_err("page=-1"), positive("page"));
    assert_eq!(parse_err("page=%20-2x"), positive("page"));
    assert_eq!(parse_err("limit=-5"), positive("limit"));
    let deep =
        r#"Invalid value for "page": page * limit must not exceed 1000000; use cursor pagination to read further."#;
    assert_eq!(parse_err("page=10001"), deep);
    assert_eq!(parse_err("page=1000001&limit=1"), deep);
    for p in ["page", "limit", "cursor", "count", "meta"] {
        assert_eq!(parse_err(&format!("{p}=1&{p}=1")), format!(r#"Query parameter "{p}" must not be repeated."#));
    }
}

fn paths(list: &[&str]) -> Vec<FieldPath> {
    list.iter().map(|p| FieldPath::new(p).unwrap()).collect()
}

#[test]
fn fields_projection() {
    let include = |f: &[&str], exclude_id| Some(Projection::Include { fields: paths(f), exclude_id });
    assert_eq!(parse_ok("").projection, None);
    assert_eq!(parse_ok("fields=").projection, None);
    assert_eq!(parse_ok("fields=a,b").projection, include(&["a", "b"], false));
    assert_eq!(parse_ok("fields=a&fields=+b+,,a").projection, include(&["a", "b"], false));
    assert_eq!(parse_ok("fields=a,-_id").projection, include(&["a"], true));
    assert_eq!(parse_ok("fields=_id,a.b").projection, include(&["_id", "a.b"], false));
    assert_eq!(parse_ok("fields=-a,-b").projection, Some(Projection::Exclude(paths(&["a", "b"]))));
    assert_eq!(parse_ok("fields=-_id").projection, Some(Projection::Exclude(paths(&["_id"]))));
    assert_eq!(parse_ok("fields=ab,a").projection, include(&["ab", "a"], false));
    let mixed = r#"Invalid value for "fields": cannot mix included and excluded fields (only "-_id" may accompany included fields)."#;
    assert_eq!(parse_err("fields=a,-b"), mixed);
    assert_eq!(parse_err("fields=-b,a"), mixed);
    assert_eq!(parse_err("fields=a,-a"), mixed);
    assert_eq!(parse_err("fields=_id,-_id"), mixed);
    assert_eq!(parse_err("fields=a,a.b"), r#"Invalid value for "fields": "a" and "a.b" overlap."#);
    assert_eq!(parse_err("fields=-a.b.c,-a.b"), r#"Invalid value for "fields": "a.b" and "a.b.c" overlap."#);
    assert_eq!(parse_err("fields=-"), r#"Invalid field "-" in "fields": field name is empty."#);
    let many = |k: usize| (0..k).map(|i| format!("f{i}")).collect::<Vec<_>>().join(",");
    parse_ok(&format!("fields={}", many(64)));
    assert_eq!(parse_err(&format!("fields={}", many(65))), r#"Too many entries in "fields" (max 64)."#);
}

#[test]
fn populate_and_expand() {
    assert_eq!(parse_ok("populate=a,b").populate, paths(&["a", "b"]));
    assert_eq!(parse_ok("populate=a&populate=b,a").populate, paths(&["a", "b"]));
    assert_eq!(parse_ok("expand=a").populate, paths(&["a"]));
    assert_eq!(parse_ok("populate=a&expand=b").populate, paths(&["a"]));
    assert_eq!(parse_ok("populate=&expand=b").populate, paths(&["b"]));
    assert_eq!(parse_ok("populate=a&expand=$ignored").populate, paths(&["a"]));
    assert!(parse_ok("").populate.is_empty());
    assert_eq!(parse_err("populate=$x"), r#"Invalid field "$x" in "populate": field names must not start with "$"."#);
    let many = |k: usize| (0..k).map(|i| format!("p{i}")).collect::<Vec<_>>().join(",");
    parse_ok(&format!("populate={}", many(16)));
    assert_eq!(parse_err(&format!("populate={}", many(17))), r#"Too many entries in "populate" (max 16)."#);
    assert_eq!(parse_err(&format!("expand={}", many(17))), r#"Too many entries in "expand" (max 16)."#);
}

#[test]
fn count_and_meta() {
    assert!(parse_ok("count=true").count);
    for q in ["", "count=", "count=TRUE", "count=1", "count=false"] {
        assert!(!parse_ok(q).count, "{q}");
    }
    assert_eq!(parse_ok("").meta, None);
    assert_eq!(parse_ok("meta=false").meta, Some(false));
    assert_eq!(parse_ok("meta=true").meta, Some(true));
    for bad in ["meta=", "meta=0", "meta=FALSE"] {
        assert_eq!(parse_err(bad), r#"Invalid value for "meta"; expected "true" or "false"."#);
    }
}
