//! `subflow` custom actions (`docs/custom-actions.md` § Library sub-flows): the step runs a
//! library entry's component in the turn. Its inputs (templates over the step's payload and
//! variables, checked against the entry's declared inputs) become the sub-flow frame's local
//! variables; the caller frame stays at the custom-action node. When the sub-flow's frame ends,
//! its outputs are mapped into the agent's variables and the value of its `path_variable` names
//! the step's path (through the action's `paths`; unknown → the default path).
//!
//! Version pinning: the version is part of every program id (`lib:<name>@<version>:<diagram>`),
//! and the version a session first used is kept in the session's storage (`subflowVersions`,
//! cleared by a launch), so an update to the library reaches new sessions only.

use super::server_action::template;
use crate::interpolate::Lookup;
use crate::runtime::{Runtime, Scope, Step};
use crate::state::{Frame, NodePtr};
use flowdm_model::{CustomAction, Event, LibraryVersion, Parameter, Subflow};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Session storage: entry name → the version this session uses.
pub const PINS_KEY: &str = "subflowVersions";
/// A sub-flow frame's storage: `{entry, version, node, outputs, paths, pathVariable}`.
const FRAME_KEY: &str = "subflow";
/// The caller frame's storage once the sub-flow returned: `{node, entry, path, label}`.
const RESULT_KEY: &str = "subflowResult";

/// An input value: a template that is one `{{…}}` keeps the value's JSON type.
fn input_value(text: &str, vars: &dyn Lookup, user: &str, project: &str, payload: &Value) -> Value {
    let trimmed = text.trim();
    let whole = trimmed
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .filter(|inner| !inner.contains("{{") && !inner.contains("}}"));
    if let Some(name) = whole.map(str::trim) {
        return match name {
            "user.id" => Value::String(user.into()),
            "project.id" => Value::String(project.into()),
            _ => match name.strip_prefix("payload.") {
                Some(key) => payload.get(key).cloned().unwrap_or(Value::Null),
                None => vars.lookup(name).cloned().unwrap_or(Value::Null),
            },
        };
    }
    Value::String(template(text, vars, user, project, payload))
}

