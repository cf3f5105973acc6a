//! The routes of the newer web chat (sdk-runtime 1.69.1, widget-next): widget settings and
//! setup, transcript end and download, feedback, and the log sink (docs/clients.md).

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

const EXAMPLE: &str = "catalogue.vf";

fn catalogue() -> Server {
    Server::builder().with_example(EXAMPLE).start()
}

fn catalogue_doc() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("diagrams")
            .join(EXAMPLE),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The catalogue example with `version.settings.widget` added.
fn catalogue_with_widget(widget: Value) -> Server {
    let mut doc = catalogue_doc();
    let version = doc["version"].as_object_mut().unwrap();
    let settings = version.entry("settings").or_insert_with(|| json!({}));
    if !settings.is_object() {
        *settings = json!({});
    }
    settings["widget"] = widget;
    Server::builder()
        .files(&[(EXAMPLE, doc.to_string())])
        .start()
}

async fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Resp {
    send(Method::GET, &server.url(path), headers, None).await
}

async fn post(server: &Server, path: &str, body: Value) -> Resp {
    send(Method::POST, &server.url(path), &[], Some(&body)).await
}

fn not_found(r: &Resp) {
    assert_eq!(r.status, 404, "{}", r.text);
    let b = r.json();
    assert_eq!(b["name"], "verror", "{b}");
    assert!(b["message"].as_str().unwrap().contains("not found"), "{b}");
}

