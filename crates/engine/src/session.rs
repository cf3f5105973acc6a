//! Session creation and per-turn initialisation (the "state manager", `spec/dm-api.md` §6.2)
//! and built-in variables (§2.2, §6.11).

use super::interpolate::number;
use super::request::Request;
use super::state::{set_key, Frame, State, Vars};
use flowdm_model::Project;
use serde_json::{Map, Value};

/// A fresh session for the project (`generate`): the prototype's stack or the root diagram,
/// the prototype's variables under `prev`'s, `sessions` + 1, `user_id`.
pub fn generate(project: &Project, prev: Option<&State>, user_id: Option<&str>) -> State {
    let context = &project.version.context;
    let stack: Vec<Frame> = context
        .get("stack")
        .and_then(Value::as_array)
        .map(|frames| {
            frames
                .iter()
                .filter_map(|f| serde_json::from_value(f.clone()).ok())
                .collect()
        })
        .filter(|s: &Vec<Frame>| !s.is_empty())
        .unwrap_or_else(|| vec![Frame::new(project.version.root_diagram_id.clone())]);
    let mut variables: Vars = context
        .get("variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut storage: Vars = context
        .get("storage")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(prev) = prev {
        for (k, v) in &prev.variables {
            variables.insert(k.clone(), v.clone());
        }
        for (k, v) in &prev.storage {
            storage.insert(k.clone(), v.clone());
        }
    }
    let sessions = prev
        .and_then(|p| p.variables.get("sessions"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    variables.insert("sessions".into(), number(sessions + 1.0));
    if let Some(uid) = user_id {
        variables.insert("user_id".into(), Value::String(uid.to_string()));
    }
    State {
        stack,
        storage,
        variables,
    }
}

/// The init handler (§6.2), run at the start of every pipeline pass.
pub(crate) fn init(
    project: &Project,
    mut state: State,
    request: Option<&Request>,
    user_id: Option<&str>,
    now_ms: u64,
) -> State {
    if request.map(Request::is_launch).unwrap_or(false) {
        state.stack.clear();
        state.storage = Map::new();
    }
    // A session started on another version of the project starts over.
    if let Some(bottom) = state.stack.first() {
        if bottom.is_base() && bottom.diagram_id != project.version.id {
            state.stack.clear();
        }
    }
    if state.stack.is_empty() {
        state = generate(project, Some(&state), user_id);
    }
    initialize_variables(project, &mut state.variables, now_ms);
    state
}

/// Declared variables default to 0 (existing values win); `timestamp` is refreshed.
pub(crate) fn initialize_variables(project: &Project, vars: &mut Vars, now_ms: u64) {
    if let Some(slots) = project
        .version
        .model
        .as_ref()
        .and_then(|m| m.get("slots"))
        .and_then(Value::as_array)
    {
        for slot in slots {
            if let Some(name) = slot.get("name").and_then(Value::as_str) {
                if !vars.contains_key(name) {
                    vars.insert(name.to_string(), Value::from(0));
                }
            }
        }
    }
    for name in &project.version.variables {
        if !vars.contains_key(name) {
            vars.insert(name.clone(), Value::from(0));
        }
    }
    set_key(vars, "timestamp", Value::from(now_ms / 1000));
}

/// Built-in variables set from the request before execution (§2.2).
pub(crate) fn apply_builtins(
    vars: &mut Vars,
    request: Option<&Request>,
    user_id: Option<&str>,
    now_ms: u64,
) {
    if let Some(r) = request {
        if r.is_intent() {
            let confidence = r
                .confidence()
                .map(|c| (c * 10000.0).round() / 100.0)
                .unwrap_or(100.0);
            set_key(vars, "intent_confidence", number(confidence));
            if let Some(q) = r.query().filter(|q| !q.is_empty()) {
                set_key(vars, "last_utterance", Value::String(q.to_string()));
            }
        } else if let Some(label) = r.path_label() {
            set_key(vars, "last_utterance", Value::String(label.to_string()));
        }
    }
    set_key(
        vars,
        "last_event",
        request.map(|r| r.as_value().clone()).unwrap_or(Value::Null),
    );
    set_key(vars, "timestamp", Value::from(now_ms / 1000));
    if let Some(uid) = user_id {
        set_key(vars, "user_id", Value::String(uid.to_string()));
    }
}
