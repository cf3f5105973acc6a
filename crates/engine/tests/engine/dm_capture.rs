//! captureV2 by entity (§5.6.6) and capture-v3 entity capture, through the dialog manager.

use crate::common::*;
use serde_json::{json, Value};

const CAPTURE: &str = "crates/engine/tests/fixtures/dm_capture.vfr";

fn intent(name: &str, query: &str, entities: Value) -> Value {
    json!({ "type": "intent", "payload": { "intent": { "name": name }, "query": query, "entities": entities } })
}

fn none(query: &str) -> Value {
    json!({ "type": "intent", "payload": { "intent": { "name": "None" }, "query": query, "entities": [], "confidence": 1 } })
}

fn elicit(entities: Value, flag: bool) -> Value {
    json!({ "type": "intent", "payload": { "intent": { "name": "capture_cap" }, "query": "", "entities": entities },
            "requiredEntities": ["size", "crust"], "ELICIT": flag })
}

fn at_capture() -> (Session, Value) {
    let mut s = Session::new(load(CAPTURE));
    let t = s.turn(json!({ "type": "launch" }));
    (s, t)
}

#[test]
fn running_elicits_the_entities_without_a_prompt() {
    let (s, t) = at_capture();
    // The goto was delegated: the dialog manager only emits `entity-filling`.
    assert_eq!(messages(&t), ["Let's build your pizza."]);
    assert_eq!(types(&t), ["text", "entity-filling"]);
    assert_eq!(
        t[1]["payload"],
        json!({ "entityToFill": "size", "intent": elicit(json!([]), true) })
    );
    assert_eq!(s.state.stack.last().unwrap().node_id.id(), Some("cap"));
}

#[test]
fn with_self_delegation_the_goto_is_returned() {
    let mut s = Session::new(load(CAPTURE)).with_config(json!({ "selfDelegate": true }));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["text", "goto"]);
    assert_eq!(t[1]["payload"]["request"], elicit(json!([]), true));
}

#[test]
fn the_answer_fills_the_variables_and_continues() {
    let (mut s, _) = at_capture();
    let t = s.turn(intent(
        "capture_cap",
        "huge deep dish",
        json!([{ "name": "size", "value": "huge" }, { "name": "crust", "value": "deep dish" }]),
    ));
    assert_eq!(types(&t), ["path", "text", "end"]);
    assert_eq!(t[0]["payload"]["path"], "capture");
    assert_eq!(messages(&t), ["Got large / thick."]);
}

#[test]
fn numeric_strings_become_numbers_unless_they_start_with_zero() {
    let (mut s, _) = at_capture();
    s.turn(intent(
        "capture_cap",
        "12 042",
        json!([{ "name": "size", "value": "12" }, { "name": "crust", "value": "042" }]),
    ));
    assert_eq!(s.var("size"), Some(&json!(12)));
    assert_eq!(s.var("crust"), Some(&json!("042")));
}

#[test]
fn a_partial_answer_asks_for_the_next_entity() {
    let (mut s, _) = at_capture();
    let t = s.turn(intent(
        "capture_cap",
        "small",
        json!([{ "name": "size", "value": "small" }]),
    ));
    assert_eq!(messages(&t), ["Which crust?"]);
    assert_eq!(t[0]["payload"]["isPrompt"], true);
    assert_eq!(t[1]["payload"]["entityToFill"], "crust");
}

