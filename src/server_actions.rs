//! The custom actions the server runs itself, declared in `--actions-dir` (default `actions/`,
//! next to the agents so they live in git): every `*.json` file holds one action or a list of
//! them (`flowdm_model::ServerAction::parse`, `docs/custom-actions.md`). A file or an action that
//! does not parse is logged and skipped; a missing directory means no action.

use flowdm_model::{ServerAction, ServerActions};
use serde_json::Value;
use std::path::Path;

/// The actions of `dir`, files in name order.
pub fn load(dir: &Path) -> ServerActions {
    ServerActions::new(load_list(dir))
}

/// The actions of `dir` as a list, files in name order.
pub fn load_list(dir: &Path) -> Vec<ServerAction> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    paths.sort();
    let mut actions = Vec::new();
    for path in paths {
        let doc: Value = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(doc) => doc,
            Err(error) => {
                tracing::error!(file = %path.display(), %error, "custom action not loaded");
                continue;
            }
        };
        let list = match doc {
            Value::Array(list) => list,
            one => vec![one],
        };
        for raw in list {
            match ServerAction::parse(&raw) {
                Ok(action) => {
                    tracing::info!(file = %path.display(), name = %action.name, active = action.is_active, "custom action loaded");
                    actions.push(action);
                }
                Err(error) => {
                    tracing::error!(file = %path.display(), %error, "custom action not loaded");
                }
            }
        }
    }
    actions
}
