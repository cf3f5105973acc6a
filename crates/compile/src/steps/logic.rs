//! Logic steps: if / ifV2 / condition-v3 (→ `if` / `ifV2`), set / setV2 / set-v3 (→ `set` /
//! `setV2`), random / randomV2 (→ `random`), code.

use super::{line, opt, Step};
use crate::content;
use crate::expr;
use crate::ports::Exit;
use crate::Cx;
use serde_json::{json, Value};

pub(super) fn compile(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    Some(match st.ty {
        "if" => if_v1(cx, st),
        "ifV2" => if_v2(cx, st),
        "condition-v3" => condition_v3(cx, st),
        "set" => set_v1(cx, st),
        "setV2" => set_v2(cx, st),
        "set-v3" => set_v3(cx, st),
        "random" | "randomV2" => random(cx, st),
        _ => code(cx, st),
    })
}

/// An `ifV2` line from compiled expressions and their exits.
fn if_v2_line(
    st: &Step<'_>,
    expressions: Vec<String>,
    nexts: Vec<Option<String>>,
    else_id: Option<String>,
) -> Value {
    let mut paths: Vec<Value> = nexts
        .into_iter()
        .enumerate()
        .map(|(i, n)| json!({ "event": { "type": format!("port{i}") }, "nextID": opt(n) }))
        .collect();
    paths.push(json!({ "event": { "type": "else" }, "nextID": opt(else_id.clone()) }));
    line(
        st,
        "ifV2",
        json!({ "payload": { "expressions": expressions, "elseId": opt(else_id) }, "paths": paths }),
    )
}

fn if_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut expressions = Vec::new();
    let mut nexts = Vec::new();
    for (i, e) in st.list("expressions").iter().enumerate() {
        let js = match expr::if_v2(&cx.names, e) {
            Ok(js) => js,
            Err(reason) => {
                let empty = e
                    .get("value")
                    .and_then(Value::as_array)
                    .map(Vec::is_empty)
                    .unwrap_or(true);
                let msg = format!("condition {}: {reason}: the path is never taken", i + 1);
                if empty {
                    cx.info(st, msg);
                } else {
                    cx.warn(st, msg);
                }
                "false".into()
            }
        };
        expressions.push(js);
        nexts.push(cx.exit(st, Exit::Dynamic(i)));
    }
    let else_enabled = st.get("noMatch").get("type").and_then(Value::as_str) != Some("none");
    let else_id = if else_enabled {
        cx.exit(st, Exit::Else)
    } else {
        None
    };
    if_v2_line(st, expressions, nexts, else_id)
}

fn condition_v3(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let cond = st.get("condition");
    let mut expressions = Vec::new();
    let mut nexts = Vec::new();
    match cond.get("type").and_then(Value::as_str).unwrap_or("") {
        "logic" | "script" | "value" => {
            let items = cond
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, item) in items.iter().enumerate() {
                let id = item.get("id").and_then(Value::as_str).unwrap_or("");
                let js = match expr::condition_v3(&cx.names, item.get("value").unwrap_or(item)) {
                    Ok(js) => js,
                    Err(reason) => {
                        cx.warn(
                            st,
                            format!("condition {}: {reason}: the path is never taken", i + 1),
                        );
                        "false".into()
                    }
                };
                expressions.push(js);
                let exit = if st.has_exit(Exit::Key(id)) {
                    Exit::Key(id)
                } else {
                    Exit::Dynamic(i)
                };
                nexts.push(cx.exit(st, exit));
            }
        }
        "prompt" => cx.warn(
            st,
            "prompt (LLM) conditions are not run by flowdm: the else path is taken".into(),
        ),
        other => cx.error(
            st,
            format!("unknown condition type {other:?}: the else path is taken"),
        ),
    }
    let else_id = cx.exit(st, Exit::Else);
    if_v2_line(st, expressions, nexts, else_id)
}

fn if_v1(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut expressions = Vec::new();
    let mut nexts = Vec::new();
    for (i, e) in st.list("expressions").iter().enumerate() {
        let src = match expr::legacy(&cx.names, e) {
            Ok(s) => s,
            Err(reason) => {
                cx.warn(
                    st,
                    format!("condition {}: {reason}: the path is never taken", i + 1),
                );
                "false".into()
            }
        };
        expressions.push(Value::String(src));
        nexts.push(opt(cx.exit(st, Exit::Dynamic(i))));
    }
    let else_id = cx.exit(st, Exit::Else);
    line(
        st,
        "if",
        json!({ "expressions": expressions, "nextIds": nexts, "elseId": opt(else_id) }),
    )
}

