//! `POST /api/data/:collection/aggregate`.
//!
//! rls-core decides which stages the caller may run and puts the read scope first. For the secret
//! key, the collections named by `$lookup`, `$graphLookup` and `$unionWith` are this project's
//! collections by name: they are mapped to their physical names here, and a name the project
//! does not have is `404 Collection not found`, so a pipeline can never read another tenant's
//! data or the platform's own collections.

use rls_core::authorize_aggregate;
use serde_json::{Map, Value};

use crate::{Access, DataError, DataPlane, Resolved};

impl DataPlane {
    /// Runs an aggregation; `body` is `{"pipeline": [...]}`.
    pub async fn aggregate(
        &self,
        access: &Access<'_>,
        collection: &str,
        body: &Value,
    ) -> Result<Vec<Value>, DataError> {
        let resolved = Resolved::new(access.project, collection);
        let mut plan = authorize_aggregate(&access.caller(), &resolved.target(), body)?;
        let def = resolved.def()?;
        if !plan.foreign_collections.is_empty() {
            let mut physical_names = Map::new();
            for name in &plan.foreign_collections {
                if access.project.collection(name).is_none() {
                    return Err(DataError::CollectionNotFound);
                }
                physical_names.insert(name.clone(), Value::String(access.project.physical_name(name)));
            }
            plan.stages.iter_mut().for_each(|stage| rename_collections(stage, &physical_names));
            plan.foreign_collections = physical_names.values().filter_map(Value::as_str).map(str::to_owned).collect();
        }
        let placed = self.place(access.project, def).await?;
        Ok(placed.store.aggregate(&placed.spec(), &plan).await?)
    }
}

/// Replaces the collection names of `$lookup.from`, `$graphLookup.from` and `$unionWith` (string
/// or `coll`) at any depth.
fn rename_collections(value: &mut Value, names: &Map<String, Value>) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, spec) in map.iter_mut() {
                    let slot = match (key.as_str(), &mut *spec) {
                        ("$lookup" | "$graphLookup", Value::Object(spec)) => spec.get_mut("from"),
                        ("$unionWith", Value::Object(spec)) => spec.get_mut("coll"),
                        ("$unionWith", name @ Value::String(_)) => Some(name),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        if let Some(physical) = slot.as_str().and_then(|name| names.get(name)) {
                            *slot = physical.clone();
                        }
                    }
                }
                pending.extend(map.values_mut());
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn foreign_collections_are_renamed_at_any_depth() {
        let names = match json!({"comments": "p_comments", "drafts": "p_drafts"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let mut stage = json!({"$lookup": {"from": "comments", "as": "c", "pipeline": [{"$unionWith": "drafts"}]}});
        rename_collections(&mut stage, &names);
        assert_eq!(
            stage,
            json!({"$lookup": {"from": "p_comments", "as": "c", "pipeline": [{"$unionWith": "p_drafts"}]}})
        );
        let mut stage = json!({"$facet": {"x": [{"$unionWith": {"coll": "comments"}}]}});
        rename_collections(&mut stage, &names);
        assert_eq!(stage, json!({"$facet": {"x": [{"$unionWith": {"coll": "p_comments"}}]}}));
    }
}
