//! Navigation steps: component / flow (→ `flow`), goTo, goToNode, exit, and the steps that
//! become commands: intent and trigger (`jump`), command (`push`), Alexa event.

use super::{line, opt, passthrough, Step};
use crate::ports::{Exit, Target};
use crate::{Cx, Generation};
use serde_json::{json, Value};

pub(super) fn compile(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) -> Option<Value> {
    match st.ty {
        "component" | "flow" => Some(component(cx, st)),
        "goTo" => Some(go_to(cx, st)),
        "goToNode" => Some(go_to_node(cx, st)),
        "exit" => Some(line(st, "exit", json!({ "end": true }))),
        "intent" => {
            intent(cx, prog, st);
            None
        }
        "trigger" => {
            trigger(cx, prog, st);
            None
        }
        "command" => {
            command(cx, prog, st);
            None
        }
        "event" => {
            event(cx, prog, st);
            None
        }
        _ => {
            let next = cx.exit(st, Exit::Next);
            cx.error(st, format!("{} steps are not supported: skipped", st.ty));
            Some(passthrough(st, next))
        }
    }
}

/// `[[parent, child]]` pairs from a creator variable map (pairs or `{from, to}` objects).
fn var_pairs(cx: &Cx<'_>, v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let (a, b) = match p {
                Value::Array(x) => (x.first()?.as_str()?, x.get(1)?.as_str()?),
                Value::Object(_) => (
                    p.get("from").or_else(|| p.get("parent"))?.as_str()?,
                    p.get("to").or_else(|| p.get("child"))?.as_str()?,
                ),
                _ => return None,
            };
            Some(json!([cx.var(a), cx.var(b)]))
        })
        .collect()
}

fn component(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    let target = st.str("diagramID").map(str::to_string);
    let diagram = match target {
        Some(id) if cx.diagram_ids.contains(&id) => Some(id),
        Some(id) => {
            cx.warn(
                st,
                format!("component diagram {id} is not in the export: the step is skipped"),
            );
            None
        }
        None => {
            cx.warn(st, "component step names no diagram: skipped".into());
            None
        }
    };
    let map = st.get("variableMap");
    let mut l = line(
        st,
        "flow",
        json!({ "diagram_id": opt(diagram), "nextId": opt(next) }),
    );
    if map.is_object() {
        l["variable_map"] = json!({
            "inputs": var_pairs(cx, map.get("inputs")),
            "outputs": var_pairs(cx, map.get("outputs")),
        });
    }
    l
}

fn go_to(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let Some(key) = st.str("intent") else {
        cx.warn(
            st,
            "go-to-intent step names no intent: the flow ends here".into(),
        );
        return passthrough(st, None);
    };
    let name = cx.intent(st, key);
    let mut l = line(
        st,
        "goTo",
        json!({ "request": { "type": "intent", "payload": { "intent": { "name": name }, "query": "", "entities": [] } } }),
    );
    if let Some(nm) = st
        .has_exit(Exit::Else)
        .then(|| cx.exit(st, Exit::Else))
        .flatten()
    {
        l["noMatch"] = json!({ "nodeID": nm });
    }
    l
}

fn go_to_node(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let diagram = st.str("diagramID").unwrap_or(st.dg.id.as_str()).to_string();
    let Some(node) = st.str("nodeID") else {
        cx.warn(
            st,
            "go-to-block step names no block: the flow ends here".into(),
        );
        return line(
            st,
            "goToNode",
            json!({ "diagramID": diagram, "nextId": null }),
        );
    };
    let target = if diagram == st.dg.id {
        st.dg.entry(node)
    } else {
        match cx.diagrams.iter().find(|d| d.id == diagram) {
            Some(d) => d.entry(node),
            None => {
                cx.warn(
                    st,
                    format!(
                        "go-to-block diagram {diagram} is not in the export: the flow ends here"
                    ),
                );
                Target::End
            }
        }
    };
    let next = match target {
        Target::Node(id) => Some(id),
        Target::End => None,
        Target::Dangling(id) => {
            cx.warn(
                st,
                format!("go-to-block target {id} is not in diagram {diagram}: the flow ends here"),
            );
            None
        }
    };
    line(
        st,
        "goToNode",
        json!({ "diagramID": diagram, "nextId": opt(next) }),
    )
}

