//! Library sub-flows (`subflow` custom actions): inputs as the sub-flow's local variables,
//! invalid inputs, outputs, each path and an unknown one, a sub-flow waiting for a button across
//! turns (its state through JSON), and version pinning across an update mid-session.

use crate::common::*;
use flowdm_compile::library::compile_entry;
use flowdm_engine::{Agent, State};
use flowdm_model::{Library, LibraryEntry, LibraryError, ServerAction, ServerActions};
use serde_json::{json, Value};
use std::sync::Arc;

const COMPONENT: &str = "64d4d0000000000000000002";
const YES: &str = "path-64d4b0000000000000000001";
const NO: &str = "path-64d4b0000000000000000002";
const LATER: &str = "path-64d4b0000000000000000003";

fn example(file: &str) -> Value {
    let path = repo_root().join("examples").join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The example entry `confirm-order` as `version` in `scope`; versions above 1 ask "V<n>: …".
fn version(version: u64, scope: &str) -> flowdm_model::LibraryVersion {
    let mut entry = example("library/confirm-order.json");
    entry["version"] = json!(version);
    entry["scope"] = json!(scope);
    let mut export = example("library/confirm-order.vf");
    if version > 1 {
        let text = export
            .pointer_mut(&format!(
                "/diagrams/{COMPONENT}/nodes/64d402000000000000000002/data/texts/0/content/0/children/0/text"
            ))
            .unwrap();
        *text = json!(format!("V{version}: Confirm the order of "));
    }
    compile_entry(LibraryEntry::parse(&entry).unwrap(), &export).unwrap()
}

fn library(versions: &[(u64, &str)]) -> Arc<Library> {
    Arc::new(Library::new(
        versions.iter().map(|(v, s)| version(*v, s)).collect(),
    ))
}

/// An agent whose "Confirm Order" step runs the example sub-flow (`examples/actions/`);
/// `again`: the confirmed path asks once more (the same session uses the entry twice).
fn shop(amount: &str, action: Value, lib: Arc<Library>, again: bool) -> Agent {
    let lines = json!({ "start": { "type": "start", "nextId": "set" },
        "set": { "type": "setV2", "sets": [ { "variable": "amount", "expression": amount, "type": "value" } ], "nextId": "confirm" },
        "confirm": { "_v": 1, "type": "Confirm Order", "payload": { "currency": "USD" }, "defaultPath": 2,
            "paths": [ { "event": { "type": "confirmed" }, "nextID": "ok" }, { "event": { "type": "cancelled" }, "nextID": "no" },
                       { "event": { "type": "other" }, "nextID": "other" } ] },
        "ok": text_node("Confirmed {order_reference}.", if again { Some("confirm") } else { None }),
        "no": text_node("Cancelled.", None),
        "other": text_node("Something else.", None) });
    let project = agent(
        lines,
        json!({ "variables": ["amount", "order_reference", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"] }),
    );
    Agent {
        actions: Arc::new(ServerActions::new(vec![
            ServerAction::parse(&action).unwrap()
        ])),
        library: lib,
        ..Agent::new(project)
    }
}

/// A session that sees debug traces.
fn session(agent: Agent) -> Session {
    Session::new(agent).with_config(json!({ "excludeTypes": ["block", "flow"] }))
}

fn confirm_action() -> Value {
    example("actions/confirm-order.json")
}

fn debug_messages(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "debug")
        .filter_map(|t| t["payload"]["message"].as_str().map(str::to_string))
        .collect()
}

/// The state as a store keeps it: through JSON.
fn round_trip(s: &mut Session) {
    let text = serde_json::to_string(&s.state).unwrap();
    s.state = serde_json::from_str::<State>(&text).unwrap();
}

#[test]
fn inputs_become_the_sub_flow_s_locals_and_it_waits_for_a_button_across_turns() {
    let mut s = session(shop(
        "25",
        confirm_action(),
        library(&[(1, "shared")]),
        false,
    ));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Confirm the order of 25 USD?"]);
    let top = s.state.stack.last().unwrap();
    assert_eq!(top.diagram_id, format!("lib:confirm-order@1:{COMPONENT}"));
    assert_eq!(top.variables["amount"], json!(25));
    assert_eq!(top.variables["currency"], json!("USD"));
    assert_eq!(
        s.state.storage["subflowVersions"],
        json!({ "confirm-order": 1 })
    );
    // The caller's variables are not the sub-flow's.
    assert_eq!(s.var("currency"), None);
    round_trip(&mut s);
    let t = s.turn(json!({ "type": YES }));
    assert_eq!(messages(&t), ["Confirmed R-25."]);
    assert_eq!(s.var("order_reference"), Some(&json!("R-25")));
    assert!(
        debug_messages(&t)
            .iter()
            .any(|m| m.contains(r#"sub-flow "confirm-order" ended on path "confirmed""#)),
        "{t}"
    );
    // The button's name as text works too (the waiting node is found in the library).
    let mut s = session(shop(
        "25",
        confirm_action(),
        library(&[(1, "shared")]),
        false,
    ));
    s.turn(json!({ "type": "launch" }));
    round_trip(&mut s);
    let t = s.turn(json!({ "type": "text", "payload": "no" }));
    assert_eq!(messages(&t), ["Cancelled."]);
}

#[test]
fn each_path_maps_to_the_step_and_an_unknown_one_takes_the_default_path() {
    for (button, said) in [
        (YES, "Confirmed R-7."),
        (NO, "Cancelled."),
        // `later` is no path of the step (and the action maps no label for it).
        (LATER, "Something else."),
    ] {
        let mut s = session(shop(
            "7",
            confirm_action(),
            library(&[(1, "shared")]),
            false,
        ));
        s.turn(json!({ "type": "launch" }));
        let t = s.turn(json!({ "type": button }));
        assert_eq!(messages(&t), [said], "{button}");
    }
    // The client's stop still wins: it gets the step's trace, no sub-flow runs.
    let mut s = session(shop(
        "7",
        confirm_action(),
        library(&[(1, "shared")]),
        false,
    ))
    .with_config(json!({ "stopTypes": ["Confirm Order"] }));
    let t = s.turn(json!({ "type": "launch" }));
    assert!(types(&t).contains(&"Confirm Order".to_string()), "{t}");
    assert_eq!(s.state.stack.last().unwrap().diagram_id, "D");
    // A path map renames: the sub-flow's `cancelled` is the step's `other` path.
    let mut action = confirm_action();
    action["config"]["paths"] = json!({ "cancelled": "other" });
    let mut s = session(shop("7", action, library(&[(1, "shared")]), false));
    s.turn(json!({ "type": "launch" }));
    assert_eq!(
        messages(&s.turn(json!({ "type": NO }))),
        ["Something else."]
    );
}

#[test]
fn outputs_default_to_the_declared_ones_under_their_names() {
    let mut action = confirm_action();
    action["config"].as_object_mut().unwrap().remove("outputs");
    let mut s = session(shop("3", action, library(&[(1, "shared")]), false));
    s.turn(json!({ "type": "launch" }));
    s.turn(json!({ "type": YES }));
    assert_eq!(s.var("reference"), Some(&json!("R-3")));
    // Only declared outputs come back: `currency` stays the sub-flow's.
    assert_eq!(s.var("currency"), None);
}

#[test]
fn invalid_inputs_and_a_missing_entry_take_the_default_path_with_a_debug_trace() {
    // `amount` must be a number.
    let mut s = session(shop(
        "'lots'",
        confirm_action(),
        library(&[(1, "shared")]),
        false,
    ));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Something else."]);
    assert!(
        debug_messages(&t)
            .iter()
            .any(|m| m.contains(r#"input "amount" must be number"#)),
        "{t}"
    );
    // A required input missing; an undeclared one.
    for (inputs, why) in [
        (
            json!({ "amount": "{{nothing}}" }),
            r#"input "amount" is required"#,
        ),
        (
            json!({ "amount": "1", "tip": "2" }),
            r#"input "tip" is not declared"#,
        ),
    ] {
        let mut action = confirm_action();
        action["config"]["inputs"] = inputs;
        let mut s = session(shop("25", action, library(&[(1, "shared")]), false));
        let t = s.turn(json!({ "type": "launch" }));
        assert_eq!(messages(&t), ["Something else."]);
        assert!(debug_messages(&t).iter().any(|m| m.contains(why)), "{t}");
    }
    // No shared version at all.
    let mut s = session(shop(
        "25",
        confirm_action(),
        library(&[(1, "draft")]),
        false,
    ));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Something else."]);
    assert!(
        debug_messages(&t)
            .iter()
            .any(|m| m.contains("no shared version in the library")),
        "{t}"
    );
}

#[test]
fn a_session_keeps_its_version_across_an_update_and_new_sessions_get_the_latest_shared() {
    let mut old = session(shop(
        "25",
        confirm_action(),
        library(&[(1, "shared")]),
        true,
    ));
    assert_eq!(
        messages(&old.turn(json!({ "type": "launch" }))),
        ["Confirm the order of 25 USD?"]
    );
    // The library is updated mid-session: v2 shared, v3 a draft.
    let updated = library(&[(1, "shared"), (2, "shared"), (3, "draft")]);
    old.project.library = updated.clone();
    round_trip(&mut old);
    // The running frame is v1's; the next use of the entry in this session is v1 again.
    assert_eq!(
        messages(&old.turn(json!({ "type": YES }))),
        ["Confirmed R-25.", "Confirm the order of 25 USD?"]
    );
    assert_eq!(
        old.state.stack.last().unwrap().diagram_id,
        format!("lib:confirm-order@1:{COMPONENT}")
    );
    // A new session gets the latest shared version (the draft is ignored).
    let mut new = session(shop("25", confirm_action(), updated.clone(), true));
    assert_eq!(
        messages(&new.turn(json!({ "type": "launch" }))),
        ["V2: Confirm the order of 25 USD?"]
    );
    // A launch starts the old session over: it moves to v2.
    assert_eq!(
        messages(&old.turn(json!({ "type": "launch" }))),
        ["V2: Confirm the order of 25 USD?"]
    );
}

#[test]
fn a_missing_diagram_is_reported_with_what_the_export_has() {
    let mut entry = example("library/confirm-order.json");
    entry["config"]["diagram"] = json!("Confirm Everything");
    let err = compile_entry(
        LibraryEntry::parse(&entry).unwrap(),
        &example("library/confirm-order.vf"),
    )
    .unwrap_err();
    assert!(matches!(err, LibraryError::NoDiagram { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("\"Confirm Everything\"") && text.contains("\"Confirm Order\""),
        "{text}"
    );
    // A declaration with a bad field says which.
    let mut bad = example("library/confirm-order.json");
    bad["scope"] = json!("public");
    assert_eq!(
        LibraryEntry::parse(&bad).unwrap_err().to_string(),
        r#"the library entry's scope is invalid: "public" (draft, shared)"#
    );
    let parsed = LibraryEntry::parse(&example("library/confirm-order.json")).unwrap();
    assert_eq!(LibraryEntry::parse(&parsed.to_json()).unwrap(), parsed);
}

#[test]
fn programs_reachable_from_the_start_are_namespaced_too() {
    // The export's Home topic calls the Confirm Order component; the entry starts at Home.
    let mut export = example("library/confirm-order.vf");
    let home = "64d4d0000000000000000001";
    let nodes = export
        .pointer_mut(&format!("/diagrams/{home}/nodes"))
        .unwrap()
        .as_object_mut()
        .unwrap();
    nodes["64d401000000000000000001"]["data"]["portsV2"]["builtIn"]["next"]["target"] =
        json!("64d4bc000000000000000011");
    nodes.insert(
        "64d4bc000000000000000011".into(),
        json!({ "nodeID": "64d4bc000000000000000011", "type": "block", "coords": [0, 0],
            "data": { "name": "Call", "color": "", "steps": ["64d401000000000000000002"] } }),
    );
    nodes.insert(
        "64d401000000000000000002".into(),
        json!({ "nodeID": "64d401000000000000000002", "type": "component",
            "data": { "name": "", "diagramID": COMPONENT,
                "variableMap": { "inputs": [["amount", "amount"], ["currency", "currency"]],
                                 "outputs": [["path", "path"], ["reference", "reference"]] },
                "portsV2": { "byKey": {}, "builtIn": { "next": { "type": "next", "target": null, "id": "p" } }, "dynamic": [] } } }),
    );
    let mut entry = example("library/confirm-order.json");
    entry["config"]["diagram"] = json!("Home");
    let v = compile_entry(LibraryEntry::parse(&entry).unwrap(), &export).unwrap();
    assert_eq!(v.start, format!("lib:confirm-order@1:{home}"));
    let mut ids: Vec<&String> = v.programs.keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            &format!("lib:confirm-order@1:{home}"),
            &format!("lib:confirm-order@1:{COMPONENT}")
        ]
    );
    let mut s = session(shop(
        "9",
        confirm_action(),
        Arc::new(Library::new(vec![v])),
        false,
    ));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Confirm the order of 9 USD?"]);
    let frames: Vec<&str> = s
        .state
        .stack
        .iter()
        .map(|f| f.diagram_id.as_str())
        .collect();
    assert_eq!(
        frames[frames.len() - 2..],
        [
            format!("lib:confirm-order@1:{home}"),
            format!("lib:confirm-order@1:{COMPONENT}")
        ]
    );
    // The component returns its path and reference into Home, whose end names the path.
    assert_eq!(
        messages(&s.turn(json!({ "type": YES }))),
        ["Confirmed R-9."]
    );
}
