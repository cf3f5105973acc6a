//! Multi-turn conversations with the example agents over `POST /state/user/{userID}/interact`
//! (the scripted conversations of `diagrams/README.md`).

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

fn pay_button() -> Value {
    json!({"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}})
}

fn pay_trace() -> Value {
    json!({
        "type": "Pay Credit Card",
        "payload": "{\"amount\": 25}",
        "paths": [
            {"label": "success", "event": {"type": "success"}},
            {"label": "denied", "event": {"type": "denied"}},
            {"label": "pending", "event": {"type": "pending"}}
        ],
        "defaultPath": 0
    })
}

fn payment_buttons() -> Value {
    json!({"buttons": [
        {"name": "Pay $25", "request": {"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}}},
        {"name": "Cancel", "request": {"type": "intent", "payload": {"intent": {"name": "cancel"}, "query": "Cancel", "label": "Cancel", "entities": [], "actions": []}}}
    ]})
}

#[tokio::test]
async fn payment_p1_button_denied_text_success() {
    let server = Server::start();
    let u = User::new(&server, "p1-user", PAYMENT_VERSION);

    let raw = redact(u.interact_body(json!({"action": {"type": "launch"}})).await);
    insta::assert_json_snapshot!("payment_launch", raw);
    let t = normalize(raw);
    assert_eq!(types(&t), ["text", "text", "choice", "no-reply"]);
    assert_eq!(
        messages(&t),
        [
            "Hi there! Welcome to the payment demo.",
            "Your total is $25. How would you like to proceed?"
        ]
    );
    assert_eq!(trace_of(&t, "choice")["payload"], payment_buttons());

    let t = u.act(pay_button()).await;
    assert_eq!(
        t,
        json!([{"type": "path", "payload": {"path": "choice:1"}}, pay_trace()])
    );
    assert_eq!(
        u.state().await["variables"]["last_utterance"],
        json!("Pay $25")
    );

    let t = u.act(json!({"type": "denied"})).await;
    assert_eq!(types(&t), ["text", "choice", "no-reply"]);
    assert_eq!(messages(&t), ["Your card was denied."]);

    let t = u
        .act(json!({"type": "text", "payload": "i want to pay"}))
        .await;
    assert_eq!(
        t,
        json!([{"type": "path", "payload": {"path": "choice:2"}}, pay_trace()])
    );

    let t = u.act(json!({"type": "success"})).await;
    assert_eq!(messages(&t), ["Payment of $25 received. Thank you!"]);
    assert_eq!(t[1], json!({"type": "end", "payload": null}));
    assert_eq!(u.state().await["stack"], json!([]));
}

#[tokio::test]
async fn payment_custom_action_every_path_with_stop_types() {
    let server = Server::start();
    for (path, expected) in [
        ("success", vec!["Payment of $25 received. Thank you!"]),
        ("pending", vec!["Your payment is pending; we'll email you."]),
        ("denied", vec!["Your card was denied."]),
        // Anything else follows defaultPath 0 (success).
        ("foo", vec!["Payment of $25 received. Thank you!"]),
    ] {
        let u = User::new(&server, &format!("stop-{path}"), PAYMENT_VERSION);
        let config = json!({"stopTypes": ["Pay Credit Card"], "tts": false});
        u.interact_body(json!({"action": {"type": "launch"}, "config": config}))
            .await;
        let t = normalize(
            u.interact_body(json!({"action": pay_button(), "config": config}))
                .await,
        );
        let stop = trace_of(&t, "Pay Credit Card");
        assert_eq!(stop, &pay_trace());
        // Stopped: the stored session waits on the custom action node.
        let st = u.state().await;
        assert_eq!(
            st["stack"][1]["nodeID"],
            json!("64a101000000000000000006"),
            "{st}"
        );
        // The client resumes with the path's event type.
        let t = u.act(json!({"type": path})).await;
        assert_eq!(messages(&t), expected, "{path}: {t}");
        if path == "denied" {
            assert_eq!(types(&t), ["text", "choice", "no-reply"]);
        } else {
            assert_eq!(types(&t).last().map(String::as_str), Some("end"), "{t}");
        }
    }
}

#[tokio::test]
async fn payment_p2_help_no_match_cancel() {
    let server = Server::start();
    let u = User::new(&server, "p2-user", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = u.act(json!({"type": "text", "payload": "help"})).await;
    assert_eq!(t[0], json!({"type": "path", "payload": {"path": "push"}}));
    assert_eq!(
        messages(&t),
        [
            "You can pay or cancel.",
            "Your total is $25. How would you like to proceed?"
        ]
    );
    let t = u.act(json!({"type": "text", "payload": "maybe"})).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "reprompt"}})
    );
    assert_eq!(messages(&t), ["Please choose Pay or Cancel."]);
    let t = u.act(json!({"type": "text", "payload": "maybe"})).await;
    assert_eq!(messages(&t), ["Sorry, I didn't get that."]);
    let cancel = payment_buttons()["buttons"][1]["request"].clone();
    let t = u.act(cancel).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "choice:3"}})
    );
    assert_eq!(messages(&t), ["Okay, cancelled."]);
    assert_eq!(types(&t), ["path", "text", "end"]);
}

