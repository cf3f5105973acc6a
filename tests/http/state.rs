//! The state routes (`GET`/`PUT`/`DELETE`/`POST` `/state/user/{userID}`, `PATCH …/variables`)
//! and the legacy `/state/{versionID}/user/{userID}/…` forms.

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn get_put_delete_reset_patch() {
    let server = Server::start();
    let u = User::new(&server, "state-user", PAYMENT_VERSION);

    // No session yet: `{}`.
    assert_eq!(u.state().await, json!({}));

    // Reset: the generated initial state, stored.
    let r = u.raw(Method::POST, "", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reset = r.json();
    assert_eq!(
        reset["stack"],
        json!([{"diagramID": "64a1d0000000000000000001", "storage": {}, "commands": [], "variables": {}}])
    );
    assert_eq!(
        reset["variables"],
        json!({"name": "there", "sessions": 1}),
        "reset has no user_id"
    );
    assert_eq!(u.state().await, reset);

    // PUT replaces and echoes the body verbatim.
    let body = json!({
        "stack": [{"diagramID": "64a1d0000000000000000001", "nodeID": "64a101000000000000000005", "storage": {}, "custom": 1}],
        "storage": {},
        "variables": {"name": "Put", "amount": 7}
    });
    let r = u.raw(Method::PUT, "", Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), body);
    let st = u.state().await;
    assert_eq!(st["variables"], json!({"name": "Put", "amount": 7}));
    assert_eq!(st["stack"][0]["nodeID"], json!("64a101000000000000000005"));
    assert_eq!(
        st["stack"][0]["custom"],
        json!(1),
        "unknown frame keys are kept"
    );

    // The session resumes where PUT left it: at the choice.
    let t = u.act(json!({"type": "text", "payload": "cancel"})).await;
    assert_eq!(messages(&t), ["Okay, cancelled."]);

    // PATCH merges shallowly.
    let r = u
        .raw(
            Method::PATCH,
            "/variables",
            Some(&json!({"name": "Zed", "extra": {"a": 1}})),
        )
        .await;
    assert_eq!(r.status, 200);
    let patched = r.json();
    assert_eq!(patched["variables"]["name"], json!("Zed"));
    assert_eq!(patched["variables"]["extra"], json!({"a": 1}));
    assert_eq!(u.state().await, patched);

    // DELETE: 200, empty body, then `{}`.
    let r = u.raw(Method::DELETE, "", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
    assert_eq!(u.state().await, json!({}));
}

#[tokio::test]
async fn patch_without_session_keeps_variables_for_the_next_interact() {
    let server = Server::start();
    let u = User::new(&server, "patch-first", HANDOFF_VERSION);
    let r = u
        .raw(
            Method::PATCH,
            "/variables",
            Some(&json!({"user_name": "Kim"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["variables"], json!({"user_name": "Kim"}));
    let t = u.act(json!({"type": "launch"})).await;
    assert_eq!(
        messages(&t),
        ["Welcome to support, Kim! How can we help you today?"]
    );
}

#[tokio::test]
async fn sessions_are_per_project_and_per_user() {
    let server = Server::start();
    let a = User::new(&server, "same-id", PAYMENT_VERSION);
    let b = User::new(&server, "same-id", HANDOFF_VERSION);
    let c = User::new(&server, "other-id", PAYMENT_VERSION);
    a.act(json!({"type": "launch"})).await;
    assert_eq!(b.state().await, json!({}));
    assert_eq!(c.state().await, json!({}));
    // The project id (instead of a version id) and the alias name the same session.
    let by_project = User::new(&server, "same-id", PAYMENT_PROJECT);
    assert_eq!(by_project.state().await, a.state().await);
}

#[tokio::test]
async fn user_ids_are_url_decoded() {
    let server = Server::start();
    let hdr = [("versionID", PAYMENT_VERSION)];
    let r = send(
        Method::POST,
        &server.url("/state/user/a%20b%40c/interact"),
        &hdr,
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        Method::GET,
        &server.url("/state/user/a%20b%40c"),
        &hdr,
        None,
    )
    .await;
    assert_eq!(r.json()["variables"]["user_id"], json!("a b@c"));
}

#[tokio::test]
async fn legacy_routes_take_the_version_from_the_path() {
    let server = Server::start();
    // api-examples style: legacy route, `request` instead of `action`, a wrong versionID header
    // that the path overrides.
    let base = format!("/state/{PAYMENT_VERSION}/user/legacy-user");
    let hdr = [("versionID", "not-a-version")];
    let r = send(
        Method::POST,
        &server.url(&format!("{base}/interact")),
        &hdr,
        Some(&json!({"request": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        messages(&normalize(r.json()))[0],
        "Hi there! Welcome to the payment demo."
    );
    let r = send(
        Method::POST,
        &server.url(&format!("{base}/interact?verbose=true")),
        &[],
        Some(&json!({"request": {"type": "text", "payload": "pay"}})),
    )
    .await;
    assert_eq!(
        trace_of(&r.json()["trace"], "Pay Credit Card")["payload"],
        json!("{\"amount\": 25}")
    );

    let r = send(Method::GET, &server.url(&base), &[], None).await;
    assert_eq!(r.json()["variables"]["user_id"], json!("legacy-user"));
    // Same session as the modern route.
    let modern = User::new(&server, "legacy-user", PAYMENT_VERSION);
    assert_eq!(modern.state().await, r.json());

    let r = send(
        Method::PATCH,
        &server.url(&format!("{base}/variables")),
        &[],
        Some(&json!({"name": "Leg"})),
    )
    .await;
    assert_eq!(r.json()["variables"]["name"], json!("Leg"));
    let body = json!({"stack": [], "storage": {}, "variables": {"x": 1}});
    let r = send(Method::PUT, &server.url(&base), &[], Some(&body)).await;
    assert_eq!(r.json(), body);
    let r = send(Method::POST, &server.url(&base), &[], None).await;
    assert_eq!(r.json()["variables"]["sessions"], json!(1));
    let r = send(Method::DELETE, &server.url(&base), &[], None).await;
    assert_eq!(r.status, 200);
    let r = send(Method::GET, &server.url(&base), &[], None).await;
    assert_eq!(r.json(), json!({}));

    // Legacy alias in the path: with one project loaded it resolves; with three it needs a key.
    let r = send(
        Method::GET,
        &server.url("/state/production/user/legacy-user"),
        &[],
        None,
    )
    .await;
    assert_verror(&r, 400, "Cannot resolve version alias");
    let r = send(
        Method::GET,
        &server.url("/state/nope/user/legacy-user"),
        &[],
        None,
    )
    .await;
    assert_verror(&r, 400, "Could not resolve project with version ID nope");
}

#[tokio::test]
async fn put_schema_errors_do_not_change_the_session() {
    let server = Server::start();
    let u = User::new(&server, "put-bad", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let before = u.state().await;
    for (body, field) in [
        (json!({"stack": [], "storage": {}}), "body"),
        (
            json!({"stack": [], "storage": {}, "variables": {}, "turn": {}}),
            "body",
        ),
        (
            json!({"stack": "x", "storage": {}, "variables": {}}),
            "stack",
        ),
        (
            json!({"stack": [{"nodeID": "n"}], "storage": {}, "variables": {}}),
            "stack[0]",
        ),
        (
            json!({"stack": [{"diagramID": 5}], "storage": {}, "variables": {}}),
            "stack[0].diagramID",
        ),
        (
            json!({"stack": [{"diagramID": "d", "commands": {}}], "storage": {}, "variables": {}}),
            "stack[0].commands",
        ),
        (
            json!({"stack": [], "storage": {}, "variables": []}),
            "variables",
        ),
        (json!([1, 2]), "body"),
    ] {
        let r = u.raw(Method::PUT, "", Some(&body)).await;
        assert_validation(&r, field);
    }
    let r = u.raw(Method::PATCH, "/variables", Some(&json!([1]))).await;
    assert_validation(&r, "body");
    assert_eq!(u.state().await, before);
}

#[tokio::test]
async fn the_in_memory_store_caps_the_state_size() {
    // Repeated PATCHes cannot grow one user's state without bound: past the cap, 413 and the
    // state stays as it was (the same rule as the Redis store).
    let server = Server::builder()
        .arg("--max-state-bytes")
        .arg("20000")
        .start();
    let u = User::new(&server, "grower", PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let chunk = "x".repeat(4000);
    let mut accepted = 0;
    let refused = loop {
        let r = u
            .raw(
                Method::PATCH,
                "/variables",
                Some(&json!({ format!("v{accepted}"): chunk })),
            )
            .await;
        if r.status != 200 {
            break r;
        }
        accepted += 1;
        assert!(accepted < 10, "the state grew past the cap");
    };
    assert_eq!(refused.status, 413, "{}", refused.text);
    let data = refused.json()["data"].as_str().unwrap_or("").to_string();
    assert!(
        data.starts_with("session state too large") && data.ends_with("(limit 20000)"),
        "{data}"
    );
    assert!(accepted >= 2, "only {accepted} patches fitted");
    let state = u.state().await;
    assert_eq!(
        state["variables"][format!("v{}", accepted - 1)],
        json!(chunk)
    );
    assert!(state["variables"].get(format!("v{accepted}")).is_none());
    // The session still works.
    let t = u.act(json!({"type": "launch"})).await;
    assert!(!t.as_array().expect("traces").is_empty());
}
