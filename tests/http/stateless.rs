//! The stateless API: `POST /interact[/{versionID}]`, `GET /interact[/{versionID}]/state`.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn stateless(server: &Server, path: &str, headers: &[(&str, &str)], body: Value) -> Value {
    let r = send(Method::POST, &server.url(path), headers, Some(&body)).await;
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    let v = r.json();
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["request", "state", "trace"]);
    v
}

#[tokio::test]
async fn a_whole_payment_conversation_carrying_the_state() {
    let server = Server::start();
    let path = format!("/interact/{PAYMENT_VERSION}");
    let config = json!({"tts": false, "stripSSML": true});
    // runtime-client-js start(): empty stack, null request, initial variables.
    let v = stateless(
        &server,
        &path,
        &[],
        json!({"state": {"stack": [], "storage": {}, "variables": {"name": "Ada"}}, "request": null, "config": config}),
    )
    .await;
    assert_eq!(v["request"], Value::Null);
    assert_eq!(
        messages(&normalize(v["trace"].clone()))[0],
        "Hi Ada! Welcome to the payment demo."
    );
    // No userID on the stateless API: the declared `user_id` keeps its default 0.
    assert_eq!(v["state"]["variables"]["user_id"], json!(0));

    let v = stateless(&server, &path, &[], json!({"state": v["state"], "request": {"type": "text", "payload": "pay"}, "config": config})).await;
    assert_eq!(v["request"]["type"], json!("intent"));
    let t = normalize(v["trace"].clone());
    let stop = trace_of(&t, "Pay Credit Card");
    // runtime-client-js auto-follows paths[defaultPath] with `{type, payload: {}}`.
    let follow = stop["paths"][stop["defaultPath"].as_u64().expect("defaultPath") as usize]
        ["event"]["type"]
        .clone();
    let v = stateless(
        &server,
        &path,
        &[],
        json!({"state": v["state"], "request": {"type": follow, "payload": {}}, "config": config}),
    )
    .await;
    let t = normalize(v["trace"].clone());
    assert_eq!(messages(&t), ["Payment of $25 received. Thank you!"]);
    assert_eq!(types(&t), ["text", "end"]);
    assert_eq!(v["state"]["stack"], json!([]));
}

#[tokio::test]
async fn header_version_absent_state_and_action_key() {
    let server = Server::start();
    let v = stateless(
        &server,
        "/interact",
        &[("versionID", HANDOFF_VERSION)],
        json!({"action": {"type": "launch"}}),
    )
    .await;
    assert_eq!(
        messages(&normalize(v["trace"].clone())),
        ["Welcome to support, Alex! How can we help you today?"]
    );
    assert_eq!(v["request"], json!({"type": "launch"}));
    // The path version overrides the header.
    let v = stateless(
        &server,
        &format!("/interact/{CATALOGUE_VERSION}"),
        &[("versionID", HANDOFF_VERSION)],
        json!({}),
    )
    .await;
    assert_eq!(
        messages(&normalize(v["trace"].clone()))[0],
        "Welcome to the Acme store! All prices are in USD."
    );
    // sdk-runtime prototype mode: a state with `turn`, `request` key, extra headers.
    let v = stateless(
        &server,
        &format!("/interact/{PAYMENT_VERSION}"),
        &[("sessionID", "sdk-user-3"), ("platform", "chat-prototype")],
        json!({"state": {"turn": {}, "storage": {}, "variables": {}}, "request": {"type": "launch"}, "config": {"tts": false}}),
    )
    .await;
    assert_eq!(
        types(&normalize(v["trace"].clone())),
        ["text", "text", "choice", "no-reply"]
    );
    let v = stateless(
        &server,
        &format!("/interact/{PAYMENT_VERSION}?logs=off"),
        &[],
        json!({"state": v["state"], "request": {"type": "text", "payload": "cancel"}}),
    )
    .await;
    assert_eq!(
        messages(&normalize(v["trace"].clone())),
        ["Okay, cancelled."]
    );
}

#[tokio::test]
async fn initial_state_routes() {
    let server = Server::start();
    let r = send(
        Method::GET,
        &server.url("/interact/state"),
        &[("versionID", PAYMENT_VERSION)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let s = r.json();
    assert_eq!(s["variables"], json!({"name": "there", "sessions": 1}));
    assert_eq!(
        s["stack"][0]["diagramID"],
        json!("64a1d0000000000000000001")
    );
    let r = send(
        Method::GET,
        &server.url(&format!("/interact/{PAYMENT_VERSION}/state")),
        &[],
        None,
    )
    .await;
    assert_eq!(r.json(), s);
}

#[tokio::test]
async fn bad_client_state_is_400() {
    let server = Server::start();
    let path = server.url(&format!("/interact/{PAYMENT_VERSION}"));
    for (state, field) in [
        (json!("x"), "state"),
        (json!({"stack": {}}), "state.stack"),
        (json!({"stack": [{"nodeID": "x"}]}), "state.stack[0]"),
        (json!({"stack": [], "variables": []}), "state.variables"),
        (json!({"stack": [], "storage": 1}), "state.storage"),
    ] {
        let r = send(
            Method::POST,
            &path,
            &[],
            Some(&json!({"state": state, "request": null})),
        )
        .await;
        assert_validation(&r, field);
    }
    let r = send(
        Method::POST,
        &path,
        &[],
        Some(&json!({"request": {"type": ""}})),
    )
    .await;
    assert_validation(&r, "request.type");
}
