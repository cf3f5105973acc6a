//! Helpers of the management API tests (`/api/custom-actions`, HTTP and Redis): an agent whose
//! only step is a "Pay Credit Card" custom action, actions to register, and admin calls.

use super::server::{send, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};

/// The admin key the tests start servers with.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// Project `sap`, version `sav`: launch → "Pay Credit Card" (paths `success` → "Paid, receipt
/// {receipt}.", `pending` → "Payment pending.", default path → the pending text too).
pub fn pay_agent() -> String {
    let text = |msg: &str| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": null });
    json!({
        "project": { "_id": "sap", "name": "Pay", "type": "chat", "platform": "webchat", "devVersion": "sav" },
        "version": { "_id": "sav", "projectID": "sap", "rootDiagramID": "D", "variables": ["receipt"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Pay", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            "sav": { "id": "sav", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "pay" },
                "pay": { "_v": 1, "type": "Pay Credit Card", "payload": { "amount": 25 }, "defaultPath": 1,
                    "paths": [ { "event": { "type": "success" }, "nextID": "ok" }, { "event": { "type": "pending" }, "nextID": "wait" } ] },
                "ok": text("Paid, receipt {receipt}."),
                "wait": text("Payment pending.")
            } }
        }
    })
    .to_string()
}

/// A JavaScript "Pay Credit Card" action (no network) answering `success` with `receipt`.
pub fn js_pay(receipt: &str) -> Value {
    json!({ "name": "Pay Credit Card", "action_type": "javascript", "config": {
        "code": format!("export default async function main() {{ return {{ event: 'success', variables: {{ receipt: '{receipt}' }} }}; }}"),
        "events_schema": ["success", "pending"] } })
}

/// A management API call with the admin key.
pub async fn admin(server: &Server, method: Method, path: &str, body: Option<&Value>) -> Resp {
    let auth = format!("Bearer {ADMIN_KEY}");
    send(
        method,
        &server.url(path),
        &[("Authorization", auth.as_str())],
        body,
    )
    .await
}

/// `data` of a success envelope with `status`.
pub fn data(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    let body = r.json();
    assert_eq!(body["status"], "success", "{body}");
    body["data"].clone()
}

/// The error of an error envelope with `status`, checking its `code`.
pub fn error(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    let body = r.json();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body["error"].clone()
}