/// Whether an intent trigger without an explicit availability is global.
fn default_global(cx: &Cx<'_>, st: &Step<'_>) -> bool {
    cx.generation > Generation::V2021
        && (st.dg.kind.as_deref() == Some("TOPIC") || st.dg.id == cx.root_id)
}

/// Slot → variable mappings, by name.
pub(crate) fn mappings(cx: &Cx<'_>, list: &Value) -> Vec<Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let slot = m.get("slot").and_then(Value::as_str)?;
            let var = m.get("variable").and_then(Value::as_str)?;
            let slot = cx
                .slot_names
                .get(slot)
                .and_then(Value::as_str)
                .unwrap_or(slot);
            Some(json!({ "slot": slot, "variable": cx.var(var) }))
        })
        .collect()
}

/// An intent event. Without explicit mappings the key is left out, so that every entity of
/// the request lands in the variable of the same name (`spec/dm-api.md` §6.16) — what the
/// creator does for intent steps whose mapping list is empty.
pub(crate) fn intent_event(name: &str, mappings: Vec<Value>) -> Value {
    let mut e = json!({ "type": "intent", "intent": name });
    if !mappings.is_empty() {
        e["mappings"] = Value::Array(mappings);
    }
    e
}

fn add_jump(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>, event: Value, global: bool) {
    let next = cx.exit(st, Exit::Next);
    if next.is_none() {
        cx.info(st, "trigger leads nowhere: it ends the flow".into());
    }
    let command =
        json!({ "type": "jump", "event": event, "nextID": opt(next), "diagramID": st.dg.id });
    if global {
        cx.global_commands.push(command);
    } else {
        prog.push(command);
    }
}

fn intent(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) {
    let Some(key) = st.str("intent") else {
        cx.info(st, "intent step names no intent: it never triggers".into());
        return;
    };
    let name = cx.intent(st, key);
    let global = match st.str("availability") {
        Some("GLOBAL") => true,
        Some(_) => false,
        None => default_global(cx, st),
    };
    let event = intent_event(&name, mappings(cx, st.get("mappings")));
    add_jump(cx, prog, st, event, global);
}

fn trigger(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) {
    for item in st.list("items") {
        let local = item
            .pointer("/settings/local")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(rid) = item.get("resourceID").and_then(Value::as_str) else {
            continue;
        };
        match item.get("type").and_then(Value::as_str).unwrap_or("intent") {
            "intent" => {
                let name = cx.intent(st, rid);
                let event = intent_event(&name, Vec::new());
                add_jump(cx, prog, st, event, !local);
            }
            other => {
                let name = cx
                    .doc
                    .get("events")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|e| e.get("id").and_then(Value::as_str) == Some(rid))
                    .and_then(|e| e.get("name").and_then(Value::as_str))
                    .unwrap_or(rid)
                    .to_string();
                cx.warn(
                    st,
                    format!(
                        "{other} trigger {name:?}: flowdm matches it on requests of type {name:?}"
                    ),
                );
                add_jump(cx, prog, st, json!({ "type": name }), !local);
            }
        }
    }
}

fn command(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) {
    let (Some(key), Some(diagram)) = (st.str("intent"), st.str("diagramID")) else {
        cx.warn(
            st,
            "command step without an intent or a component: ignored".into(),
        );
        return;
    };
    if !cx.diagram_ids.contains(diagram) {
        cx.warn(
            st,
            format!("command component {diagram} is not in the export: ignored"),
        );
        return;
    }
    let name = cx.intent(st, key);
    let event = intent_event(&name, mappings(cx, st.get("mappings")));
    prog.push(json!({ "type": "push", "event": event, "diagramID": diagram }));
}

fn event(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) {
    let Some(name) = st.str("requestName") else {
        cx.warn(st, "event step names no request: ignored".into());
        return;
    };
    cx.info(
        st,
        format!("Alexa event {name}: only a request of that type triggers it"),
    );
    let event = json!({ "type": name });
    add_jump(cx, prog, st, event, false);
}
