//! Integration steps: api / api-v2 (→ `integrations` Custom API lines), function, and the
//! custom action (`trace`, `_v: 1`).

use super::{key_paths, line, opt, Step};
use crate::content;
use crate::ports::Exit;
use crate::{rows, Cx};
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

pub(super) fn compile(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    Some(match st.ty {
        "api" | "integrations" => api(cx, st),
        "api-v2" => api_v2(cx, st),
        "function" => function(cx, st),
        _ => custom_action(cx, st),
    })
}

/// Warns when the step's URL cannot be a URL whatever its `{var}`s hold (each replaced by a
/// letter): at run time the step would fail without calling anything.
fn check_url(cx: &mut Cx<'_>, st: &Step<'_>, url: &str) {
    static PLACEHOLDER: LazyLock<Option<regex::Regex>> =
        LazyLock::new(|| regex::Regex::new(r"\{[^{}]*\}").ok());
    let probe = match &*PLACEHOLDER {
        Some(re) => re.replace_all(url, "x").into_owned(),
        None => url.to_string(),
    };
    let why = match url::Url::parse(probe.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => return,
        Ok(u) => format!("its scheme {:?} is not http or https", u.scheme()),
        Err(e) => e.to_string(),
    };
    cx.warn(
        st,
        format!("the API step's URL {url:?} does not parse ({why}): the step will always fail"),
    );
}

/// `[{key, val}]` with `{{[v].id}}` tokens → `{v}`; empty strings become null (2021 compiler).
fn pairs(cx: &Cx<'_>, v: &Value) -> Value {
    let conv = |x: Option<&Value>| match x {
        Some(Value::String(s)) if !s.is_empty() => Value::String(content::braces(&cx.names, s)),
        _ => Value::Null,
    };
    Value::Array(
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| json!({ "key": conv(p.get("key")), "val": conv(p.get("val").or_else(|| p.get("value"))) }))
            .collect(),
    )
}

/// The `integrations` line of an API step, routed on success / failure (with the runtime note).
fn api_line(cx: &mut Cx<'_>, st: &Step<'_>, action_data: Value) -> Value {
    let success = cx.exit(st, Exit::Next);
    let fail = cx.exit(st, Exit::Fail);
    if let Some(url) = action_data.get("url").and_then(Value::as_str) {
        check_url(cx, st, url);
    }
    let action = action_data
        .get("selected_action")
        .cloned()
        .unwrap_or(Value::Null);
    line(
        st,
        "integrations",
        json!({
            "selected_integration": "Custom API",
            "selected_action": action,
            "action_data": action_data,
            "success_id": opt(success),
            "fail_id": opt(fail),
        }),
    )
}

/// API response mappings `{path, var}`; the variable id is under `var_key` (`var` in the legacy
/// step, `variableID` in v2).
fn response_mapping(cx: &Cx<'_>, list: &[Value], var_key: &str) -> Vec<Value> {
    list.iter()
        .map(|m| {
            let var = m
                .get(var_key)
                .and_then(Value::as_str)
                .map(|v| Value::String(cx.var(v)))
                .unwrap_or(Value::Null);
            json!({ "path": m.get("path").cloned().unwrap_or(Value::Null), "var": var })
        })
        .collect()
}

fn api(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let method = st.str("method").unwrap_or("GET").to_uppercase();
    let action = st
        .str("selectedAction")
        .map(str::to_string)
        .unwrap_or_else(|| format!("Make a {method} Request"));
    let mapping = response_mapping(cx, st.list("mappings"), "var");
    let content_str = st
        .str("content")
        .map(|c| Value::String(content::braces(&cx.names, c)))
        .unwrap_or(Value::Null);
    let action_data = json!({
        "url": content::braces(&cx.names, st.str("url").unwrap_or("")),
        "method": method,
        "headers": pairs(cx, st.get("headers")),
        "params": pairs(cx, st.get("params")),
        "body": pairs(cx, st.get("body")),
        "content": content_str,
        "bodyInputType": st.str("bodyType").unwrap_or("rawInput"),
        "mapping": mapping,
        "selected_action": action,
    });
    api_line(cx, st, action_data)
}

fn api_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let method = st.str("httpMethod").unwrap_or("get").to_uppercase();
    let kv = |cx: &Cx<'_>, list: &[Value]| -> Value {
        Value::Array(
            list.iter()
                .map(|h| {
                    json!({
                        "key": content::markup_string(&cx.names, h.get("key").unwrap_or(&Value::Null)),
                        "val": content::markup_string(&cx.names, h.get("value").or_else(|| h.get("val")).unwrap_or(&Value::Null)),
                    })
                })
                .collect(),
        )
    };
    let body = st.get("body");
    let (input_type, body_pairs, raw) =
        match body.get("type").and_then(Value::as_str).unwrap_or("none") {
            "raw-input" => (
                "rawInput",
                Value::Array(Vec::new()),
                Value::String(content::markup_string(
                    &cx.names,
                    body.get("content").unwrap_or(&Value::Null),
                )),
            ),
            "form-data" => ("formData", kv(cx, rows(body, "content")), Value::Null),
            "url-encoded" => ("urlEncoded", kv(cx, rows(body, "content")), Value::Null),
            _ => ("rawInput", Value::Array(Vec::new()), Value::Null),
        };
    let mut headers = kv(cx, st.list("headers"));
    if let (Some(ct), Some(list)) = (
        body.get("contentType").and_then(Value::as_str),
        headers.as_array_mut(),
    ) {
        let has_ct = list.iter().any(|h| {
            h["key"]
                .as_str()
                .map(|k| k.eq_ignore_ascii_case("content-type"))
                .unwrap_or(false)
        });
        if !has_ct && input_type == "rawInput" && ct == "json" {
            list.push(json!({ "key": "Content-Type", "val": "application/json" }));
        }
    }
    let mapping = response_mapping(cx, st.list("responseMappings"), "variableID");
    let action = format!("Make a {method} Request");
    let action_data = json!({
        "url": content::markup_string(&cx.names, st.get("url")),
        "method": method,
        "headers": headers,
        "params": kv(cx, st.list("queryParameters")),
        "body": body_pairs,
        "content": raw,
        "bodyInputType": input_type,
        "mapping": mapping,
        "selected_action": action,
    });
    api_line(cx, st, action_data)
}

