//! The worked example of `spec/dm-api.md` §10, turn by turn.

use crate::common::*;
use serde_json::json;

fn text(message: &str) -> serde_json::Value {
    json!({ "type": "text", "payload": {
        "slate": { "id": "ID", "content": [ { "children": [ { "text": message } ] } ], "messageDelayMilliseconds": 1000 },
        "message": message, "delay": 1000 } })
}

fn buttons() -> serde_json::Value {
    json!({ "type": "choice", "payload": { "buttons": [
        { "name": "Yes", "request": { "type": "intent", "payload": { "intent": { "name": "yes" }, "query": "Yes", "label": "Yes", "entities": [], "actions": [] } } },
        { "name": "No",  "request": { "type": "path-no", "payload": { "label": "No", "actions": [] } } } ] } })
}

#[test]
fn worked_example_four_turns() {
    let mut s = Session::new(load("crates/engine/tests/fixtures/worked_example.vfr"));

    // Turn 1: launch.
    let t1 = s.turn(json!({ "type": "launch" }));
    assert_eq!(t1, json!([text("Hi friend! Ready to order?"), buttons()]));
    let state = serde_json::to_value(&s.state).unwrap();
    assert_eq!(
        state["stack"],
        json!([
            { "nodeID": null, "diagramID": "V1", "storage": { "isBase": true }, "commands": [], "variables": {} },
            { "nodeID": "ask", "diagramID": "D1", "storage": { "output": [ { "children": [ { "text": "Hi friend! Ready to order?" } ] } ] }, "commands": [], "variables": {} }
        ])
    );
    assert_eq!(state["storage"], json!({}));
    let vars = &state["variables"];
    assert_eq!(vars["name"], "friend");
    assert_eq!(vars["sessions"], 2);
    assert_eq!(vars["user_id"], "u1");
    assert_eq!(vars["timestamp"], 1_723_200_000);
    assert_eq!(vars["last_response"], "Hi friend! Ready to order?");
    assert_eq!(vars["last_utterance"], 0);
    assert_eq!(vars["intent_confidence"], 0);
    assert_eq!(vars["last_event"], json!({ "type": "launch" }));
    assert_eq!(
        vars["_memory_"],
        json!([{ "role": "assistant", "content": "Hi friend! Ready to order?" }])
    );
    assert_eq!(vars["vf_memory"], "assistant: Hi friend! Ready to order?");

    // Turn 2: no match → the node's reprompt, then the global no-match prompt.
    let t2 = s.turn(json!({ "type": "text", "payload": "maybe" }));
    assert_eq!(
        t2,
        json!([{ "type": "path", "payload": { "path": "reprompt" } }, text("Please answer yes or no."), buttons()])
    );
    let t2b = s.turn(json!({ "type": "text", "payload": "maybe" }));
    assert_eq!(
        t2b,
        json!([{ "type": "path", "payload": { "path": "reprompt" } }, text("Sorry, I didn't understand."), buttons()])
    );
    assert_eq!(s.state.storage.get("noMatchesCounter"), Some(&json!(2)));

    // Turn 3: "yeah" is an utterance of `yes` → the custom action stops.
    let t3 = s.turn(json!({ "type": "text", "payload": "yeah" }));
    assert_eq!(
        t3,
        json!([
            { "type": "path", "payload": { "path": "choice:1" } },
            { "type": "Pay Credit Card", "payload": "{\"amount\": 25}", "defaultPath": 0, "stopID": "STOP",
              "paths": [ { "label": "success", "event": { "type": "success" } }, { "label": "denied", "event": { "type": "denied" } } ] }
        ])
    );
    assert_eq!(s.var("intent_confidence"), Some(&json!(100)));
    assert_eq!(s.var("last_utterance"), Some(&json!("yeah")));
    let req = s.last_request.clone().map(|r| r.into_value());
    assert_eq!(
        req.as_ref().and_then(|r| r.pointer("/payload/intent/name")),
        Some(&json!("yes"))
    );

    // Turn 4: the client reports success.
    let t4 = s.turn(json!({ "type": "success" }));
    assert_eq!(
        t4,
        json!([text("Payment done."), { "type": "end", "payload": null }])
    );
    assert!(s.state.stack.is_empty());

    // The next request starts a new session.
    s.turn(json!({ "type": "launch" }));
    assert_eq!(s.var("sessions"), Some(&json!(3)));
}

#[test]
fn unknown_resume_type_follows_the_default_path() {
    let mut s = Session::new(load("crates/engine/tests/fixtures/worked_example.vfr"));
    s.turn(json!({ "type": "launch" }));
    s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "yes" }, "query": "Yes" } }));
    let t = s.turn(json!({ "type": "foo" }));
    assert_eq!(messages(&t), vec!["Payment done."]);
}
