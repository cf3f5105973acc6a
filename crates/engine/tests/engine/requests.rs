//! Request types, `config` keys and engine limits.

use crate::common::*;
use serde_json::json;

fn menu() -> flowdm_model::Project {
    let lines = json!({ "start": { "type": "start", "nextId": "hi" },
        "hi": text_node("Hi <b>there</b>", Some("ask")),
        "ask": { "type": "interaction",
            "interactions": [ { "event": { "type": "intent", "intent": "yes", "mappings": [] }, "nextId": "y" },
                              { "event": { "type": "path-go" }, "nextId": "go" } ],
            "buttons": [ { "name": "Go", "request": { "type": "path-go", "payload": { "label": "Go", "actions": [] } } } ] },
        "y": text_node("yes!", Some("ask")), "go": text_node("going", Some("ask")) });
    let model = json!({ "intents": [ { "key": "k_yes", "name": "yes", "inputs": [ { "text": "yes" }, { "text": "sure thing" } ] } ], "slots": [] });
    agent(lines, json!({ "model": model }))
}

#[test]
fn null_request_on_a_fresh_session_runs_from_the_start() {
    let mut s = Session::new(menu());
    let t = s.turn(serde_json::Value::Null);
    assert_eq!(types(&t), ["text", "choice"]);
    assert_eq!(s.var("last_event"), Some(&serde_json::Value::Null));
    // A null request at a waiting node re-renders it.
    let again = s.turn(serde_json::Value::Null);
    assert_eq!(types(&again), ["choice"]);
}

#[test]
fn an_nlu_hint_for_the_text_is_combined_with_the_classifier() {
    let hint = |text: &str| flowdm_engine::ExternalRanking {
        text: text.into(),
        intents: vec![("yes".into(), 0.95)],
        weight: 0.7,
    };
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    // Alone, the local NLU has no evidence for it.
    s.turn(json!({ "type": "text", "payload": "affirmative" }));
    assert_eq!(
        s.last_request.clone().unwrap().into_value()["payload"]["intent"]["name"],
        "None"
    );
    // A hint for another text changes nothing.
    s.nlu_hint = Some(hint("something else"));
    s.turn(json!({ "type": "text", "payload": "affirmative" }));
    assert_eq!(
        s.last_request.clone().unwrap().into_value()["payload"]["intent"]["name"],
        "None"
    );
    s.nlu_hint = Some(hint("affirmative"));
    let t = s.turn(json!({ "type": "text", "payload": "affirmative" }));
    assert_eq!(messages(&t), ["yes!"]);
    let req = s.last_request.clone().unwrap().into_value();
    assert_eq!(req["payload"]["intent"]["name"], "yes");
    let confidence = req["payload"]["confidence"].as_f64().unwrap();
    // The provider's share (0.7 × 0.95) plus the local classifier's (0.3 × its guess).
    assert!((0.7 * 0.95..1.0).contains(&confidence), "{confidence}");
}

#[test]
fn launch_restarts_and_counts_sessions() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    assert_eq!(s.var("sessions"), Some(&json!(2)));
    s.turn(json!({ "type": "launch", "payload": null }));
    assert_eq!(s.var("sessions"), Some(&json!(3)));
    assert_eq!(s.var("last_event"), Some(&json!({ "type": "launch" })));
}

#[test]
fn text_matches_utterances_case_insensitively_else_none_intent() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "text", "payload": "Sure  THING" }));
    assert_eq!(messages(&t), ["yes!"]);
    let req = s.last_request.clone().unwrap().into_value();
    assert_eq!(
        req,
        // In scope (the waiting node listens for `yes`): through the dialog manager, `ELICIT: false` (§10.4).
        json!({ "type": "intent", "payload": { "query": "Sure  THING", "intent": { "name": "yes" }, "entities": [], "confidence": 1.0 }, "ELICIT": false })
    );
    assert_eq!(s.var("last_utterance"), Some(&json!("Sure  THING")));
    s.turn(json!({ "type": "text", "payload": "what" }));
    let req = s.last_request.clone().unwrap().into_value();
    assert_eq!(req["payload"]["intent"]["name"], "None");
    // Empty text → None without confidence.
    s.turn(json!({ "type": "text", "payload": "" }));
    let req = s.last_request.clone().unwrap().into_value();
    assert_eq!(
        req["payload"],
        json!({ "query": "", "intent": { "name": "None" }, "entities": [] })
    );
}