fn function(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut input = Map::new();
    if let Some(m) = st.get("inputMapping").as_object() {
        for (k, v) in m {
            input.insert(
                k.clone(),
                Value::String(content::markup_string(&cx.names, v)),
            );
        }
    }
    let mut output = Map::new();
    if let Some(m) = st.get("outputMapping").as_object() {
        for (k, v) in m {
            if let Some(id) = v.as_str() {
                output.insert(k.clone(), Value::String(cx.var(id)));
            }
        }
    }
    // Ports are keyed by path id; the runtime names paths by their code (`functionPaths`).
    let path_names = crate::functions::path_names(cx.doc);
    let paths: Map<String, Value> = key_paths(cx, st)
        .into_iter()
        .map(|(key, next)| match path_names.get(key.as_str()) {
            Some(name) => (name.to_string(), next),
            None => (key, next),
        })
        .collect();
    let default = paths
        .get("__vf__default")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = st.str("functionID").unwrap_or("");
    if !crate::functions::exists(cx.doc, id) {
        cx.warn(
            st,
            format!("function {id:?} is not in the export: the step reports it and ends the flow"),
        );
    }
    line(
        st,
        "function",
        json!({
            "data": {
                "definition": { "functionId": st.get("functionID") },
                "invocation": { "inputVars": input, "outputVars": output, "paths": paths },
            },
            "nextId": opt(default),
        }),
    )
}

/// A custom action. "Global Listen" (`payload.scope: "global"`, `spec/dm-api.md` §7.4): each
/// path with a target also becomes a `jump` command of the agent, so a request of the path's
/// event type is caught from any later waiting step (`docs/custom-actions.md`).
fn custom_action(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let payload = st.get("payload");
    let global = payload.get("scope").and_then(Value::as_str) == Some("global");
    let name = payload
        .get("name")
        .and_then(Value::as_str)
        .or_else(|| st.str("name"))
        .unwrap_or("")
        .to_string();
    let name = content::braces(&cx.names, &name);
    let mut paths = Vec::new();
    let mut default_path: Option<usize> = None;
    let list = st.list("paths");
    for (i, p) in list.iter().enumerate() {
        let label = p
            .get("label")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if p.get("isDefault").and_then(Value::as_bool) == Some(true) && default_path.is_none() {
            default_path = Some(i);
        }
        let exit = if st.has_exit(Exit::Dynamic(i)) {
            Exit::Dynamic(i)
        } else {
            Exit::Key(label.as_str())
        };
        let next = cx.exit(st, exit);
        if global && !label.is_empty() && next.is_some() {
            cx.global_commands.push(json!({
                "type": "jump", "event": { "type": label }, "nextID": opt(next.clone()),
                "diagramID": st.dg.id,
            }));
        }
        paths.push(json!({ "label": label, "event": { "type": label }, "nextID": opt(next) }));
    }
    let default_path = st
        .get("defaultPath")
        .as_u64()
        .map(|d| d as usize)
        .or(default_path)
        .unwrap_or(0);
    let stop = payload
        .get("isBlocking")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || st.get("stop").as_bool().unwrap_or(false);
    let body = payload.get("body").and_then(Value::as_str).unwrap_or("");
    let body = content::braces(&cx.names, body);
    let json_body = payload.get("bodyType").and_then(Value::as_str) == Some("json");
    let fields = json!({ "_v": 1, "stop": stop, "defaultPath": default_path, "paths": paths });
    if paths.is_empty() {
        cx.info(
            st,
            "custom action without paths: the flow ends after it".into(),
        );
    }
    if name.is_empty() {
        cx.warn(
            st,
            "custom action without a name: its trace type is \"trace\"".into(),
        );
    }
    // The action's name is the node type (what clients list in `stopTypes`); a JSON body that
    // only becomes JSON once variables are filled in keeps the runtime's trace form.
    let static_payload = if json_body {
        if body.trim().is_empty() {
            Some(json!({}))
        } else {
            serde_json::from_str::<Value>(&body).ok()
        }
    } else {
        Some(Value::String(body.clone()))
    };
    let (ty, payload) = match static_payload {
        Some(p) if !name.is_empty() => (name.clone(), p),
        _ => (
            "trace".to_string(),
            json!({ "name": name, "body": body, "bodyType": if json_body { "json" } else { "text" } }),
        ),
    };
    let mut l = line(st, &ty, fields);
    l["payload"] = payload;
    l
}
