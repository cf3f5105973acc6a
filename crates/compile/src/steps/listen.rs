//! Listening steps: buttons, buttons-v2, choice (interaction), choice-v2 and prompt compile to
//! `interaction` lines; capture / captureV2 / capture-v3 to `capture` / `captureV2` lines.

use super::output::{button, legacy_button, url_actions};
use super::prompts::{entity_dialog, insert_reprompts, no_reply};
use super::{line, opt, Step};
use crate::content;
use crate::nlu;
use crate::ports::Exit;
use crate::Cx;
use serde_json::{json, Map, Value};

pub(super) fn compile(cx: &mut Cx<'_>, _prog: &mut Vec<Value>, st: &Step<'_>) -> Option<Value> {
    Some(match st.ty {
        "buttons" => buttons(cx, st),
        "buttons-v2" => buttons_v2(cx, st),
        "interaction" | "choice" => choice(cx, st),
        "choice-v2" => choice_v2(cx, st),
        "prompt" => {
            let buttons = legacy_buttons(cx, st);
            interaction(cx, st, Vec::new(), buttons)
        }
        "capture" => capture_v1(cx, st),
        _ => capture_v2(cx, st),
    })
}

fn scope(st: &Step<'_>) -> Value {
    if let Some(listen) = st.get("listenForOtherTriggers").as_bool() {
        return json!(if listen { "GLOBAL" } else { "NODE" });
    }
    match st.str("intentScope") {
        Some(s) => json!(s),
        None => json!("GLOBAL"),
    }
}

/// The interaction line shared by every choice-like step.
fn interaction(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    interactions: Vec<Value>,
    buttons: Vec<Value>,
) -> Value {
    let mut m = Map::new();
    m.insert("interactions".into(), Value::Array(interactions));
    if !buttons.is_empty() {
        m.insert("buttons".into(), Value::Array(buttons));
    }
    m.insert("intentScope".into(), scope(st));
    insert_reprompts(cx, st, &mut m);
    line(st, "interaction", Value::Object(m))
}

/// The exit of the i-th item: `byKey[id]` when the step has it, else the i-th dynamic port.
fn item_exit<'k>(st: &Step<'_>, id: &'k str, i: usize) -> Exit<'k> {
    if !id.is_empty() && st.has_exit(Exit::Key(id)) {
        Exit::Key(id)
    } else {
        Exit::Dynamic(i)
    }
}

/// One button of a buttons step: its label, and what it does.
struct ButtonDef<'a> {
    id: &'a str,
    label: String,
    /// The intent the button stands for (saying it is like clicking).
    intent: Option<&'a str>,
    /// The click sends a path request even though the button has an intent (`actions`
    /// contains `PATH`).
    path: bool,
    actions: Vec<Value>,
}

/// Compiles buttons into `(interactions, buttons)`. Clicks come first: one `path-<id>`
/// interaction per button that sends a path request; then one intent interaction per button
/// whose intent is connected, so saying the intent takes the same port. An intent button whose
/// port is not connected only carries its intent: the request reaches the intent's own handler.
fn compile_buttons(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    defs: Vec<(Exit<'_>, ButtonDef<'_>)>,
) -> (Vec<Value>, Vec<Value>) {
    let mut clicks = Vec::new();
    let mut spoken = Vec::new();
    let mut buttons = Vec::new();
    for (exit, d) in defs {
        let mut actions = url_actions(cx, st, exit);
        actions.extend(d.actions);
        let connected = st.raw_target(exit).is_some();
        let next = cx.exit(st, exit);
        let click_is_path = d.intent.is_none() || d.path;
        let (path_button, path_event) = button(cx, st, d.id, &d.label, None, actions.clone());
        if click_is_path {
            clicks.push(json!({ "event": path_event, "nextId": opt(next.clone()) }));
            buttons.push(path_button);
        }
        if let Some(intent) = d.intent {
            let (intent_button, intent_event) =
                button(cx, st, d.id, &d.label, Some(intent), actions);
            if connected {
                spoken.push(json!({ "event": intent_event, "nextId": opt(next) }));
            }
            if !click_is_path {
                buttons.push(intent_button);
            }
        }
    }
    clicks.extend(spoken);
    (clicks, buttons)
}

