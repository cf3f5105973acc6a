//! Step compilers, one module per family. Each turns one creator step into one runtime line
//! (or into commands) and reports what it could not translate.

mod ai;
mod alexa;
mod integration;
mod listen;
mod logic;
pub(crate) mod navigation;
mod output;
mod prompts;

use super::ports::{Diagram, Exit};
use super::Cx;
use serde_json::{json, Map, Value};

/// One step being compiled.
pub(crate) struct Step<'a> {
    pub dg: &'a Diagram<'a>,
    pub id: &'a str,
    pub ty: &'a str,
    pub data: &'a Value,
}

impl Step<'_> {
    /// Legacy `ports[]` of these steps list the no-match/else port first.
    fn else_first(&self) -> bool {
        matches!(
            self.ty,
            "interaction" | "buttons" | "ifV2" | "if" | "prompt" | "choice"
        )
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.data
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn get(&self, key: &str) -> &Value {
        self.data.get(key).unwrap_or(&Value::Null)
    }

    pub fn list(&self, key: &str) -> &[Value] {
        self.data
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Number of positional exits.
    pub fn dynamic_count(&self) -> usize {
        Diagram::dynamic_count(self.data, self.else_first())
    }

    /// The raw target id of an exit (before flattening), for looking at `actions` containers.
    pub fn raw_target(&self, exit: Exit<'_>) -> Option<&str> {
        super::ports::find_port(self.data, exit, self.else_first())
            .and_then(|(p, _)| p.get("target"))
            .and_then(Value::as_str)
    }

    /// Whether the step has a port object for this exit.
    pub fn has_exit(&self, exit: Exit<'_>) -> bool {
        super::ports::find_port(self.data, exit, self.else_first()).is_some()
    }
}

impl Cx<'_> {
    /// Where an exit of a step leads (a line id), reporting dangling targets.
    pub(crate) fn exit(&mut self, st: &Step<'_>, exit: Exit<'_>) -> Option<String> {
        use super::ports::Target;
        match st.dg.resolve(st.id, st.data, exit, st.else_first()) {
            Target::Node(id) => Some(id),
            Target::End => None,
            Target::Dangling(id) => {
                self.warn(
                    st,
                    format!("port {exit:?} leads to node {id}, which is not in the diagram: the flow ends there"),
                );
                None
            }
        }
    }
}

/// A line with the common fields.
pub(crate) fn line(st: &Step<'_>, ty: &str, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(st.id.to_string()));
    m.insert("type".into(), Value::String(ty.to_string()));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

fn opt(v: Option<String>) -> Value {
    v.map(Value::String).unwrap_or(Value::Null)
}

/// `{key: nextId}` for every key of the step's `portsV2.byKey` (agent paths, function paths).
fn key_paths(cx: &mut Cx<'_>, st: &Step<'_>) -> Map<String, Value> {
    let mut paths = Map::new();
    let keys: Vec<String> = st
        .data
        .pointer("/portsV2/byKey")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for k in &keys {
        let next = cx.exit(st, Exit::Key(k));
        paths.insert(k.clone(), opt(next));
    }
    paths
}

/// A pass-through line for a step flowdm cannot run: the engine emits a debug trace and
/// follows `nextId` (`spec/dm-api.md` §5.6.0 row 31).
pub(crate) fn passthrough(st: &Step<'_>, next: Option<String>) -> Value {
    line(
        st,
        st.ty,
        json!({ "nextId": opt(next), "unsupported": true }),
    )
}

/// Compiles one step. `None` when the step produces no line (commands, markup).
pub(crate) fn compile(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) -> Option<Value> {
    match st.ty {
        "text" | "speak" | "message" | "visual" | "cardV2" | "carousel" | "url"
        | "channel_action" | "card" => output::compile(cx, prog, st),
        "buttons" | "buttons-v2" | "interaction" | "choice" | "choice-v2" | "prompt"
        | "capture" | "captureV2" | "capture-v3" => listen::compile(cx, prog, st),
        "if" | "ifV2" | "condition-v3" | "set" | "setV2" | "set-v3" | "random" | "randomV2"
        | "code" => logic::compile(cx, st),
        "api" | "api-v2" | "integrations" | "function" | "trace" | "_v1" | "custom_action" => {
            integration::compile(cx, st)
        }
        "component" | "flow" | "goTo" | "goToNode" | "goToDomain" | "exit" | "intent"
        | "trigger" | "command" | "event" => navigation::compile(cx, prog, st),
        "generative" | "ai_set" | "ai_response" | "ai_capture" | "kb-search"
        | "response-prompt" | "agent" => ai::compile(cx, st),
        "directive" | "reminder" | "permission" | "user_info" | "account_linking" | "display"
        | "payment" | "cancel_payment" | "stream" => alexa::compile(cx, st),
        ty if super::ports::is_markup(ty) => None,
        _ => {
            let next = cx.exit(st, Exit::Next);
            cx.error(
                st,
                format!(
                    "unknown step type {:?}: not translated, the flow continues at its next port",
                    st.ty
                ),
            );
            Some(passthrough(st, next))
        }
    }
}
