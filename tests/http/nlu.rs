//! `GET /nlu/project/{projectID}/version/{versionID}/inference?query=…`: the version's NLU
//! without a session, its authorization and errors, answers held to `openapi.yaml`.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PIZZA_PROJECT: &str = "5a1a00000000000000000001";
const PIZZA_VERSION: &str = "5a1a00000000000000000002";

/// The counter agent with a pizza model: a Custom `size` and a `VF.NUMBER` `quantity`, two used
/// intents and one the diagrams do not use.
fn pizza_agent() -> String {
    let mut doc: Value = serde_json::from_str(&counter_agent()).expect("counter agent");
    let text = doc.to_string().replace(COUNTER_PROJECT, PIZZA_PROJECT);
    let text = text.replace(COUNTER_VERSION, PIZZA_VERSION);
    doc = serde_json::from_str(&text).expect("json");
    doc["version"]["prototype"]["model"] = json!({
        "intents": [
            { "key": "i1", "name": "order_pizza", "inputs": [
                { "text": "i want a {{[size].s1}} pizza" },
                { "text": "order {{[quantity].s2}} pizzas" },
                { "text": "can i get {{[quantity].s2}} {{[size].s1}} pizzas" },
                { "text": "i would like to order a pizza" },
                { "text": "pizza please" } ],
              "slots": [ { "id": "s1", "required": true }, { "id": "s2" } ] },
            { "key": "i2", "name": "opening_hours", "inputs": [
                { "text": "when are you open" },
                { "text": "what are your opening hours" },
                { "text": "are you open on sunday" } ] },
            { "key": "i3", "name": "secret", "inputs": [
                { "text": "open sesame" }, { "text": "the magic words" }, { "text": "abracadabra" } ] }
        ],
        "slots": [
            { "key": "s1", "name": "size", "type": { "value": "Custom" },
              "inputs": ["small, little", "medium, regular", "large, big, huge"] },
            { "key": "s2", "name": "quantity", "type": { "value": "VF.NUMBER" }, "inputs": [] }
        ]
    });
    doc["version"]["prototype"]["surveyorContext"]["usedIntentsSet"] =
        json!(["i1", "opening_hours"]);
    doc.to_string()
}

fn url(server: &Server, project: &str, version: &str, query: Option<&str>) -> String {
    let path = format!("/nlu/project/{project}/version/{version}/inference");
    match query {
        Some(q) => server.url(&format!("{path}?query={}", encode(q))),
        None => server.url(&path),
    }
}

/// `application/x-www-form-urlencoded` for a query value.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let r = send(Method::GET, url, headers, None).await;
    conforms(&r);
    r
}

