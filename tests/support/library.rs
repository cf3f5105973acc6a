//! Helpers of the library tests (`/api/library`, HTTP and Redis): an agent whose "Confirm Order"
//! step runs the example sub-flow through the example `subflow` action, and library entries to
//! register with the example export inline.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The "Yes" and "No" buttons of the example sub-flow.
pub const YES: &str = "path-64d4b0000000000000000001";
pub const NO: &str = "path-64d4b0000000000000000002";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// An agent (`project`, version `version`) whose "Confirm Order" step runs the sub-flow, with
/// `amount` and the step's `payload`.
pub fn shop(project: &str, version: &str, amount: u64, payload: Value) -> String {
    let text = |msg: &str| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": null });
    json!({
        "project": { "_id": project, "name": project, "type": "chat", "platform": "webchat", "devVersion": version },
        "version": { "_id": version, "projectID": project, "rootDiagramID": "D", "variables": ["amount", "order_reference"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": project, "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            version: { "id": version, "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "set" },
                "set": { "type": "setV2", "sets": [ { "variable": "amount", "expression": amount.to_string(), "type": "value" } ], "nextId": "confirm" },
                "confirm": { "_v": 1, "type": "Confirm Order", "payload": payload, "defaultPath": 1,
                    "paths": [ { "event": { "type": "confirmed" }, "nextID": "ok" }, { "event": { "type": "cancelled" }, "nextID": "no" } ] },
                "ok": text(&format!("{project}: confirmed {{order_reference}}.")),
                "no": text(&format!("{project}: cancelled."))
            } }
        }
    })
    .to_string()
}

/// The example export with its question "Confirm the order of {amount} {currency}?" starting
/// with `question` instead.
pub fn export(question: &str) -> Value {
    let vf = std::fs::read_to_string(examples().join("library/confirm-order.vf")).unwrap();
    serde_json::from_str(&vf.replace("Confirm the order of ", question)).unwrap()
}

/// A library entry `name` of the example export (question `question`), for `POST /api/library`.
pub fn entry(name: &str, question: &str) -> Value {
    json!({ "name": name, "description": "Asks to confirm an order", "scope": "shared",
        "config": { "source": export(question), "diagram": "Confirm Order",
            "inputs": [ { "key": "amount", "type": "number", "required": true },
                        { "key": "currency", "type": "string", "default": "EUR" } ],
            "outputs": ["reference"], "paths": ["confirmed", "cancelled", "later"] } })
}

/// A folder holding the example `subflow` action (entry `confirm-order`).
pub fn actions_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        examples().join("actions/confirm-order.json"),
        dir.path().join("confirm-order.json"),
    )
    .unwrap();
    dir
}

/// A folder holding the example library entry (`confirm-order`, a file entry).
pub fn library_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["confirm-order.json", "confirm-order.vf"] {
        std::fs::copy(examples().join("library").join(file), dir.path().join(file)).unwrap();
    }
    dir
}
