//! Public routes (web widget) and CORS.

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

const ORIGIN: &str = "http://127.0.0.1:8791";

#[tokio::test]
async fn cors_preflight_and_headers_on_every_route() {
    let server = Server::start();
    for (path, method, req_headers) in [
        (
            format!("/public/{PAYMENT_PROJECT}/publishing"),
            "GET",
            "content-type,versionid",
        ),
        (
            format!("/public/{PAYMENT_PROJECT}/state/user/u/interact"),
            "POST",
            "content-type,versionid",
        ),
        (
            format!("/public/{PAYMENT_PROJECT}/state/user/u/interact"),
            "POST",
            "content-type,sessionid,versionid",
        ),
        (
            "/state/user/u/interact".to_string(),
            "POST",
            "authorization,content-type,sessionid,versionid",
        ),
        (
            "/state/user/u/variables".to_string(),
            "PATCH",
            "authorization,content-type,versionid",
        ),
        (
            "/state/user/u".to_string(),
            "DELETE",
            "authorization,versionid",
        ),
        (
            format!("/interact/{PAYMENT_VERSION}"),
            "POST",
            "content-type,sessionid,platform",
        ),
    ] {
        let r = send(
            Method::OPTIONS,
            &server.url(&path),
            &[
                ("Origin", ORIGIN),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", req_headers),
            ],
            None,
        )
        .await;
        assert!(
            r.status == 200 || r.status == 204,
            "{path}: {} {}",
            r.status,
            r.text
        );
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{path}"
        );
        assert_eq!(
            r.header("access-control-allow-credentials"),
            Some("true"),
            "{path}"
        );
        let allowed = r
            .header("access-control-allow-headers")
            .unwrap_or("")
            .to_ascii_lowercase();
        for h in req_headers.split(',') {
            assert!(allowed.contains(h), "{path}: {h} not in {allowed}");
        }
        let methods = r.header("access-control-allow-methods").unwrap_or("");
        assert!(methods.contains(method), "{path}: {methods}");
    }
    // Actual requests (success and error) carry the CORS headers too.
    let r = send(
        Method::GET,
        &server.url(&format!("/public/{PAYMENT_PROJECT}/publishing")),
        &[("Origin", ORIGIN)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = send(
        Method::GET,
        &server.url("/public/nope/publishing"),
        &[("Origin", "https://other.example")],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://other.example")
    );
}

#[tokio::test]
async fn public_interact_wraps_traces_and_shares_the_session() {
    let server = Server::start();
    let url = server.url(&format!(
        "/public/{PAYMENT_PROJECT}/state/user/widget-1/interact"
    ));
    let r = send(
        Method::POST,
        &url,
        &[("versionID", "production")],
        Some(&json!({"action": {"type": "launch"}, "config": {"tts": false}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b.as_object().map(|o| o.len()), Some(1), "only `trace`: {b}");
    let t = normalize(b["trace"].clone());
    assert_eq!(types(&t), ["text", "text", "choice", "no-reply"]);
    // `logs` and `verbose` are ignored on the public route.
    let r = send(
        Method::POST,
        &format!("{url}?verbose=true&logs=loud"),
        &[],
        Some(&json!({"action": {"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = normalize(r.json()["trace"].clone());
    assert_eq!(types(&t), ["path", "Pay Credit Card"]);
    // The stateful API sees the same session (one session per project and user).
    let st = User::new(&server, "widget-1", PAYMENT_VERSION)
        .state()
        .await;
    assert_eq!(st["stack"][1]["nodeID"], json!("64a101000000000000000006"));
    let r = send(Method::POST, &url, &[], Some(&json!({"action": {"type": "success"}, "config": {"stopTypes": [], "stopAll": false, "stripSSML": true, "selfDelegate": false, "excludeTypes": ["block"]}}))).await;
    assert_eq!(
        messages(&normalize(r.json()["trace"].clone())),
        ["Payment of $25 received. Thank you!"]
    );
}

#[tokio::test]
async fn publishing_transcripts_feedback() {
    let server = Server::start();
    let r = send(
        Method::GET,
        &server.url(&format!("/public/{CATALOGUE_PROJECT}/publishing")),
        &[
            ("versionID", "production"),
            ("content-type", "application/json"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let p = r.json();
    assert!(p["title"].is_string(), "{p}");
    assert!(p["description"].is_string(), "{p}");

    let url = server.url(&format!("/public/{CATALOGUE_PROJECT}/transcripts"));
    let r = send(Method::POST, &url, &[], Some(&json!({"os": "Linux", "browser": "Chrome", "device": "desktop", "sessionID": "cors-user"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let first = r.json();
    assert_eq!(first["sessionID"], json!("cors-user"));
    assert_eq!(first["projectID"], json!(CATALOGUE_PROJECT));
    assert_eq!(first["reportTags"], json!([]));
    assert_eq!(first["os"], json!("Linux"));
    assert!(
        first["_id"].as_str().is_some_and(|s| s.len() == 24),
        "{first}"
    );
    let created = first["createdAt"].as_str().expect("createdAt").to_string();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert!(first["updatedAt"].is_string());

    std::thread::sleep(std::time::Duration::from_millis(5));
    let r = send(Method::POST, &url, &[], Some(&json!({"sessionID": "cors-user", "unread": true, "user": {"name": "Ada", "image": "x.png"}}))).await;
    let second = r.json();
    assert_eq!(
        second["_id"], first["_id"],
        "upsert by (project, sessionID)"
    );
    assert_eq!(second["createdAt"], first["createdAt"]);
    assert_ne!(second["updatedAt"], first["updatedAt"]);
    assert_eq!(second["os"], json!("Linux"), "earlier fields kept");
    assert_eq!(second["unread"], json!(true));
    assert_eq!(second["user"], json!({"name": "Ada", "image": "x.png"}));
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({"sessionID": "other"})),
    )
    .await;
    assert_ne!(r.json()["_id"], first["_id"]);

    let r = send(
        Method::POST,
        &server.url(&format!("/feedback/{CATALOGUE_PROJECT}/user/cors-user")),
        &[("versionID", "production")],
        Some(&json!({"name": "Thumbs up", "text": ["hi"], "lastUserTurn": null})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({}));
}

#[tokio::test]
async fn allowed_public_origins() {
    let server = Server::builder()
        .arg("--public-origins")
        .arg("https://shop.example,http://127.0.0.1:8791")
        .start();
    let url = server.url(&format!("/public/{PAYMENT_PROJECT}/publishing"));
    let r = send(
        Method::GET,
        &url,
        &[("Origin", "https://evil.example")],
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.text, "Forbidden: Invalid Origin");
    let r = send(Method::GET, &url, &[], None).await;
    assert_eq!(r.status, 403);
    let r = send(
        Method::GET,
        &url,
        &[("Origin", "https://shop.example")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        Method::POST,
        &server.url(&format!("/public/{PAYMENT_PROJECT}/state/user/o/interact")),
        &[("Origin", ORIGIN)],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200);
}