/// `GET path` written on a socket (for URLs longer than reqwest accepts): status and body.
fn raw_get(server: &Server, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer.split_once("\r\n\r\n").expect("head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, body.to_string())
}

/// A 200 prediction on the payment agent.
async fn predict(server: &Server, query: &str) -> Value {
    let r = get(
        &url(server, PAYMENT_PROJECT, PAYMENT_VERSION, Some(query)),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// The answer is what `openapi.yaml` says: a documented status, and the body of its schema.
fn conforms(r: &Resp) {
    assert!(
        documented_statuses("/nlu/project/{projectID}/version/{versionID}/inference")
            .contains(&r.status),
        "{} not documented: {}",
        r.status,
        r.text
    );
    let b = r.json();
    match r.status {
        200 => {
            let o = b.as_object().expect("object");
            for k in o.keys() {
                assert!(
                    [
                        "utterance",
                        "predictedIntent",
                        "predictedSlots",
                        "confidence",
                        "intents"
                    ]
                    .contains(&k.as_str()),
                    "unexpected {k}: {b}"
                );
            }
            assert!(
                b["utterance"].is_string() && b["predictedIntent"].is_string(),
                "{b}"
            );
            for s in b["predictedSlots"].as_array().expect("predictedSlots") {
                assert!(s["name"].is_string() && s["value"].is_string(), "{b}");
            }
            let unit = |v: &Value| v.as_f64().is_some_and(|c| (0.0..=1.0).contains(&c));
            assert!(o.get("confidence").is_none_or(unit), "{b}");
            for i in b["intents"].as_array().expect("intents") {
                assert!(i["name"].is_string() && unit(&i["confidence"]), "{b}");
            }
        }
        400 => assert!(b["errors"]["query"]["message"].is_string(), "{b}"),
        401 => assert!(b["code"] == 401 && b["data"].is_string(), "{b}"),
        404 => assert!(
            b["name"] == "verror" && b["message"].is_string() || b["code"] == 404,
            "{b}"
        ),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_payment_agent_understands_exact_and_paraphrased_text() {
    let server = Server::start();
    let b = predict(&server, "i want to pay").await;
    assert_eq!(b["utterance"], "i want to pay");
    assert_eq!(b["predictedIntent"], "pay");
    assert_eq!(b["confidence"], 1.0, "an utterance of the model: {b}");
    assert_eq!(b["predictedSlots"], json!([]));
    assert_eq!(b["intents"][0]["name"], "pay", "{b}");

    for (text, intent) in [
        ("I'd like to pay now please", "pay"),
        ("what can you do for me", "help"),
        ("no thanks, never mind that", "cancel"),
    ] {
        let b = predict(&server, text).await;
        assert_eq!(b["predictedIntent"], intent, "{text}: {b}");
        let c = b["confidence"].as_f64().expect("confidence");
        assert!(
            (0.6..1.0).contains(&c),
            "a paraphrase is no exact match: {b}"
        );
        assert_eq!(
            b["intents"][0],
            json!({"name": intent, "confidence": c}),
            "{b}"
        );
    }

    for text in ["blah blah", "qqqq wwww eeee", "the weather in paris"] {
        let junk = predict(&server, text).await;
        assert_eq!(junk["predictedIntent"], "None", "{junk}");
        assert_eq!(junk["confidence"], 1.0, "{junk}");
        assert_eq!(junk["predictedSlots"], json!([]));
    }

    let empty = predict(&server, "").await;
    assert_eq!(
        empty,
        json!({"utterance": "", "predictedIntent": "None", "predictedSlots": [], "intents": []})
    );
    // Aliases of the project resolve (open server).
    let r = get(
        &url(&server, PAYMENT_PROJECT, "development", Some("pay")),
        &[],
    )
    .await;
    assert_eq!(r.json()["predictedIntent"], "pay");
}

#[tokio::test]
async fn slot_values_and_unused_intents() {
    let server = Server::builder()
        .files(&[("pizza.vfr", pizza_agent())])
        .start();
    let r = get(
        &url(
            &server,
            PIZZA_PROJECT,
            PIZZA_VERSION,
            Some("could I get two big pizzas"),
        ),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["predictedIntent"], "order_pizza", "{b}");
    let mut slots = b["predictedSlots"].as_array().expect("slots").clone();
    slots.sort_by_key(|s| s["name"].as_str().map(str::to_string));
    assert_eq!(
        Value::Array(slots),
        json!([{"name": "quantity", "value": "2"}, {"name": "size", "value": "large"}]),
        "canonical values: {b}"
    );

    // An intent the diagrams do not use is None without a confidence.
    let r = get(
        &url(&server, PIZZA_PROJECT, PIZZA_VERSION, Some("open sesame")),
        &[],
    )
    .await;
    let b = r.json();
    assert_eq!(b["predictedIntent"], "None", "{b}");
    assert!(b.get("confidence").is_none(), "{b}");
}

#[tokio::test]
async fn a_missing_query_is_400_and_a_huge_one_answers_at_once() {
    let server = Server::start();
    let r = get(&url(&server, PAYMENT_PROJECT, PAYMENT_VERSION, None), &[]).await;
    assert_validation(&r, "query");
    let other = format!(
        "{}?q=pay",
        url(&server, PAYMENT_PROJECT, PAYMENT_VERSION, None)
    );
    assert_validation(&get(&other, &[]).await, "query");

    // 60 KB: the NLU reads the first 2,000 bytes, the answer is immediate. (Written by hand:
    // long URLs are what this checks.)
    let path = |q: &str| {
        format!(
            "/nlu/project/{PAYMENT_PROJECT}/version/{PAYMENT_VERSION}/inference?query={}",
            encode(q)
        )
    };
    let long = "i want to pay ".repeat(4_300);
    let started = Instant::now();
    let (status, body) = raw_get(&server, &path(&long));
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let b: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(b["utterance"].as_str().map(str::len), Some(long.len()));
    assert_eq!(b["predictedIntent"], "pay");
    // 100 KB: a URL over 64 KB is refused by the HTTP layer (an empty 400) at once.
    let huge = "pay ".repeat(25_000);
    let started = Instant::now();
    let (status, _) = raw_get(&server, &path(&huge));
    assert_eq!(status, 400);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(predict(&server, "pay").await["predictedIntent"], "pay");
    for text in [
        "\u{0}\u{7f}",
        "🍕🍕🍕",
        "ﬀ İ ǅ",
        "%",
        "{size}",
        "{{[size].s1}}",
    ] {
        predict(&server, text).await;
    }
}

#[tokio::test]
async fn unknown_projects_and_versions_are_404() {
    let server = Server::start();
    for (project, version, message) in [
        (
            "nope",
            PAYMENT_VERSION,
            "Project nope is not loaded".to_string(),
        ),
        (
            PAYMENT_PROJECT,
            HANDOFF_VERSION,
            format!("Version {HANDOFF_VERSION} of project {PAYMENT_PROJECT} is not loaded"),
        ),
        (
            PAYMENT_PROJECT,
            PAYMENT_PROJECT,
            format!("Version {PAYMENT_PROJECT} of project {PAYMENT_PROJECT} is not loaded"),
        ),
    ] {
        let r = get(&url(&server, project, version, Some("pay")), &[]).await;
        assert_verror(&r, 404, &message);
    }
    // Another method is an unknown route.
    let r = send(
        Method::POST,
        &url(&server, PAYMENT_PROJECT, PAYMENT_VERSION, Some("pay")),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn keys_must_belong_to_the_project() {
    let server = Server::builder().test_keys_file().start();
    let pay = url(&server, PAYMENT_PROJECT, PAYMENT_VERSION, Some("pay"));
    assert_error_object(&get(&pay, &[]).await, 401, "Auth Key Required");
    assert_error_object(
        &get(&pay, &[("Authorization", "VF.DM.paykey.wrong")]).await,
        401,
        "Invalid API key",
    );
    let not_yours = format!("API key is not valid for project {PAYMENT_PROJECT}");
    assert_error_object(
        &get(&pay, &[("Authorization", HANDOFF_KEY)]).await,
        401,
        &not_yours,
    );
    // The key is checked before saying whether the version exists.
    let missing = url(&server, PAYMENT_PROJECT, "nope", Some("pay"));
    assert_error_object(
        &get(&missing, &[("Authorization", HANDOFF_KEY)]).await,
        401,
        &not_yours,
    );
    let r = get(&pay, &[("Authorization", PAY_KEY)]).await;
    assert_eq!(r.json()["predictedIntent"], "pay");
    let r = get(&missing, &[("Authorization", PAY_KEY)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let prod = url(&server, PAYMENT_PROJECT, "production", Some("cancel"));
    let r = get(&prod, &[("Authorization", PAY_KEY)]).await;
    assert_eq!(r.json()["predictedIntent"], "cancel");
}
