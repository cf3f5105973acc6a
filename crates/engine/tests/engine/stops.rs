//! Resumable stops of client-handled custom actions: the stop id in the trace, the pending and
//! resumed records, a duplicate resume told apart, the deadline path, pending traces.

use crate::common::*;
use flowdm_engine::stops::{self, Named};
use flowdm_engine::FixedClock;
use serde_json::{json, Value};

fn pay_session() -> Session {
    let lines = json!({ "start": { "type": "start", "nextId": "pay" },
        "pay": { "_v": 1, "type": "Pay Credit Card", "payload": { "card": "visa" }, "stop": true, "defaultPath": 0,
            "paths": [ { "label": "success", "event": { "type": "success" }, "nextID": "ok" },
                       { "label": "timed out", "event": { "type": "timeout" }, "nextID": "late" } ] },
        "ok": text_node("Paid.", Some("pay")),
        "late": text_node("Too late.", None) });
    Session::new(agent(lines, json!({})))
}

/// A turn's traces as sent (`Session::turn` hides stop ids).
fn turn(s: &mut Session, request: Value) -> Value {
    serde_json::to_value(&s.turn_raw(request).trace).unwrap()
}

fn stop_id(traces: &Value) -> String {
    let custom = traces
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Pay Credit Card")
        .unwrap_or_else(|| panic!("no custom trace in {traces}"));
    custom["stopID"].as_str().unwrap().to_string()
}

#[test]
fn a_stop_for_the_client_has_an_id_in_its_trace_and_is_pending() {
    let mut s = pay_session();
    let traces = turn(&mut s, json!({ "type": "launch" }));
    let id = stop_id(&traces);
    assert_eq!(id.len(), 16);
    // Only the id is added to the reference's trace (the server adds `resume`).
    let custom = traces.as_array().unwrap().last().unwrap();
    let mut keys: Vec<&str> = custom
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["defaultPath", "paths", "payload", "stopID", "time", "type"]
    );
    let pending = stops::read(&s.state).pending.unwrap();
    assert_eq!(pending.id, id);
    assert_eq!(pending.action, "Pay Credit Card");
    assert_eq!(pending.node_id.as_deref(), Some("pay"));
    assert_eq!(pending.deadline, None);
    assert_eq!(stops::check(&s.state, &id), Named::Pending);
}

#[test]
fn the_next_turn_resumes_the_stop_once_and_a_duplicate_is_recognised() {
    let mut s = pay_session();
    let first = stop_id(&turn(&mut s, json!({ "type": "launch" })));
    let traces = turn(
        &mut s,
        json!({ "type": "success", "payload": { "stopID": first } }),
    );
    assert_eq!(messages(&traces), ["Paid."]);
    // The diagram loops back to the action: a new stop, a new id.
    let second = stop_id(&traces);
    assert_ne!(first, second);
    match stops::check(&s.state, &first) {
        Named::Resumed(r) => {
            assert_eq!(r.event.as_deref(), Some("success"));
            assert_eq!(r.by, "request");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stops::check(&s.state, &second), Named::Pending);
    assert_eq!(stops::check(&s.state, "0123456789abcdef"), Named::Unknown);
    // A plain resume without an id keeps the reference's behaviour and also resumes the stop.
    let traces = turn(&mut s, json!({ "type": "success" }));
    assert_eq!(messages(&traces), ["Paid."]);
    assert!(matches!(stops::check(&s.state, &second), Named::Resumed(_)));
}

#[test]
fn stop_ids_come_from_the_turns_random_source() {
    let mut a = pay_session();
    let mut b = pay_session();
    assert_eq!(
        stop_id(&turn(&mut a, json!({ "type": "launch" }))),
        stop_id(&turn(&mut b, json!({ "type": "launch" })))
    );
}

#[test]
fn a_stop_past_its_deadline_resumes_on_the_path_first() {
    let mut s = pay_session()
        .with_config(json!({ "stopDeadline": { "seconds": 30, "path": "timed out" } }));
    let id = stop_id(&turn(&mut s, json!({ "type": "launch" })));
    let pending = stops::read(&s.state).pending.unwrap();
    assert_eq!(pending.deadline, Some(NOW_MS + 30_000));
    assert_eq!(pending.deadline_event, Some(json!({ "type": "timeout" })));
    // Before the deadline nothing happens by itself: the request resumes as usual.
    // After it, the deadline path comes first, then the request is handled.
    s.clock = FixedClock(NOW_MS + 30_000);
    let traces = turn(&mut s, json!({ "type": "launch" }));
    let said = messages(&traces);
    assert_eq!(said[0], "Too late.");
    match stops::check(&s.state, &id) {
        Named::Resumed(r) => {
            assert_eq!(r.by, "deadline");
            assert_eq!(r.event.as_deref(), Some("timeout"));
        }
        other => panic!("{other:?}"),
    }
    // The launch then stopped on the action again: a new pending stop.
    assert_ne!(stop_id(&traces), id);
}

#[test]
fn a_resume_of_a_stop_its_deadline_resumed_is_answered_by_the_deadline_path() {
    let mut s =
        pay_session().with_config(json!({ "stopDeadline": { "seconds": 1, "path": "timeout" } }));
    let id = stop_id(&turn(&mut s, json!({ "type": "launch" })));
    s.clock = FixedClock(NOW_MS + 5_000);
    let traces = turn(
        &mut s,
        json!({ "type": "success", "payload": { "stopID": id } }),
    );
    assert_eq!(messages(&traces), ["Too late."]);
    assert!(stops::read(&s.state).pending.is_none());
}

#[test]
fn pending_traces_come_first_and_once() {
    let mut s = pay_session();
    turn(&mut s, json!({ "type": "launch" }));
    let mut st = stops::read(&s.state);
    st.traces.push(flowdm_engine::Trace::new(
        "text",
        json!({ "message": "earlier" }),
        1,
    ));
    stops::put(&mut s.state, &st);
    let traces = turn(&mut s, json!({ "type": "success" }));
    let types: Vec<&str> = traces
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[0], "text");
    assert_eq!(traces[0]["payload"]["message"], "earlier");
    assert!(stops::read(&s.state).traces.is_empty());
}

#[test]
fn a_request_that_does_not_run_leaves_the_stop_pending() {
    let mut s = pay_session();
    let id = stop_id(&turn(&mut s, json!({ "type": "launch" })));
    // `action` requests run nothing (§2.1): the session still waits on the same stop.
    turn(
        &mut s,
        json!({ "type": "action", "payload": { "stopID": id } }),
    );
    assert_eq!(stops::check(&s.state, &id), Named::Pending);
    let traces = turn(
        &mut s,
        json!({ "type": "success", "payload": { "stopID": id } }),
    );
    assert_eq!(messages(&traces), ["Paid."]);
    assert!(matches!(stops::check(&s.state, &id), Named::Resumed(_)));
}
