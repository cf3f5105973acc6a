//! Conversations with real corpus agents, compiled from their `.vf` exports and run by the
//! engine: several turns deep, checking what the user would see. One agent per creator
//! generation (2021 voice, 2022 chatbot with `ports[]`, 2022 `portsV2`, 2024 CMS, 2025 v3).
//! Skipped when the corpus is not beside the checkout.

use crate::common::*;
use crate::corpus_files::*;
use serde_json::{json, Value};

fn agent(name: &str) -> Option<Session> {
    let path = corpus_file(name)?;
    let compiled = flowdm_compile::compile_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(Session::new(load_json(compiled.vfr)))
}

fn path(ty: &str, label: &str) -> Value {
    json!({ "type": ty, "payload": { "label": label, "actions": [] } })
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "payload": t })
}

fn intent(name: &str, entities: Value) -> Value {
    json!({ "type": "intent", "payload": { "intent": { "name": name }, "query": "", "entities": entities } })
}

fn buttons(traces: &Value) -> Vec<(String, String)> {
    traces
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "choice")
        .flat_map(|t| {
            t["payload"]["buttons"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|b| {
            let ty = b["request"]["type"].as_str().unwrap_or("").to_string();
            let target = if ty == "intent" {
                format!(
                    "intent:{}",
                    b["request"]["payload"]["intent"]["name"]
                        .as_str()
                        .unwrap_or("")
                )
            } else {
                ty
            };
            (b["name"].as_str().unwrap_or("").to_string(), target)
        })
        .collect()
}

fn last(traces: &Value) -> &Value {
    traces
        .as_array()
        .and_then(|a| a.last())
        .unwrap_or(&Value::Null)
}

/// 2021, general (voice) project, legacy `ports[]`: speak, prompt, a global intent.
#[test]
fn hello_world_2021_voice() {
    let Some(mut s) = agent("voiceflow__rcjs-examples__hello-world.vf") else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["speak"]);
    assert_eq!(messages(&t), ["Hello, world!"]);
    let t = s.turn(text("next"));
    assert_eq!(types(&t), ["path", "speak", "end"]);
    assert_eq!(t[0]["payload"]["path"], "jump");
    assert_eq!(messages(&t), ["Nobody expects the Spanish Inquisition"]);
    // The conversation is over: the next message starts a new session.
    let t = s.turn(text("hello"));
    assert_eq!(messages(&t), ["Hello, world!"]);
}

/// 2022 chatbot, legacy `ports[]` with typed `else` ports: random texts, a global intent with
/// entities, ifV2 on an entity, visuals, setV2 values, buttons with path and intent requests.
#[test]
fn icecream_shop_2022_legacy_ports() {
    let Some(mut s) = agent("valgaze__speedybot-voiceflow__icecream_shop.vf") else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["text", "choice"]);
    let names: Vec<String> = buttons(&t).into_iter().map(|b| b.0).collect();
    assert_eq!(
        names,
        ["vanilla", "chocolate", "mint", "strawberry", "brocolli"]
    );

    let order = intent(
        "order_icecream",
        json!([{ "name": "flavor", "value": "mint" }, { "name": "size", "value": "large" }]),
    );
    let t = s.turn(order);
    assert_eq!(types(&t), ["path", "text", "visual", "text", "choice"]);
    let m = messages(&t);
    assert!(m[0].ends_with("large mint"), "{m:?}");
    assert!(
        [
            "Want more ice cream?",
            "Would you like to order another ice cream?"
        ]
        .contains(&m[1].as_str()),
        "{m:?}"
    );
    assert!(t[2]["payload"]["image"]
        .as_str()
        .unwrap_or("")
        .ends_with("-mint.jpg"));
    assert_eq!(
        buttons(&t),
        [
            ("Yes".to_string(), "path-8b2f3dxc".to_string()),
            ("No".to_string(), "intent:bye".to_string())
        ]
    );
    // The "Reset" setV2 emptied the order (value sets with empty text).
    assert_eq!(s.var("flavor"), Some(&json!("")));

    // Typing a button's label takes the button: back to the welcome.
    let t = s.turn(text("yes"));
    assert_eq!(t[0]["payload"]["path"], "choice:1");
    assert_eq!(types(&t), ["path", "text", "choice"]);

    let broccoli = intent(
        "order_icecream",
        json!([{ "name": "flavor", "value": "broccoli" }, { "name": "size", "value": "small" }]),
    );
    let t = s.turn(broccoli);
    let m = messages(&t);
    assert!(m[0].ends_with("small broccoli"), "{m:?}");
    assert!(
        ["Hmm interesting choice...", "Gross, err good for you"].contains(&m[1].as_str()),
        "{m:?}"
    );
}

