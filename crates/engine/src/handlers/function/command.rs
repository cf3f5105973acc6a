//! The runtime command a function returns (`{outputVars, next, trace}`, every key optional and
//! no other allowed) checked as the reference checks it, and its "simple" traces completed
//! into the traces clients render (`spec/dm-api.md` §5.6.24).

use serde_json::{json, Map, Value};

/// Where a function sends the conversation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Next {
    /// `next: {path}`: a path code of the function.
    Path(String),
    /// `next: {listen: true, defaultTo, to}`: wait for the next request; `transfers` is
    /// `{defaultTo, to}` as stored in the session.
    Listen(Value),
}

/// A checked runtime command.
#[derive(Debug, Default)]
pub(super) struct Command {
    pub output_vars: Option<Map<String, Value>>,
    pub next: Option<Next>,
    /// Traces in the shape clients get.
    pub traces: Vec<Value>,
}

/// Checks `value` (what `main` returned; `null` = nothing). `card_id` names carousel cards.
pub(super) fn parse(value: Value, card_id: &mut dyn FnMut() -> String) -> Result<Command, String> {
    let mut object = match value {
        Value::Null => return Ok(Command::default()),
        Value::Object(m) => m,
        other => {
            return Err(format!(
                "the function must return an object {{outputVars, next, trace}}, it returned {}",
                kind(&other)
            ))
        }
    };
    let unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "outputVars" | "next" | "trace"))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Unrecognized key(s) in object: '{}'",
            unknown.join("', '")
        ));
    }
    let output_vars = match object.remove("outputVars") {
        None => None,
        Some(Value::Object(m)) if m.values().all(is_plain) => Some(m),
        Some(_) => return Err("A output (variables) command must be a record of valid output variable names to plain data values ('number', 'boolean', 'string')".into()),
    };
    let next = object.remove("next").map(next_command).transpose()?;
    let traces = match object.remove("trace") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|t| adapt(t, card_id))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err("A trace command must be a list of valid Voiceflow trace types".into())
        }
    };
    Ok(Command {
        output_vars,
        next,
        traces,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_plain(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// A transfer: a path code, or `{type: "path", path}`.
pub(super) fn transfer_path(t: &Value) -> Option<&str> {
    match t {
        Value::String(s) => Some(s),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("path") => {
            m.get("path").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// `{defaultTo, to: [{on, dest}]}` with valid transfers and `on` objects.
pub(super) fn valid_transfers(v: &Value) -> bool {
    let to_ok = v.get("to").and_then(Value::as_array).is_some_and(|to| {
        to.iter().all(|t| {
            t.get("on").is_some_and(Value::is_object)
                && t.get("dest").and_then(transfer_path).is_some()
        })
    });
    to_ok && v.get("defaultTo").and_then(transfer_path).is_some()
}

fn next_command(v: Value) -> Result<Next, String> {
    let invalid = || "a next command must be {path} or {listen: true, defaultTo, to}".to_string();
    let Value::Object(m) = v else {
        return Err(invalid());
    };
    if m.len() == 1 {
        if let Some(path) = m.get("path") {
            return path
                .as_str()
                .map(|p| Next::Path(p.to_string()))
                .ok_or_else(|| {
                    "Expected value of type 'string' for 'path' property of a next command".into()
                });
        }
    }
    if m.get("listen") == Some(&Value::Bool(true)) {
        let transfers = json!({ "defaultTo": m.get("defaultTo"), "to": m.get("to") });
        if valid_transfers(&transfers) {
            return Ok(Next::Listen(transfers));
        }
    }
    Err(invalid())
}

/// A trace as clients get it: the reference's simple traces (`text` with a `message`, `speak`,
/// `audio`, `visual`, `cardV2`, `carousel`) completed; `debug`, `choice` and custom types as
/// given.
fn adapt(trace: Value, card_id: &mut dyn FnMut() -> String) -> Result<Value, String> {
    let Value::Object(mut t) = trace else {
        return Err("A Voiceflow trace must be an object".into());
    };
    let Some(ty) = t.get("type").and_then(Value::as_str).map(str::to_string) else {
        return Err("A Voiceflow trace must define a 'type' property of type string".into());
    };
    let payload = t.remove("payload");
    let malformed =
        || format!("the function's '{ty}' trace does not have the fields of a {ty} trace");
    let field = |p: &Option<Value>, key: &str| p.as_ref().and_then(|p| p.get(key)).cloned();
    let payload = match ty.as_str() {
        "text" | "speak" | "debug" => {
            let Some(Value::String(message)) = field(&payload, "message") else {
                return Err(malformed());
            };
            let mut p = payload.and_then(object).unwrap_or_default();
            match ty.as_str() {
                "text" => {
                    let slate = json!({ "id": "dummy", "content": [{ "children": [{ "text": message }] }] });
                    let mut out = Map::from_iter([("slate".to_string(), slate)]);
                    out.extend(p);
                    Some(Value::Object(out))
                }
                "speak" => {
                    p.insert("type".into(), json!("message"));
                    Some(Value::Object(p))
                }
                _ => Some(Value::Object(p)),
            }
        }
        "audio" => {
            let src = field(&payload, "src");
            let src = src.as_ref().and_then(Value::as_str).unwrap_or("");
            t.insert("type".into(), json!("speak"));
            Some(json!({ "type": "audio", "message": format!("<audio src='{src}'/>") }))
        }
        "visual" => {
            let Some(Value::String(_)) = field(&payload, "image") else {
                return Err(malformed());
            };
            let mut out = Map::from_iter([
                ("visualType".to_string(), json!("image")),
                ("device".to_string(), json!("desktop")),
                (
                    "dimensions".to_string(),
                    json!({ "width": 480, "height": 360 }),
                ),
                ("canvasVisibility".to_string(), json!("full")),
            ]);
            out.extend(payload.and_then(object).unwrap_or_default());
            Some(Value::Object(out))
        }
        "cardV2" => {
            let card = payload.ok_or_else(malformed)?;
            Some(adapt_card(card, None).ok_or_else(malformed)?)
        }
        "carousel" => {
            let Some(Value::Array(cards)) = field(&payload, "cards") else {
                return Err(malformed());
            };
            let cards = cards
                .into_iter()
                .map(|c| adapt_card(c, Some(card_id())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(malformed)?;
            let mut out = Map::from_iter([("layout".to_string(), json!("Carousel"))]);
            out.extend(payload.and_then(object).unwrap_or_default());
            out.insert("cards".into(), Value::Array(cards));
            Some(Value::Object(out))
        }
        "choice" => {
            if !field(&payload, "buttons").is_some_and(|b| b.is_array()) {
                return Err(malformed());
            }
            payload
        }
        _ => payload,
    };
    if let Some(p) = payload {
        t.insert("payload".into(), p);
    }
    Ok(Value::Object(t))
}

fn object(v: Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A simple card `{imageUrl, title, description: {text}, buttons?}` with its buttons completed
/// (and an id in a carousel); `None` if it is not one.
fn adapt_card(card: Value, id: Option<String>) -> Option<Value> {
    let mut card = object(card)?;
    let text_ok = card
        .get("description")
        .and_then(|d| d.get("text"))
        .is_some_and(Value::is_string);
    if !(card.get("imageUrl")?.is_string() && card.get("title")?.is_string() && text_ok) {
        return None;
    }
    let buttons = match card.remove("buttons") {
        None => Vec::new(),
        Some(Value::Array(b)) => b.into_iter().map(adapt_button).collect::<Option<_>>()?,
        Some(_) => return None,
    };
    card.insert("buttons".into(), Value::Array(buttons));
    if let Some(id) = id {
        card.insert("id".into(), Value::String(id));
    }
    Some(Value::Object(card))
}

/// `{name, payload: {actions: [{type: "open_url", url}]}}` → an action request button;
/// `{name, request}` → as given with a `payload` (at least `{}`).
fn adapt_button(b: Value) -> Option<Value> {
    let name = b.get("name")?.as_str()?.to_string();
    if let Some(actions) = b.get("payload").and_then(|p| p.get("actions")) {
        let actions = actions
            .as_array()?
            .iter()
            .map(|a| {
                (a.get("type")?.as_str()? == "open_url").then_some(())?;
                Some(json!({ "type": "open_url", "payload": { "url": a.get("url")?.as_str()? } }))
            })
            .collect::<Option<Vec<_>>>()?;
        return Some(json!({
            "name": name,
            "request": { "type": "action", "payload": { "label": name, "actions": actions } },
        }));
    }
    let mut request = object(b.get("request")?.clone())?;
    request.get("type")?.as_str()?;
    request.entry("payload").or_insert_with(|| json!({}));
    Some(json!({ "name": name, "request": request }))
}
