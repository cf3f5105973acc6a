//! Alexa-only steps (directive, reminder, permission, user_info, account_linking, display,
//! payments, audio stream): compiled to the 2021 runtime shapes so the export round-trips,
//! but flowdm serves chat and general voice clients, so each is a `debug` trace at run time.

use super::{line, opt, Step};
use crate::content;
use crate::ports::Exit;
use crate::Cx;
use serde_json::{json, Value};

pub(super) fn compile(cx: &mut Cx<'_>, st: &Step<'_>) -> Option<Value> {
    let next = cx.exit(st, Exit::Next);
    let l = match st.ty {
        "directive" => {
            let d = content::braces(&cx.names, st.str("directive").unwrap_or(""));
            line(
                st,
                "directive",
                json!({ "directive": d, "nextId": opt(next.clone()) }),
            )
        }
        "reminder" => {
            let fail = cx.exit(st, Exit::Fail);
            let r = st.get("reminder");
            let braced = |v: Option<&Value>| -> Value {
                match v {
                    Some(Value::String(s)) if !s.is_empty() => {
                        Value::String(content::braces(&cx.names, s))
                    }
                    Some(Value::Object(o)) => Value::Object(
                        o.iter()
                            .map(|(k, v)| {
                                let v = match v {
                                    Value::String(s) => {
                                        Value::String(content::braces(&cx.names, s))
                                    }
                                    other => other.clone(),
                                };
                                (k.clone(), v)
                            })
                            .collect(),
                    ),
                    _ => Value::Null,
                }
            };
            let reminder = json!({
                "type": r.get("type").cloned().unwrap_or(Value::Null),
                "text": braced(r.get("text")),
                "time": braced(r.get("time")),
                "date": braced(r.get("date")),
                "timezone": r.get("timezone").cloned().unwrap_or(Value::Null),
                "recurrence": r.get("recurrence").cloned().unwrap_or(Value::Null),
            });
            // `nextId` as well: the engine has no handler, so it skips to the success port.
            line(
                st,
                "reminder",
                json!({ "reminder": reminder, "success_id": opt(next.clone()), "fail_id": opt(fail), "nextId": opt(next.clone()) }),
            )
        }
        "user_info" => {
            let fail = cx.exit(st, Exit::Fail);
            let permissions: Vec<Value> = st
                .list("infos")
                .iter()
                .map(|i| json!({ "selected": { "value": i.get("type") }, "map_to": { "value": i.get("mapTo") }, "product": i.get("product").cloned().unwrap_or(json!({})) }))
                .collect();
            line(
                st,
                "user_info",
                json!({ "permissions": permissions, "success_id": opt(next.clone()), "fail_id": opt(fail), "nextId": opt(next.clone()) }),
            )
        }
        "permission" => line(
            st,
            "permission",
            json!({ "permission_card": st.get("permissions"), "nextId": opt(next.clone()) }),
        ),
        "account_linking" => line(
            st,
            "account_linking",
            json!({ "link_account": true, "nextId": opt(next.clone()) }),
        ),
        _ => super::passthrough(st, next.clone()),
    };
    let route = if next.is_some() {
        "skipped, the flow continues at its next port"
    } else {
        "the flow ends there"
    };
    cx.warn(st, format!("{} is an Alexa-only step: {route}", st.ty));
    Some(l)
}
