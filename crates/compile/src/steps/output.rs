//! Output steps: text, speak, message (CMS), visual, cardV2, carousel, url, channel_action.

use super::prompts::insert_reprompts;
use super::{line, opt, passthrough, Step};
use crate::content;
use crate::ports::Exit;
use crate::Cx;
use serde_json::{json, Map, Value};

pub(super) fn compile(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) -> Option<Value> {
    Some(match st.ty {
        "text" => text(cx, st),
        "speak" => speak(cx, st),
        "message" => message(cx, st),
        "visual" => visual(cx, st),
        "cardV2" => card(cx, prog, st),
        "carousel" => carousel(cx, prog, st),
        "url" => url(cx, st),
        "channel_action" => channel_action(cx, st),
        _ => {
            let next = cx.exit(st, Exit::Next);
            cx.warn(
                st,
                "legacy card steps are not run by flowdm: skipped, the flow continues".into(),
            );
            passthrough(st, next)
        }
    })
}

fn text(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let texts: Vec<Value> = st
        .list("texts")
        .iter()
        .map(|t| {
            let mut out = Map::new();
            out.insert("id".into(), t.get("id").cloned().unwrap_or(Value::Null));
            out.insert(
                "content".into(),
                content::to_slate(&cx.names, t.get("content").unwrap_or(&Value::Null)),
            );
            if let Some(d) = t.get("messageDelayMilliseconds").filter(|d| d.is_number()) {
                out.insert("messageDelayMilliseconds".into(), d.clone());
            }
            Value::Object(out)
        })
        .collect();
    if texts.is_empty() {
        cx.info(st, "text step without text: says nothing".into());
    }
    let next = cx.exit(st, Exit::Next);
    line(st, "text", json!({ "texts": texts, "nextId": opt(next) }))
}

/// One voice dialog as SSML-ish speak text.
pub(crate) fn dialog(cx: &Cx<'_>, d: &Value) -> String {
    let voice = d.get("voice").and_then(Value::as_str).unwrap_or("");
    if voice == "audio" {
        let src = d
            .get("url")
            .or_else(|| d.get("content"))
            .and_then(Value::as_str)
            .unwrap_or("");
        return format!("<audio src=\"{}\"/>", content::braces(&cx.names, src));
    }
    let text = match d.get("content") {
        Some(Value::String(s)) => content::braces(&cx.names, s),
        Some(other) => content::slate_text(&content::slate(&cx.names, other)),
        None => String::new(),
    };
    if matches!(voice, "" | "default" | "Alexa" | "alexa") || text.is_empty() {
        text
    } else {
        format!("<voice name=\"{voice}\">{text}</voice>")
    }
}

fn speak(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let dialogs: Vec<String> = st.list("dialogs").iter().map(|d| dialog(cx, d)).collect();
    let next = cx.exit(st, Exit::Next);
    let random = st.get("randomize").as_bool().unwrap_or(false);
    if dialogs.iter().all(|d| d.is_empty()) {
        cx.info(st, "speak step without content: says nothing".into());
    }
    if random && !dialogs.is_empty() {
        line(
            st,
            "speak",
            json!({ "random_speak": dialogs, "nextId": opt(next) }),
        )
    } else {
        line(
            st,
            "speak",
            json!({ "speak": dialogs.concat(), "nextId": opt(next) }),
        )
    }
}

fn message(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    // An empty message step says nothing: an empty text line keeps the flow going.
    let silent =
        |next: Option<String>| line(st, "text", json!({ "texts": [], "nextId": opt(next) }));
    let Some(id) = st.str("messageID") else {
        cx.info(st, "message step without a message: says nothing".into());
        return silent(next);
    };
    if !cx.messages.contains_key(id) {
        cx.warn(
            st,
            format!(
                "message {id} is neither in programResources nor in the CMS tables: says nothing"
            ),
        );
        return silent(next);
    }
    line(
        st,
        "message",
        json!({ "data": { "messageID": id }, "ports": { "default": opt(next) } }),
    )
}

