//! The exact requests each known DM client sends (`shared/spec/clients.md` §2–§4), and the
//! response shapes each one needs.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

const TEST_KEY: &str = "VF.DM.test.key";

/// The checks of the widget's zod DTOs (clients.md §4.1): failing traces would be dropped.
fn assert_widget_accepts(traces: &Value) {
    for t in traces.as_array().expect("trace array") {
        let p = &t["payload"];
        match t["type"].as_str().expect("type") {
            "text" => {
                assert!(p["slate"].is_object(), "text needs payload.slate: {t}");
                assert!(p["message"].is_string(), "{t}");
                assert!(
                    p["slate"]["content"]
                        .as_array()
                        .is_some_and(|c| !c.is_empty()),
                    "empty bubble: {t}"
                );
            }
            "choice" => {
                for b in p["buttons"].as_array().expect("buttons") {
                    assert!(b["name"].is_string(), "{t}");
                    assert!(b["request"]["type"].is_string(), "{t}");
                }
            }
            "carousel" => {
                assert!(
                    matches!(p["layout"].as_str(), Some("Carousel" | "List")),
                    "{t}"
                );
                for c in p["cards"].as_array().expect("cards") {
                    assert!(c["description"]["text"].is_string(), "{t}");
                    assert!(c["imageUrl"].is_string() || c["imageUrl"].is_null(), "{t}");
                }
            }
            "cardV2" => {
                assert!(p["description"]["text"].is_string(), "{t}");
                assert!(p["imageUrl"].is_string() || p["imageUrl"].is_null(), "{t}");
            }
            "visual" => assert!(p["image"].is_string() || p["image"].is_null(), "{t}"),
            "no-reply" => assert!(p["timeout"].is_number(), "{t}"),
            _ => {}
        }
        assert!(t["time"].is_number(), "{t}");
    }
}

/// voiceflow-cli unmarshals `payload` as an object (or null) and `payload.message` as a string.
fn assert_cli_accepts(traces: &Value) {
    for t in traces.as_array().expect("trace array") {
        let p = t.get("payload").unwrap_or(&Value::Null);
        assert!(
            p.is_object() || p.is_null(),
            "voiceflow-cli needs an object payload: {t}"
        );
        if let Some(m) = p.get("message") {
            assert!(m.is_string(), "message must be a string: {t}");
        }
    }
}