fn buttons(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut defs = Vec::new();
    for (i, b) in st.list("buttons").iter().enumerate() {
        let (id, label, intent) = legacy_button(cx, b);
        let path = b
            .get("actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().any(|x| x.as_str() == Some("PATH")))
            .unwrap_or(false);
        let actions: Vec<Value> = b
            .get("url")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(|u| json!({ "type": "open_url", "payload": { "url": content::braces(&cx.names, u) } }))
            .into_iter()
            .collect();
        defs.push((
            item_exit(st, id, i),
            ButtonDef {
                id,
                label,
                intent,
                path,
                actions,
            },
        ));
    }
    let (interactions, buttons) = compile_buttons(cx, st, defs);
    interaction(cx, st, interactions, buttons)
}

fn buttons_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut defs = Vec::new();
    for (i, item) in st.list("items").iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).unwrap_or("");
        let label = content::markup_string(&cx.names, item.get("label").unwrap_or(&Value::Null));
        defs.push((
            item_exit(st, id, i),
            ButtonDef {
                id,
                label,
                intent: None,
                path: true,
                actions: Vec::new(),
            },
        ));
    }
    let (interactions, buttons) = compile_buttons(cx, st, defs);
    if buttons.is_empty() {
        cx.info(st, "buttons step without buttons: it only listens".into());
    }
    interaction(cx, st, interactions, buttons)
}

/// Chips / buttons of 2021–22 choice and prompt steps (`[{name, type, payload:{intentID}}]`).
fn legacy_buttons(cx: &mut Cx<'_>, st: &Step<'_>) -> Vec<Value> {
    let list = if st.list("buttons").is_empty() {
        st.list("chips")
    } else {
        st.list("buttons")
    };
    let mut out = Vec::new();
    for b in list {
        let label = match (b.get("name"), b.get("label")) {
            (Some(Value::String(n)), _) => n.clone(),
            (_, Some(Value::String(l))) => l.clone(),
            _ => continue,
        };
        let label = content::braces(&cx.names, &label);
        let intent = b
            .pointer("/payload/intentID")
            .or_else(|| b.get("intent"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let request = match intent {
            Some(key) => {
                let name = cx.intent(st, key);
                json!({ "type": "intent", "payload": { "intent": { "name": name }, "query": label, "label": label, "entities": [], "actions": [] } })
            }
            None => json!({ "type": "text", "payload": label }),
        };
        out.push(json!({ "name": label, "request": request }));
    }
    out
}

/// The intent choice `i` names under `field`; a choice that names none is noted and skipped.
fn choice_intent<'v>(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    i: usize,
    choice: &'v Value,
    field: &str,
) -> Option<&'v str> {
    let key = choice
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    if key.is_none() {
        cx.info(
            st,
            format!("choice {} names no intent: it can never match", i + 1),
        );
    }
    key
}

fn choice(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut interactions = Vec::new();
    for (i, c) in st.list("choices").iter().enumerate() {
        let Some(key) = choice_intent(cx, st, i, c, "intent") else {
            continue;
        };
        let intent = cx.intent(st, key);
        let mut event = super::navigation::intent_event(
            &intent,
            super::navigation::mappings(cx, c.get("mappings").unwrap_or(&Value::Null)),
        );
        if c.get("action").and_then(Value::as_str) == Some("GO_TO") {
            if let Some(target) = c
                .pointer("/goTo/intentID")
                .or_else(|| c.pointer("/goTo/intent"))
                .and_then(Value::as_str)
            {
                let name = cx.intent(st, target);
                event["goTo"] = json!({ "request": { "type": "intent", "payload": { "intent": { "name": name }, "query": "", "entities": [] } } });
            }
        }
        let next = cx.exit(st, Exit::Dynamic(i));
        interactions.push(json!({ "event": event, "nextId": opt(next) }));
    }
    let buttons = legacy_buttons(cx, st);
    interaction(cx, st, interactions, buttons)
}