#[tokio::test]
async fn payment_p3_no_reply_then_pending() {
    let server = Server::start();
    let u = User::new(&server, "p3-user", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = u.act(json!({"type": "no-reply"})).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "reprompt"}})
    );
    assert_eq!(
        messages(&t),
        ["Are you still there? You can pay or cancel."]
    );
    assert_eq!(trace_of(&t, "no-reply")["payload"], json!({"timeout": 10}));
    let t = u.act(json!({"type": "text", "payload": "checkout"})).await;
    assert_eq!(
        t,
        json!([{"type": "path", "payload": {"path": "choice:2"}}, pay_trace()])
    );
    let t = u.act(json!({"type": "pending"})).await;
    assert_eq!(messages(&t), ["Your payment is pending; we'll email you."]);
    assert_eq!(t[1], json!({"type": "end", "payload": null}));
}

fn handoff_buttons() -> Value {
    json!({"buttons": [
        {"name": "Talk to a human", "request": {"type": "path-64b2b0000000000000000001", "payload": {"label": "Talk to a human", "actions": []}}},
        {"name": "FAQ", "request": {"type": "path-64b2b0000000000000000002", "payload": {"label": "FAQ", "actions": []}}}
    ]})
}

fn agent_trace(customer: &str) -> Value {
    json!({
        "type": "talk_to_agent",
        "payload": {"queue": "support", "customer": customer},
        "paths": [{"label": "connected", "event": {"type": "connected"}}, {"label": "unavailable", "event": {"type": "unavailable"}}],
        "defaultPath": 0
    })
}

#[tokio::test]
async fn handoff_h1_faq_flow_then_human_without_stop_types() {
    let server = Server::start();
    let u = User::new(&server, "h1-user", HANDOFF_VERSION);
    let t = u.act(json!({"type": "launch"})).await;
    assert_eq!(
        messages(&t),
        ["Welcome to support, Alex! How can we help you today?"]
    );
    assert_eq!(types(&t), ["text", "choice"]);
    assert_eq!(trace_of(&t, "choice")["payload"], handoff_buttons());

    let faq = handoff_buttons()["buttons"][1]["request"].clone();
    let t = u.act(faq).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "choice:2"}})
    );
    assert_eq!(
        messages(&t),
        [
            "Hi Alex! FAQ: we answer Monday to Friday, 9am to 5pm. Returns are free within 30 days.",
            "FAQ finished (faq_done = 1). Anything else I can help with?"
        ]
    );

    let human = handoff_buttons()["buttons"][0]["request"].clone();
    let t = u.act(human).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "choice:1"}})
    );
    assert_eq!(t[1], agent_trace("Alex"));
    assert_eq!(messages(&t), ["You are now connected to an agent."]);
    assert_eq!(types(&t), ["path", "talk_to_agent", "text", "end"]);
}

#[tokio::test]
async fn handoff_h2_stop_types_unavailable_capture() {
    let server = Server::start();
    let u = User::new(&server, "h2-user", HANDOFF_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = normalize(
        u.interact_body(json!({"action": {"type": "text", "payload": "talk to a human"}, "config": {"stopTypes": ["talk_to_agent"]}}))
            .await,
    );
    assert_eq!(
        t,
        json!([{"type": "path", "payload": {"path": "choice:3"}}, agent_trace("Alex")])
    );
    let t = u.act(json!({"type": "unavailable"})).await;
    assert_eq!(
        messages(&t),
        ["No agent is available right now. Leave a message:"]
    );
    assert_eq!(trace_of(&t, "no-reply")["payload"], json!({"timeout": 30}));
    let t = u
        .act(json!({"type": "text", "payload": "Please call me back tomorrow"}))
        .await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "capture"}})
    );
    assert_eq!(
        messages(&t),
        ["Thanks, we received: Please call me back tomorrow"]
    );
    assert_eq!(
        u.state().await["variables"]["message"],
        json!("Please call me back tomorrow")
    );
}