#[tokio::test]
async fn react_chat_widget_1_65_2_public_mode() {
    let server = Server::start();
    let origin = ("Origin", "http://127.0.0.1:8791");
    let project = CATALOGUE_PROJECT;
    // OPTIONS + GET publishing.
    let pre = send(
        Method::OPTIONS,
        &server.url(&format!("/public/{project}/publishing")),
        &[
            origin,
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "content-type,versionid"),
        ],
        None,
    )
    .await;
    assert!(pre.status < 300);
    let r = send(
        Method::GET,
        &server.url(&format!("/public/{project}/publishing")),
        &[
            origin,
            ("versionID", "production"),
            ("content-type", "application/json"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["title"].is_string());

    let interact = server.url(&format!("/public/{project}/state/user/cors-user/interact"));
    let say = |body: Value| {
        let url = interact.clone();
        async move {
            let r = send(
                Method::POST,
                &url,
                &[origin, ("versionID", "production")],
                Some(&body),
            )
            .await;
            assert_eq!(r.status, 200, "{body}: {}", r.text);
            assert_eq!(
                r.header("access-control-allow-origin"),
                Some("http://127.0.0.1:8791")
            );
            let b = r.json();
            assert!(
                b["trace"].is_array(),
                "the widget needs an object with `trace`: {b}"
            );
            assert_widget_accepts(&b["trace"]);
            b["trace"].clone()
        }
    };
    let t = say(json!({"action": {"type": "launch"}, "config": {"tts": false}})).await;
    let t = normalize(t);
    assert_eq!(types(&t), ["text", "visual", "text", "carousel"]);
    // Carousel button click: the widget posts the button's request verbatim.
    let buy = trace_of(&t, "carousel")["payload"]["cards"][2]["buttons"][0]["request"].clone();
    assert_eq!(buy["payload"]["label"], json!("Buy Desk"));
    // Transcript on the first user turn, without a versionID header.
    let r = send(
        Method::POST,
        &server.url(&format!("/public/{project}/transcripts")),
        &[origin],
        Some(&json!({"os": "Linux", "browser": "Chrome", "device": "desktop", "sessionID": "cors-user"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let t = normalize(say(json!({"action": buy, "config": {"tts": false}})).await);
    assert_eq!(messages(&t)[0], "You picked Desk for 300 USD.");
    assert_eq!(types(&t).last().map(String::as_str), Some("end"));
    // After the end, typed text starts over; the no-reply action the widget sends after a timeout.
    let t = normalize(
        say(json!({"action": {"type": "text", "payload": "bye now"}, "config": {"tts": false}}))
            .await,
    );
    assert_eq!(
        messages(&t)[0],
        "Welcome to the Acme store! All prices are in USD."
    );
    say(json!({"action": {"type": "no-reply", "payload": null}, "config": {"tts": false}})).await;
    // Widget 1.59.0: no config, a sessionID header.
    let r = send(
        Method::POST,
        &server.url(&format!(
            "/public/{PAYMENT_PROJECT}/state/user/w159 user/interact"
        )),
        &[origin, ("sessionID", "w159 user")],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    let t = normalize(r.json()["trace"].clone());
    let pay = trace_of(&t, "choice")["payload"]["buttons"][0]["request"].clone();
    let r = send(
        Method::POST,
        &server.url(&format!(
            "/public/{PAYMENT_PROJECT}/state/user/w159 user/interact"
        )),
        &[origin, ("sessionID", "w159 user")],
        Some(&json!({ "action": pay })),
    )
    .await;
    // The custom action reaches the widget's extensions as a trace with paths.
    let t = r.json()["trace"].clone();
    assert_eq!(
        trace_of(&t, "Pay Credit Card")["paths"][0]["event"]["type"],
        json!("success")
    );
    // Feedback (publishing `feedback: true` + a click).
    let r = send(
        Method::POST,
        &server.url(&format!("/feedback/{project}/user/cors-user")),
        &[origin, ("versionID", "production")],
        Some(&json!({"name": "Thumbs down", "text": ["Welcome"], "lastUserTurn": "bye now"})),
    )
    .await;
    assert_eq!(r.json(), json!({}));
}

#[tokio::test]
async fn sdk_runtime_1_10_0_auth_public_and_prototype_modes() {
    let keyed = Server::builder()
        .arg("--api-keys")
        .arg(format!("{TEST_KEY}={PAYMENT_PROJECT}"))
        .start();
    // Auth mode: verbose interact; a bare array would break `response.trace`.
    let r = send(
        Method::POST,
        &keyed.url("/state/user/sdk-user-1/interact?verbose=true"),
        &[
            ("authorization", TEST_KEY),
            ("sessionID", "sdk-user-1"),
            ("versionID", "production"),
        ],
        Some(&json!({"action": {"type": "launch"}, "config": {"tts": false}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b["trace"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(b["state"]["stack"].is_array() && b["request"].is_object());
    // Public mode.
    let r = send(
        Method::POST,
        &keyed.url(&format!(
            "/public/{PAYMENT_PROJECT}/state/user/sdk-user-2/interact"
        )),
        &[],
        Some(&json!({"action": {"type": "launch"}, "config": {"tts": false}})),
    )
    .await;
    assert!(r.json()["trace"].as_array().is_some_and(|t| !t.is_empty()));
    let r = send(
        Method::GET,
        &keyed.url(&format!("/public/{PAYMENT_PROJECT}/publishing")),
        &[("versionID", "production")],
        None,
    )
    .await;
    assert_eq!(r.json()["title"], json!("Payment demo"));
    let r = send(
        Method::POST,
        &keyed.url(&format!("/public/{PAYMENT_PROJECT}/transcripts")),
        &[],
        Some(&json!({"os": "Linux", "browser": "node", "device": "desktop", "sessionID": "sdk-user-2"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        Method::POST,
        &keyed.url(&format!("/feedback/{PAYMENT_PROJECT}/user/sdk-user-2")),
        &[("versionID", "production")],
        Some(&json!({"name": "Thumbs up", "text": ["hi"], "lastUserTurn": null})),
    )
    .await;
    assert_eq!(r.json(), json!({}));
    // Prototype mode (open server: it sends no key), state echoed back next turn.
    let open = Server::start();
    let url = open.url(&format!("/interact/{PAYMENT_VERSION}"));
    let hdr = [("sessionID", "sdk-user-3"), ("platform", "chat-prototype")];
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"state": {"turn": {}, "storage": {}, "variables": {}}, "request": {"type": "launch"}, "config": {"tts": false}})),
    )
    .await;
    let b = r.json();
    assert!(b["trace"].is_array());
    let r = send(Method::POST, &url, &hdr, Some(&json!({"state": b["state"], "request": {"type": "text", "payload": "help"}, "config": {"tts": false}}))).await;
    assert_eq!(messages(&r.json()["trace"])[0], "You can pay or cancel.");
}

#[tokio::test]
async fn runtime_client_js_1_17_4_stateless() {
    let server = Server::start();
    let url = server.url(&format!("/interact/{HANDOFF_VERSION}"));
    let hdr = [
        ("authorization", "VF.DM.test"),
        ("Accept", "application/json, text/plain, */*"),
    ];
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"state": {"stack": [], "storage": {}, "variables": {"user_name": "Ada"}}, "request": null, "config": {"tts": false, "stripSSML": true}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(
        messages(&b["trace"]),
        ["Welcome to support, Ada! How can we help you today?"]
    );
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"state": b["state"], "request": {"type": "text", "payload": "talk to a human"}, "config": {"tts": false, "stripSSML": true, "stopTypes": ["talk_to_agent"]}})),
    )
    .await;
    let b = r.json();
    let last = b["trace"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .expect("traces");
    // The last trace has `paths`: the client auto-follows `paths[defaultPath]`.
    assert_eq!(last["type"], json!("talk_to_agent"));
    let follow =
        last["paths"][last["defaultPath"].as_u64().unwrap_or(0) as usize]["event"]["type"].clone();
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"state": b["state"], "request": {"type": follow, "payload": {}}, "config": {"tts": false, "stripSSML": true}})),
    )
    .await;
    let b = r.json();
    assert_eq!(
        messages(&b["trace"]),
        ["You are now connected to an agent."]
    );
    assert_eq!(types(&b["trace"]).last().map(String::as_str), Some("end"));
}

#[tokio::test]
async fn python_voiceflow_1_0_6() {
    let server = Server::builder()
        .arg("--api-keys")
        .arg(format!("{TEST_KEY}={PAYMENT_PROJECT}"))
        .start();
    let hdr = [("Authorization", TEST_KEY), ("versionID", "production")];
    let config = json!({"tts": false, "stripSSML": true, "stopAll": true, "stopTypes": [], "excludeTypes": ["block", "debug", "flow"]});
    let url = server.url("/state/user/py-user-1/interact");
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "launch"}, "config": config})),
    )
    .await;
    let t = r.json();
    assert!(
        t.as_array().is_some_and(|a| !a.is_empty()),
        "a list of traces: {t}"
    );
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "text", "payload": "hello"}, "config": config})),
    )
    .await;
    assert!(r.json().is_array());
    let r = send(
        Method::PATCH,
        &server.url("/state/user/py-user-1/variables"),
        &hdr,
        Some(&json!({"name": "Ada"})),
    )
    .await;
    assert_eq!(r.json()["variables"]["name"], json!("Ada"));
    let r = send(
        Method::GET,
        &server.url("/state/user/py-user-1"),
        &hdr,
        None,
    )
    .await;
    let st = r.json();
    assert!(
        st["stack"].is_array()
            && st["storage"].is_object()
            && st["variables"]["name"] == json!("Ada"),
        "{st}"
    );
    let r = send(
        Method::DELETE,
        &server.url("/state/user/py-user-1"),
        &hdr,
        None,
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    // stopAll does not change a stopping action.
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "launch"}, "config": config})),
    )
    .await;
    assert!(r.json().is_array());
    let r = send(
        Method::POST,
        &url,
        &hdr,
        Some(&json!({"action": {"type": "text", "payload": "pay"}, "config": config})),
    )
    .await;
    assert_eq!(
        types(&r.json()).last().map(String::as_str),
        Some("Pay Credit Card")
    );
}