fn choice_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut interactions = Vec::new();
    let mut buttons = Vec::new();
    for (i, item) in st.list("items").iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).unwrap_or("");
        let Some(key) = choice_intent(cx, st, i, item, "intentID") else {
            continue;
        };
        let intent = cx.intent(st, key);
        if item
            .get("rules")
            .and_then(Value::as_array)
            .map(|r| !r.is_empty())
            .unwrap_or(false)
        {
            cx.info(
                st,
                format!("choice {}: intent rules need an LLM and are ignored", i + 1),
            );
        }
        let exit = item_exit(st, id, i);
        let next = cx.exit(st, exit);
        interactions.push(json!({ "event": super::navigation::intent_event(&intent, Vec::new()), "nextId": opt(next) }));
        if let Some(label) = item.pointer("/button/label").filter(|l| !l.is_null()) {
            let label = content::markup_string(&cx.names, label);
            buttons.push(json!({ "name": label, "request": { "type": "intent", "payload": { "intent": { "name": intent }, "query": label, "label": label, "entities": [], "actions": [] } } }));
        }
    }
    interaction(cx, st, interactions, buttons)
}

fn capture_v1(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    let variable = st.str("variable").map(|v| cx.var(v));
    if variable.is_none() {
        cx.warn(
            st,
            "capture step without a variable: the reply is not stored".into(),
        );
    }
    let mut m = Map::new();
    m.insert("variable".into(), opt(variable));
    if let Some(slot) = st.str("slot") {
        let name = cx
            .slot_names
            .get(slot)
            .and_then(Value::as_str)
            .unwrap_or(slot)
            .to_string();
        m.insert("slots".into(), json!([name]));
    }
    if let Some(nr) = no_reply(cx, st) {
        m.insert("noReply".into(), nr);
    }
    m.insert("nextId".into(), opt(next));
    line(st, "capture", Value::Object(m))
}

/// (slot key, slot name, required, dialog) of an entity capture.
type CaptureSlot = (String, String, bool, Value);

fn capture_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let cap = st.get("capture");
    let kind = cap.get("type").and_then(Value::as_str).unwrap_or("");
    let mut m = Map::new();
    match kind {
        "query" | "user-reply" => {
            let var = cap
                .get("variable")
                .or_else(|| cap.get("variableID"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|v| cx.var(v));
            if var.is_none() {
                cx.warn(
                    st,
                    "capture without a variable: the reply is not stored".into(),
                );
            }
            m.insert("variable".into(), opt(var));
        }
        "intent" | "entity" => {
            let mut slots: Vec<CaptureSlot> = Vec::new();
            let items = cap
                .pointer("/intent/slots")
                .or_else(|| cap.get("items"))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for s in items {
                let Some(key) = s
                    .get("id")
                    .filter(|_| kind == "intent")
                    .or_else(|| s.get("entityID"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let name = cx
                    .slot_names
                    .get(key)
                    .and_then(Value::as_str)
                    .or_else(|| cx.names.entity_name(key))
                    .unwrap_or(key)
                    .to_string();
                let required = s.get("required").and_then(Value::as_bool).unwrap_or(true);
                let dialog = s
                    .get("dialog")
                    .cloned()
                    .unwrap_or_else(|| entity_dialog(cx, s));
                slots.push((key.to_string(), name, required, dialog));
            }
            if slots.is_empty() {
                cx.warn(st, "entity capture without entities: it only waits".into());
            }
            let intent_name = format!("capture_{}", st.id);
            cx.extra_intents
                .push(nlu::capture_intent(&intent_name, &slots));
            cx.used_intents.insert(intent_name.clone());
            m.insert(
                "intent".into(),
                json!({ "name": intent_name, "entities": slots.iter().map(|s| s.1.clone()).collect::<Vec<_>>() }),
            );
            if cap
                .get("automaticReprompt")
                .map(|a| !a.is_null())
                .unwrap_or(false)
                || cap
                    .get("rules")
                    .and_then(Value::as_array)
                    .map(|r| !r.is_empty())
                    .unwrap_or(false)
            {
                cx.info(
                    st,
                    "automatic reprompts and capture rules need an LLM and are ignored".into(),
                );
            }
        }
        other => {
            cx.warn(
                st,
                format!("unknown capture type {other:?}: waits for any reply"),
            );
        }
    }
    m.insert("intentScope".into(), scope(st));
    insert_reprompts(cx, st, &mut m);
    let next = cx.exit(st, Exit::Next);
    m.insert("nextId".into(), opt(next));
    line(st, "captureV2", Value::Object(m))
}