/// 2022 `portsV2` chatbot: global intents by utterance, an ifV2 with an `and` of entity
/// conditions, a buttons step that only listens.
#[test]
fn nlu_test_2022_ports_v2() {
    let Some(mut s) = agent("voiceflow__nlu-testing-example__NLU_test_v1.vf") else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["How can i help?"]);
    let t = s.turn(text("Fries please"));
    assert_eq!(messages(&t), ["Yes fries"]);
    assert_eq!(last(&t)["type"], "end");
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("I need help"));
    assert_eq!(messages(&t), ["Yes ill help"]);
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(intent(
        "order_pizza",
        json!([{ "name": "size", "value": "large" }, { "name": "type", "value": "Hawaiian" }]),
    ));
    assert_eq!(messages(&t), ["Ok that will be $21.99"]);
    // A new user without size and type: the dialog manager asks for the required entities
    // with the model's prompts (§8.4) before the flow sees the intent.
    let Some(mut s) = agent("voiceflow__nlu-testing-example__NLU_test_v1.vf") else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(intent("order_pizza", json!([])));
    assert_eq!(messages(&t), ["What type?"]);
    assert_eq!(last(&t)["type"], "entity-filling");
    assert_eq!(last(&t)["payload"]["entityToFill"], "type");
    let t = s.turn(intent(
        "order_pizza",
        json!([{ "name": "type", "value": "Hawaiian" }, { "name": "size", "value": "large" }]),
    ));
    assert_eq!(messages(&t), ["Ok that will be $21.99"]);
}

/// 2024 CMS-era export (the web widget's live-agent example): a global intent, a carousel
/// whose button is routed by a command, a blocking custom action, a component, VF.STOP.
#[test]
fn live_agent_2024_carousel_custom_action_component() {
    let Some(mut s) = agent("voiceflow__react-chat__example_project.vf") else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(types(&t), ["text"]);
    assert!(messages(&t)[0].starts_with("Welcome to the voiceflow live agent demo"));

    let t = s.turn(text("I want to talk to a human"));
    assert_eq!(types(&t), ["path", "text", "carousel"]);
    assert_eq!(messages(&t), ["Which platform do you want to use?"]);
    let cards = t[2]["payload"]["cards"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0]["title"], "Intercom");
    assert_eq!(cards[0]["buttons"][0]["request"]["type"], "path-p02o83b4y");

    let t = s.turn(path("path-p02o83b4y", "Use Intercom"));
    assert_eq!(types(&t), ["path", "text", "talk_to_agent"]);
    assert_eq!(messages(&t), ["Transferring you to an agent now..."]);
    assert_eq!(t[2]["payload"], json!({ "platform": "intercom" }));
    assert_eq!(
        t[2]["paths"],
        json!([{ "label": "continue", "event": { "type": "continue" } }])
    );

    // The client hands back after the live chat: the component asks what is next.
    let t = s.turn(json!({ "type": "continue" }));
    assert_eq!(
        messages(&t),
        ["Thanks for choosing Voiceflow!\n\nWhat else can I help you with?"]
    );
    let t = s.turn(text("stop"));
    assert_eq!(messages(&t), ["Thanks for visiting!"]);
    assert_eq!(last(&t), &json!({ "type": "end", "payload": null }));
}

/// 2024 template (Retail Purchases): buttons whose paths go to intents (goTo) in other
/// topics, carousels with link buttons that do not wait, components with captures, an API
/// step that follows its fail path.
#[test]
fn retail_purchases_2024_topics_components_api() {
    let Some(mut s) =
        agent("voiceflow__test-history-rebase__voiceflow_dashboard_retailPurchases.template.json")
    else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(
        messages(&t),
        [
            "Welcome to the AI Beauty shop! 💄",
            "How can we help you today?"
        ]
    );
    assert_eq!(buttons(&t).len(), 3);

    let t = s.turn(path("path-grq33btz", "Shop Beauty Products 💄"));
    assert_eq!(
        messages(&t),
        ["Which of our best sellers would you like to see?"]
    );
    let t = s.turn(path("path-di7q389u", "Makeup"));
    assert_eq!(
        types(&t),
        ["path", "text", "text", "carousel", "text", "choice"]
    );
    let card = &t[3]["payload"]["cards"][0];
    assert_eq!(
        card["buttons"][0]["request"]["payload"]["actions"],
        json!([{ "type": "open_url", "payload": { "url": "https://www.sephora.com/" } }])
    );
    assert_eq!(messages(&t)[2], "What else do you want to see?");

    // Another topic, then a component that captures the order number.
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(path("path-x8p63bsz", "Orders & Purchases 👜"));
    assert_eq!(
        messages(&t),
        [
            "It looks like you need help with an order",
            "Are you reaching out about an order you've already placed?"
        ]
    );
    s.turn(path("path-z7673qxm", "Yes"));
    let t = s.turn(path("path-w86f3qjf", "Check order status"));
    assert_eq!(
        messages(&t),
        [
            "To get your order status, we'll need to collect some information from you.",
            "Please provide your order number below"
        ]
    );
    // The order API answers 404 (the turn stops for the call and goes on with the answer).
    let (t, calls) = s.turn_with_effects(text("A1234"), |_| {
        flowdm_engine::EffectResult::Http(Ok(flowdm_engine::HttpResponse {
            headers: vec![],
            status: 404,
            body: "{}".into(),
        }))
    });
    assert_eq!(calls.len(), 1);
    assert_eq!(t[0]["payload"]["path"], "capture");
    assert_eq!(
        messages(&t)[..2],
        [
            "It looks like we weren't able to find your order.",
            "Lets submit a ticket to our support team"
        ]
    );
}