#[tokio::test]
async fn voiceflow_cli_suite_runner_requests() {
    let server = Server::builder()
        .arg("--api-keys")
        .arg(format!("{TEST_KEY}={HANDOFF_PROJECT}"))
        .start();
    let user = "test-6f1c1f5e-7d6c-4b8e-9d4a-1b2c3d4e5f60";
    let url = server.url(&format!("/state/user/{user}/interact?logs=off"));
    let hdr = [
        ("accept", "application/json"),
        ("Authorization", TEST_KEY),
        ("versionID", "development"),
    ];
    let turn = |body: Value| {
        let url = url.clone();
        async move {
            let r = send(Method::POST, &url, &hdr, Some(&body)).await;
            assert_eq!(r.status, 200, "{body}: {}", r.text);
            let t = r.json();
            assert_cli_accepts(&t);
            t
        }
    };
    turn(json!({"action": {"type": "launch"}})).await;
    let t = turn(json!({"action": {"type": "text", "payload": "I am doing well"}, "state": {"variables": {"user_name": "John Does"}}})).await;
    assert_eq!(types(&t)[0], "path", "no-match at the menu: {t}");
    let st = send(
        Method::GET,
        &server.url(&format!("/state/user/{user}")),
        &hdr,
        None,
    )
    .await
    .json();
    assert_eq!(st["variables"]["user_name"], json!("John Does"));
    turn(json!({"action": {"type": "event", "payload": {"event": {"name": "user_logged_in"}}}}))
        .await;
    let t = turn(json!({"action": {"type": "intent", "payload": {"intent": {"name": "faq"}, "entities": [{"name": "size", "value": "large"}]}}})).await;
    assert_eq!(
        messages(&t)[0],
        "Hi John Does! FAQ: we answer Monday to Friday, 9am to 5pm. Returns are free within 30 days."
    );
    // `button` input: the request copied from the last choice, found by its label.
    let choice = trace_of(&t, "choice");
    let button = choice["payload"]["buttons"]
        .as_array()
        .and_then(|b| {
            b.iter()
                .find(|b| b["request"]["payload"]["label"] == json!("Talk to a human"))
        })
        .expect("button with a label")["request"]
        .clone();
    let t = turn(json!({"action": {"type": button["type"], "payload": button["payload"]}})).await;
    // The talk_to_agent payload is an object, so voiceflow-cli can read it.
    assert_eq!(
        trace_of(&t, "talk_to_agent")["payload"]["customer"],
        json!("John Does")
    );
    assert_eq!(messages(&t), ["You are now connected to an agent."]);
}
