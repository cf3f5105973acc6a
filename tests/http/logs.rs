//! `?logs=` on the stateful and stateless interact routes produces `log` traces.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

fn log_kinds(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| t["type"] == "log")
                .filter_map(|t| t["payload"]["kind"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn logs_query_adds_log_traces() {
    let server = Server::start();
    let u = User::new(&server, "logs-user", PAYMENT_VERSION);
    let r = u
        .post(
            "/interact?logs=info",
            &json!({ "action": { "type": "launch" } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kinds = log_kinds(&r.json());
    assert_eq!(
        kinds[..2],
        ["global.conversation_start", "step.start"],
        "{kinds:?}"
    );
    assert!(kinds.contains(&"step.set".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"step.text".to_string()), "{kinds:?}");

    // `logs=off` (what voiceflow-cli sends) and no parameter: none.
    let r = u
        .post(
            "/interact?logs=off",
            &json!({ "action": { "type": "launch" } }),
        )
        .await;
    assert!(log_kinds(&r.json()).is_empty());

    // Stateless route honours it too.
    let url = server.url(&format!("/interact/{PAYMENT_VERSION}?logs=true"));
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({ "request": { "type": "launch" } })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(log_kinds(&r.json()["trace"]).contains(&"step.start".to_string()));
}
