//! AI and knowledge-base steps: generative, ai_set, kb-search, response-prompt, agent. They
//! compile into same-named lines; the engine runs all but `agent` (a `debug` trace, then the
//! fail/else port, else the next port).

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
    line(
        st,
        "agent",
        json!({
            "agentID": st.get("agentID"),
            "listenForOtherTriggers": st.get("listenForOtherTriggers"),
            "exitEveryConversationalTurn": st.get("exitEveryConversationalTurn"),
            "paths": paths,
            "nextId": opt(next),
        }),
    )
}