#[tokio::test]
async fn handoff_connected_path_and_long_message_path() {
    let server = Server::start();
    let stop = json!({"stopTypes": ["talk_to_agent"]});
    let human = handoff_buttons()["buttons"][0]["request"].clone();

    let u = User::new(&server, "h-connected", HANDOFF_VERSION);
    u.act(json!({"type": "launch"})).await;
    u.interact_body(json!({"action": human, "config": stop}))
        .await;
    let t = u.act(json!({"type": "connected"})).await;
    assert_eq!(messages(&t), ["You are now connected to an agent."]);
    assert_eq!(types(&t), ["text", "end"]);

    let u = User::new(&server, "h-long", HANDOFF_VERSION);
    u.act(json!({"type": "launch"})).await;
    u.interact_body(json!({"action": human, "config": stop}))
        .await;
    u.act(json!({"type": "unavailable"})).await;
    let t = u
        .act(json!({"type": "text", "payload": "x".repeat(120)}))
        .await;
    assert_eq!(
        messages(&t),
        ["Thanks for the detailed message! An agent will read it and reply by email."]
    );
}

#[tokio::test]
async fn handoff_variables_through_state_variables_and_patch() {
    let server = Server::start();
    // state.variables in the interact body (voiceflow-cli style), deep-merged before the turn.
    let u = User::new(&server, "h-vars", HANDOFF_VERSION);
    let t = normalize(
        u.interact_body(
            json!({"action": {"type": "launch"}, "state": {"variables": {"user_name": "Maria"}}}),
        )
        .await,
    );
    assert_eq!(
        messages(&t),
        ["Welcome to support, Maria! How can we help you today?"]
    );
    let t = normalize(
        u.interact_body(json!({"action": handoff_buttons()["buttons"][0]["request"], "config": {"stopTypes": ["talk_to_agent"]}}))
            .await,
    );
    assert_eq!(t[1], agent_trace("Maria"));

    // PATCH variables (Python client style), then interact.
    let u = User::new(&server, "h-patch", HANDOFF_VERSION);
    u.act(json!({"type": "launch"})).await;
    let r = u
        .raw(
            Method::PATCH,
            "/variables",
            Some(&json!({"user_name": "Ada"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["variables"]["user_name"], json!("Ada"));
    let t = normalize(
        u.interact_body(json!({"action": handoff_buttons()["buttons"][0]["request"], "config": {"stopTypes": ["talk_to_agent"]}}))
            .await,
    );
    assert_eq!(t[1], agent_trace("Ada"));

    // Deep merge: nested objects are merged key by key.
    let u = User::new(&server, "h-deep", HANDOFF_VERSION);
    u.interact_body(json!({"action": {"type": "launch"}, "state": {"variables": {"profile": {"a": 1, "b": {"c": 2}}}}})).await;
    u.interact_body(json!({"state": {"variables": {"profile": {"b": {"d": 3}}}}}))
        .await;
    assert_eq!(
        u.state().await["variables"]["profile"],
        json!({"a": 1, "b": {"c": 2, "d": 3}})
    );
}

#[tokio::test]
async fn catalogue_c1_carousel_button_buys_the_chair() {
    let server = Server::start();
    let u = User::new(&server, "c1-user", CATALOGUE_VERSION);
    let raw = redact(u.interact_body(json!({"action": {"type": "launch"}})).await);
    insta::assert_json_snapshot!("catalogue_launch", raw);
    let t = normalize(raw);
    assert_eq!(types(&t), ["text", "visual", "text", "carousel"]);
    let carousel = trace_of(&t, "carousel");
    assert_eq!(carousel["payload"]["layout"], json!("Carousel"));
    let cards = carousel["payload"]["cards"].as_array().expect("cards");
    assert_eq!(cards.len(), 3);
    let chair = cards[1]["buttons"][0]["request"].clone();
    assert_eq!(chair["type"], json!("path-64c3b0000000000000000002"));

    let t = u.act(chair).await;
    assert_eq!(t[0], json!({"type": "path", "payload": {"path": "jump"}}));
    let msgs = messages(&t);
    assert_eq!(
        msgs[..2],
        [
            "You picked Chair for 120 USD.",
            "Good news: orders over 100 USD ship for free!"
        ]
    );
    assert!(
        msgs[2] == "Thanks for shopping with Acme!" || msgs[2] == "Thank you! Come back soon.",
        "{msgs:?}"
    );
    assert_eq!(
        trace_of(&t, "cardV2")["payload"],
        json!({"title": "Your order: Chair", "imageUrl": "https://example.com/products/chair.png",
               "description": {"text": "Chair - 120 USD. Ships in 2 business days.",
                               "slate": [{"children": [{"text": "Chair - 120 USD. Ships in 2 business days."}]}]},
               "buttons": []})
    );
    assert_eq!(
        t.as_array().and_then(|a| a.last()),
        Some(&json!({"type": "end", "payload": null}))
    );
}

#[tokio::test]
async fn catalogue_c2_no_match_global_browse_buy_lamp() {
    let server = Server::start();
    let u = User::new(&server, "c2-user", CATALOGUE_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = u.act(json!({"type": "text", "payload": "hello"})).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "reprompt"}})
    );
    assert_eq!(
        messages(&t),
        ["Please tap \"Buy\" under one of the products."]
    );
    let t = u
        .act(json!({"type": "text", "payload": "show products"}))
        .await;
    assert_eq!(t[0], json!({"type": "path", "payload": {"path": "jump"}}));
    assert_eq!(messages(&t), ["Here are today's products:"]);
    assert_eq!(types(&t), ["path", "text", "carousel"]);
    let lamp = trace_of(&t, "carousel")["payload"]["cards"][0]["buttons"][0]["request"].clone();
    let t = u.act(lamp).await;
    let msgs = messages(&t);
    assert_eq!(msgs[0], "You picked Lamp for 45 USD.");
    assert_eq!(msgs.len(), 2, "no free-shipping text for 45: {msgs:?}");
    assert_eq!(
        trace_of(&t, "cardV2")["payload"]["title"],
        json!("Your order: Lamp")
    );
    assert_eq!(u.state().await["variables"]["sku"], json!("lamp"));
}

