//! Trace-list helpers shared by the engine tests (`tests/common`) and the HTTP tests
//! (`tests/support/server.rs`).

use serde_json::Value;

/// The `type`s of a trace list.
pub fn types(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("type")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The messages of the text/speak traces.
pub fn messages(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| {
                    matches!(
                        t.get("type").and_then(Value::as_str),
                        Some("text" | "speak")
                    )
                })
                .filter_map(|t| t.pointer("/payload/message")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
