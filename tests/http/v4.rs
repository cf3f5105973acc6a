//! The v4 session API: `POST /v4/project/{projectID}[/environment/{environmentID}]/session`
//! answers a session key; `POST /v4/interact[/stream]` runs the key's session (docs/clients.md).

use crate::support::server::*;
use crate::support::traces::{messages, types};
use reqwest::Method;
use serde_json::{json, Value};

async fn start(server: &Server, path: &str, body: &Value) -> Resp {
    send(Method::POST, &server.url(path), &[], Some(body)).await
}

async fn session_key(server: &Server, user: &str) -> String {
    let r = start(
        server,
        &format!("/v4/project/{PAYMENT_PROJECT}/session"),
        &json!({"userID": user}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["sessionKey"]
        .as_str()
        .expect("sessionKey")
        .to_string()
}

async fn interact(server: &Server, key: Option<&str>, body: &Value) -> Resp {
    let headers: Vec<(&str, &str)> = key.map(|k| ("authorization", k)).into_iter().collect();
    send(
        Method::POST,
        &server.url("/v4/interact"),
        &headers,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_session_key_runs_the_conversation() {
    let server = Server::start();
    let key = session_key(&server, "v4-user").await;
    let r = interact(&server, Some(&key), &json!({"action": {"type": "launch"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types(&r.json()), ["text", "text", "choice", "no-reply"]);
    let r = interact(
        &server,
        Some(&key),
        &json!({"action": {"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types(&r.json()), ["path", "Pay Credit Card"]);
    // The stateful API sees the same session (one session per project and user).
    let st = User::new(&server, "v4-user", PAYMENT_VERSION).state().await;
    assert_eq!(st["stack"][1]["nodeID"], json!("64a101000000000000000006"));
    let r = interact(&server, Some(&key), &json!({"action": {"type": "success"}})).await;
    assert_eq!(messages(&r.json()), ["Payment of $25 received. Thank you!"]);
}

#[tokio::test]
async fn environment_sessions_and_variables() {
    let server = Server::start();
    let r = start(
        &server,
        &format!("/v4/project/{PAYMENT_PROJECT}/environment/development/session"),
        &json!({"userID": "v4-env"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let key = r.json()["sessionKey"].as_str().unwrap().to_string();
    let r = interact(
        &server,
        Some(&key),
        &json!({"action": {"type": "launch"}, "variables": {"v4_note": "hi"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let st = User::new(&server, "v4-env", PAYMENT_VERSION).state().await;
    assert_eq!(st["variables"]["v4_note"], json!("hi"));
    // The state keeps the key's hash, never the key.
    assert!(!st.to_string().contains(&key));
}

#[tokio::test]
async fn missing_wrong_and_replaced_keys_are_401() {
    let server = Server::start();
    let launch = json!({"action": {"type": "launch"}});
    let key = session_key(&server, "v4-auth").await;
    assert_eq!(interact(&server, None, &launch).await.status, 401);
    assert_eq!(
        interact(&server, Some("nonsense"), &launch).await.status,
        401
    );
    assert_eq!(interact(&server, Some(PAY_KEY), &launch).await.status, 401);
    // Same project, environment and user, another secret.
    let (head, _) = key.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", "0".repeat(64));
    let r = interact(&server, Some(&forged), &launch).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A new session for the user ends the old key.
    let newer = session_key(&server, "v4-auth").await;
    assert_eq!(interact(&server, Some(&key), &launch).await.status, 401);
    assert_eq!(interact(&server, Some(&newer), &launch).await.status, 200);
    // A key names its user: another user's session is not reachable with it.
    let other = session_key(&server, "v4-other").await;
    assert_ne!(other, newer);
}

#[tokio::test]
async fn unknown_projects_are_404_and_bad_bodies_400() {
    let server = Server::start();
    let r = start(
        &server,
        "/v4/project/64ffffffffffffffffffffff/session",
        &json!({"userID": "u"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    for body in [
        json!({}),
        json!({"userID": ""}),
        json!({"userID": 5}),
        json!([1]),
    ] {
        let r = start(
            &server,
            &format!("/v4/project/{PAYMENT_PROJECT}/session"),
            &body,
        )
        .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let key = session_key(&server, "v4-bad").await;
    let user = User::new(&server, "v4-bad", PAYMENT_VERSION);
    let before = user.state().await;
    for body in [
        json!({}),
        json!({"action": "launch"}),
        json!({"action": {"type": "launch"}, "variables": 3}),
        json!({"action": {"type": "launch"}, "extra": 1}),
    ] {
        let r = interact(&server, Some(&key), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    // A refused body changed nothing.
    assert_eq!(user.state().await, before);
}

#[tokio::test]
async fn session_routes_need_a_project_key_when_keys_are_on() {
    let server = Server::builder().test_keys_file().start();
    let path = format!("/v4/project/{PAYMENT_PROJECT}/session");
    let body = json!({"userID": "v4-keys"});
    assert_eq!(start(&server, &path, &body).await.status, 401);
    let r = send(
        Method::POST,
        &server.url(&path),
        &[("authorization", HANDOFF_KEY)],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = send(
        Method::POST,
        &server.url(&path),
        &[("authorization", PAY_KEY)],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let key = r.json()["sessionKey"].as_str().unwrap().to_string();
    let r = interact(&server, Some(&key), &json!({"action": {"type": "launch"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The event names of a whole `text/event-stream` body, and its `trace` events' data.
fn events(text: &str) -> (Vec<String>, Vec<Value>) {
    let mut names = Vec::new();
    let mut traces = Vec::new();
    for block in text.split("\n\n") {
        let name = block.lines().find_map(|l| l.strip_prefix("event: "));
        let data = block.lines().find_map(|l| l.strip_prefix("data: "));
        if let Some(name) = name {
            if name == "trace" {
                traces.push(serde_json::from_str(data.unwrap_or("null")).unwrap());
            }
            names.push(name.to_string());
        }
    }
    (names, traces)
}

#[tokio::test]
async fn the_stream_runs_the_same_session() {
    let server = Server::start();
    let key = session_key(&server, "v4-stream").await;
    let url = server.url("/v4/interact/stream?state=true");
    let launch = json!({"action": {"type": "launch"}, "variables": null, "state": {}});
    let r = send(
        Method::POST,
        &url,
        &[("authorization", &key)],
        Some(&launch),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (names, traces) = events(&r.text);
    assert_eq!(names[names.len() - 2..], ["state", "end"], "{names:?}");
    assert_eq!(
        types(&Value::Array(traces)),
        ["text", "text", "choice", "no-reply"]
    );
    // The non-streamed route continues it.
    let r = interact(
        &server,
        Some(&key),
        &json!({"action": {"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}}}),
    )
    .await;
    assert_eq!(types(&r.json()), ["path", "Pay Credit Card"]);
    // Errors are ordinary answers, nothing streamed.
    let r = send(
        Method::POST,
        &url,
        &[("authorization", "nope")],
        Some(&launch),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = send(Method::POST, &url, &[], Some(&launch)).await;
    assert_eq!(r.status, 401);
    let r = send(
        Method::POST,
        &url,
        &[("authorization", &key)],
        Some(&json!({"action": 1})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[test]
fn the_routes_are_documented() {
    for path in [
        "/v4/project/{projectID}/session",
        "/v4/project/{projectID}/environment/{environmentID}/session",
    ] {
        let statuses = documented_statuses(path);
        for st in [200, 400, 401, 404] {
            assert!(statuses.contains(&st), "{path}: {st}");
        }
    }
    for path in ["/v4/interact", "/v4/interact/stream"] {
        let statuses = documented_statuses(path);
        for st in [200, 400, 401] {
            assert!(statuses.contains(&st), "{path}: {st}");
        }
    }
}
