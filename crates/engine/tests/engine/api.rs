//! The API step (§5.6.13) on the sans-IO turn: the turn stops with an HTTP effect, the test
//! answers it (canned results, no network), the turn runs again and goes on.

use crate::common::*;
use flowdm_engine::{Effect, EffectResult, HttpBody, HttpResponse};
use serde_json::{json, Value};

fn api_agent(action: Value) -> Session {
    Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "set" },
            "set": { "type": "setV2", "sets": [ { "variable": "city", "expression": "'Paris'", "type": "value" } ], "nextId": "before" },
            "before": text_node("Looking it up…", Some("api")),
            "api": { "type": "integrations", "selected_integration": "Custom API", "action_data": action, "success_id": "ok", "fail_id": "err" },
            "ok": text_node("It is {temp} degrees in {city} ({name}).", None),
            "err": text_node("Sorry, the weather service failed ({temp}).", None)
        }),
        json!({ "variables": ["city", "temp", "name", "pick", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"] }),
    ))
}

fn weather() -> Value {
    json!({
        "url": "https://api.example.com/weather?city={city}", "method": "POST",
        "headers": [ { "key": "Authorization", "val": "Bearer {city}" }, { "key": "", "val": "dropped" } ],
        "params": [ { "key": "units", "val": "metric" }, { "key": "", "val": "x" } ],
        "body": [], "content": "{\"city\": \"{city}\"}", "bodyInputType": "rawInput",
        "mapping": [
            { "path": "response.current.temp", "var": "temp" },
            { "path": "$.stations[1].name", "var": "name" },
            { "path": "stations[{random}].id", "var": "pick" }
        ]
    })
}

fn ok(status: u16, body: Value) -> EffectResult {
    EffectResult::Http(Ok(HttpResponse {
        headers: vec![],
        status,
        body: body.to_string(),
    }))
}

fn answer() -> Value {
    json!({ "current": { "temp": "21" }, "stations": [ { "id": "a", "name": "Orly" }, { "id": "b", "name": "Montsouris" } ] })
}

#[test]
fn the_turn_stops_for_the_request_and_goes_on_with_the_answer() {
    let mut s = api_agent(weather());
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| ok(200, answer()));
    assert_eq!(effects.len(), 1);
    let Effect::Http(req) = &effects[0] else {
        panic!("not an HTTP effect")
    };
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.url,
        "https://api.example.com/weather?city=Paris&units=metric"
    );
    assert_eq!(
        req.headers,
        vec![
            ("Authorization".to_string(), "Bearer Paris".to_string()),
            (
                "User-Agent".to_string(),
                "Voiceflow/1.0.0 (+https://voiceflow.com)".to_string()
            )
        ]
    );
    assert_eq!(req.body, HttpBody::Raw("{\"city\": \"Paris\"}".into()));
    assert_eq!(
        messages(&traces),
        ["Looking it up…", "It is 21 degrees in Paris (Montsouris)."]
    );
    // Numeric strings become numbers; `{random}` picks an element.
    assert_eq!(s.var("temp"), Some(&json!(21)));
    assert!(matches!(
        s.var("pick").and_then(Value::as_str),
        Some("a" | "b")
    ));
}

#[test]
fn the_first_run_shows_the_traces_so_far_and_keeps_nothing() {
    let mut s = api_agent(weather());
    let before = s.state.clone();
    let out = s.turn_raw(json!({ "type": "launch" }));
    assert!(matches!(out.effect, Some(Effect::Http(_))));
    let traces = normalize(serde_json::to_value(&out.trace).unwrap());
    assert_eq!(messages(&traces), ["Looking it up…"]);
    assert_eq!(
        s.state.variables, before.variables,
        "a stopped turn changes nothing"
    );
}

#[test]
fn a_failed_status_maps_then_takes_the_fail_port() {
    let mut s = api_agent(weather());
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        ok(503, json!({ "current": { "temp": 5 } }))
    });
    assert_eq!(
        messages(&traces)[1],
        "Sorry, the weather service failed (5)."
    );
}

#[test]
fn no_answer_takes_the_fail_port_without_mapping() {
    for why in [
        "refused address 127.0.0.1 (loopback)",
        "timeout after 20 s",
        "response over 1 MB",
    ] {
        let mut s = api_agent(weather()).with_config(json!({ "excludeTypes": [] }));
        let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
            EffectResult::Http(Err(why.to_string()))
        });
        assert!(
            messages(&traces).contains(&"Sorry, the weather service failed (0).".to_string()),
            "{why}"
        );
        let debug = traces.as_array().unwrap().iter().any(|t| {
            t["type"] == "debug"
                && t["payload"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(why))
        });
        assert!(debug, "{traces}");
    }
}

#[test]
fn an_unparsable_body_maps_nothing() {
    let mut s = api_agent(weather());
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        EffectResult::Http(Ok(HttpResponse {
            headers: vec![],
            status: 200,
            body: "<html>".into(),
        }))
    });
    assert_eq!(messages(&traces)[1], "It is 0 degrees in Paris (0).");
}

#[test]
fn a_bad_url_fails_without_an_effect() {
    for url in ["not a url {city}", "ftp://example.com/x", ""] {
        let mut action = weather();
        action["url"] = json!(url);
        let mut s = api_agent(action);
        let (traces, effects) =
            s.turn_with_effects(json!({ "type": "launch" }), |_| ok(200, answer()));
        assert!(effects.is_empty(), "{url}");
        assert!(messages(&traces)[1].starts_with("Sorry"), "{url}: {traces}");
    }
}

#[test]
fn form_bodies_and_get_requests() {
    let mut action = weather();
    action["bodyInputType"] = json!("urlEncoded");
    action["body"] = json!([ { "key": "q", "val": "{city}" } ]);
    let mut s = api_agent(action.clone());
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| ok(200, answer()));
    let Effect::Http(req) = &effects[0] else {
        panic!("not an HTTP effect")
    };
    assert_eq!(req.body, HttpBody::Form(vec![("q".into(), "Paris".into())]));

    action["method"] = json!("GET");
    action["headers"] = json!([ { "key": "user-agent", "val": "mine" } ]);
    let mut s = api_agent(action);
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| ok(200, answer()));
    let Effect::Http(req) = &effects[0] else {
        panic!("not an HTTP effect")
    };
    assert_eq!(req.body, HttpBody::None);
    assert_eq!(
        req.headers,
        vec![("user-agent".to_string(), "mine".to_string())]
    );
}

#[test]
fn two_api_steps_replay_in_order() {
    let mut s = Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "a1" },
            "a1": { "type": "integrations", "selected_integration": "Custom API", "action_data": { "url": "https://a.example/1", "method": "GET", "mapping": [ { "path": "v", "var": "temp" } ] }, "success_id": "a2", "fail_id": null },
            "a2": { "type": "integrations", "selected_integration": "Custom API", "action_data": { "url": "https://a.example/2?t={temp}", "method": "GET", "mapping": [ { "path": "v", "var": "name" } ] }, "success_id": "done", "fail_id": null },
            "done": text_node("{temp} then {name}", None)
        }),
        json!({ "variables": ["temp", "name"] }),
    ));
    let mut n = 0;
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        n += 1;
        ok(200, json!({ "v": format!("call{n}") }))
    });
    assert_eq!(effects.len(), 2);
    let Effect::Http(second) = &effects[1] else {
        panic!("not an HTTP effect")
    };
    assert_eq!(second.url, "https://a.example/2?t=call1");
    assert_eq!(messages(&traces), ["call1 then call2"]);
}
