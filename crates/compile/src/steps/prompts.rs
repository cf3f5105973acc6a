//! No-match and no-reply settings of listening steps → runtime `noMatch` / `noReply`
//! (`spec/dm-api.md` §6.17). Chat projects get Slate prompts, voice projects strings.

use super::output::dialog;
use super::Step;
use crate::ports::Exit;
use crate::{cms, content, Cx};
use serde_json::{json, Map, Value};

/// One reprompt in the project's output format.
fn prompt(cx: &Cx<'_>, r: &Value) -> Value {
    let c = r.get("content").unwrap_or(r);
    if cx.chat {
        content::to_slate(&cx.names, c)
    } else {
        match c {
            Value::String(_) => Value::String(dialog(cx, r)),
            other => Value::String(content::slate_text(&content::slate(&cx.names, other))),
        }
    }
}

/// A CMS response (by id) as a prompt.
fn cms_prompt(cx: &Cx<'_>, id: &str) -> Option<Value> {
    let slate = cms::message_slate(&cx.messages, id)?;
    Some(if cx.chat {
        slate
    } else {
        Value::String(content::slate_text(&slate))
    })
}

/// The dialog of a capture-v3 entity: its prompt is the item's CMS response (`repromptID`), in
/// the model's prompt shape (chat `{content: Slate}`, voice `{text}`).
pub(super) fn entity_dialog(cx: &Cx<'_>, item: &Value) -> Value {
    let prompt: Vec<Value> = item
        .get("repromptID")
        .and_then(Value::as_str)
        .and_then(|id| cms_prompt(cx, id))
        .map(|p| match p {
            Value::String(text) => json!({ "text": text }),
            slate => json!({ "content": slate }),
        })
        .into_iter()
        .collect();
    json!({ "prompt": prompt, "confirm": [], "utterances": [], "confirmEnabled": false })
}

fn types_has(cfg: &Value, t: &str) -> bool {
    cfg.get("types")
        .and_then(Value::as_array)
        .map(|l| l.iter().any(|x| x.as_str() == Some(t)))
        .unwrap_or(false)
}

fn prompts(cx: &Cx<'_>, cfg: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = cfg
        .get("reprompts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| prompt(cx, r))
        .collect();
    if let Some(id) = cfg.get("repromptID").and_then(Value::as_str) {
        out.extend(cms_prompt(cx, id));
    }
    out
}

/// `noMatch` of a listening step.
pub(crate) fn no_match(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    // 2022+: `noMatch`; 2021 choice: `else`; 2021 prompt: `noMatches`.
    let cfg = [st.get("noMatch"), st.get("else"), st.get("noMatches")]
        .into_iter()
        .find(|c| {
            c.is_object()
                && (c.get("reprompts").is_some()
                    || c.get("types").is_some()
                    || c.get("repromptID").is_some()
                    || c.get("path").is_some()
                    || c.get("type").is_some())
        })
        .cloned()
        .unwrap_or(Value::Null);
    let path = cfg.is_null()
        || types_has(&cfg, "path")
        || cfg.get("type").and_then(Value::as_str) == Some("path")
        || cfg.get("path").and_then(Value::as_bool) == Some(true);
    let prompts = prompts(cx, &cfg);
    let node = if path { cx.exit(st, Exit::Else) } else { None };
    if prompts.is_empty() && node.is_none() {
        return None;
    }
    Some(Value::Object(reprompts(prompts, &cfg, node)))
}

/// `{prompts, randomize, nodeID}` of a no-match / no-reply config.
fn reprompts(prompts: Vec<Value>, cfg: &Value, node: Option<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("prompts".into(), Value::Array(prompts));
    m.insert(
        "randomize".into(),
        Value::Bool(
            cfg.get("randomize")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
    );
    m.insert(
        "nodeID".into(),
        node.map(Value::String).unwrap_or(Value::Null),
    );
    m
}

/// Inserts the step's `noMatch` and `noReply` into `m` (those it has).
pub(crate) fn insert_reprompts(cx: &mut Cx<'_>, st: &Step<'_>, m: &mut Map<String, Value>) {
    if let Some(nm) = no_match(cx, st) {
        m.insert("noMatch".into(), nm);
    }
    if let Some(nr) = no_reply(cx, st) {
        m.insert("noReply".into(), nr);
    }
}

/// `noReply` of a listening step (absent when the step has none).
pub(crate) fn no_reply(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    let cfg = st.get("noReply");
    if !cfg.is_object() {
        // 2021: a single `reprompt`.
        let r = st.get("reprompt");
        if r.is_null() {
            return None;
        }
        return Some(json!({ "prompts": [prompt(cx, r)], "randomize": false, "nodeID": null }));
    }
    let cfg = cfg.clone();
    let path = types_has(&cfg, "path") || cfg.get("path").and_then(Value::as_bool) == Some(true);
    let node = if path {
        cx.exit(st, Exit::NoReply)
    } else {
        None
    };
    let prompts = prompts(cx, &cfg);
    let mut m = reprompts(prompts, &cfg, node);
    if let Some(t) = cfg.get("timeout").filter(|t| t.is_number()) {
        m.insert("timeout".into(), t.clone());
    }
    Some(Value::Object(m))
}
