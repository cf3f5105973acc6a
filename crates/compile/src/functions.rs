//! Functions of 2024+ exports (`functions`, `functionVariables`, `functionPaths` tables) →
//! `prototype.surveyorContext.functionDefinitions` (`spec/dm-api.md` §5.6.24):
//! `{id: {code, inputVars: {name: {type}}, outputVars: {name: {type}}, pathCodes}}`.

use super::rows;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn field<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

/// Whether the export has function `id`.
pub(crate) fn exists(doc: &Value, id: &str) -> bool {
    rows(doc, "functions")
        .iter()
        .any(|f| field(f, "id") == Some(id) && field(f, "code").is_some())
}

/// Path id → path code (its name).
pub(crate) fn path_names(doc: &Value) -> HashMap<&str, &str> {
    rows(doc, "functionPaths")
        .iter()
        .filter_map(|p| Some((field(p, "id")?, field(p, "name")?)))
        .collect()
}

/// The definitions of every function of the export.
pub(crate) fn definitions(doc: &Value) -> Value {
    let mut out = Map::new();
    for f in rows(doc, "functions") {
        let (Some(id), Some(code)) = (field(f, "id"), field(f, "code")) else {
            continue;
        };
        let mut inputs = Map::new();
        let mut outputs = Map::new();
        for v in rows(doc, "functionVariables") {
            if field(v, "functionID") != Some(id) {
                continue;
            }
            let Some(name) = field(v, "name") else {
                continue;
            };
            let ty = field(v, "datatype").unwrap_or("string");
            match field(v, "type") {
                Some("input") => inputs.insert(name.to_string(), json!({ "type": ty })),
                Some("output") => outputs.insert(name.to_string(), json!({ "type": ty })),
                _ => None,
            };
        }
        // Path codes in the function's `pathOrder`, then any path it does not list.
        let paths: Vec<&Value> = rows(doc, "functionPaths")
            .iter()
            .filter(|p| field(p, "functionID") == Some(id))
            .collect();
        let order: Vec<&str> = f
            .get("pathOrder")
            .and_then(Value::as_array)
            .map(|o| o.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let rank = |p: &&Value| {
            field(p, "id")
                .and_then(|pid| order.iter().position(|o| *o == pid))
                .unwrap_or(usize::MAX)
        };
        let mut paths = paths;
        paths.sort_by_key(rank);
        let codes: Vec<&str> = paths.iter().filter_map(|p| field(p, "name")).collect();
        out.insert(
            id.to_string(),
            json!({ "code": code, "inputVars": inputs, "outputVars": outputs, "pathCodes": codes }),
        );
    }
    Value::Object(out)
}
