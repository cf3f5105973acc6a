//! AI and knowledge-base steps: generative, ai_set, kb-search, response-prompt, agent. They
//! compile into same-named lines the engine runs; an `agent` line carries its agent's
//! definition (instructions, model settings, path, function and knowledge-base tools).

use super::{key_paths, line, opt, Step};
use crate::content;
use crate::ports::Exit;
use crate::Cx;
use serde_json::{json, Map, Value};

pub(super) fn compile(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    let l = match st.ty {
        "generative" | "ai_response" => generative(cx, st),
        "ai_set" => ai_set(cx, st),
        "kb-search" => kb_search(cx, st),
        "response-prompt" => response_prompt(cx, st),
        "agent" => agent(cx, st),
        _ => {
            let next = fallback(cx, st);
            super::passthrough(st, next)
        }
    };
    if matches!(
        st.ty,
        "generative" | "ai_response" | "ai_set" | "kb-search" | "response-prompt"
    ) {
        cx.info(
            st,
            format!(
                "{} runs with the AI provider and knowledge base the server is given (docs/ai.md)",
                st.ty
            ),
        );
    } else {
        cx.warn(
            st,
            format!(
                "{} is not run by flowdm yet: the step emits a debug trace and follows its {} port",
                st.ty,
                if has_fail(st) { "fail/else" } else { "next" }
            ),
        );
    }
    Some(l)
}

fn has_fail(st: &Step<'_>) -> bool {
    (st.has_exit(Exit::Fail) && st.raw_target(Exit::Fail).is_some())
        || (st.has_exit(Exit::Else) && st.raw_target(Exit::Else).is_some())
}

/// The port an unsupported AI step takes: fail, else, then next.
fn fallback(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<String> {
    for exit in [Exit::Fail, Exit::Else] {
        if st.raw_target(exit).is_some() {
            if let Some(t) = cx.exit(st, exit) {
                return Some(t);
            }
        }
    }
    cx.exit(st, Exit::Next)
}

fn text(cx: &Cx<'_>, v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(content::braces(&cx.names, s)),
        Value::Array(_) => Value::String(content::markup_string(&cx.names, v)),
        _ => Value::Null,
    }
}

fn params(st: &Step<'_>, m: &mut Map<String, Value>) {
    for k in [
        "mode",
        "model",
        "temperature",
        "maxTokens",
        "source",
        "overrideParams",
    ] {
        if let Some(v) = st.data.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
}

fn generative(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut m = Map::new();
    m.insert("prompt".into(), text(cx, st.get("prompt")));
    m.insert("system".into(), text(cx, st.get("system")));
    params(st, &mut m);
    let next = cx.exit(st, Exit::Next);
    let else_id = if st.raw_target(Exit::Else).is_some() {
        cx.exit(st, Exit::Else)
    } else {
        None
    };
    m.insert("nextId".into(), opt(next));
    m.insert("elseId".into(), opt(else_id));
    line(st, "generative", Value::Object(m))
}

fn ai_set(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let sets: Vec<Value> = st
        .list("sets")
        .iter()
        .map(|s| {
            json!({
                "prompt": text(cx, s.get("prompt").unwrap_or(&Value::Null)),
                "variable": s.get("variable").and_then(Value::as_str).map(|v| Value::String(cx.var(v))).unwrap_or(Value::Null),
                "mode": s.get("mode").cloned().unwrap_or(Value::Null),
                "instruction": text(cx, s.get("instruction").unwrap_or(&Value::Null)),
            })
        })
        .collect();
    let mut m = Map::new();
    m.insert("sets".into(), Value::Array(sets));
    m.insert("system".into(), text(cx, st.get("system")));
    params(st, &mut m);
    let next = cx.exit(st, Exit::Next);
    m.insert("nextId".into(), opt(next));
    line(st, "ai_set", Value::Object(m))
}

fn kb_search(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    let variable = st
        .str("variableID")
        .map(|v| Value::String(cx.var(v)))
        .unwrap_or(Value::Null);
    line(
        st,
        "kb-search",
        json!({
            "question": content::markup_string(&cx.names, st.get("question")),
            "maxChunks": st.get("maxChunks"),
            "variable": variable,
            "nextId": opt(next),
        }),
    )
}

fn response_prompt(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    let id = st.str("promptID").unwrap_or("");
    let prompt = cx
        .doc
        .pointer("/version/programResources/prompts")
        .and_then(|p| p.get(id))
        .cloned()
        .unwrap_or(Value::Null);
    line(
        st,
        "response-prompt",
        json!({ "promptID": id, "prompt": prompt, "nextId": opt(next) }),
    )
}

fn agent(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let paths = key_paths(cx, st);
    let next = fallback(cx, st);
    let id = st.str("agentID").unwrap_or("");
    let definition = agent_definition(cx, st, id);
    line(
        st,
        "agent",
        json!({
            "agentID": id,
            "agent": definition,
            "listenForOtherTriggers": st.get("listenForOtherTriggers"),
            "exitEveryConversationalTurn": st.get("exitEveryConversationalTurn"),
            "paths": paths,
            "nextId": opt(next),
        }),
    )
}

/// Rows of an export table that belong to the agent `id`.
fn agent_rows<'a>(cx: &Cx<'a>, table: &str, id: &str) -> Vec<&'a Value> {
    cx.doc
        .get(table)
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter(|r| r.get("agentID").and_then(Value::as_str) == Some(id))
                .collect()
        })
        .unwrap_or_default()
}

