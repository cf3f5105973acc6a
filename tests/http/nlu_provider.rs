//! The NLU's optional embeddings provider (`docs/nlu.md` § Optional embeddings provider),
//! against a stub OpenAI-compatible embeddings API (`support::embeddings_stub`): a paraphrase
//! the local classifier misroutes is understood with the provider, and any provider failure
//! (500, a bad body, too slow, not listening) leaves the turn to the local classifier.

use crate::support::embeddings_stub::{closed_base, EmbeddingsStub, Mode};
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PROJECT: &str = "5e3a00000000000000000001";
const VERSION: &str = "5e3a00000000000000000002";
const MODEL: &str = "stub-embed-64";
const KEY: &str = "sk-stub-5ecr3t-d0-not-log";

/// Only synonyms the stub knows ("acquire" → buy, "nourishment" → food) link it to `order_food`.
const PARAPHRASE: &str = "acquire nourishment";

fn text_node(message: &str) -> Value {
    json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": message } ] } ] } ], "nextId": "wait" })
}

/// Two intents, and a node that waits for either.
fn shop_agent() -> String {
    let intent = |key: &str, name: &str, utterances: &[&str]| {
        json!({ "key": key, "name": name, "slots": [],
            "inputs": utterances.iter().map(|u| json!({ "text": u })).collect::<Vec<_>>() })
    };
    let doc = json!({
        "project": { "_id": PROJECT, "devVersion": VERSION, "liveVersion": VERSION, "name": "Shop",
            "type": "chat", "platform": "webchat", "apiPrivacy": "private" },
        "version": {
            "_id": VERSION, "projectID": PROJECT, "rootDiagramID": "D", "variables": [],
            "platformData": { "settings": {}, "publishing": {} },
            "prototype": { "type": "chat", "platform": "webchat",
                "data": { "name": "Shop", "locales": ["en-US"] },
                "model": { "slots": [], "intents": [
                    intent("k1", "order_food", &["i want to buy a pizza", "buy some food", "order a burger please", "get me something to eat"]),
                    intent("k2", "cancel_order", &["cancel my order", "stop the order", "i do not want it anymore", "call it off"]),
                ] },
                "context": { "stack": [ { "diagramID": "D", "storage": {}, "variables": {} } ], "variables": {} },
                "surveyorContext": { "usedIntentsSet": ["k1", "k2"] } }
        },
        "programs": {
            VERSION: { "id": VERSION, "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "wait" },
                "wait": { "type": "interaction", "buttons": [], "interactions": [
                    { "event": { "type": "intent", "intent": "order_food", "mappings": [] }, "nextId": "ordered" },
                    { "event": { "type": "intent", "intent": "cancel_order", "mappings": [] }, "nextId": "cancelled" } ] },
                "ordered": text_node("ordering"),
                "cancelled": text_node("cancelling")
            } }
        }
    });
    doc.to_string()
}

fn shop_server() -> ServerBuilder {
    Server::builder().files(&[("shop.vfr", shop_agent())])
}

/// A stateless turn with `text`: the request as understood (intent name, confidence).
async fn understand(server: &Server, text: &str) -> (String, Option<f64>) {
    let r = send(
        Method::POST,
        &server.url(&format!("/interact/{VERSION}")),
        &[],
        Some(&json!({ "request": { "type": "text", "payload": text } })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let request = &r.json()["request"];
    assert_eq!(request["type"], "intent", "{request}");
    (
        request["payload"]["intent"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        request["payload"]["confidence"].as_f64(),
    )
}

/// What the local classifier alone makes of the test texts: the paraphrase is misrouted (its
/// words share letters with `cancel_order`'s utterances, none with `order_food`'s) or rejected.
async fn assert_local_only(server: &Server) {
    let (intent, confidence) = understand(server, PARAPHRASE).await;
    assert_ne!(intent, "order_food", "{confidence:?}");
    assert_eq!(
        understand(server, "cancel my order please").await.0,
        "cancel_order"
    );
}

#[tokio::test]
async fn the_provider_understands_a_paraphrase_the_local_classifier_misroutes() {
    // Without a provider: the paraphrase is misrouted.
    let local = shop_server().start();
    assert_local_only(&local).await;

    let stub = EmbeddingsStub::start();
    let server = shop_server()
        .nlu_provider(&stub.base, MODEL, Some(KEY))
        .start();
    // Every utterance and intent name was embedded at load, in one batch, with the key.
    assert_eq!(stub.requests(), 1);
    let (intent, confidence) = understand(&server, PARAPHRASE).await;
    assert_eq!(intent, "order_food");
    assert!(confidence.unwrap() >= 0.6, "{confidence:?}");
    // What the local classifier already knew is kept.
    assert_eq!(
        understand(&server, "cancel my order please").await.0,
        "cancel_order"
    );
    assert!(stub
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&format!("Bearer {KEY}")[..])));
    assert_eq!(stub.requests(), 3, "one embedding per text turn");

    // The inference route understands the same way.
    let r = send(
        Method::GET,
        &server.url(&format!(
            "/nlu/project/{PROJECT}/version/{VERSION}/inference?query=acquire%20nourishment"
        )),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["predictedIntent"], "order_food", "{}", r.text);
    let r = send(
        Method::GET,
        &local.url(&format!(
            "/nlu/project/{PROJECT}/version/{VERSION}/inference?query=acquire%20nourishment"
        )),
        &[],
        None,
    )
    .await;
    assert_ne!(r.json()["predictedIntent"], "order_food", "{}", r.text);

    // The stateful route runs the same understanding: the order branch answers.
    let user = User::new(&server, "provider-user", VERSION);
    user.act(json!({ "type": "launch" })).await;
    let t = user
        .act(json!({ "type": "text", "payload": PARAPHRASE }))
        .await;
    assert_eq!(messages(&t), ["ordering"]);
    // Requests without text ask nothing of the provider.
    let before = stub.requests();
    user.act(json!({ "type": "launch" })).await;
    user.act(json!({ "type": "intent", "payload": { "intent": { "name": "cancel_order" } } }))
        .await;
    assert_eq!(stub.requests(), before);
}

#[tokio::test]
async fn a_failing_or_slow_provider_leaves_the_turn_to_the_local_classifier() {
    let stub = EmbeddingsStub::start();
    let server = shop_server()
        .nlu_provider(&stub.base, MODEL, None)
        .args(&["--nlu-embeddings-timeout-ms", "300"])
        .start();
    assert_eq!(understand(&server, PARAPHRASE).await.0, "order_food");
    assert_eq!(
        stub.authorizations()[0],
        None,
        "no key, no Authorization header"
    );
    for mode in [Mode::Fail, Mode::Garbage, Mode::Slow] {
        stub.set_mode(mode);
        let started = Instant::now();
        assert_local_only(&server).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{mode:?}: {:?}",
            started.elapsed()
        );
    }
    stub.set_mode(Mode::Ok);
    assert_eq!(understand(&server, PARAPHRASE).await.0, "order_food");
}