#[tokio::test]
async fn verbose_returns_state_trace_and_final_request() {
    let server = Server::start();
    let u = User::new(&server, "verbose-user", PAYMENT_VERSION);
    let url = server.url("/state/user/verbose-user/interact?verbose=true");
    let hdr = [("versionID", PAYMENT_VERSION)];
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["state", "trace", "request"]);
    assert_eq!(v["request"], json!({"type": "launch"}));
    assert_eq!(
        v["state"]["variables"]["sessions"],
        json!(2),
        "first launch generates twice (§12 item 16)"
    );
    assert_eq!(v["state"]["variables"]["user_id"], json!("verbose-user"));
    assert_eq!(
        v["state"],
        u.state().await,
        "the verbose state is the stored state"
    );
    assert_eq!(types(&v["trace"]), ["text", "text", "choice", "no-reply"]);

    // A text request comes back as the NLU-resolved intent request.
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "text", "payload": "checkout"}})),
    )
    .await;
    let v = r.json();
    assert_eq!(v["request"]["type"], json!("intent"));
    assert_eq!(v["request"]["payload"]["intent"]["name"], json!("pay"));

    // verbose=false and verbose=0 give the bare array.
    for q in ["verbose=false", "verbose=0", "verbose"] {
        let r = send(
            Method::POST,
            &server.url(&format!("/state/user/verbose-user/interact?{q}")),
            &hdr,
            Some(&json!({"action": {"type": "launch"}})),
        )
        .await;
        assert!(r.json().is_array(), "{q}: {}", r.text);
    }
    // Excluding nothing shows the block/flow/debug traces too.
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "launch"}, "config": {"excludeTypes": []}})),
    )
    .await;
    let all = types(&r.json()["trace"]);
    assert!(
        all.contains(&"block".to_string()) && all.contains(&"flow".to_string()),
        "{all:?}"
    );
}

#[tokio::test]
async fn null_request_rerenders_the_waiting_node() {
    let server = Server::start();
    let u = User::new(&server, "null-user", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = normalize(u.interact_body(json!({"action": null})).await);
    assert_eq!(types(&t), ["choice", "no-reply"], "{t}");
    let t = normalize(u.interact_body(json!({})).await);
    assert_eq!(types(&t), ["choice", "no-reply"], "{t}");
}

#[tokio::test]
async fn first_request_without_launch_starts_a_session() {
    let server = Server::start();
    let u = User::new(&server, "fresh-user", PAYMENT_VERSION);
    let t = u.act(json!({"type": "text", "payload": "hello"})).await;
    assert_eq!(messages(&t)[0], "Hi there! Welcome to the payment demo.");
}

#[tokio::test]
async fn snapshots_of_verbose_launch_and_faq_turn() {
    let server = Server::start();
    let r = send(
        Method::POST,
        &server.url("/state/user/snap-user/interact?verbose=true"),
        &[("versionID", HANDOFF_VERSION)],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    insta::assert_json_snapshot!("handoff_verbose_launch", redact(r.json()));
    let u = User::new(&server, "snap-user", HANDOFF_VERSION);
    let faq = handoff_buttons()["buttons"][1]["request"].clone();
    let t = redact(u.interact_body(json!({ "action": faq })).await);
    insta::assert_json_snapshot!("handoff_faq_turn", t);
}