/// The agent `id` of the export's `agents` table with its tools, variable ids as names:
/// `{name, instructions, model, temperature, maxTokens, pathTools, functionTools,
/// knowledgeBase}`; `null` when the export lacks it.
fn agent_definition(cx: &mut Cx<'_>, st: &Step<'_>, id: &str) -> Value {
    let Some(agent) = cx
        .doc
        .get("agents")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|a| a.get("id").and_then(Value::as_str) == Some(id))
        })
    else {
        cx.warn(
            st,
            format!("agent {id:?} is not in the export: the step takes its next port"),
        );
        return Value::Null;
    };
    let path_vars = cx
        .doc
        .get("agentPathToolVariables")
        .and_then(Value::as_array);
    let path_tools: Vec<Value> = agent_rows(cx, "agentPathTools", id)
        .into_iter()
        .map(|t| {
            let tool_id = t.get("id").and_then(Value::as_str).unwrap_or("");
            let variables: Vec<Value> = path_vars
                .into_iter()
                .flatten()
                .filter(|v| v.get("agentPathToolID").and_then(Value::as_str) == Some(tool_id))
                .filter_map(|v| {
                    let var = v.get("variableID").and_then(Value::as_str)?;
                    Some(json!({ "variable": cx.var(var), "description": v.get("description").and_then(Value::as_str).unwrap_or("") }))
                })
                .collect();
            json!({ "id": tool_id, "name": t.get("name"), "description": t.get("description"), "variables": variables })
        })
        .collect();
    let function_vars = cx.doc.get("functionVariables").and_then(Value::as_array);
    let functions = cx.doc.get("functions").and_then(Value::as_array);
    let function_tools: Vec<Value> = agent_rows(cx, "agentFunctionTools", id)
        .into_iter()
        .filter_map(|t| {
            let function_id = t.get("functionID").and_then(Value::as_str)?;
            let function = functions?
                .iter()
                .find(|f| f.get("id").and_then(Value::as_str) == Some(function_id))?;
            let inputs: Vec<Value> = function_vars
                .into_iter()
                .flatten()
                .filter(|v| {
                    v.get("functionID").and_then(Value::as_str) == Some(function_id)
                        && v.get("type").and_then(Value::as_str) == Some("input")
                })
                .map(|v| {
                    let vid = v.get("id").and_then(Value::as_str).unwrap_or("");
                    let given = t.pointer(&format!("/inputVariables/{vid}"));
                    let default = given
                        .and_then(|g| g.get("defaultValue"))
                        .map(|d| content::markup_string(&cx.names, d))
                        .unwrap_or_default();
                    let description = given
                        .and_then(|g| g.get("description"))
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty())
                        .or_else(|| v.get("description").and_then(Value::as_str))
                        .unwrap_or("");
                    json!({ "name": v.get("name"), "description": description, "default": default })
                })
                .collect();
            let description = t
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .or_else(|| function.get("description").and_then(Value::as_str))
                .unwrap_or("");
            Some(json!({ "functionID": function_id, "name": function.get("name"), "description": description, "inputs": inputs }))
        })
        .collect();
    if !agent_rows(cx, "agentIntegrationTools", id).is_empty()
        || !agent_rows(cx, "agentAPITools", id).is_empty()
    {
        cx.warn(
            st,
            "the agent's integration and API tools need Voiceflow's hosted integrations: the agent runs without them".into(),
        );
    }
    let settings = agent.get("settings").unwrap_or(&Value::Null);
    let kb = agent
        .get("knowledgeBaseTool")
        .filter(|k| k.get("enabled").and_then(Value::as_bool) == Some(true))
        .map(|k| k.get("description").cloned().unwrap_or(Value::Null));
    json!({
        "name": agent.get("name"),
        "instructions": content::markup_string(&cx.names, agent.get("instructions").unwrap_or(&Value::Null)),
        "model": settings.get("model"),
        "temperature": settings.get("temperature"),
        "maxTokens": settings.get("maxTokens"),
        "pathTools": path_tools,
        "functionTools": function_tools,
        "knowledgeBase": kb,
    })
}
