//! The library of sub-flows in Redis (`REDIS_URL`): an entry created through one server is run
//! by another server's turns (its ~1 s generation poll) and by a server started afterwards; a
//! session inside the sub-flow finishes on the version it started after the entry changed.

use crate::support::custom_actions::*;
use crate::support::library::*;
use crate::support::redis_servers::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn server(url: &str, prefix: &str, actions: &Path, library: &Path) -> Server {
    Server::builder()
        .files(&[(
            "shop.vfr",
            shop("shop", "shop-v", 25, json!({ "currency": "USD" })),
        )])
        .args(&[
            "--redis",
            url,
            "--redis-prefix",
            prefix,
            "--admin-key",
            ADMIN_KEY,
            "--actions-dir",
            actions.to_str().unwrap(),
            "--library-dir",
            library.to_str().unwrap(),
        ])
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_entry_created_on_one_server_is_used_by_another_and_after_a_restart() {
    let Some(url) = redis_url("a_library_entry_created_on_one_server_is_used_by_another") else {
        return;
    };
    let prefix = unique_prefix("library");
    let (actions, library) = (actions_dir(), tempfile::tempdir().unwrap());
    let a = server(&url, &prefix, actions.path(), library.path());
    let b = server(&url, &prefix, actions.path(), library.path());
    let created = admin(
        &a,
        Method::POST,
        "/api/library",
        Some(&entry("confirm-order", "Confirm the order of ")),
    )
    .await;
    let id = data(&created, 201)["id"].as_str().unwrap().to_string();
    // The other process reads the store's generation about every second; until then the step
    // takes its default path.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    let ub = loop {
        n += 1;
        let u = User::new(&b, &format!("early{n}"), "shop-v");
        let said = messages(&u.act(json!({ "type": "launch" })).await);
        if said == ["Confirm the order of 25 USD?"] {
            break u;
        }
        assert_eq!(said, ["shop: cancelled."]);
        assert!(Instant::now() < deadline, "server b never saw the entry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A new version through server a; ub (inside version 1) finishes on it, on server b.
    let v2 = admin(
        &a,
        Method::PATCH,
        &format!("/api/library/{id}"),
        Some(&json!({ "config": { "source": export("Please confirm the order of ") } })),
    )
    .await;
    assert_eq!(data(&v2, 200)["version"], 2);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        n += 1;
        let u = User::new(&b, &format!("later{n}"), "shop-v");
        let said = messages(&u.act(json!({ "type": "launch" })).await);
        if said == ["Please confirm the order of 25 USD?"] {
            break;
        }
        assert_eq!(said, ["Confirm the order of 25 USD?"]);
        assert!(Instant::now() < deadline, "server b never saw version 2");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        messages(&ub.act(json!({ "type": YES })).await),
        ["shop: confirmed R-25."]
    );
    drop(a);
    drop(b);

    let c = server(&url, &prefix, actions.path(), library.path());
    let uc = User::new(&c, "after-restart", "shop-v");
    assert_eq!(
        messages(&uc.act(json!({ "type": "launch" })).await),
        ["Please confirm the order of 25 USD?"]
    );
    let versions = admin(
        &c,
        Method::GET,
        &format!("/api/library/{id}/versions"),
        None,
    )
    .await;
    assert_eq!(data(&versions, 200).as_array().unwrap().len(), 2);
}
