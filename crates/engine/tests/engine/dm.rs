//! The dialog manager (entity filling, `spec/dm-api.md` §8.4, §8.5), driven by intent requests
//! that carry entities (no NLU involved).

use crate::common::*;
use serde_json::{json, Value};

const CHAT: &str = "crates/engine/tests/fixtures/dm_pizza_chat.vfr";
const VOICE: &str = "crates/engine/tests/fixtures/dm_pizza_voice.vfr";

fn intent(name: &str, query: &str, entities: Value) -> Value {
    json!({ "type": "intent", "payload": { "intent": { "name": name }, "query": query, "entities": entities } })
}

fn at_menu(path: &str) -> Session {
    let mut s = Session::new(load(path));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Welcome to the pizzeria."]);
    s
}

fn dm_store(s: &Session) -> Option<&Value> {
    s.state.storage.get("dm")
}

fn waiting_node(s: &Session) -> Option<String> {
    s.state
        .stack
        .last()
        .and_then(|f| f.node_id.id().map(str::to_string))
}

#[test]
fn a_missing_required_entity_is_asked_for_chat() {
    let mut s = at_menu(CHAT);
    let before = s.state.stack.clone();
    let t = s.turn(intent("order_pizza", "order pizza", json!([])));
    let stored = json!({ "type": "intent", "payload": { "intent": { "name": "order_pizza" }, "query": "order pizza", "entities": [] } });
    assert_eq!(
        t,
        json!([
            { "type": "text", "payload": {
                "slate": { "id": "ID", "content": [ { "children": [ { "text": "What size would you like?" } ] } ], "messageDelayMilliseconds": 1000 },
                "message": "What size would you like?", "delay": 1000, "isPrompt": true } },
            { "type": "entity-filling", "payload": { "entityToFill": "size", "intent": stored } }
        ])
    );
    // The runtime did not run: the stack is as it was, the request is stored.
    assert_eq!(s.state.stack, before);
    assert_eq!(dm_store(&s).unwrap()["intentRequest"], stored);
    assert_eq!(s.last_request.clone().unwrap().into_value(), stored);
}

#[test]
fn a_missing_required_entity_is_asked_for_voice_with_entities_filled_in() {
    let mut s = at_menu(VOICE).with_config(json!({ "stripSSML": false }));
    let t = s.turn(intent(
        "order_pizza",
        "a big pizza",
        json!([{ "name": "size", "value": "big" }]),
    ));
    // The crust prompt's `{{[size].s_size}}` is the captured value, in the prompt's voice.
    assert_eq!(
        t[0],
        json!({ "type": "speak", "payload": { "message": "<voice name=\"Joanna\">Which crust for your big pizza?</voice>", "type": "message", "isPrompt": true } })
    );
    assert_eq!(t[1]["type"], "entity-filling");
    assert_eq!(t[1]["payload"]["entityToFill"], "crust");
    assert_eq!(t.as_array().unwrap().len(), 2);
}

#[test]
fn answers_fill_the_entities_and_the_flow_continues_with_canonical_values() {
    let mut s = at_menu(CHAT);
    s.turn(intent("order_pizza", "order pizza", json!([])));
    // The answer to the size prompt (what the NLU makes of "huge"): the crust is asked next,
    // the chat prompt's `{size}` filled from the captured entities.
    let t = s.turn(intent(
        "order_pizza",
        "huge",
        json!([{ "name": "size", "value": "huge" }]),
    ));
    assert_eq!(messages(&t), ["Which crust for your huge pizza?"]);
    assert_eq!(t[1]["payload"]["entityToFill"], "crust");
    assert_eq!(
        t[1]["payload"]["intent"]["payload"]["entities"],
        json!([{ "name": "size", "value": "huge" }])
    );
    let t = s.turn(intent(
        "order_pizza",
        "deep dish",
        json!([{ "name": "crust", "value": "Deep Dish" }]),
    ));
    assert_eq!(
        t,
        json!([
            { "type": "path", "payload": { "path": "choice:1" } },
            { "type": "text", "payload": {
                "slate": { "id": "ID", "content": [ { "children": [ { "text": "A large pizza with thick crust." } ] } ], "messageDelayMilliseconds": 1000 },
                "message": "A large pizza with thick crust.", "delay": 1000 } }
        ])
    );
    assert_eq!(s.var("size"), Some(&json!("large")));
    assert_eq!(s.var("crust"), Some(&json!("thick")));
    // The turn request: canonical values, the turn's query, ELICIT false; the store is cleared.
    assert_eq!(
        s.last_request.clone().unwrap().into_value(),
        json!({ "type": "intent", "payload": { "intent": { "name": "order_pizza" }, "query": "deep dish",
            "entities": [ { "name": "size", "value": "large" }, { "name": "crust", "value": "thick" } ] }, "ELICIT": false })
    );
    assert_eq!(dm_store(&s), None);
}

