//! Conversations with the shipped example agents (`diagrams/README.md`), engine only.

use crate::common::*;
use serde_json::{json, Value};

const PAY_BUTTON: &str = "path-64a1b0000000000000000001";

fn pay_button() -> Value {
    json!({ "type": PAY_BUTTON, "payload": { "label": "Pay $25", "actions": [] } })
}

fn payment() -> Session {
    Session::new(load("diagrams/payment.vf"))
}

#[test]
fn payment_launch_shows_total_and_buttons() {
    let mut s = payment();
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["text", "text", "choice", "no-reply"]);
    assert_eq!(
        messages(&t),
        [
            "Hi there! Welcome to the payment demo.",
            "Your total is $25. How would you like to proceed?"
        ]
    );
    assert_eq!(t[3]["payload"], json!({ "timeout": 10 }));
    let names: Vec<&str> = t[2]["payload"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, ["Pay $25", "Cancel"]);
}

#[test]
fn payment_custom_action_stops_and_resumes_on_every_path() {
    for (event, expected) in [
        ("success", vec!["Payment of $25 received. Thank you!"]),
        ("pending", vec!["Your payment is pending; we'll email you."]),
        ("denied", vec!["Your card was denied."]),
    ] {
        let mut s = payment();
        s.turn(json!({ "type": "launch" }));
        let stop = s.turn(pay_button());
        assert_eq!(types(&stop), ["path", "Pay Credit Card"]);
        assert_eq!(stop[1]["payload"], "{\"amount\": 25}");
        assert_eq!(stop[1]["defaultPath"], 0);
        assert_eq!(
            stop[1]["paths"],
            json!([{"label":"success","event":{"type":"success"}},{"label":"denied","event":{"type":"denied"}},{"label":"pending","event":{"type":"pending"}}])
        );
        assert_eq!(s.var("last_utterance"), Some(&json!("Pay $25")));
        let resumed = s.turn(json!({ "type": event }));
        assert_eq!(messages(&resumed), expected, "path {event}");
        if event == "denied" {
            // Back at the choice: buttons again, and paying by text works.
            assert_eq!(types(&resumed), ["text", "choice", "no-reply"]);
            let again = s.turn(json!({ "type": "text", "payload": "i want to pay" }));
            assert_eq!(types(&again), ["path", "Pay Credit Card"]);
            assert_eq!(again[0]["payload"]["path"], "choice:2");
        } else {
            assert_eq!(
                resumed.as_array().unwrap().last(),
                Some(&json!({ "type": "end", "payload": null }))
            );
            assert!(s.state.stack.is_empty());
        }
    }
}

#[test]
fn payment_help_push_command_returns_to_the_choice() {
    let mut s = payment();
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "text", "payload": "help" }));
    assert_eq!(types(&t), ["path", "text", "text", "choice", "no-reply"]);
    assert_eq!(t[0]["payload"]["path"], "push");
    assert_eq!(
        messages(&t),
        [
            "You can pay or cancel.",
            "Your total is $25. How would you like to proceed?"
        ]
    );
    // Two no-matches: the node's prompt, then the global one.
    let m1 = s.turn(json!({ "type": "text", "payload": "maybe" }));
    assert_eq!(messages(&m1), ["Please choose Pay or Cancel."]);
    let m2 = s.turn(json!({ "type": "text", "payload": "maybe" }));
    assert_eq!(types(&m2), ["path", "text", "choice", "no-reply"]);
    let cancel = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "cancel" }, "query": "Cancel", "label": "Cancel", "entities": [], "actions": [] } }));
    assert_eq!(cancel[0]["payload"]["path"], "choice:3");
    assert_eq!(messages(&cancel), ["Okay, cancelled."]);
}

#[test]
fn payment_no_reply_then_pending() {
    let mut s = payment();
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "no-reply" }));
    assert_eq!(types(&t), ["path", "text", "choice", "no-reply"]);
    assert_eq!(
        messages(&t),
        ["Are you still there? You can pay or cancel."]
    );
    let t2 = s.turn(json!({ "type": "no-reply" }));
    assert_eq!(
        t2,
        json!([{ "type": "path", "payload": { "path": "choice:noReply" } }, { "type": "end" }])
    );
}

#[test]
fn payment_button_name_typed_as_text_takes_the_button() {
    let mut s = payment();
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "text", "payload": "pay $25" }));
    assert_eq!(types(&t), ["path", "Pay Credit Card"]);
    assert_eq!(
        s.last_request
            .as_ref()
            .map(|r| r.ty().to_string())
            .as_deref(),
        Some(PAY_BUTTON)
    );
}