/// A `set` / `setV2` line: every item of `sets` with a variable becomes the entry `entry` makes
/// of it (item, variable id); an item without a variable, or whose entry is an error, is dropped
/// with a warning.
fn sets_line(
    cx: &mut Cx<'_>,
    st: &Step<'_>,
    ty: &str,
    entry: impl Fn(&Cx<'_>, &Value, &str) -> Result<Value, String>,
) -> Value {
    let mut sets = Vec::new();
    for (i, s) in st.list("sets").iter().enumerate() {
        let Some(var) = s
            .get("variable")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            cx.warn(st, format!("set {} has no variable: dropped", i + 1));
            continue;
        };
        match entry(cx, s, var) {
            Ok(e) => sets.push(e),
            Err(reason) => cx.warn(st, format!("set {}: {reason}: dropped", i + 1)),
        }
    }
    let next = cx.exit(st, Exit::Next);
    line(st, ty, json!({ "sets": sets, "nextId": opt(next) }))
}

fn set_v1(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    sets_line(cx, st, "set", |cx, s, var| {
        let e = expr::legacy_set(&cx.names, s.get("expression").unwrap_or(&Value::Null))?;
        Ok(json!({ "variable": cx.var(var), "expression": e }))
    })
}

fn set_v2(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    sets_line(cx, st, "setV2", |cx, s, var| {
        let kind = s.get("type").and_then(Value::as_str);
        let e = expr::set_v2(&cx.names, kind, s.get("expression").unwrap_or(&Value::Null));
        let mut out = json!({ "variable": cx.var(var), "expression": e });
        if let Some(k) = kind {
            out["type"] = json!(k);
        }
        Ok(out)
    })
}

/// A set-v3 `value` item: a lone number stays a number, anything else is the interpolated text.
fn v3_value(cx: &Cx<'_>, v: &Value) -> String {
    let text = content::markup_string(&cx.names, v);
    let t = text.trim();
    if !t.is_empty() && !t.contains('{') && t.parse::<f64>().is_ok() {
        return t.to_string();
    }
    content::markup_js_value(&cx.names, v)
}

fn set_v3(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let mut sets = Vec::new();
    // Prompt items (an LLM's answer) make a `set-v3` line, run item by item; else a setV2.
    let mut prompts = false;
    for (i, item) in st.list("items").iter().enumerate() {
        let Some(var) = item
            .get("variableID")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            cx.warn(st, format!("set {} has no variable: dropped", i + 1));
            continue;
        };
        let value = item.get("value").unwrap_or(&Value::Null);
        let e = match item.get("type").and_then(Value::as_str).unwrap_or("value") {
            "value" => v3_value(cx, value),
            "script" | "expression" => expr::script_value(&content::markup_code(&cx.names, value)),
            "prompt" => {
                let id = value.as_str().unwrap_or("");
                match cx
                    .doc
                    .pointer("/version/programResources/prompts")
                    .and_then(|p| p.get(id))
                {
                    Some(prompt) => {
                        prompts = true;
                        sets.push(json!({ "variable": cx.var(var), "prompt": prompt }));
                    }
                    None => cx.warn(
                        st,
                        format!(
                            "set {}: prompt {id:?} is not in the export: the variable is not set",
                            i + 1
                        ),
                    ),
                }
                continue;
            }
            other => {
                cx.error(
                    st,
                    format!("set {}: unknown value type {other:?}: dropped", i + 1),
                );
                continue;
            }
        };
        sets.push(json!({ "variable": cx.var(var), "expression": e }));
    }
    let next = cx.exit(st, Exit::Next);
    if prompts {
        return line(st, "set-v3", json!({ "items": sets, "nextId": opt(next) }));
    }
    line(st, "setV2", json!({ "sets": sets, "nextId": opt(next) }))
}

fn random(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let count = st.dynamic_count();
    let nexts: Vec<Value> = (0..count)
        .map(|i| opt(cx.exit(st, Exit::Dynamic(i))))
        .collect();
    if nexts.is_empty() {
        cx.warn(st, "random step without paths: the flow ends here".into());
    }
    let no_dup = st.get("noDuplicates").as_bool().unwrap_or(false);
    line(
        st,
        "random",
        json!({ "random": if no_dup { 2 } else { 1 }, "nextIds": nexts }),
    )
}

fn code(cx: &mut Cx<'_>, st: &Step<'_>) -> Value {
    let source = match st.get("code") {
        Value::String(s) => s.clone(),
        other => content::markup_code(&cx.names, other),
    };
    let success = cx.exit(st, Exit::Next);
    let fail = cx.exit(st, Exit::Fail);
    let mut paths = Vec::new();
    for p in st.list("paths") {
        let key = p.get("key").and_then(Value::as_str).unwrap_or("");
        let label = p.get("label").cloned().unwrap_or(Value::Null);
        let next = if key.is_empty() {
            None
        } else {
            cx.exit(st, Exit::Key(key))
        };
        paths.push(json!({ "key": key, "label": label, "nextId": opt(next) }));
    }
    let mut l = line(
        st,
        "code",
        json!({ "code": source, "success_id": opt(success), "fail_id": opt(fail) }),
    );
    if !paths.is_empty() {
        l["paths"] = Value::Array(paths);
    }
    l
}