#[tokio::test]
async fn settings_from_publishing_and_defaults() {
    let server = catalogue();
    let path = format!("/v2/public/{CATALOGUE_PROJECT}/settings/widget");
    for headers in [&[][..], &[("versionID", "production")][..]] {
        let r = get(&server, &path, headers).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let s = r.json();
        assert_eq!(s["type"], "chat");
        assert_eq!(s["chat"]["banner"]["title"], "Product catalogue");
        assert_eq!(
            s["chat"]["banner"]["description"],
            "Browse three products in a carousel, buy one, get an order card."
        );
        assert_eq!(s["chat"]["renderMode"], "widget");
        assert_eq!(s["common"]["position"], "right");
        assert_eq!(s["common"]["sideSpacing"], "24");
        assert_eq!(s["common"]["primaryColor"]["color"], "#387DFF");
        assert_eq!(s["common"]["persistence"], "localStorage");
    }
    let r = get(&server, &path, &[("versionID", "nope")]).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn settings_from_the_export_win() {
    let server = catalogue_with_widget(json!({
        "type": "chat",
        "chat": {"banner": {"title": "Shop helper"}, "placeholderText": "Ask me"},
        "common": {"primaryColor": {"color": "#F1552E"}, "position": "left"}
    }));
    let r = get(
        &server,
        &format!("/v2/public/{CATALOGUE_PROJECT}/settings/widget"),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = r.json();
    assert_eq!(s["chat"]["banner"]["title"], "Shop helper");
    assert_eq!(s["chat"]["placeholderText"], "Ask me");
    assert_eq!(s["common"]["primaryColor"]["color"], "#F1552E");
    assert_eq!(s["common"]["position"], "left");
    // Defaults fill what the export leaves out.
    assert_eq!(s["common"]["persistence"], "localStorage");
    assert!(s["chat"]["banner"]["description"].is_string(), "{s}");
}

#[tokio::test]
async fn setup_answers_settings_and_version() {
    let server = catalogue();
    let path = format!("/v2/public/{CATALOGUE_PROJECT}/widget/setup");
    let r = post(&server, &path, json!({"clientID": "c-1"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["versionID"], CATALOGUE_VERSION);
    assert_eq!(b["environmentID"], Value::Null);
    assert_eq!(b["versionVariant"], Value::Null);
    assert_eq!(
        b["settings"]["chat"]["banner"]["title"],
        "Product catalogue"
    );
    let r = post(
        &server,
        &path,
        json!({"clientID": "c-1", "environmentID": "production", "versionVariant": "published"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["versionID"], CATALOGUE_VERSION);
    assert_eq!(b["environmentID"], "production");
    assert_eq!(b["versionVariant"], "published");
    // Bad bodies.
    for body in [
        json!({}),
        json!({"clientID": 3}),
        json!({"clientID": "c", "versionVariant": "latest"}),
        json!({"clientID": "c", "environmentID": false}),
        json!([1]),
    ] {
        let r = post(&server, &path, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json()["errors"].is_object(), "{}", r.text);
    }
    let r = post(
        &server,
        &path,
        json!({"clientID": "c", "environmentID": "v-unknown"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn unknown_project_is_404_on_every_widget_route() {
    let server = catalogue();
    not_found(&get(&server, "/v2/public/nope/settings/widget", &[]).await);
    not_found(
        &post(
            &server,
            "/v2/public/nope/widget/setup",
            json!({"clientID": "c"}),
        )
        .await,
    );
    not_found(&post(&server, "/transcripts/end/project/nope/user/u1", json!({})).await);
    not_found(
        &post(
            &server,
            "/v2/public/nope/transcripts/download",
            json!({"userID": "u1"}),
        )
        .await,
    );
    not_found(
        &post(
            &server,
            "/v1alpha1/webchat-log/nope",
            json!({"message": "x"}),
        )
        .await,
    );
}

#[tokio::test]
async fn transcript_end_and_download() {
    let server = catalogue();
    let r = post(
        &server,
        &format!("/public/{CATALOGUE_PROJECT}/transcripts"),
        json!({"sessionID": "w-user", "os": "Linux", "browser": "Chrome", "device": "desktop"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        Method::POST,
        &server.url(&format!(
            "/transcripts/end/project/{CATALOGUE_PROJECT}/user/w-user"
        )),
        &[("versionID", "production")],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({}));
    let download = format!("/v2/public/{CATALOGUE_PROJECT}/transcripts/download");
    let fetch = || async {
        send(
            Method::POST,
            &server.url(&download),
            &[("versionID", "production")],
            Some(&json!({"userID": "w-user", "sessionKey": "k"})),
        )
        .await
    };
    // A user without a conversation: no messages.
    let r = fetch().await;
    assert!(r.text.contains("(No messages"), "{}", r.text);
    // After a launch on the public route, the messages the session remembers are in it.
    let launched = send(
        Method::POST,
        &server.url(&format!(
            "/public/{CATALOGUE_PROJECT}/state/user/w-user/interact"
        )),
        &[("versionID", "production")],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    let said = crate::support::traces::messages(&launched.json()["trace"]);
    assert!(!said.is_empty(), "{}", launched.text);
    let r = fetch().await;
    assert!(r.text.contains("Messages (the latest"), "{}", r.text);
    assert!(
        r.text.contains(&format!("Agent: {}", said[0])),
        "{}",
        r.text
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let cd = r.header("content-disposition").unwrap();
    assert!(
        cd.contains("attachment") && cd.contains("filename=\""),
        "{cd}"
    );
    assert!(r.text.contains("Agent: Product catalogue"), "{}", r.text);
    assert!(r.text.contains("Session: w-user"), "{}", r.text);
    assert!(r.text.contains("Browser: Chrome"), "{}", r.text);
    assert!(r.text.contains("Ended: "), "{}", r.text);
    for body in [json!({}), json!({"userID": 1}), json!("x")] {
        let r = send(Method::POST, &server.url(&download), &[], Some(&body)).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
}

#[tokio::test]
async fn feedback_as_the_new_sdk_sends_it() {
    let server = catalogue();
    let r = send(
        Method::POST,
        &server.url(&format!("/feedback/{CATALOGUE_PROJECT}/user/w-user")),
        &[("versionID", "production"), ("versionVariant", "published")],
        Some(&json!({"name": "Thumbs down", "text": ["hi"], "lastUserTurn": null})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({}));
    let r = post(
        &server,
        &format!("/feedback/{CATALOGUE_PROJECT}/user/w-user"),
        json!({"text": ["no name"]}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn log_sink_validates_and_stores_nothing() {
    let server = catalogue();
    let path = format!("/v1alpha1/webchat-log/{CATALOGUE_PROJECT}");
    let download = format!("/v2/public/{CATALOGUE_PROJECT}/transcripts/download");
    let entry = json!({
        "source": "widget",
        "message": "secret user text",
        "version": "1.69.1",
        "additionalProperties": {
            "date": 1, "error": {"name": "Error", "message": "boom", "stack": "at x"},
            "status": 500, "hostname": "shop.example", "userAgent": "Mozilla/5.0"
        }
    });
    let r = post(&server, &path, entry).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({}));
    // Nothing was stored: no transcript appeared for anyone.
    let r = post(&server, &download, json!({"userID": "shop.example"})).await;
    assert!(!r.text.contains("Started:"), "{}", r.text);
    assert!(!r.text.contains("secret"), "{}", r.text);
    // Bad shapes and sizes.
    for body in [
        json!([1, 2]),
        json!({"message": 5}),
        json!({"source": {"a": 1}}),
        json!({"additionalProperties": "x"}),
    ] {
        let r = post(&server, &path, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let big = json!({"message": "x".repeat(20 * 1024)});
    let r = post(&server, &path, big).await;
    assert_eq!(r.status, 413, "{}", r.text);
}

#[tokio::test]
async fn widget_routes_answer_cors_preflights() {
    let server = catalogue();
    for (path, method) in [
        (
            format!("/v2/public/{CATALOGUE_PROJECT}/settings/widget"),
            "GET",
        ),
        (
            format!("/v2/public/{CATALOGUE_PROJECT}/widget/setup"),
            "POST",
        ),
        (format!("/v1alpha1/webchat-log/{CATALOGUE_PROJECT}"), "POST"),
    ] {
        let r = send(
            Method::OPTIONS,
            &server.url(&path),
            &[
                ("Origin", "http://127.0.0.1:8791"),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", "content-type,versionid"),
            ],
            None,
        )
        .await;
        assert!(r.status < 300, "{path}: {}", r.status);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("http://127.0.0.1:8791")
        );
    }
}

#[tokio::test]
async fn log_sink_logs_labels_not_contents() {
    let server = Server::builder()
        .with_example(EXAMPLE)
        .env("RUST_LOG", "flowdm=debug")
        .start_process();
    let r = post(
        &server,
        &format!("/v1alpha1/webchat-log/{CATALOGUE_PROJECT}"),
        json!({
            "source": "widget<script>",
            "message": "user-typed-SECRET-9f1c",
            "version": "1.69.1",
            "additionalProperties": {"hostname": "private-host-7d2e", "userAgent": "UA-4b8a",
                "error": {"message": "err-text-1a2b", "stack": "stack-3c4d"}}
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let logs = server.wait_for_log("webchat log entry");
    assert!(logs.contains("source=widgetscript"), "{logs}");
    assert!(logs.contains("version=1.69.1"), "{logs}");
    for secret in [
        "SECRET-9f1c",
        "private-host-7d2e",
        "UA-4b8a",
        "err-text-1a2b",
        "stack-3c4d",
    ] {
        assert!(!logs.contains(secret), "{secret} logged: {logs}");
    }
}

#[tokio::test]
async fn private_projects_and_other_origins_are_refused() {
    let mut doc = catalogue_doc();
    doc["project"]["apiPrivacy"] = json!("private");
    let server = Server::builder()
        .files(&[(EXAMPLE, doc.to_string())])
        .start();
    let r = get(
        &server,
        &format!("/v2/public/{CATALOGUE_PROJECT}/settings/widget"),
        &[],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.json()["message"], "no access to project");
    let r = post(
        &server,
        &format!("/v1alpha1/webchat-log/{CATALOGUE_PROJECT}"),
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);

    let server = Server::builder()
        .with_example(EXAMPLE)
        .arg("--public-origins")
        .arg("https://shop.example")
        .start();
    let path = format!("/v2/public/{CATALOGUE_PROJECT}/widget/setup");
    let body = json!({"clientID": "c"});
    let r = send(
        Method::POST,
        &server.url(&path),
        &[("Origin", "https://evil.example")],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = send(
        Method::POST,
        &server.url(&path),
        &[("Origin", "https://shop.example")],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