#[test]
fn text_with_a_non_string_payload_skips_nlu() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    s.turn(json!({ "type": "text", "payload": { "x": 1 } }));
    assert_eq!(s.last_request.clone().unwrap().ty(), "text");
}

#[test]
fn path_request_sets_last_utterance() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "path-go", "payload": { "label": "Go", "actions": [] } }));
    assert_eq!(t[0]["payload"]["path"], "choice:2");
    assert_eq!(s.var("last_utterance"), Some(&json!("Go")));
}

#[test]
fn action_request_only_updates_builtins() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    let before = s.state.stack.clone();
    let t = s.turn(json!({ "type": "action", "payload": { "label": "Open" } }));
    assert_eq!(t, json!([]));
    assert_eq!(s.state.stack, before);
    assert_eq!(
        s.var("last_event"),
        Some(&json!({ "type": "action", "payload": { "label": "Open" } }))
    );
}

#[test]
fn general_request_at_a_fresh_start_node_is_swallowed() {
    let mut s = Session::new(menu());
    let t = s.turn(json!({ "type": "path-go" }));
    assert_eq!(t, json!([]));
    // An intent at the start node runs the flow (one-shot).
    let t = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "yes" } } }));
    assert_eq!(types(&t), ["text", "choice"]);
}

#[test]
fn alexa_event_intents_match_nothing() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    let t =
        s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "yes" }, "data": {} } }));
    assert_eq!(t[0]["payload"]["path"], "reprompt");
}

