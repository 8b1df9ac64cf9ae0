//! Query-plan checks: the statements the store generates use the indexes it creates (the owner
//! index for private lists in the default order, the `createdAt` index for default lists, the
//! primary key for ids), so the hot paths never scan or sort a whole collection.

#[cfg(test)]
mod tests {
    use query::{FieldPath, Scalar, Schema};
    use rls_core::ReadScope;

    use crate::pool::{self, Role};
    use crate::{catalog, sql};

    fn plan(conn: &rusqlite::Connection, sql: &str, params: &[rusqlite::types::Value]) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |row| row.get::<_, String>(3)).unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join(" | ")
    }

    #[test]
    fn hot_paths_use_indexes() {
        let path = std::env::temp_dir().join(format!("urbackend-plan-{}.sqlite3", store::new_object_id()));
        let conn = pool::open(&path, Role::Writer { durable: false }).unwrap();
        catalog::init(&conn).unwrap();
        let table = catalog::ensure(&conn, "p_posts").unwrap();
        catalog::create_owner_index(&conn, "p_posts", "userId").unwrap();
        let schema = Schema::new();
        let scope = ReadScope::Owner { field: "userId".into(), user: "u1".into() };

        let private = query::parse("limit=20", &schema).unwrap();
        let find = sql::find_sql(&scope, &private).unwrap();
        let text = format!("SELECT body FROM \"{table}\" WHERE {}", find.tail);
        let private_plan = plan(&conn, &text, &find.params);
        assert!(private_plan.contains("_o_"), "{private_plan}");
        assert!(!private_plan.contains("TEMP B-TREE"), "{private_plan}");

        let mut filtered = query::parse("limit=20&title=x", &schema).unwrap();
        filtered.restrict(FieldPath::new("userId").unwrap(), Scalar::String("u1".into()));
        let find = sql::find_sql(&scope, &filtered).unwrap();
        let text = format!("SELECT body FROM \"{table}\" WHERE {}", find.tail);
        let filtered_plan = plan(&conn, &text, &find.params);
        assert!(filtered_plan.contains("_o_"), "{filtered_plan}");

        let public = query::parse("limit=20&page=3", &schema).unwrap();
        let find = sql::find_sql(&ReadScope::All, &public).unwrap();
        let text = format!("SELECT body FROM \"{table}\" WHERE {}", find.tail);
        let public_plan = plan(&conn, &text, &find.params);
        assert!(public_plan.contains("_created"), "{public_plan}");
        assert!(!public_plan.contains("TEMP B-TREE"), "{public_plan}");

        let cursor = query::parse("cursor=start&limit=20", &schema).unwrap();
        let find = sql::find_sql(&scope, &cursor).unwrap();
        let text = format!("SELECT body FROM \"{table}\" WHERE {}", find.tail);
        let cursor_plan = plan(&conn, &text, &find.params);
        assert!(!cursor_plan.contains("TEMP B-TREE"), "{cursor_plan}");

        let mut after = query::parse("cursor=start&limit=20", &schema).unwrap();
        after.pagination = query::Pagination::Cursor {
            after: Some(query::CursorPosition {
                sort: after.sort[0].clone(),
                value: Some(Scalar::Date(1_700_000_000_000)),
                id: query::ObjectIdHex::parse("65a0c0de0000000a00000001").unwrap(),
            }),
            limit: 20,
        };
        let find = sql::find_sql(&scope, &after).unwrap();
        let text = format!("SELECT body FROM \"{table}\" WHERE {}", find.tail);
        let after_plan = plan(&conn, &text, &find.params);
        assert!(after_plan.contains("_o_") && after_plan.contains("AND <expr><"), "{after_plan}");
        assert!(!after_plan.contains("TEMP B-TREE"), "{after_plan}");

        let by_id = plan(&conn, &format!("SELECT body FROM \"{table}\" WHERE id = ?1"), &["x".to_owned().into()]);
        assert!(by_id.contains("INDEX sqlite_autoindex"), "{by_id}");
        drop(conn);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
