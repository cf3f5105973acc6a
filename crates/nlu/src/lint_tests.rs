//! The NLU warnings on a small model with every problem once.

use super::*;
use flowdm_model::{CaptureV2, Node};
use serde_json::json;

fn model() -> NluModel {
    NluModel::from_value(Some(&json!({
        "intents": [
            { "key": "i1", "name": "order_pizza", "inputs": [
                { "text": "i want a {{[size].s1}} pizza" },
                { "text": "order a pizza" },
                { "text": "pizza please" } ],
              "slots": [ { "id": "s1", "required": true } ] },
            { "key": "i2", "name": "deliver", "inputs": [
                { "text": "deliver to {{[city].s2}}" },
                { "text": "bring it to {{[city].s2}}" },
                { "text": "send it to {{[city].s2}} with {{[topping].s3}}" } ],
              "slots": [ { "id": "s2" } ] },
            { "key": "i3", "name": "greet", "inputs": [ { "text": "hello" }, { "text": "Hi  there" } ] },
            { "key": "i4", "name": "farewell", "inputs": [
                { "text": "bye" }, { "text": "hi there" }, { "text": "see you" }, { "text": "HELLO" } ] },
            { "key": "capture_n1", "name": "capture_n1", "inputs": [ { "text": "{{[city].s2}}" } ],
              "slots": [ { "id": "s2", "required": true } ] },
            { "key": "capture_n2", "name": "capture_n2", "inputs": [ { "text": "{{[size].s1}}" } ],
              "slots": [ { "id": "s1", "required": true } ] }
        ],
        "slots": [
            { "key": "s1", "name": "size", "type": { "value": "Custom" }, "inputs": ["small", "large, big"] },
            { "key": "s2", "name": "city", "type": { "value": "AMAZON.US_CITY" }, "inputs": [] },
            { "key": "s3", "name": "topping", "type": { "value": "Custom" }, "inputs": [] },
            { "key": "s4", "name": "unused", "type": { "value": "VF.NAME" } }
        ]
    })))
}

fn capture(id: &str, intent: &str, entities: &[&str]) -> Node {
    Node {
        id: id.into(),
        type_name: "captureV2".into(),
        kind: NodeKind::CaptureV2(CaptureV2 {
            intent: Some((
                intent.into(),
                entities.iter().map(|e| e.to_string()).collect(),
            )),
            variable: None,
            scope_node: false,
            no_match: None,
            no_reply: None,
            next: None,
        }),
    }
}

fn program(nodes: Vec<Node>) -> Program {
    Program {
        id: "P".into(),
        name: None,
        start_id: None,
        lines: nodes.into_iter().map(|n| (n.id.clone(), n)).collect(),
        commands: Vec::new(),
        commands_raw: Vec::new(),
        variables: Vec::new(),
    }
}

#[test]
fn finds_every_problem_once() {
    let p = program(vec![
        capture("n2", "capture_n2", &["size"]),
        capture("n1", "capture_n1", &["city"]),
        capture("n3", "capture_n3", &["ghost"]),
    ]);
    let warnings = lint(&model(), &[&p]);
    let city = Unextractable::UnknownType("AMAZON.US_CITY".into());
    assert_eq!(
        warnings,
        vec![
            Warning::UnsupportedSlot {
                slot: "city".into(),
                reason: city.clone(),
                intents: vec!["deliver".into(), "capture_n1".into()],
            },
            Warning::UnsupportedSlot {
                slot: "topping".into(),
                reason: Unextractable::EmptyCustom,
                intents: vec!["deliver".into()],
            },
            Warning::FewUtterances {
                intent: "greet".into(),
                count: 2
            },
            Warning::DuplicateUtterance {
                utterance: "hello".into(),
                intents: vec!["greet".into(), "farewell".into()],
            },
            Warning::DuplicateUtterance {
                utterance: "hi there".into(),
                intents: vec!["greet".into(), "farewell".into()],
            },
            Warning::UnextractableCapture {
                program: "P".into(),
                node: "n1".into(),
                entity: "city".into(),
                reason: Some(city),
            },
            Warning::UnextractableCapture {
                program: "P".into(),
                node: "n3".into(),
                entity: "ghost".into(),
                reason: None,
            },
        ]
    );
}

#[test]
fn messages_name_what_to_fix() {
    let p = program(vec![
        capture("n1", "capture_n1", &["city"]),
        capture("n2", "capture_n2", &["size"]),
    ]);
    let text: Vec<String> = lint(&model(), &[&p])
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        text[0],
        "entity \"city\" cannot be extracted (type AMAZON.US_CITY, which flowdm has no extractor \
         for); intents \"deliver\", \"capture_n1\" will not fill it"
    );
    assert_eq!(
        text[1],
        "entity \"topping\" cannot be extracted (a Custom type without values); intents \
         \"deliver\" will not fill it"
    );
    assert_eq!(
        text[2],
        "intent \"greet\" has 2 utterances; give it at least 3 so it can be told from the others"
    );
    assert_eq!(
        text[3],
        "utterance \"hello\" belongs to intents \"greet\", \"farewell\"; only the first can match it"
    );
    assert_eq!(
        text[5],
        "capture step n1 (program P) waits for entity \"city\", which cannot be extracted (type \
         AMAZON.US_CITY, which flowdm has no extractor for): it will never be filled"
    );
}

#[test]
fn a_capture_intent_without_its_capture_is_an_ordinary_intent() {
    // No program names capture_n1 / capture_n2: their single utterances are too few.
    let warnings = lint(&model(), &[]);
    let few: Vec<&str> = warnings
        .iter()
        .filter_map(|w| match w {
            Warning::FewUtterances { intent, .. } => Some(intent.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(few, vec!["greet", "capture_n1", "capture_n2"]);
    assert!(!warnings
        .iter()
        .any(|w| matches!(w, Warning::UnextractableCapture { .. })));
}

#[test]
fn a_clean_model_has_no_warning() {
    let m = NluModel::from_value(Some(&json!({
        "intents": [ { "key": "a", "name": "a", "inputs": [ { "text": "one" }, { "text": "two" }, { "text": "three" } ] } ],
        "slots": [ { "key": "s", "name": "n", "type": { "value": "VF.NUMBER" } } ]
    })));
    assert!(lint(&m, &[]).is_empty());
    assert!(lint(&NluModel::default(), &[]).is_empty());
    assert!(slots_only(" {a} {b} "));
    assert!(!slots_only("{a} pizza"));
    assert!(!slots_only("{a"));
}

#[test]
fn unused_intents_need_no_utterances() {
    let m = model();
    let all = lint(&m, &[]);
    let used: Vec<String> = Vec::new();
    let none_used = lint_used(&m, Some(&used), &[]);
    let few = |w: &Vec<Warning>| {
        w.iter()
            .filter(|w| matches!(w, Warning::FewUtterances { .. }))
            .count()
    };
    assert!(few(&all) > 0);
    assert_eq!(few(&none_used), 0);
}