#[test]
fn invalid_requests_are_rejected() {
    for bad in [
        json!({}),
        json!({ "type": "" }),
        json!({ "type": 3 }),
        json!("launch"),
        json!([1]),
    ] {
        assert!(
            flowdm_engine::Request::from_value(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn exclude_types_replaces_the_default_list() {
    let mut s = Session::new(menu()).with_config(json!({ "excludeTypes": [] }));
    let t = s.turn(json!({ "type": "launch" }));
    let ty = types(&t);
    for expected in ["flow", "block", "debug", "text", "choice"] {
        assert!(ty.contains(&expected.to_string()), "{expected} in {ty:?}");
    }
    assert_eq!(
        t[0],
        json!({ "type": "flow", "payload": { "diagramID": "D" } })
    );
    let mut s = Session::new(menu()).with_config(json!({ "excludeTypes": ["choice"] }));
    assert_eq!(
        types(&s.turn(json!({ "type": "launch" }))),
        ["flow", "block", "debug", "block", "text", "block"]
    );
}

#[test]
fn strip_ssml_applies_to_speak_only_and_tts_has_no_effect() {
    let mut s = Session::new(menu()).with_config(json!({ "tts": true, "stripSSML": true }));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Hi <b>there</b>"]);
}

#[test]
fn traces_carry_the_injected_time() {
    let mut s = Session::new(menu());
    let out = s.turn_raw(json!({ "type": "launch" }));
    assert!(out.trace.iter().all(|t| t.time == NOW_MS));
    assert_eq!(s.var("timestamp"), Some(&json!(NOW_MS / 1000)));
}

#[test]
fn endless_loop_in_a_flow_ends_with_a_debug_trace() {
    let lines = json!({ "start": { "type": "start", "nextId": "a" },
        "a": { "type": "set", "sets": [ { "variable": "n", "expression": "(v['n'] + 1)" } ], "nextId": "b" },
        "b": { "type": "goToNode", "diagramID": "", "nextId": "a" } });
    let mut s = Session::new(agent(lines, json!({ "variables": ["n"] })))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let t = s.turn(json!({ "type": "launch" }));
    let last_debug = t
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["type"] == "debug")
        .cloned()
        .unwrap();
    assert!(
        last_debug["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("node limit"),
        "{last_debug}"
    );
    assert_eq!(
        t.as_array().unwrap().last(),
        Some(&json!({ "type": "end" }))
    );
}

#[test]
fn endless_flow_recursion_stops_at_the_frame_limit() {
    let lines = json!({ "start": { "type": "start", "nextId": "f" }, "f": { "type": "flow", "diagram_id": "D", "nextId": null } });
    let mut s = Session::new(agent(lines, json!({})));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(t, json!([]));
    assert!(s.state.stack.len() > flowdm_engine::MAX_FRAME_DEPTH);
}

#[test]
fn turn_timeout_ends_the_turn_with_a_debug_trace() {
    // A clock that moves 1 s per reading: the 15 s budget runs out inside the loop.
    let lines = json!({ "start": { "type": "start", "nextId": "a" }, "a": { "type": "goToNode", "nextId": "start" } });
    let project = agent(lines, json!({}));
    let clock = TickingClock::new(1000);
    let mut rng = flowdm_engine::SeededRandom::new(1);
    let mut env = env(&clock, &mut rng);
    let input = flowdm_engine::TurnInput {
        request: flowdm_engine::Request::from_value(json!({ "type": "launch" })).ok(),
        config: serde_json::from_value(json!({ "excludeTypes": [] })).unwrap(),
        ..Default::default()
    };
    let out = flowdm_engine::interact(&flowdm_engine::Agent::new(project.clone()), input, &mut env);
    assert!(out.trace.iter().any(
        |t| t.payload_str("message") == Some("ERROR: turn timeout - check for infinite loops")
    ));
    assert_eq!(out.state.stack.len(), 2, "the turn ends in place");
}

#[test]
fn delegation_stops_after_three_passes() {
    let lines = json!({ "start": { "type": "start", "nextId": "g" },
        "g": { "type": "goTo", "request": { "type": "intent", "payload": { "intent": { "name": "again" }, "query": "", "entities": [] } } },
        "again": { "type": "goTo", "request": { "type": "intent", "payload": { "intent": { "name": "again" }, "query": "", "entities": [] } } } });
    let extra = json!({ "commands": [ { "type": "jump", "event": { "type": "intent", "intent": "again" }, "nextID": "again" } ] });
    let mut s = Session::new(agent(lines, extra));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["path", "path"]);
    assert_eq!(s.last_request.clone().unwrap().intent_name(), Some("again"));
}

#[test]
fn state_variables_are_kept_across_a_version_switch() {
    let mut s = Session::new(menu());
    s.turn(json!({ "type": "launch" }));
    s.state.stack[0].diagram_id = "OLD_VERSION".into();
    let t = s.turn(json!({ "type": "path-go" }));
    // The base frame belongs to another version: a new session starts (start node, swallowed request).
    assert_eq!(t, json!([]));
    assert_eq!(s.var("sessions"), Some(&json!(3)));
}

#[test]
fn logs_produce_log_traces_up_to_the_requested_level() {
    let lines = json!({ "start": { "type": "start", "nextId": "s" },
        "s": { "type": "set", "sets": [ { "variable": "n", "expression": "(v['n'] + 1)" } ], "nextId": "i" },
        "i": { "type": "if", "expressions": ["(v['n'] > 0)"], "nextIds": ["t"], "elseId": "x" },
        "t": text_node("n is {n}", Some("x")), "x": { "type": "exit", "end": true } });
    let project = agent(lines, json!({ "variables": ["n"] }));
    let run = |level: flowdm_engine::LogLevel| {
        let clock = flowdm_engine::FixedClock(NOW_MS);
        let mut rng = flowdm_engine::SeededRandom::new(1);
        let mut env = env(&clock, &mut rng);
        let input = flowdm_engine::TurnInput {
            state: flowdm_engine::session::generate(&project, None, Some("u1")),
            request: flowdm_engine::Request::from_value(json!({ "type": "launch" })).ok(),
            user_id: Some("u1".into()),
            logs: level,
            ..Default::default()
        };
        let out =
            flowdm_engine::interact(&flowdm_engine::Agent::new(project.clone()), input, &mut env);
        normalize(serde_json::to_value(&out.trace).unwrap())
    };
    assert!(!types(&run(flowdm_engine::LogLevel::Off)).contains(&"log".to_string()));
    assert!(!types(&run(flowdm_engine::LogLevel::Error)).contains(&"log".to_string()));
    let t = run(flowdm_engine::LogLevel::Info);
    let logs: Vec<&serde_json::Value> = t
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "log")
        .collect();
    let kinds: Vec<&str> = logs
        .iter()
        .filter_map(|l| l["payload"]["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "global.conversation_start",
            "step.start",
            "step.set",
            "step.condition",
            "step.text",
            "step.exit"
        ]
    );
    assert_eq!(
        logs[0]["payload"]["message"],
        json!({ "userID": "u1", "versionID": "V" })
    );
    assert_eq!(logs[0]["payload"]["timestamp"], "2024-08-09T10:40:00.000Z");
    assert_eq!(
        logs[2]["payload"]["message"],
        json!({ "stepID": "s", "componentName": "set", "changedVariables": { "n": { "before": 0, "after": 1 } } })
    );
    assert_eq!(
        logs[3]["payload"]["message"]["path"],
        json!({ "stepID": "t", "componentName": "text" })
    );
    assert_eq!(logs[4]["payload"]["message"]["plainContent"], "n is 1");
    assert_eq!(
        logs[5]["payload"]["message"]["state"],
        serde_json::Value::Null
    );
    // At `verbose` the exit log carries the whole state.
    let v = run(flowdm_engine::LogLevel::Verbose);
    let exit = v
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["payload"]["kind"] == "step.exit")
        .cloned()
        .unwrap();
    assert!(exit["payload"]["message"]["state"]["variables"].is_object());
}

#[test]
fn a_turn_over_its_budget_stops_and_the_same_input_runs_again() {
    // A clock that moves 1 ms per reading: a budget of 5 ms runs out within a few nodes of this
    // loop, which without a budget runs until the node limit.
    let lines = json!({ "start": { "type": "start", "nextId": "a" },
        "a": { "type": "set", "sets": [ { "variable": "n", "expression": "v['n'] + 1" } ], "nextId": "b" },
        "b": { "type": "goToNode", "nextId": "a" } });
    let agent = flowdm_engine::Agent::new(agent(lines, json!({ "context": { "n": 0 } })));
    let input = flowdm_engine::TurnInput {
        state: flowdm_engine::session::generate(&agent, None, Some("u1")),
        request: flowdm_engine::Request::from_value(json!({ "type": "launch" })).ok(),
        config: serde_json::from_value(json!({ "excludeTypes": [] })).unwrap(),
        ..Default::default()
    };
    let clock = TickingClock::new(1);
    let mut rng = flowdm_engine::SeededRandom::new(1);
    let over = flowdm_engine::interact_within(&agent, input.clone(), &mut env(&clock, &mut rng), 5);
    assert_eq!(over.err(), Some(flowdm_engine::OverBudget));
    // A budget that is not reached changes nothing: the same output as without one.
    let clock = flowdm_engine::FixedClock(NOW_MS);
    let run = |budget: Option<u64>| {
        let mut rng = flowdm_engine::SeededRandom::new(1);
        let mut env = env(&clock, &mut rng);
        match budget {
            Some(b) => flowdm_engine::interact_within(&agent, input.clone(), &mut env, b)
                .expect("within budget"),
            None => flowdm_engine::interact(&agent, input.clone(), &mut env),
        }
    };
    let (with, without) = (run(Some(NOW_MS + 1000)), run(None));
    assert_eq!(
        serde_json::to_value(&with.trace).unwrap(),
        serde_json::to_value(&without.trace).unwrap()
    );
    assert_eq!(with.state, without.state);
    assert!(with.state.variables["n"].as_f64().unwrap_or(0.0) > 100.0);
}

#[test]
fn a_script_stops_at_the_budget_and_the_run_without_one_reaches_the_limit() {
    // An endless code step: under a 20 ms budget the run is abandoned within the budget (the
    // server then runs it on the blocking pool); without one it fails after the 1 s limit.
    let lines = json!({ "start": { "type": "start", "nextId": "code" },
        "code": { "code": "while (true) {}", "success_id": "ok", "fail_id": "bad" },
        "ok": text_node("finished", None),
        "bad": text_node("stopped", None) });
    let agent = flowdm_engine::Agent::new(agent(lines, json!({})));
    let input = flowdm_engine::TurnInput {
        state: flowdm_engine::session::generate(&agent, None, Some("u1")),
        request: flowdm_engine::Request::from_value(json!({ "type": "launch" })).ok(),
        ..Default::default()
    };
    let clock = flowdm_engine::FixedClock(NOW_MS);
    let mut rng = flowdm_engine::SeededRandom::new(1);
    let started = std::time::Instant::now();
    let over = flowdm_engine::interact_within(
        &agent,
        input.clone(),
        &mut env(&clock, &mut rng),
        NOW_MS + 20,
    );
    assert_eq!(over.err(), Some(flowdm_engine::OverBudget));
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    let mut rng = flowdm_engine::SeededRandom::new(1);
    let out = flowdm_engine::interact(&agent, input, &mut env(&clock, &mut rng));
    let traces = serde_json::to_value(&out.trace).unwrap();
    assert_eq!(messages(&traces), ["stopped"]);
}