fn visual(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut data = Map::new();
    if let Some(o) = st.data.as_object() {
        for (k, v) in o {
            if !matches!(
                k.as_str(),
                "name" | "ports" | "portsV2" | "blockColor" | "steps"
            ) {
                data.insert(k.clone(), v.clone());
            }
        }
    }
    data.entry("visualType").or_insert_with(|| json!("image"));
    for key in ["image", "imageURL"] {
        if let Some(Value::String(s)) = data.get(key) {
            let v = content::braces(&cx.names, s);
            data.insert(key.into(), Value::String(v));
        }
    }
    if data.get("visualType").and_then(Value::as_str) == Some("apl") {
        cx.warn(
            st,
            "APL visuals are Alexa-only: the visual trace carries the APL document as is".into(),
        );
    }
    let next = cx.exit(st, Exit::Next);
    line(st, "visual", json!({ "data": data, "nextId": opt(next) }))
}

/// A button request: an intent request when the button names an intent, else a path request
/// `path-<buttonID>` routed by a program command.
pub(crate) fn button(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    id: &str,
    label: &str,
    intent: Option<&str>,
    actions: Vec<Value>,
) -> (Value, Value) {
    match intent {
        Some(key) => {
            let name = cx.intent(st, key);
            let request = json!({ "type": "intent", "payload": {
                "intent": { "name": name }, "query": label, "label": label, "entities": [], "actions": actions } });
            let event = super::navigation::intent_event(&name, Vec::new());
            (json!({ "name": label, "request": request }), event)
        }
        None => {
            let ty = format!("path-{id}");
            let request = json!({ "type": ty, "payload": { "label": label, "actions": actions } });
            (
                json!({ "name": label, "request": request }),
                json!({ "type": ty }),
            )
        }
    }
}

/// `open_url` actions of the `url` steps in the `actions` container a port leads to.
pub(crate) fn url_actions(cx: &Cx<'_>, st: &Step<'_>, exit: Exit<'_>) -> Vec<Value> {
    let Some(target) = st.raw_target(exit) else {
        return Vec::new();
    };
    let Some(node) = st.dg.node(target) else {
        return Vec::new();
    };
    if node.get("type").and_then(Value::as_str) != Some("actions") {
        return Vec::new();
    }
    node.pointer("/data/steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|s| st.dg.node(s))
        .filter(|n| n.get("type").and_then(Value::as_str) == Some("url"))
        .filter_map(|n| n.pointer("/data/url").and_then(Value::as_str))
        .map(|u| json!({ "type": "open_url", "payload": { "url": content::braces(&cx.names, u) } }))
        .collect()
}

/// Whether a button only opens links: its port leads to an `actions` container of `url` steps
/// that goes nowhere after them.
fn url_only(st: &Step<'_>, exit: Exit<'_>) -> bool {
    use crate::ports::Target;
    let Some(node) = st.raw_target(exit).and_then(|t| st.dg.node(t)) else {
        return false;
    };
    if node.get("type").and_then(Value::as_str) != Some("actions") {
        return false;
    }
    let steps: Vec<&str> = node
        .pointer("/data/steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(last) = steps.last() else {
        return false;
    };
    steps.iter().all(|s| st.dg.type_of(s) == "url")
        && st
            .dg
            .node(last)
            .map(|n| {
                let data = n.get("data").unwrap_or(&Value::Null);
                st.dg.resolve(last, data, Exit::Next, false) == Target::End
            })
            .unwrap_or(false)
}

/// A legacy button's `id`, label (with `{var}` references) and non-empty `intent`.
pub(crate) fn legacy_button<'v>(cx: &Cx<'_>, b: &'v Value) -> (&'v str, String, Option<&'v str>) {
    let id = b.get("id").and_then(Value::as_str).unwrap_or("");
    let label = content::braces(
        &cx.names,
        b.get("name").and_then(Value::as_str).unwrap_or(""),
    );
    let intent = b
        .get("intent")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    (id, label, intent)
}

/// Card buttons: the trace buttons, plus one `jump` command per button (cards do not route
/// their own buttons, `spec/dm-api.md` §5.6.20).
fn card_buttons(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    list: &[Value],
    commands: &mut Vec<Value>,
    index: &mut usize,
) -> Vec<Value> {
    let mut out = Vec::new();
    for b in list {
        let (id, label, intent) = legacy_button(cx, b);
        let exit = if st.has_exit(Exit::Key(id)) {
            Exit::Key(id)
        } else {
            Exit::Dynamic(*index)
        };
        *index += 1;
        let actions = url_actions(cx, st, exit);
        let (button, event) = button(cx, st, id, &label, intent, actions);
        // Link buttons only open their URL in the client: nothing to route.
        if !url_only(st, exit) {
            let next = cx.exit(st, exit);
            commands.push(
                json!({ "type": "jump", "event": event, "nextID": opt(next), "diagramID": st.dg.id }),
            );
        }
        out.push(button);
    }
    out
}

