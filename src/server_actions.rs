//! The custom actions the server runs itself, declared in `--actions-dir` (default `actions/`,
//! next to the agents so they live in git): every `*.json` / `*.yaml` file holds one action or a
//! list of them (`crate::declarations`) (`flowdm_model::ServerAction::parse`, `docs/custom-actions.md`). A file or an action that
//! does not parse is logged and skipped; a missing directory means no action.

use flowdm_model::{ServerAction, ServerActions};
use std::path::Path;

/// The actions of `dir`, files in name order.
pub fn load(dir: &Path) -> ServerActions {
    ServerActions::new(load_list(dir))
}

/// The actions of `dir` as a list, files in name order.
pub fn load_list(dir: &Path) -> Vec<ServerAction> {
    let mut actions = Vec::new();
    for (path, raw) in crate::declarations::read(dir, "custom action") {
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
    actions
}
