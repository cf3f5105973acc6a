//! The registry of custom actions in Redis (`REDIS_URL`): the store's behaviour, records kept
//! across a server restart, and two server processes sharing one Redis: an action created
//! through one is used by the other's turns (its ~1 s generation poll).

use crate::support::custom_actions::*;
use crate::support::redis_servers::*;
use crate::support::registry_scenario::registry_behaves;
use crate::support::server::*;
use flowdm::store::{RedisConfig, RedisRegistry};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

macro_rules! redis_or_skip {
    ($name:expr) => {
        match redis_url($name) {
            Some(u) => u,
            None => return,
        }
    };
}

fn server(url: &str, prefix: &str) -> Server {
    Server::builder()
        .files(&[("pay.vfr", pay_agent())])
        .args(&[
            "--redis",
            url,
            "--redis-prefix",
            prefix,
            "--admin-key",
            ADMIN_KEY,
        ])
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_registry_keeps_versions_by_kind() {
    let url = redis_or_skip!("the_redis_registry_keeps_versions_by_kind");
    let cfg = RedisConfig {
        urls: vec![url],
        prefix: unique_prefix("registry"),
        ..RedisConfig::default()
    };
    registry_behaves(&RedisRegistry::new(&cfg).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_created_on_one_server_is_used_by_another_and_after_a_restart() {
    let url = redis_or_skip!("an_action_created_on_one_server_is_used_by_another");
    let prefix = unique_prefix("actions");
    let a = server(&url, &prefix);
    let b = server(&url, &prefix);
    let ub = User::new(&b, "payer", "sav");
    assert_eq!(
        messages(&ub.act(json!({ "type": "launch" })).await),
        ["Payment pending."]
    );
    let created = admin(
        &a,
        Method::POST,
        "/api/custom-actions",
        Some(&js_pay("R-1")),
    )
    .await;
    let id = data(&created, 201)["id"].as_str().unwrap().to_string();
    // The other process reads the store's generation about every second.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let said = messages(&ub.act(json!({ "type": "launch" })).await);
        if said == ["Paid, receipt R-1."] {
            break;
        }
        assert_eq!(said, ["Payment pending."]);
        assert!(Instant::now() < deadline, "server b never saw the action");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both answer the same record.
    let got = data(
        &admin(&b, Method::GET, &format!("/api/custom-actions/{id}"), None).await,
        200,
    );
    assert_eq!(got["version"], 1);
    drop(a);
    drop(b);

    let c = server(&url, &prefix);
    let uc = User::new(&c, "payer2", "sav");
    assert_eq!(
        messages(&uc.act(json!({ "type": "launch" })).await),
        ["Paid, receipt R-1."]
    );
    let versions = admin(
        &c,
        Method::GET,
        &format!("/api/custom-actions/{id}/versions"),
        None,
    )
    .await;
    assert_eq!(data(&versions, 200).as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_the_api_answers_503_and_turns_keep_the_last_actions() {
    let Some(mut redis) = PrivateRedis::start("registry_redis_down") else {
        return;
    };
    let s = Server::builder()
        .files(&[("pay.vfr", pay_agent())])
        .args(&[
            "--redis",
            &redis.url(),
            "--redis-timeout-ms",
            "250",
            "--admin-key",
            ADMIN_KEY,
        ])
        .start();
    let created = admin(
        &s,
        Method::POST,
        "/api/custom-actions",
        Some(&js_pay("R-1")),
    )
    .await;
    let id = data(&created, 201)["id"].as_str().unwrap().to_string();
    redis.kill();
    error(
        &admin(&s, Method::GET, "/api/custom-actions", None).await,
        503,
        "unavailable",
    );
    error(
        &admin(
            &s,
            Method::POST,
            "/api/custom-actions",
            Some(&js_pay("R-2")),
        )
        .await,
        503,
        "unavailable",
    );
    // A stateless turn (no session in Redis) still runs the action of the last snapshot.
    let r = send(
        Method::POST,
        &s.url("/interact"),
        &[("versionID", "sav")],
        Some(&json!({ "action": { "type": "launch" } })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(messages(&r.json()["trace"]), ["Paid, receipt R-1."]);
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = admin(&s, Method::GET, &format!("/api/custom-actions/{id}"), None).await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "{}", r.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