#[test]
fn elicit_suppresses_the_prompt() {
    let mut s = at_menu(CHAT);
    let mut request = intent("order_pizza", "", json!([]));
    request["ELICIT"] = json!(true);
    let t = s.turn(request);
    assert_eq!(types(&t), ["entity-filling"]);
    assert_eq!(t[0]["payload"]["entityToFill"], "size");
    assert_eq!(t[0]["payload"]["intent"]["ELICIT"], true);
}

#[test]
fn another_intent_during_filling_replaces_the_stored_one() {
    let mut s = at_menu(CHAT);
    s.turn(intent("order_pizza", "order pizza", json!([])));
    // `help` has no required entities: it goes to the runtime (its global command).
    let t = s.turn(intent("help", "help", json!([])));
    assert_eq!(messages(&t), ["I can take your pizza order."]);
    assert_eq!(
        t[0],
        json!({ "type": "path", "payload": { "path": "jump" } })
    );
    assert_eq!(dm_store(&s), None);
    assert_eq!(
        s.last_request.clone().unwrap().into_value()["ELICIT"],
        false
    );
}

#[test]
fn switching_to_an_intent_with_its_own_entities_asks_for_them() {
    let mut s = at_menu(CHAT);
    s.turn(intent("order_pizza", "order pizza", json!([])));
    let t = s.turn(intent("order_drink", "a drink", json!([])));
    assert_eq!(messages(&t), ["Which drink?"]);
    assert_eq!(t[1]["payload"]["entityToFill"], "drink");
    assert_eq!(
        dm_store(&s).unwrap()["intentRequest"]["payload"]["intent"]["name"],
        "order_drink"
    );
}

#[test]
fn none_during_filling_clears_the_request_and_reaches_the_node() {
    let mut s = at_menu(CHAT);
    s.turn(intent("order_pizza", "order pizza", json!([])));
    let mut none = intent("None", "blah", json!([]));
    none["payload"]["confidence"] = json!(1);
    let t = s.turn(none);
    assert_eq!(messages(&t), ["Say order pizza."]);
    assert_eq!(types(&t), ["path", "text"]);
    let store = dm_store(&s).unwrap();
    assert!(store.get("intentRequest").is_none());
    assert_eq!(
        store["priorIntent"]["payload"]["intent"]["name"],
        "order_pizza"
    );
    // The runtime saw `None` with the query and no confidence.
    assert_eq!(
        s.last_request.clone().unwrap().into_value(),
        json!({ "type": "intent", "payload": { "query": "blah", "intent": { "name": "None" }, "entities": [] } })
    );
}

#[test]
fn an_out_of_scope_intent_passes_through_untouched() {
    let mut s = at_menu(CHAT);
    // `order_drink` has a required entity, but nothing waits for it: no filling, no ELICIT.
    let request = intent(
        "order_drink",
        "a drink",
        json!([{ "name": "drink", "value": "coke" }]),
    );
    let t = s.turn(request.clone());
    assert_eq!(messages(&t), ["Say order pizza."]);
    assert_eq!(s.last_request.clone().unwrap().into_value(), request);
    assert_eq!(dm_store(&s), None);
    assert_eq!(waiting_node(&s).as_deref(), Some("menu"));
}

#[test]
fn a_fulfilled_in_scope_intent_keeps_unknown_values() {
    let mut s = at_menu(CHAT);
    let t = s.turn(intent(
        "order_pizza",
        "a medium pizza, thin",
        json!([{ "name": "size", "value": "medium" }, { "name": "crust", "value": "thin" }]),
    ));
    // "medium" resembles no synonym: kept as said.
    assert_eq!(messages(&t), ["A medium pizza with thin crust."]);
}