/// 2025 v3 steps: CMS messages, buttons-v2, set-v3, condition-v3, non-blocking custom actions
/// with JSON bodies, an entity capture (capture-v3), goToNode back to the menu, a push command
/// into a component.
#[test]
fn background_task_2025_v3_steps() {
    let Some(mut s) =
        agent("voiceflow-gallagan__background-task-extension__Background_Task_Demo_Mar_20_2025.vf")
    else {
        return;
    };
    let t = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&t), ["Requests Extensions Demo"]);
    let menu = buttons(&t);
    assert_eq!(menu[0].0, "Using Commands");
    assert_eq!(
        menu[1],
        (
            "Using Notification".to_string(),
            "path-cm8hbwj7a02fk3b7pou6zcv7t".to_string()
        )
    );

    let t = s.turn(path("path-cm8hbwj7a02fk3b7pou6zcv7t", "Using Notification"));
    assert_eq!(s.var("mode"), Some(&json!("notification")));
    assert_eq!(
        &messages(&t)[..2],
        ["Hi there!", "Could I get your name please?"]
    );
    // The custom action, then the entity capture elicits its entity (no prompt: the step's
    // item has no reprompt).
    let action = &t[t.as_array().unwrap().len() - 2];
    assert_eq!(action["type"], "ext_notification");
    assert_eq!(action["payload"]["message"], "This is a test");
    assert_eq!(last(&t)["type"], "entity-filling");
    assert_eq!(last(&t)["payload"]["entityToFill"], "user_name");

    // The entity capture, answered the way an NLU would: the capture intent with the entity.
    let t = s.turn(intent(
        "capture_67dbe60b27286b0ae367698f",
        json!([{ "name": "user_name", "value": "Ada" }]),
    ));
    assert_eq!(t[0]["payload"]["path"], "capture");
    let m = messages(&t);
    assert!(m[0].contains("Ada"), "{m:?}");
    assert_eq!(m[1], "Requests Extensions Demo");

    // The other branch of the condition, then the push command into the component.
    let t = s.turn(path("path-cm8hbwekl02f83b7ps6cui1eu", "Using Commands"));
    assert_eq!(s.var("mode"), Some(&json!("command")));
    // The non-blocking custom action, then the name capture elicits its entity again.
    let action = &t[t.as_array().unwrap().len() - 2];
    assert_eq!(action["type"], "ext_customRequest", "{t:#}");
    assert_eq!(action["payload"], json!({ "delay": 8 }));
    assert_eq!(last(&t)["type"], "entity-filling");
    let t = s.turn(intent("CustomRequest", json!([])));
    assert_eq!(t[0]["payload"]["path"], "push");
    assert!(messages(&t)
        .iter()
        .any(|m| m.contains("Request has been recieved!")));
}

/// Alexa export: the diagrams use `AMAZON.*` built-ins, which the export lists without
/// utterances; the prototype's `VF.*` equivalents carry them, so typed text reaches the commands.
#[test]
fn alexa_builtins_understood_from_vf_utterances() {
    let Some(mut s) = agent("voiceflow__voiceflow-docs__catching_errors.vf") else {
        return;
    };
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("i need help"));
    assert_eq!(messages(&t), ["You said help. Do you want to continue?"]);
    let req = s.last_request.clone().unwrap().into_value();
    assert_eq!(req["payload"]["intent"]["name"], "AMAZON.HelpIntent");
    s.turn(json!({ "type": "launch" }));
    let t = s.turn(text("stop"));
    assert_eq!(messages(&t), ["You said stop. This session is now ending."]);
}
