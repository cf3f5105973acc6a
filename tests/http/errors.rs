//! Bad input on every route: the reference's status codes and error body shapes
//! (`spec/dm-api.md` §1.2, §1.8), and no rejected request changes a session.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::{Read, Write};

async fn launched(server: &Server, user: &str) -> Value {
    let u = User::new(server, user, PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    u.state().await
}

#[tokio::test]
async fn body_over_one_megabyte_is_413_and_changes_nothing() {
    let server = Server::start();
    let before = launched(&server, "big").await;
    let url = server.url("/state/user/big/interact");
    let hdr = [
        ("versionID", PAYMENT_VERSION),
        ("content-type", "application/json"),
    ];
    let filler = "x".repeat(1024 * 1024 + 10);
    let body =
        format!("{{\"action\":{{\"type\":\"text\",\"payload\":\"{filler}\"}}}}").into_bytes();
    let r = send_raw(Method::POST, &url, &hdr, body).await;
    assert_verror(&r, 413, "request entity too large");
    // Just under the limit is accepted.
    let filler = "x".repeat(1000 * 1000);
    let body = format!("{{\"action\":{{\"type\":\"no-such\"}},\"pad\":\"{filler}\"}}").into_bytes();
    let r = send_raw(
        Method::POST,
        &server.url("/state/user/big2/interact"),
        &hdr,
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    let u = User::new(&server, "big", PAYMENT_VERSION);
    assert_eq!(u.state().await, before);
    // Every body-reading route has the limit (PUT state, public, transcripts).
    let huge = vec![b' '; 1024 * 1024 + 1];
    for (m, path) in [
        (Method::PUT, "/state/user/big".to_string()),
        (Method::PATCH, "/state/user/big/variables".to_string()),
        (
            Method::POST,
            format!("/public/{PAYMENT_PROJECT}/state/user/big/interact"),
        ),
        (
            Method::POST,
            format!("/public/{PAYMENT_PROJECT}/transcripts"),
        ),
        (Method::POST, format!("/interact/{PAYMENT_VERSION}")),
    ] {
        let r = send_raw(m, &server.url(&path), &hdr, huge.clone()).await;
        assert_eq!(r.status, 413, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let server = Server::builder().arg("--body-limit").arg("100").start();
    let u = User::new(&server, "small", PAYMENT_VERSION);
    let r = u
        .post(
            "/interact",
            &json!({"action": {"type": "text", "payload": "y".repeat(200)}}),
        )
        .await;
    assert_verror(&r, 413, "request entity too large");
    let r = u
        .post("/interact", &json!({"action": {"type": "launch"}}))
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn malformed_json_is_400_verror() {
    let server = Server::start();
    let before = launched(&server, "malformed").await;
    let url = server.url("/state/user/malformed/interact");
    let hdr = [
        ("versionID", PAYMENT_VERSION),
        ("content-type", "application/json"),
    ];
    for body in [
        &b"{\"action\":"[..],
        b"{'a':1}",
        b"not json",
        b"\"string\"",
        b"42",
        b"{\"a\":1}}",
    ] {
        let r = send_raw(Method::POST, &url, &hdr, body.to_vec()).await;
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(body),
            r.text
        );
        let b = r.json();
        assert_eq!(b["name"], json!("verror"), "{b}");
        assert!(
            b["message"].is_string() && b["requestID"].is_string(),
            "{b}"
        );
        assert_eq!(r.header("x-request-id"), b["requestID"].as_str());
    }
    for path in ["/state/user/malformed", "/state/user/malformed/variables"] {
        let m = if path.ends_with("variables") {
            Method::PATCH
        } else {
            Method::PUT
        };
        let r = send_raw(m, &server.url(path), &hdr, b"{".to_vec()).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["name"], json!("verror"));
    }
    assert_eq!(
        User::new(&server, "malformed", PAYMENT_VERSION)
            .state()
            .await,
        before
    );
}

#[tokio::test]
async fn empty_body_counts_as_empty_object() {
    let server = Server::start();
    let r = send_raw(
        Method::POST,
        &server.url("/state/user/empty/interact"),
        &[("versionID", PAYMENT_VERSION)],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        messages(&normalize(r.json()))[0],
        "Hi there! Welcome to the payment demo."
    );
}

#[tokio::test]
async fn wrong_types_are_400_validation_and_change_nothing() {
    let server = Server::start();
    let before = launched(&server, "types").await;
    let u = User::new(&server, "types", PAYMENT_VERSION);
    for (body, field) in [
        (json!({"config": {"stopAll": "yes"}}), "config.stopAll"),
        (json!({"config": {"tts": 1}}), "config.tts"),
        (
            json!({"config": {"stripSSML": "false"}}),
            "config.stripSSML",
        ),
        (
            json!({"config": {"selfDelegate": []}}),
            "config.selfDelegate",
        ),
        (
            json!({"config": {"stopTypes": "Pay Credit Card"}}),
            "config.stopTypes",
        ),
        (
            json!({"config": {"excludeTypes": [1, 2]}}),
            "config.excludeTypes[0]",
        ),
        (json!({"config": "all"}), "config"),
        (json!({"state": {"variables": "x"}}), "state.variables"),
        (json!({"state": []}), "state"),
        (json!([{"action": {"type": "launch"}}]), "body"),
    ] {
        let r = u.post("/interact", &body).await;
        assert_validation(&r, field);
    }
    assert_eq!(u.state().await, before);
}

#[tokio::test]
async fn invalid_request_objects_are_400_and_change_nothing() {
    // The reference answers 500 `invalid runtime request type: …`; flowdm refuses them as
    // validation errors (docs/compatibility.md). More cases, on every route: tests/http/contract.rs.
    let server = Server::start();
    let before = launched(&server, "badreq").await;
    let u = User::new(&server, "badreq", PAYMENT_VERSION);
    for (action, field) in [
        (json!({"type": ""}), "action.type"),
        (json!({"payload": "x"}), "action"),
        (json!(5), "action"),
        (json!("launch"), "action"),
        (json!({"type": 3}), "action.type"),
    ] {
        let r = u.post("/interact", &json!({ "action": action })).await;
        assert_validation(&r, field);
    }
    // The legacy `request` key is checked the same way.
    let r = u.post("/interact", &json!({"request": {"type": ""}})).await;
    assert_validation(&r, "request.type");
    assert_eq!(u.state().await, before);
}

#[tokio::test]
async fn logs_query_is_validated() {
    let server = Server::start();
    let u = User::new(&server, "logs", PAYMENT_VERSION);
    for level in ["off", "false", "true", "error", "warn", "info", "verbose"] {
        let r = u
            .post(
                &format!("/interact?logs={level}"),
                &json!({"action": {"type": "launch"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{level}: {}", r.text);
        assert!(r.json().is_array());
    }
    let r = u
        .post(
            "/interact?logs=loud",
            &json!({"action": {"type": "launch"}}),
        )
        .await;
    assert_validation(&r, "logs");
    let r = u
        .post(
            "/interact?locale=fr-FR&logs=off",
            &json!({"action": {"type": "launch"}}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn version_resolution_errors() {
    let server = Server::start();
    let url = server.url("/state/user/v/interact");
    let body = json!({"action": {"type": "launch"}});
    // No versionID header and no key.
    let r = send(Method::POST, &url, &[], Some(&body)).await;
    assert_verror(&r, 400, "Missing versionID in request");
    // An alias needs a key to know the project (three projects are loaded).
    let r = send(
        Method::POST,
        &url,
        &[("versionID", "production")],
        Some(&body),
    )
    .await;
    assert_verror(&r, 400, "Cannot resolve version alias");
    // A DM key that no configured key matches: the project cannot be looked up.
    let r = send(
        Method::POST,
        &url,
        &[("versionID", "development"), ("authorization", "VF.DM.x.y")],
        Some(&body),
    )
    .await;
    assert_verror(
        &r,
        400,
        "Cannot resolve project version, please verify that your API key is correct.",
    );
    let r = send(
        Method::POST,
        &url,
        &[("authorization", "VF.DM.x.y")],
        Some(&body),
    )
    .await;
    assert_verror(
        &r,
        400,
        "Cannot resolve project version, please verify that your API key is correct.",
    );
    // A `Bearer` key is not a DM key for aliases (reference quirk).
    let r = send(
        Method::POST,
        &url,
        &[
            ("versionID", "production"),
            ("authorization", "Bearer VF.DM.x.y"),
        ],
        Some(&body),
    )
    .await;
    assert_verror(&r, 400, "Cannot resolve version alias");
    // Unknown version id.
    let r = send(
        Method::POST,
        &url,
        &[("versionID", "64a1f0000000000000000099")],
        Some(&body),
    )
    .await;
    assert_verror(
        &r,
        400,
        "Could not resolve project with version ID 64a1f0000000000000000099",
    );
    // Same rules on the state and stateless routes.
    let r = send(Method::GET, &server.url("/state/user/v"), &[], None).await;
    assert_verror(&r, 400, "Missing versionID in request");
    let r = send(
        Method::POST,
        &server.url("/interact"),
        &[("versionID", "production")],
        Some(&body),
    )
    .await;
    assert_verror(&r, 400, "Cannot resolve version alias");
    let r = send(Method::GET, &server.url("/interact/nope/state"), &[], None).await;
    assert_verror(&r, 400, "Could not resolve project with version ID nope");
}

#[tokio::test]
async fn one_project_open_server_resolves_aliases_without_a_key() {
    let server = Server::builder().with_example("payment.vf").start();
    for alias in ["production", "development"] {
        let u = User::new(&server, alias, alias);
        let t = u.act(json!({"type": "launch"})).await;
        assert_eq!(messages(&t)[0], "Hi there! Welcome to the payment demo.");
    }
    // A DM key with no key configured: treated as development, like a local file.
    let r = send(
        Method::POST,
        &server.url("/state/user/k/interact"),
        &[("authorization", "VF.DM.any.thing")],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Still no versionID and no key → 400.
    let r = send(Method::GET, &server.url("/state/user/k"), &[], None).await;
    assert_verror(&r, 400, "Missing versionID in request");
}

#[tokio::test]
async fn public_routes_need_a_public_project() {
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .with_example("payment.vf")
        .start();
    let body = json!({"action": {"type": "launch"}});
    for project in ["nope", COUNTER_PROJECT] {
        for (method, path, body) in [
            (
                Method::POST,
                format!("/public/{project}/state/user/u/interact"),
                Some(body.clone()),
            ),
            (Method::GET, format!("/public/{project}/publishing"), None),
            (
                Method::POST,
                format!("/public/{project}/transcripts"),
                Some(json!({"sessionID": "s"})),
            ),
            (
                Method::POST,
                format!("/feedback/{project}/user/u"),
                Some(json!({"name": "x"})),
            ),
        ] {
            let r = send(method, &server.url(&path), &[], body.as_ref()).await;
            assert_verror(&r, 401, "no access to project");
        }
    }
    // Unknown versionID header on a public project.
    let r = send(
        Method::POST,
        &server.url(&format!("/public/{PAYMENT_PROJECT}/state/user/u/interact")),
        &[("versionID", "other")],
        Some(&body),
    )
    .await;
    assert_verror(&r, 400, "Could not resolve project with version ID other");
}

#[tokio::test]
async fn public_body_rules() {
    let server = Server::start();
    let url = server.url(&format!(
        "/public/{PAYMENT_PROJECT}/state/user/pub-bad/interact"
    ));
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    let before = User::new(&server, "pub-bad", PAYMENT_VERSION).state().await;
    for (body, field) in [
        (
            json!({"action": {"type": "launch"}, "state": {"variables": {}}}),
            "body",
        ),
        (json!({"request": {"type": "launch"}}), "body"),
        (
            json!({"action": {"type": "launch"}, "config": {"foo": true}}),
            "config",
        ),
        (
            json!({"action": {"type": "launch"}, "config": {"stopAll": "no"}}),
            "config.stopAll",
        ),
        (json!({"action": "launch"}), "action"),
    ] {
        let r = send(Method::POST, &url, &[], Some(&body)).await;
        assert_validation(&r, field);
    }
    assert_eq!(
        User::new(&server, "pub-bad", PAYMENT_VERSION).state().await,
        before
    );
}

#[tokio::test]
async fn transcript_and_feedback_validation() {
    let server = Server::start();
    let url = server.url(&format!("/public/{PAYMENT_PROJECT}/transcripts"));
    for (body, field) in [
        (json!({"os": "Linux"}), "sessionID"),
        (json!({"sessionID": 5}), "sessionID"),
        (json!({"sessionID": "s", "os": 1}), "os"),
        (json!({"sessionID": "s", "unread": "yes"}), "unread"),
        (json!({"sessionID": "s", "user": "me"}), "user"),
        (json!({"sessionID": "s", "hack": 1}), "body"),
    ] {
        let r = send(Method::POST, &url, &[], Some(&body)).await;
        assert_validation(&r, field);
    }
    let url = server.url(&format!("/feedback/{PAYMENT_PROJECT}/user/u"));
    for body in [json!({}), json!({"name": 1}), json!([])] {
        let r = send(Method::POST, &url, &[], Some(&body)).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json()["errors"].is_object());
    }
}

#[tokio::test]
async fn unknown_routes_are_404_error_objects() {
    let server = Server::start();
    let r = send(Method::GET, &server.url("/nope"), &[], None).await;
    assert_error_object(&r, 404, "Cannot GET /nope");
    let r = send(Method::DELETE, &server.url("/interact"), &[], None).await;
    assert_error_object(&r, 404, "Cannot DELETE /interact");
}

#[tokio::test]
async fn slow_request_gets_408_response_timeout() {
    let server = Server::builder().arg("--timeout-ms").arg("200").start();
    let addr = server.base.trim_start_matches("http://").to_string();
    let handle = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let head = format!(
            "POST /state/user/slow/interact HTTP/1.1\r\nHost: x\r\nversionID: {PAYMENT_VERSION}\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{{\"action\":"
        );
        s.write_all(head.as_bytes()).expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).to_string()
    });
    let answer = tokio::task::spawn_blocking(move || handle.join().expect("join"))
        .await
        .expect("task");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.ends_with("response timeout"), "{answer}");
}

/// Found by Schemathesis: a body of whitespace only was read as `{}` and accepted (200); like
/// body-parser, only an empty body is `{}`.
#[tokio::test]
async fn a_whitespace_only_body_is_400_and_an_empty_one_is_an_empty_object() {
    let server = Server::start();
    let hdr = [("Content-Type", "application/json")];
    let url = server.url(&format!("/state/{PAYMENT_VERSION}/user/ws-user/variables"));
    let r = send_raw(Method::PATCH, &url, &hdr, b"\n".to_vec()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = send_raw(Method::PATCH, &url, &hdr, Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
