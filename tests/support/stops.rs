//! A payment agent that stops for the client on a custom action, for the resume tests
//! (`tests/http/stops.rs`, `tests/redis/http.rs`): `launch` stops on `Pay`; `success` adds one
//! to `count` and says `Paid N.`; `timeout` says `Too late.`.

use super::server::{send, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};

pub const STOPS_PROJECT: &str = "5709000000000000000000a1";
pub const STOPS_VERSION: &str = "5709000000000000000000a2";

pub fn stops_agent() -> String {
    let text = |msg: &str, next: Value| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": next });
    json!({
        "project": { "_id": STOPS_PROJECT, "name": "Stops", "type": "chat", "platform": "webchat", "devVersion": STOPS_VERSION },
        "version": { "_id": STOPS_VERSION, "projectID": STOPS_PROJECT, "rootDiagramID": "D", "variables": ["count"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Stops", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            STOPS_VERSION: { "id": STOPS_VERSION, "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "pay" },
                "pay": { "_v": 1, "type": "Pay", "payload": { "amount": 25 }, "stop": true, "defaultPath": 0,
                    "paths": [ { "label": "success", "event": { "type": "success" }, "nextID": "inc" },
                               { "label": "timed out", "event": { "type": "timeout" }, "nextID": "late" } ] },
                "inc": { "type": "setV2", "sets": [ { "variable": "count", "expression": "count + 1" } ], "nextId": "ok" },
                "ok": text("Paid {count}.", Value::Null),
                "late": text("Too late.", Value::Null)
            } }
        }
    })
    .to_string()
}

/// `POST /state/user/{user}/interact` with `body` (`versionID` of the agent).
pub async fn interact(server: &Server, user: &str, body: &Value) -> Resp {
    send(
        Method::POST,
        &server.url(&format!("/state/user/{user}/interact")),
        &[("versionID", STOPS_VERSION)],
        Some(body),
    )
    .await
}

/// Launches `user`: the custom trace (with `stopID` and `resume`).
pub async fn launch_stop(server: &Server, user: &str) -> Value {
    let r = interact(server, user, &json!({ "action": { "type": "launch" } })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let traces = r.json();
    traces
        .as_array()
        .and_then(|a| a.iter().find(|t| t["type"] == "Pay"))
        .cloned()
        .unwrap_or_else(|| panic!("no custom trace in {traces}"))
}

/// The client's resume naming the stop.
pub fn resume_body(stop_id: &str) -> Value {
    json!({ "action": { "type": "success", "payload": { "stopID": stop_id } } })
}

/// The server-to-server resume at `url` (`resume.url` of the trace) with `token`.
pub async fn server_resume(server: &Server, url: &str, token: Option<&str>, body: &Value) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    send(Method::POST, &server.url(url), &headers, Some(body)).await
}

/// The user's `count` variable.
pub async fn paid_count(server: &Server, user: &str) -> Value {
    let r = send(
        Method::GET,
        &server.url(&format!("/state/user/{user}")),
        &[("versionID", STOPS_VERSION)],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["variables"]["count"].clone()
}
