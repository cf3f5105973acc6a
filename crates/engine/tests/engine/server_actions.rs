//! Custom actions the server runs itself: precedence (the client's stop wins), a webhook as an
//! HTTP effect, JavaScript with a parameter schema and declared events, and the default path
//! for anything else.

use crate::common::*;
use flowdm_engine::{Agent, Effect, EffectResult, HttpBody, HttpResponse};
use flowdm_model::{ServerAction, ServerActions};
use serde_json::{json, Value};
use std::sync::Arc;

fn pay_agent(actions: Vec<Value>) -> Agent {
    let lines = json!({ "start": { "type": "start", "nextId": "set" },
        "set": { "type": "setV2", "sets": [ { "variable": "amount", "expression": "25", "type": "value" } ], "nextId": "pay" },
        "pay": { "_v": 1, "type": "Pay Credit Card", "payload": { "card": "visa", "amount": "{amount}" }, "defaultPath": 2,
            "paths": [ { "event": { "type": "success" }, "nextID": "ok" }, { "event": { "type": "denied" }, "nextID": "no" },
                       { "event": { "type": "pending" }, "nextID": "wait" } ] },
        "ok": text_node("Paid {amount}, receipt {receipt}.", None),
        "no": text_node("Your card was declined.", None),
        "wait": text_node("Payment pending.", None) });
    let project = agent(
        lines,
        json!({ "variables": ["amount", "receipt", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"] }),
    );
    let actions = actions
        .iter()
        .map(|a| ServerAction::parse(a).unwrap())
        .collect();
    Agent {
        actions: Arc::new(ServerActions::new(actions)),
        ..Agent::new(project)
    }
}

fn webhook() -> Value {
    json!({ "id": "a1", "name": "Pay Credit Card", "action_type": "webhook", "config": {
        "method": "post", "url": "https://pay.example.com/charge/{{user.id}}",
        "headers": { "Authorization": "Bearer {{payload.card}}" },
        "body": "{\"amount\": {{amount}}, \"project\": \"{{project.id}}\"}",
        "path_field": "result", "status_paths": { "4xx": "denied" },
        "mappings": { "receipt.id": "receipt" } } })
}

fn http(status: u16, body: Value) -> EffectResult {
    EffectResult::Http(Ok(HttpResponse {
        status,
        headers: vec![],
        body: body.to_string(),
    }))
}

#[test]
fn a_registered_webhook_answers_the_step_and_names_the_path() {
    let mut s = Session::new(pay_agent(vec![webhook()]));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        http(
            200,
            json!({ "result": "success", "receipt": { "id": "R-1" } }),
        )
    });
    let Effect::Http(r) = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "https://pay.example.com/charge/u1")
    );
    assert_eq!(
        r.headers,
        vec![("Authorization".to_string(), "Bearer visa".to_string())]
    );
    assert_eq!(
        r.body,
        HttpBody::Raw(r#"{"amount": 25, "project": "P"}"#.into())
    );
    assert_eq!(messages(&traces), ["Paid 25, receipt R-1."]);
    assert!(
        traces
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["type"] != "Pay Credit Card"),
        "the client's trace is not sent"
    );

    // A 4xx names `denied`; a failed call (`error`, not a path here) takes the default path.
    let mut s = Session::new(pay_agent(vec![webhook()]));
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| http(402, json!({})));
    assert_eq!(messages(&traces), ["Your card was declined."]);
    let mut s = Session::new(pay_agent(vec![webhook()]));
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        EffectResult::Http(Err("refused".into()))
    });
    assert_eq!(messages(&traces), ["Payment pending."]);
}

#[test]
fn the_client_s_stop_wins_and_inactive_actions_do_nothing() {
    let mut s = Session::new(pay_agent(vec![webhook()]))
        .with_config(json!({ "stopTypes": ["Pay Credit Card"] }));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| panic!("no call"));
    assert!(effects.is_empty());
    assert_eq!(types(&traces), ["Pay Credit Card"]);
    assert_eq!(
        messages(&s.turn(json!({ "type": "success" }))),
        ["Paid 25, receipt 0."]
    );

    let mut inactive = webhook();
    inactive["is_active"] = json!(false);
    let mut s = Session::new(pay_agent(vec![inactive]));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| panic!("no call"));
    assert!(effects.is_empty());
    assert_eq!(messages(&traces), ["Payment pending."]);
    // Another project's action does not answer this one's step.
    let mut other = webhook();
    other["project_id"] = json!("another");
    let mut s = Session::new(pay_agent(vec![other]));
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| panic!("no call"));
    assert!(effects.is_empty());
}

fn js(code: &str) -> Value {
    json!({ "id": "a2", "name": "Pay Credit Card", "action_type": "javascript", "config": {
        "code": code,
        "parameters": [ { "key": "card", "type": "string", "required": true }, { "key": "retries", "type": "number", "default": 2 } ],
        "events_schema": ["success", "denied"] } })
}

