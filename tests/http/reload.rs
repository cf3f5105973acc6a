//! Hot reload (`docs/reload.md`): a changed, added or removed agent file loads without a
//! restart (`POST /admin/reload`, and the folder's watcher); a file that fails keeps the
//! previous version; sessions stay on the revision they started on, new sessions and launches
//! get the new one.

use crate::support::server::*;
use crate::support::traces::messages;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ADMIN: &str = "reload-admin-key";
const PAY: &str = "path-64a1b0000000000000000001";

fn payment(v: &str) -> String {
    let text = std::fs::read_to_string(diagrams_dir().join("payment.vf")).expect("payment.vf");
    text.replace(
        "\" received. Thank you!\"",
        &format!("\" {v}. Thank you!\""),
    )
}

/// A server of a copy of the payment agent, reloaded by the admin route alone (`watch`: also by
/// the folder's watcher).
fn server_with(watch: bool) -> (Server, std::path::PathBuf) {
    let mut builder = Server::builder()
        .files(&[("payment.vf", payment("received"))])
        .args(&["--admin-key", ADMIN, "--registry-db", ":memory:"]);
    if !watch {
        builder = builder.arg("--no-watch");
    }
    let dir = builder.temp_path().expect("temp dir");
    (builder.start(), dir)
}

fn server() -> (Server, std::path::PathBuf) {
    server_with(false)
}

async fn reload(server: &Server) -> Value {
    let r = send(
        Method::POST,
        &server.url("/admin/reload"),
        &[("authorization", &format!("Bearer {ADMIN}"))],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["data"].clone()
}

/// Launch, then the "Pay $25" button: the payment action stops the turn.
async fn to_the_stop(u: &User<'_>) {
    u.act(json!({"type": "launch"})).await;
    let t = u
        .act(json!({"type": PAY, "payload": {"label": "Pay $25"}}))
        .await;
    assert_eq!(t[1]["type"], "Pay Credit Card", "{t}");
}

#[tokio::test]
async fn a_session_stays_on_its_revision_and_new_sessions_get_the_new_one() {
    let (server, dir) = server();
    let old = User::new(&server, "before", PAYMENT_VERSION);
    to_the_stop(&old).await;
    let before = old.state().await["storage"]["flowdm:revision"].clone();
    assert!(before.is_string(), "the session records its revision");

    std::fs::write(dir.join("payment.vf"), payment("accepted")).unwrap();
    let report = reload(&server).await;
    assert_eq!(
        report["agents"]["loaded"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(report["agents"]["retired"], 1, "{report}");

    // The session that started before the change finishes on its revision.
    let t = old.act(json!({"type": "success"})).await;
    assert_eq!(messages(&t), ["Payment of $25 received. Thank you!"]);
    // A new session runs the new one.
    let new = User::new(&server, "after", PAYMENT_VERSION);
    to_the_stop(&new).await;
    let t = new.act(json!({"type": "success"})).await;
    assert_eq!(messages(&t), ["Payment of $25 accepted. Thank you!"]);
    let after = new.state().await["storage"]["flowdm:revision"].clone();
    assert_ne!(before, after);
    // A launch starts the old session's conversation anew, on the new revision.
    to_the_stop(&old).await;
    let t = old.act(json!({"type": "success"})).await;
    assert_eq!(messages(&t), ["Payment of $25 accepted. Thank you!"]);
    assert_eq!(old.state().await["storage"]["flowdm:revision"], after);
}

#[tokio::test]
async fn a_file_that_fails_keeps_the_previous_version_and_says_why() {
    let (server, dir) = server();
    std::fs::write(dir.join("payment.vf"), "{ not json").unwrap();
    let report = reload(&server).await;
    let failed = report["agents"]["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0]["file"].as_str().unwrap().ends_with("payment.vf"));
    assert!(!failed[0]["error"].as_str().unwrap().is_empty());
    let u = User::new(&server, "still", PAYMENT_VERSION);
    to_the_stop(&u).await;
    let t = u.act(json!({"type": "success"})).await;
    assert_eq!(messages(&t), ["Payment of $25 received. Thank you!"]);
    // Unchanged files are not compiled again.
    std::fs::write(dir.join("payment.vf"), payment("received")).unwrap();
    let report = reload(&server).await;
    assert_eq!(report["agents"]["unchanged"], 1, "{report}");
    assert_eq!(report["agents"]["loaded"], json!([]), "{report}");
}

#[tokio::test]
async fn added_and_removed_files_come_and_go() {
    let (server, dir) = server();
    let catalogue = std::fs::read_to_string(diagrams_dir().join("catalogue.vf")).unwrap();
    std::fs::write(dir.join("catalogue.vf"), catalogue).unwrap();
    let report = reload(&server).await;
    assert_eq!(
        report["agents"]["loaded"][0]["projectID"], CATALOGUE_PROJECT,
        "{report}"
    );
    let t = User::new(&server, "shopper", CATALOGUE_VERSION)
        .act(json!({"type": "launch"}))
        .await;
    assert!(!messages(&t).is_empty(), "{t}");
    // The OpenAPI document names the new project.
    let doc = send(Method::GET, &server.url("/openapi.yaml"), &[], None).await;
    assert!(doc.text.contains(CATALOGUE_PROJECT));

    std::fs::remove_file(dir.join("catalogue.vf")).unwrap();
    let report = reload(&server).await;
    assert_eq!(
        report["agents"]["removed"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    let r = User::new(&server, "shopper2", CATALOGUE_VERSION)
        .raw(
            Method::POST,
            "/interact",
            Some(&json!({"action": {"type": "launch"}})),
        )
        .await;
    assert!(r.status >= 400 && r.status < 500, "{} {}", r.status, r.text);
}

#[tokio::test]
async fn the_reload_route_needs_the_admin_key() {
    let (server, _dir) = server();
    for headers in [vec![], vec![("authorization", "Bearer wrong")]] {
        let r = send(Method::POST, &server.url("/admin/reload"), &headers, None).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
}

#[tokio::test]
async fn the_watcher_reloads_a_changed_file() {
    let (server, dir) = server_with(true);
    std::fs::write(dir.join("payment.vf"), payment("watched")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    loop {
        n += 1;
        let u = User::new(&server, &format!("watch-{n}"), PAYMENT_VERSION);
        to_the_stop(&u).await;
        let said = messages(&u.act(json!({"type": "success"})).await);
        if said == ["Payment of $25 watched. Thank you!"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not reloaded within 15 s: {said:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