/// A text given for a number or boolean input is read as one.
fn coerce(ty: &str, v: Value) -> Value {
    match (ty, &v) {
        ("number" | "integer", Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(n as i64),
            Ok(n) => json!(n),
            Err(_) => v,
        },
        ("boolean", Value::String(s)) => match s.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => v,
        },
        _ => v,
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "number" | "integer" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

/// The given inputs checked against the declared ones (defaults filled in).
fn validate(
    declared: &[Parameter],
    given: Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    if let Some(key) = given
        .keys()
        .find(|k| !declared.iter().any(|p| &p.key == *k))
    {
        return Err(format!(
            "input {key:?} is not declared by the library entry"
        ));
    }
    let mut out = Map::new();
    for p in declared {
        let value = given
            .get(&p.key)
            .filter(|v| !v.is_null() && *v != "")
            .cloned()
            .or_else(|| p.default.clone());
        match value.map(|v| coerce(&p.ty, v)) {
            Some(v) if type_ok(&p.ty, &v) => {
                out.insert(p.key.clone(), v);
            }
            Some(v) => return Err(format!("input {:?} must be {} (got {v})", p.key, p.ty)),
            None if p.required => return Err(format!("input {:?} is required", p.key)),
            None => {}
        }
    }
    Ok(out)
}

impl Runtime<'_, '_> {
    /// The version of `name` this session uses: the one it is pinned to, else the latest
    /// shared one.
    fn subflow_version(&self, name: &str) -> Option<Arc<LibraryVersion>> {
        let project_id = &self.project.version.project_id;
        let pinned = self
            .state
            .storage
            .get(PINS_KEY)
            .and_then(|p| p.get(name))
            .and_then(Value::as_u64)
            .and_then(|v| self.library.version(name, v, project_id));
        pinned
            .or_else(|| self.library.latest_shared(name, project_id))
            .cloned()
    }

    /// Starts the sub-flow of `sub` for the custom-action step `action` (payload: the step's
    /// rendered payload).
    pub(crate) fn run_subflow(
        &mut self,
        action: &CustomAction,
        sub: &Subflow,
        payload: &Value,
    ) -> Step {
        let fail = |rt: &mut Self, why: String| {
            rt.debug(Some("custom-action"), || {
                format!("sub-flow {:?} not run: {why}; the default path", sub.entry)
            });
            Step::Next(action.default_next().map(str::to_string))
        };
        let Some(lib) = self.subflow_version(&sub.entry) else {
            return fail(self, "no shared version in the library".into());
        };
        let running = self.state.stack.iter().any(|f| {
            f.storage.get(FRAME_KEY).and_then(|s| s.get("entry")) == Some(&json!(sub.entry))
        });
        if running {
            return fail(
                self,
                "it is already running (a sub-flow cannot call itself)".into(),
            );
        }
        let given: Map<String, Value> = {
            let user = self.user_id.clone().unwrap_or_default();
            let project = self.project.version.project_id.clone();
            let scope = self.scope();
            sub.inputs
                .iter()
                .map(|(k, t)| (k.clone(), input_value(t, &scope, &user, &project, payload)))
                .collect()
        };
        let inputs = match validate(&lib.entry.inputs, given) {
            Ok(i) => i,
            Err(why) => return fail(self, why),
        };
        let Some(node) = self
            .state
            .stack
            .last()
            .and_then(|f| f.node_id.id())
            .map(str::to_string)
        else {
            return fail(self, "no step to come back to".into());
        };
        // Outputs: the action's map, else every declared output under its own name.
        let outputs: Vec<Value> = if sub.outputs.is_empty() {
            lib.entry.outputs.iter().map(|o| json!([o, o])).collect()
        } else {
            sub.outputs.iter().map(|(s, a)| json!([s, a])).collect()
        };
        let paths: Map<String, Value> = sub
            .paths
            .iter()
            .map(|(s, l)| (s.clone(), Value::String(l.clone())))
            .collect();
        let version = lib.entry.version;
        let mut pins = match self.state.storage.get(PINS_KEY) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        pins.insert(sub.entry.clone(), json!(version));
        self.state
            .storage
            .insert(PINS_KEY.into(), Value::Object(pins));

        let mut frame = Frame::new(lib.start.clone());
        frame.variables = inputs;
        frame.storage.insert(
            FRAME_KEY.into(),
            json!({
                "entry": sub.entry,
                "version": version,
                "node": node,
                "outputs": outputs,
                "paths": paths,
                "pathVariable": lib.entry.path_variable,
            }),
        );
        self.debug(Some("custom-action"), || {
            format!("entering sub-flow {:?} version {version}", sub.entry)
        });
        self.push_frame(frame);
        Step::Next(None)
    }

    /// A sub-flow frame ended: its outputs go into the caller's variables and the path it took
    /// is left for the caller's custom-action node ([`Runtime::subflow_returned`]).
    pub(crate) fn subflow_finished(&mut self, finished: &Frame) {
        let Some(info) = finished.storage.get(FRAME_KEY) else {
            return;
        };
        let child = Scope {
            local: &finished.variables,
            global: &self.state.variables,
        };
        let path_var = info
            .get("pathVariable")
            .and_then(Value::as_str)
            .unwrap_or("path");
        let path = match child.lookup(path_var) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let label = info
            .get("paths")
            .and_then(|p| p.get(&path))
            .and_then(Value::as_str)
            .map_or_else(|| path.clone(), str::to_string);
        let values: Vec<(String, Value)> = info
            .get("outputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let sub_var = p.get(0)?.as_str()?;
                let agent_var = p.get(1)?.as_str()?;
                Some((agent_var.to_string(), child.lookup(sub_var)?.clone()))
            })
            .collect();
        let result = json!({
            "node": info.get("node").cloned().unwrap_or(Value::Null),
            "entry": info.get("entry").cloned().unwrap_or(Value::Null),
            "path": path,
            "label": label,
        });
        // Agent variables: the caller's local if it has one, else the global.
        let mut caller = self.state.stack.last_mut();
        for (var, value) in values {
            match caller.as_deref_mut() {
                Some(f) if f.variables.contains_key(&var) => {
                    f.variables.insert(var, value);
                }
                _ => {
                    self.state.variables.insert(var, value);
                }
            }
        }
        if let Some(caller) = caller {
            caller.storage.insert(RESULT_KEY.into(), result);
        }
    }

    /// The caller's custom-action node after its sub-flow returned: the path it named.
    pub(crate) fn subflow_returned(&mut self, action: &CustomAction) -> Option<Step> {
        let frame = self.state.stack.last_mut()?;
        let here = match &frame.node_id {
            NodePtr::At(id) => id.clone(),
            _ => return None,
        };
        if frame
            .storage
            .get(RESULT_KEY)
            .and_then(|r| r.get("node"))
            .and_then(Value::as_str)
            != Some(here.as_str())
        {
            return None;
        }
        let result = frame.storage.shift_remove(RESULT_KEY)?;
        let text = |k: &str| {
            result
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (entry, path, label) = (text("entry"), text("path"), text("label"));
        let found = (!label.is_empty())
            .then(|| {
                action
                    .paths
                    .iter()
                    .find(|p| matches!(&p.event, Event::General(t) if *t == label))
            })
            .flatten();
        self.debug(Some("custom-action"), || {
            format!(
                "sub-flow {entry:?} ended on path {path:?}: {}",
                if found.is_some() {
                    format!("the step's path {label:?}")
                } else {
                    "the default path".into()
                }
            )
        });
        Some(match found {
            Some(p) => Step::Next(p.next_id.clone()),
            None => Step::Next(action.default_next().map(str::to_string)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{input_value, validate};
    use flowdm_model::Parameter;
    use serde_json::{json, Map};

    #[test]
    fn whole_templates_keep_their_type_and_declared_inputs_are_checked() {
        let mut vars = Map::new();
        vars.insert("amount".into(), json!(25));
        let payload = json!({ "card": { "kind": "visa" } });
        assert_eq!(
            input_value("{{amount}}", &vars, "u", "p", &payload),
            json!(25)
        );
        assert_eq!(
            input_value("{{ payload.card }}", &vars, "u", "p", &payload),
            json!({ "kind": "visa" })
        );
        assert_eq!(
            input_value("{{amount}} EUR", &vars, "u", "p", &payload),
            json!("25 EUR")
        );
        let declared = vec![
            Parameter {
                key: "amount".into(),
                ty: "number".into(),
                required: true,
                default: None,
            },
            Parameter {
                key: "currency".into(),
                ty: "string".into(),
                required: false,
                default: Some(json!("EUR")),
            },
        ];
        let mut given = Map::new();
        given.insert("amount".into(), json!("12.5"));
        let out = validate(&declared, given).expect("valid");
        assert_eq!(out.get("amount"), Some(&json!(12.5)));
        assert_eq!(out.get("currency"), Some(&json!("EUR")));
        assert!(validate(&declared, Map::new())
            .expect_err("required")
            .contains("\"amount\" is required"));
        let mut extra = Map::new();
        extra.insert("amount".into(), json!(1));
        extra.insert("tip".into(), json!(1));
        assert!(validate(&declared, extra)
            .expect_err("undeclared")
            .contains("\"tip\" is not declared"));
    }
}