fn card_fields(cx: &Cx<'_>, c: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    let title = c.get("title").and_then(Value::as_str).unwrap_or("");
    m.insert(
        "title".into(),
        Value::String(content::braces(&cx.names, title)),
    );
    let image = c.get("imageUrl").and_then(Value::as_str).unwrap_or("");
    m.insert(
        "imageUrl".into(),
        Value::String(content::braces(&cx.names, image)),
    );
    let description = match c.get("description") {
        Some(Value::String(s)) => Value::String(content::braces(&cx.names, s)),
        Some(v @ Value::Array(_)) => content::slate(&cx.names, v),
        _ => Value::String(String::new()),
    };
    m.insert("description".into(), description);
    m
}

fn listen_fields(cx: &mut Cx<'_>, st: &Step<'_>, blocking: bool, m: &mut Map<String, Value>) {
    m.insert("isBlocking".into(), Value::Bool(blocking));
    if blocking {
        insert_reprompts(cx, st, m);
    }
    let next = cx.exit(st, Exit::Next);
    m.insert("nextId".into(), opt(next));
}

fn card(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) -> Value {
    let mut m = card_fields(cx, st.data);
    let mut commands = Vec::new();
    let mut index = 0;
    let buttons = card_buttons(cx, st, st.list("buttons"), &mut commands, &mut index);
    // A card waits for a click only when one of its buttons leads somewhere.
    let blocking = !commands.is_empty();
    m.insert("buttons".into(), Value::Array(buttons));
    listen_fields(cx, st, blocking, &mut m);
    prog.extend(commands);
    line(st, "cardV2", Value::Object(m))
}

fn carousel(cx: &mut Cx<'_>, prog: &mut Vec<Value>, st: &Step<'_>) -> Value {
    let mut commands = Vec::new();
    let mut index = 0;
    let mut cards = Vec::new();
    for c in st.list("cards") {
        let mut m = card_fields(cx, c);
        m.insert("id".into(), c.get("id").cloned().unwrap_or(Value::Null));
        let list = c
            .get("buttons")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let buttons = card_buttons(cx, st, list, &mut commands, &mut index);
        m.insert("buttons".into(), Value::Array(buttons));
        cards.push(Value::Object(m));
    }
    let blocking = !commands.is_empty();
    let mut m = Map::new();
    m.insert(
        "layout".into(),
        st.data
            .get("layout")
            .cloned()
            .unwrap_or_else(|| json!("Carousel")),
    );
    m.insert("cards".into(), Value::Array(cards));
    listen_fields(cx, st, blocking, &mut m);
    prog.extend(commands);
    line(st, "carousel", Value::Object(m))
}

fn url(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let next = cx.exit(st, Exit::Next);
    let in_actions = st
        .dg
        .container_of(st.id)
        .map(|c| st.dg.type_of(c) == "actions")
        .unwrap_or(false);
    if !in_actions {
        cx.warn(
            st,
            "a URL step outside button actions opens nothing in flowdm: skipped".into(),
        );
    }
    let url = content::braces(&cx.names, st.str("url").unwrap_or(""));
    line(st, "url", json!({ "url": url, "nextId": opt(next) }))
}

fn channel_action(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut paths = Vec::new();
    for (i, p) in st.list("paths").iter().enumerate() {
        let next = cx.exit(st, Exit::Dynamic(i));
        let label = p.get("label").cloned().unwrap_or(Value::Null);
        let event = p
            .get("event")
            .cloned()
            .unwrap_or_else(|| json!({ "type": label }));
        paths.push(json!({ "label": label, "event": event, "nextID": opt(next) }));
    }
    let data = json!({
        "name": st.get("name"),
        "payload": st.data.get("payload").cloned().unwrap_or_else(|| json!({})),
    });
    line(
        st,
        "channel_action",
        json!({ "data": data, "stop": st.get("stop").as_bool().unwrap_or(true), "defaultPath": st.data.get("defaultPath").cloned().unwrap_or(json!(0)), "paths": paths }),
    )
}