#[test]
fn a_javascript_action_validates_its_parameters_and_events() {
    let code = "export default async function main({ params, variables }) {\n  if (params.card !== 'visa' || params.retries !== 2) return { event: 'denied' };\n  return { event: 'success', variables: { receipt: 'JS-' + variables.amount } };\n}";
    let mut s = Session::new(pay_agent(vec![js(code)]))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["Paid 25, receipt JS-25."], "{traces}");
    let said = traces.to_string();
    assert!(
        said.contains("server action \\\"Pay Credit Card\\\" answered \\\"success\\\""),
        "{said}"
    );

    // An undeclared event, a wrong parameter type: the default path, with a debug trace.
    let mut s = Session::new(pay_agent(vec![js(
        "export default () => ({ event: 'refund' })",
    )]))
    .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["Payment pending."]);
    assert!(traces.to_string().contains("is not one of"), "{traces}");
    let mut action = js("export default () => ({ event: 'success' })");
    action["config"]["parameters"][0]["type"] = json!("number");
    let mut s = Session::new(pay_agent(vec![action]))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["Payment pending."]);
    assert!(traces.to_string().contains("must be number"), "{traces}");
}

#[test]
fn declarations_are_checked() {
    assert!(ServerAction::parse(&json!({ "name": "x", "action_type": "teleport" })).is_err());
    assert!(
        ServerAction::parse(&json!({ "name": "x", "action_type": "webhook", "config": {} }))
            .is_err()
    );
    assert!(ServerAction::parse(
        &json!({ "action_type": "webhook", "config": { "url": "https://x" } })
    )
    .is_err());
}

#[test]
fn the_example_actions_parse_and_the_ticket_action_runs() {
    let pay: Value = serde_json::from_str(include_str!(
        "../../../../examples/actions/pay-credit-card.json"
    ))
    .unwrap();
    assert!(ServerAction::parse(&pay).is_ok());
    let ticket: Value = serde_json::from_str(include_str!(
        "../../../../examples/actions/open-ticket.json"
    ))
    .unwrap();
    let ticket = ServerAction::parse(&ticket).unwrap();
    let lines = json!({ "start": { "type": "start", "nextId": "t" },
        "t": { "_v": 1, "type": "Open Ticket", "payload": { "subject": "Broken kettle", "priority": "high" }, "defaultPath": 1,
            "paths": [ { "event": { "type": "opened" }, "nextID": "ok" }, { "event": { "type": "rejected" }, "nextID": "no" } ] },
        "ok": text_node("Ticket {ticket} opened.", None),
        "no": text_node("No ticket.", None) });
    let agent = Agent {
        actions: Arc::new(ServerActions::new(vec![ticket])),
        ..Agent::new(agent(
            lines,
            json!({ "variables": ["ticket", "user_id", "sessions"] }),
        ))
    };
    let mut s = Session::new(agent);
    assert_eq!(
        messages(&s.turn(json!({ "type": "launch" }))),
        ["Ticket T-u1 opened."]
    );
}

#[test]
fn a_url_action_asks_the_client_to_open_a_link_then_takes_the_default_path() {
    let url = json!({ "id": "a3", "name": "Pay Credit Card", "action_type": "url", "config": {
        "url": "https://pay.example.com/checkout?user={{user.id}}&amount={{payload.amount}}" } });
    let mut s = Session::new(pay_agent(vec![url]));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| panic!("no call"));
    assert!(effects.is_empty());
    let open = traces
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "open_url")
        .unwrap_or_else(|| panic!("{traces}"));
    assert_eq!(
        open["payload"],
        json!({ "url": "https://pay.example.com/checkout?user=u1&amount=25", "target": "_blank" })
    );
    assert_eq!(messages(&traces), ["Payment pending."]);

    // A URL that fills in to nothing is a debug trace and the default path, and no link.
    let empty = json!({ "name": "Pay Credit Card", "action_type": "url", "config": { "url": "{{nothing}}" } });
    let mut s = Session::new(pay_agent(vec![empty]))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert!(types(&traces).iter().all(|t| t != "open_url"), "{traces}");
    assert!(traces.to_string().contains("the URL is empty"), "{traces}");
    assert_eq!(messages(&traces), ["Payment pending."]);
}

#[test]
fn a_webhook_s_timeout_and_retries_go_with_its_call() {
    let mut w = webhook();
    w["config"]["timeout_ms"] = json!(1500);
    w["config"]["retries"] = json!(3);
    let mut s = Session::new(pay_agent(vec![w]));
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| http(200, json!({})));
    let Effect::Http(r) = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(
        r.policy,
        flowdm_engine::CallPolicy {
            timeout_ms: Some(1500),
            retries: 3,
            origin: flowdm_engine::HttpOrigin::Webhook,
        }
    );
    for (field, bad) in [
        ("timeout_ms", json!(0)),
        ("timeout_ms", json!("fast")),
        ("retries", json!(6)),
        ("retries", json!(-1)),
    ] {
        let mut w = webhook();
        w["config"][field] = bad.clone();
        let err = ServerAction::parse(&w).unwrap_err().to_string();
        assert!(
            err.contains(&format!("config.{field}")),
            "{field}={bad}: {err}"
        );
    }
}