#[test]
fn misses_prompt_then_reprompt_then_take_the_no_match_path() {
    let (mut s, _) = at_capture();
    // First miss: the counter starts at 0 and the dialog manager speaks the entity prompt.
    let t = s.turn(none("blah"));
    assert_eq!(types(&t), ["text", "entity-filling"]);
    assert_eq!(messages(&t), ["Size please?"]);
    assert_eq!(t[0]["payload"]["isPrompt"], true);
    assert_eq!(t[1]["payload"]["intent"], elicit(json!([]), false));
    assert_eq!(s.state.storage["noMatchesCounter"], json!(0));
    // Second miss: the node's reprompt, then `entity-filling` again without the prompt.
    let t = s.turn(none("blah"));
    assert_eq!(types(&t), ["path", "text", "entity-filling"]);
    assert_eq!(t[0]["payload"]["path"], "reprompt");
    assert_eq!(messages(&t), ["Sorry, I need a size and a crust."]);
    assert_eq!(t[2]["payload"]["intent"], elicit(json!([]), true));
    // Third miss: the reprompts are used up, the no-match path is taken.
    let t = s.turn(none("blah"));
    assert_eq!(types(&t), ["path", "text", "end"]);
    assert_eq!(t[0]["payload"]["path"], "choice:else");
    assert_eq!(messages(&t), ["Let's move on."]);
    assert!(s.state.storage.get("noMatchesCounter").is_none());
}

#[test]
fn a_miss_after_a_partial_answer_keeps_the_captured_entities() {
    let (mut s, _) = at_capture();
    s.turn(intent(
        "capture_cap",
        "small",
        json!([{ "name": "size", "value": "small" }]),
    ));
    let t = s.turn(none("hmm"));
    // The prior dialog intent (with `size`) is reused: only the crust is asked for.
    assert_eq!(messages(&t), ["Which crust?"]);
    assert_eq!(t[1]["payload"]["entityToFill"], "crust");
    assert_eq!(
        t[1]["payload"]["intent"]["payload"]["entities"],
        json!([{ "name": "size", "value": "small" }])
    );
    assert_eq!(t[1]["payload"]["intent"]["ELICIT"], false);
    let t = s.turn(intent(
        "capture_cap",
        "thin",
        json!([{ "name": "crust", "value": "crispy" }]),
    ));
    assert_eq!(messages(&t), ["Got small / thin."]);
}

#[test]
fn a_command_wins_during_capture() {
    let (mut s, _) = at_capture();
    let t = s.turn(intent("help", "help", json!([])));
    // `help` replaced the stored capture request; its jump runs and the capture elicits again.
    assert_eq!(messages(&t), ["Tell me a size and a crust."]);
    assert_eq!(types(&t), ["path", "text", "entity-filling"]);
}

/// The capture-v3 entity capture of a corpus export (`firm_email`), compiled.
#[test]
fn capture_v3_entity_capture_of_a_corpus_export() {
    let path = "../shared/corpus/valgaze__extension-toolkit__voiceflow_project_file.vf";
    if !repo_root().join(path).exists() {
        eprintln!("corpus not present: skipped");
        return;
    }
    let project = load(path);
    let name = "capture_679c5ecb3c28a3253720551f";
    let mut s = Session::new(project);
    s.turn(json!({ "type": "launch" }));
    // Put the session at the capture step, then let it run: it elicits its entity.
    let frame = s.state.stack.last_mut().unwrap();
    frame.diagram_id = "64386e21bb106b044ea34b78".into();
    frame.node_id = flowdm_engine::NodePtr::At("679c5ecb3c28a3253720551f".into());
    let t = s.turn(Value::Null);
    let filling: Vec<&Value> = t
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["type"] == "entity-filling")
        .collect();
    assert_eq!(filling.len(), 1, "{t:#}");
    assert_eq!(filling[0]["payload"]["entityToFill"], "firm_email");
    assert_eq!(
        filling[0]["payload"]["intent"]["payload"]["intent"]["name"],
        name
    );
    let t = s.turn(intent(
        name,
        "jo@example.com",
        json!([{ "name": "firm_email", "value": "jo@example.com" }]),
    ));
    assert_eq!(t[0]["payload"]["path"], "capture", "{t:#}");
    assert_eq!(
        s.state
            .stack
            .iter()
            .rev()
            .find_map(|f| f.variables.get("firm_email"))
            .or(s.var("firm_email")),
        Some(&json!("jo@example.com"))
    );
}