#[tokio::test]
async fn a_provider_down_or_failing_at_load_leaves_the_agent_on_the_local_classifier() {
    let down = shop_server()
        .nlu_provider(&closed_base(), MODEL, None)
        .start();
    assert_local_only(&down).await;

    let stub = EmbeddingsStub::start();
    stub.set_mode(Mode::Fail);
    let server = shop_server().nlu_provider(&stub.base, MODEL, None).start();
    stub.set_mode(Mode::Ok);
    let loaded = stub.requests();
    assert_local_only(&server).await;
    // Without an index nothing is asked at a turn.
    assert_eq!(stub.requests(), loaded);
}

#[tokio::test]
async fn the_key_never_appears_in_the_logs() {
    let stub = EmbeddingsStub::start();
    stub.set_mode(Mode::Fail);
    // `flowdm serve` with the key in its environment, the provider failing at load…
    let failing = shop_server()
        .nlu_provider(&stub.base, MODEL, Some(KEY))
        .start_process();
    let logs = failing.wait_for_log("embeddings provider failed for this agent");
    assert!(logs.contains("HTTP 500"), "{logs}");
    assert!(!logs.contains(KEY) && !logs.contains("5ecr3t"), "{logs}");
    drop(failing);

    // … and at a turn.
    stub.set_mode(Mode::Ok);
    let server = shop_server()
        .nlu_provider(&stub.base, MODEL, Some(KEY))
        .start_process();
    server.wait_for_log("agent utterances embedded");
    assert_eq!(understand(&server, PARAPHRASE).await.0, "order_food");
    stub.set_mode(Mode::Fail);
    assert_ne!(understand(&server, PARAPHRASE).await.0, "order_food");
    let logs = server.wait_for_log("embeddings provider failed for a turn");
    assert!(!logs.contains(KEY) && !logs.contains("5ecr3t"), "{logs}");
    assert!(stub
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&format!("Bearer {KEY}")[..])));
}

#[tokio::test]
async fn a_provider_on_loopback_is_refused_without_the_allow_list() {
    let stub = EmbeddingsStub::start();
    // The stub listens on 127.0.0.1: without `--allow-outbound` the SSRF guard refuses it.
    let server = shop_server()
        .nlu_provider_guarded(&stub.base, MODEL, None)
        .start();
    assert_local_only(&server).await;
    assert_eq!(stub.requests(), 0, "the guard let a request through");
    drop(server);

    // The refusal is logged with the host and the reason, never the key.
    let server = shop_server()
        .nlu_provider_guarded(&stub.base, MODEL, Some(KEY))
        .start_process();
    // The guard's line comes first, the provider's (which names the option) after it.
    let logs = server.wait_for_log("--allow-outbound");
    assert!(
        logs.contains("outbound request refused")
            && logs.contains("127.0.0.1")
            && logs.contains("loopback"),
        "{logs}"
    );
    assert!(!logs.contains(KEY) && !logs.contains("5ecr3t"), "{logs}");
    assert_eq!(stub.requests(), 0);
}