#[test]
fn handoff_faq_component_passes_variables_in_and_out() {
    let mut s = Session::new(load("diagrams/handoff.vf"));
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(
        messages(&t),
        ["Welcome to support, Alex! How can we help you today?"]
    );
    let faq = s.turn(json!({ "type": "path-64b2b0000000000000000002", "payload": { "label": "FAQ", "actions": [] } }));
    assert_eq!(
        messages(&faq),
        [
            "Hi Alex! FAQ: we answer Monday to Friday, 9am to 5pm. Returns are free within 30 days.",
            "FAQ finished (faq_done = 1). Anything else I can help with?"
        ]
    );
    // Flow outputs land in the parent frame's locals (reference behaviour).
    assert_eq!(
        s.state.stack.last().unwrap().variables.get("faq_done"),
        Some(&json!(1))
    );
    assert_eq!(s.var("faq_done"), Some(&json!(0)));
}

#[test]
fn handoff_custom_action_without_stop_follows_default_path() {
    let mut s = Session::new(load("diagrams/handoff.vf"));
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "path-64b2b0000000000000000001", "payload": { "label": "Talk to a human", "actions": [] } }));
    assert_eq!(types(&t), ["path", "talk_to_agent", "text", "end"]);
    assert_eq!(
        t[1]["payload"],
        json!({ "queue": "support", "customer": "Alex" })
    );
    assert_eq!(messages(&t), ["You are now connected to an agent."]);
}

#[test]
fn handoff_stop_types_capture_and_condition() {
    let mut s = Session::new(load("diagrams/handoff.vf"))
        .with_config(json!({ "stopTypes": ["talk_to_agent"] }));
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(json!({ "type": "text", "payload": "talk to a human" }));
    assert_eq!(types(&t), ["path", "talk_to_agent"]);
    let u = s.turn(json!({ "type": "unavailable" }));
    assert_eq!(types(&u), ["text", "no-reply"]);
    assert_eq!(u[1]["payload"], json!({ "timeout": 30 }));
    let c = s.turn(json!({ "type": "text", "payload": "Please call me back tomorrow" }));
    assert_eq!(c[0]["payload"]["path"], "capture");
    assert_eq!(
        messages(&c),
        ["Thanks, we received: Please call me back tomorrow"]
    );
    assert_eq!(
        s.var("message"),
        Some(&json!("Please call me back tomorrow"))
    );
}

#[test]
fn handoff_long_message_takes_the_if_v2_path() {
    let mut s = Session::new(load("diagrams/handoff.vf")).with_config(json!({ "stopAll": true }));
    s.turn(json!({ "type": "launch" }));
    s.turn(json!({ "type": "text", "payload": "agent" }));
    s.turn(json!({ "type": "unavailable" }));
    let long = "x".repeat(120);
    let c = s.turn(json!({ "type": "text", "payload": long }));
    assert_eq!(
        messages(&c),
        ["Thanks for the detailed message! An agent will read it and reply by email."]
    );
}

fn catalogue() -> Session {
    Session::new(load("diagrams/catalogue.vf"))
}

#[test]
fn catalogue_carousel_buttons_route_through_commands() {
    let mut s = catalogue();
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["text", "visual", "text", "carousel"]);
    let cards = t[3]["payload"]["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 3);
    assert_eq!(
        cards[0]["description"]["text"],
        "A warm desk lamp. Only 45 USD."
    );
    let buy = s.turn(json!({ "type": "path-64c3b0000000000000000002", "payload": { "label": "Buy Chair", "actions": [] } }));
    assert_eq!(
        types(&buy),
        ["path", "text", "cardV2", "text", "text", "end"]
    );
    assert_eq!(buy[0]["payload"]["path"], "jump");
    let msgs = messages(&buy);
    assert_eq!(msgs[0], "You picked Chair for 120 USD.");
    assert_eq!(msgs[1], "Good news: orders over 100 USD ship for free!");
    assert!([
        "Thanks for shopping with Acme!",
        "Thank you! Come back soon."
    ]
    .contains(&msgs[2].as_str()));
    assert_eq!(buy[2]["payload"]["title"], "Your order: Chair");
    assert_eq!(
        buy[2]["payload"]["imageUrl"],
        "https://example.com/products/chair.png"
    );
}

#[test]
fn catalogue_no_match_and_global_jump() {
    let mut s = catalogue();
    s.turn(json!({ "type": "launch" }));
    let nm = s.turn(json!({ "type": "text", "payload": "hello" }));
    assert_eq!(types(&nm), ["path", "text"]);
    let browse = s.turn(json!({ "type": "text", "payload": "show products" }));
    assert_eq!(types(&browse), ["path", "text", "carousel"]);
    let lamp = s.turn(json!({ "type": "path-64c3b0000000000000000001", "payload": { "label": "Buy Lamp", "actions": [] } }));
    let msgs = messages(&lamp);
    assert_eq!(msgs[0], "You picked Lamp for 45 USD.");
    assert_eq!(msgs.len(), 2, "no free shipping under 100: {msgs:?}");
}
