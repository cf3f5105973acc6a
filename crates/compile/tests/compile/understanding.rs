//! Real agents understood as people type to them (issue: 0 of 26 paraphrases, 0 of 14 slot
//! phrases): paraphrases of training phrases, slot values in free text, missing slots asked
//! for and answered after the prompt, entity captures, Alexa built-ins. Skipped when the corpus
//! is not beside the checkout.

use crate::common::*;
use crate::corpus_files::*;
use serde_json::{json, Value};

fn agent(name: &str) -> Option<Session> {
    let path = corpus_file(name)?;
    let compiled = flowdm_compile::compile_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(Session::new(load_json(compiled.vfr)))
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "payload": t })
}

/// The intent and entities the last turn ran with.
fn understood(s: &Session) -> (String, Vec<(String, String)>) {
    let r = s.last_request.clone().expect("a request").into_value();
    let name = r["payload"]["intent"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut entities: Vec<(String, String)> = r["payload"]["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = match &e["value"] {
                Value::String(v) => v.clone(),
                other => other.to_string(),
            };
            (e["name"].as_str().unwrap_or("").to_string(), value)
        })
        .collect();
    entities.sort();
    (name, entities)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn entity_filling(traces: &Value) -> Option<String> {
    traces
        .as_array()?
        .iter()
        .find(|t| t["type"] == "entity-filling")
        .map(|t| {
            t["payload"]["entityToFill"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
}

const ICECREAM: &str = "valgaze__speedybot-voiceflow__icecream_shop.vf";

#[test]
fn icecream_shop_orders_typed_in_full() {
    for (typed, size, flavor) in [
        (
            "I would like to order one large chocolate, please",
            "large",
            "chocolate",
        ),
        (
            "I would like a large cheeseburger... no, a large vanilla",
            "large",
            "vanilla",
        ),
        ("can i have a small mint", "small", "mint"),
        ("Gimme a big strawbery!", "large", "strawberry"),
        (
            "one extra large vanilla ice cream please",
            "extra large",
            "vanilla",
        ),
    ] {
        let Some(mut s) = agent(ICECREAM) else {
            return;
        };
        s.turn(json!({ "type": "launch" }));
        let t = s.turn(text(typed));
        assert_eq!(understood(&s).0, "order_icecream", "{typed}");
        let m = messages(&t);
        assert!(
            m.first()
                .is_some_and(|m| m.ends_with(&format!("{size} {flavor}"))),
            "{typed}: {m:?}"
        );
    }
}

#[test]
fn icecream_shop_asks_for_the_missing_size_and_takes_the_answer() {
    let Some(mut s) = agent(ICECREAM) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("could I get some chocolate ice cream?"));
    assert_eq!(entity_filling(&t).as_deref(), Some("size"), "{t}");
    assert_eq!(
        types(&t),
        ["text", "entity-filling"],
        "the size prompt is spoken"
    );
    let t = s.turn(text("medium please"));
    assert_eq!(
        understood(&s),
        (
            "order_icecream".to_string(),
            pairs(&[("flavor", "chocolate"), ("size", "medium")])
        )
    );
    assert!(messages(&t)[0].ends_with("medium chocolate"), "{t}");
}

#[test]
fn icecream_shop_typed_button_label_with_punctuation() {
    let Some(mut s) = agent(ICECREAM) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("Vanilla."));
    assert_ne!(understood(&s).0, "None", "{t}");
    assert_eq!(entity_filling(&t).as_deref(), Some("size"), "{t}");
    let t = s.turn(text("2 scoops"));
    assert!(messages(&t)[0].ends_with("medium vanilla"), "{t}");
}

const SUPPORT: &str =
    "voiceflow__test-history-rebase__webchat_dashboard_supportChatbot.template.json";

#[test]
fn support_chatbot_paraphrases_and_an_email_capture() {
    let Some(mut s) = agent(SUPPORT) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text(
        "hey, i'd like to speak with someone from your sales team",
    ));
    // The sales path: it asks for the user's e-mail address (an entity capture).
    assert!(
        messages(&t).contains(&"Great, this will only take a minute.".to_string()),
        "{t}"
    );
    assert_eq!(entity_filling(&t).as_deref(), Some("User_Email"), "{t}");
    let t = s.turn(text("sure, it's Jane.Doe@Example.org."));
    assert_eq!(
        s.var("User_Email"),
        Some(&json!("jane.doe@example.org")),
        "{t}"
    );
}

#[test]
fn support_chatbot_reprompts_when_the_capture_gets_no_email() {
    let Some(mut s) = agent(SUPPORT) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    s.turn(text("can I talk with sales?"));
    let t = s.turn(text("why do you need that"));
    assert!(entity_filling(&t).is_some(), "{t}");
    assert!(!messages(&t).is_empty(), "the capture says something: {t}");
    let t = s.turn(text("ok: bob@example.com"));
    assert_eq!(s.var("User_Email"), Some(&json!("bob@example.com")), "{t}");
}

const TRAVEL: &str =
    "voiceflow__test-history-rebase__whatsapp_dashboard_travelAssistant.template.json";

#[test]
fn travel_assistant_paraphrases_and_a_destination_from_the_samples() {
    let Some(mut s) = agent(TRAVEL) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("could you help me plan a trip?"));
    assert_eq!(understood(&s).0, "Make a travel itinerary", "{t}");

    let Some(mut s) = agent(TRAVEL) else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("i need to book flights"));
    // The flight path asks for the destination (an entity capture of a VF.GEOGRAPHY type
    // whose samples the export lists).
    assert_eq!(entity_filling(&t).as_deref(), Some("destination"), "{t}");
    let t = s.turn(text("I'm flying to Barcelona"));
    assert_eq!(s.var("destination"), Some(&json!("Barcelona")), "{t}");
}

#[test]
fn alexa_default_template_understands_its_builtins_by_name() {
    let Some(mut s) = agent("voiceflow__test-history-rebase__alexa_default.template.json") else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    s.turn(text("help!"));
    assert_eq!(understood(&s).0, "AMAZON.HelpIntent");
    s.turn(text("Yes"));
    assert_eq!(understood(&s).0, "AMAZON.YesIntent");
}
