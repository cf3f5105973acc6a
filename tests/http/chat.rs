//! The chat pages (docs/clients.md § Chat page): `GET /`, `GET /chat/{projectID}`, the bundle
//! route of `--widget-bundle` / `--widget-url`, and the extensions script. The widget itself is
//! driven in Chromium by `tests/clients/run` (`tests/clients/chat-page.mjs`).

use crate::support::server::*;
use reqwest::Method;
use serde_json::Value;

async fn get(server: &Server, path: &str) -> Resp {
    send(Method::GET, &server.url(path), &[], None).await
}

fn content_type(r: &Resp) -> &str {
    r.header("content-type").unwrap_or("")
}

/// A temporary directory with a fake bundle file; `--widget-bundle` names it.
fn fake_bundle() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.js");
    std::fs::write(
        &path,
        "window.voiceflow = {chat: {load: function () {}}}; // fake",
    )
    .unwrap();
    let s = path.display().to_string();
    (dir, s)
}

/// A path where no bundle is.
fn missing_bundle() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let s = dir
        .path()
        .join("none")
        .join("bundle.js")
        .display()
        .to_string();
    (dir, s)
}

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(diagrams_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_index_lists_the_public_agents_with_escaped_names() {
    let mut catalogue = example("catalogue.vf");
    catalogue["project"]["name"] = "<b>Acme & \"Co\"</b>".into();
    let mut private = example("payment.vf");
    private["project"]["apiPrivacy"] = "private".into();
    private["project"]["name"] = "Secret agent".into();
    let server = Server::builder()
        .files(&[
            ("catalogue.vf", catalogue.to_string()),
            ("payment.vf", private.to_string()),
        ])
        .with_example("handoff.vf")
        .start();
    let r = get(&server, "/").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(content_type(&r).starts_with("text/html"), "{r:?}");
    assert!(r.text.contains("<meta charset=\"utf-8\">"), "{}", r.text);
    assert!(
        r.text
            .contains("&lt;b&gt;Acme &amp; &quot;Co&quot;&lt;/b&gt;"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("<b>Acme"), "{}", r.text);
    assert!(r
        .text
        .contains(&format!("href=\"/chat/{CATALOGUE_PROJECT}\"")));
    assert!(r.text.contains(CATALOGUE_PROJECT));
    assert!(r.text.contains("Human hand-off"), "{}", r.text);
    assert!(r
        .text
        .contains(&format!("href=\"/chat/{HANDOFF_PROJECT}\"")));
    // Not public: counted, neither named nor linked.
    assert!(!r.text.contains("Secret agent"), "{}", r.text);
    assert!(!r.text.contains(PAYMENT_PROJECT), "{}", r.text);
    assert!(r.text.contains("1 other loaded agent(s) are not public"));
}

#[tokio::test]
async fn the_index_of_the_examples() {
    let server = Server::start();
    let r = get(&server, "/").await;
    assert_eq!(r.status, 200);
    for (name, id) in [
        ("Payment demo", PAYMENT_PROJECT),
        ("Human hand-off", HANDOFF_PROJECT),
        ("Product catalogue", CATALOGUE_PROJECT),
    ] {
        assert!(r.text.contains(name), "{name}: {}", r.text);
        assert!(r.text.contains(&format!("/chat/{id}")), "{id}");
    }
}

#[tokio::test]
async fn the_chat_page_loads_the_bundle_and_calls_load() {
    let (_dir, bundle) = fake_bundle();
    let server = Server::builder()
        .args(&["--widget-bundle", &bundle])
        .start();
    let r = get(&server, &format!("/chat/{PAYMENT_PROJECT}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(content_type(&r).starts_with("text/html"), "{r:?}");
    assert!(content_type(&r).contains("charset=utf-8"), "{r:?}");
    assert!(r.text.contains("<meta charset=\"utf-8\">"));
    assert!(r.text.contains("<h1>Payment demo</h1>"), "{}", r.text);
    assert!(r
        .text
        .contains("<script src=\"/chat/assets/widget.js\"></script>"));
    assert!(r
        .text
        .contains("<script src=\"/chat/assets/extensions.js\"></script>"));
    assert!(
        r.text.contains("window.voiceflow.chat.load({"),
        "{}",
        r.text
    );
    assert!(r.text.contains("url: location.origin"));
    assert!(r.text.contains("mode: 'embedded'"));
    assert!(r.text.contains("autostart: true"));
    assert!(r.text.contains("persistence: 'localStorage'"));
    assert!(r.text.contains("extensions: window.flowdmChatExtensions"));
    assert!(
        r.text
            .contains(&format!("\"projectID\":\"{PAYMENT_PROJECT}\"")),
        "{}",
        r.text
    );
    assert!(r.text.contains("\"versionID\":\"production\""));
    assert!(r.text.contains("data:image/gif;base64,"), "no CDN avatar");
    assert!(!r.text.contains("cdn.voiceflow.com"));

    let b = get(&server, "/chat/assets/widget.js").await;
    assert_eq!(b.status, 200, "{}", b.text);
    assert!(
        content_type(&b).starts_with("application/javascript"),
        "{b:?}"
    );
    assert!(b.text.contains("// fake"));
}

#[tokio::test]
async fn an_unknown_project_is_404_and_a_private_one_401() {
    let mut private = example("payment.vf");
    private["project"]["apiPrivacy"] = "private".into();
    let server = Server::builder()
        .files(&[("payment.vf", private.to_string())])
        .start();
    let r = get(&server, "/chat/64a1f00000000000000000ff").await;
    assert_verror(&r, 404, "Project 64a1f00000000000000000ff not found");
    let r = get(&server, &format!("/chat/{PAYMENT_PROJECT}")).await;
    assert_verror(&r, 401, "no access to project");
    // The error is JSON (the server's usual shape), never an HTML page echoing the id.
    let r = get(&server, "/chat/%3Cscript%3E").await;
    assert_verror(&r, 404, "Project <script> not found");
    assert!(content_type(&r).starts_with("application/json"), "{r:?}");
}

#[tokio::test]
async fn a_missing_bundle_is_explained_on_the_page_and_404_on_its_route() {
    let (_dir, bundle) = missing_bundle();
    let server = Server::builder()
        .args(&["--widget-bundle", &bundle])
        .start();
    let r = get(&server, &format!("/chat/{CATALOGUE_PROJECT}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("not installed"), "{}", r.text);
    assert!(r.text.contains("scripts/clients"), "{}", r.text);
    assert!(!r.text.contains("/chat/assets/widget.js\"></script>"));
    let b = get(&server, "/chat/assets/widget.js").await;
    assert_eq!(b.status, 404, "{}", b.text);
    let body = b.json();
    assert_eq!(body["name"], "verror");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("scripts/clients"),
        "{body}"
    );
    assert!(!b.text.contains(&bundle), "the path is not disclosed");
}

#[tokio::test]
async fn widget_url_points_the_page_elsewhere() {
    let (_dir, bundle) = missing_bundle();
    let server = Server::builder()
        .args(&[
            "--widget-bundle",
            &bundle,
            "--widget-url",
            "https://cdn.example.com/react-chat/bundle.js?v=1&x=\"2\"",
        ])
        .start();
    let r = get(&server, &format!("/chat/{HANDOFF_PROJECT}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains(
            "<script src=\"https://cdn.example.com/react-chat/bundle.js?v=1&amp;x=&quot;2&quot;\"></script>"
        ),
        "{}",
        r.text
    );
    assert!(r.text.contains("window.voiceflow.chat.load({"));
    assert!(!r.text.contains("not installed"));
}

#[test]
fn a_widget_url_must_be_http_or_an_absolute_path() {
    for bad in [
        "javascript:alert(1)",
        "//evil.example/x.js",
        "bundle.js",
        "",
    ] {
        assert!(
            flowdm::cli::ServeArgs::parse_args(["--widget-url", bad]).is_err(),
            "{bad}"
        );
    }
    for good in [
        "http://127.0.0.1:9/b.js",
        "https://x.example/b.js",
        "/static/b.js",
    ] {
        let args = flowdm::cli::ServeArgs::parse_args(["--widget-url", good]).unwrap();
        assert_eq!(args.widget_url.as_deref(), Some(good));
    }
}

#[tokio::test]
async fn the_extensions_script_handles_the_payment_action() {
    let server = Server::start();
    let r = get(&server, "/chat/assets/extensions.js").await;
    assert_eq!(r.status, 200);
    assert!(
        content_type(&r).starts_with("application/javascript"),
        "{r:?}"
    );
    assert!(r.text.contains("window.flowdmChatExtensions"));
    assert!(r.text.contains("'Pay Credit Card'"));
    assert!(r.text.contains("window.voiceflow.chat.interact("));
}
