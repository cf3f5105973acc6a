//! Exactly-once resume of a client-handled stop across two `flowdm serve` processes sharing one
//! Redis (`docs/custom-actions.md` § "Resuming a stop"): concurrent duplicate resumes — the
//! client's, naming the stop, and the server-to-server route's — sent to both processes are
//! applied once, and every duplicate of a kind gets the same bytes.

use crate::support::redis_servers::*;
use crate::support::server::*;
use crate::support::stops::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A `flowdm serve` process (the built binary) on the stops agent, Redis under `prefix`.
fn process(url: &str, prefix: &str) -> Server {
    Server::builder()
        .files(&[("stops.vfr", stops_agent())])
        .args(&["--redis", url, "--redis-prefix", prefix, "--workers", "2"])
        .start_process()
}

async fn post(url: String, headers: Vec<(String, String)>, body: Value) -> (u16, String) {
    let mut rb = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        rb = rb.header(k, v);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn all_equal(answers: &[(u16, String)]) -> &(u16, String) {
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    &answers[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_apply_concurrent_duplicate_resumes_once() {
    let Some(url) = redis_url("stops_two_processes") else {
        return;
    };
    let prefix = unique_prefix("stops");
    let servers = [process(&url, &prefix), process(&url, &prefix)];

    // The client's resume naming the stop, 32 times at once, alternating processes.
    let id = launch_stop(&servers[0], "racer").await["stopID"]
        .as_str()
        .unwrap()
        .to_string();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let url = servers[i % 2].url("/state/user/racer/interact");
            let headers = vec![("versionID".to_string(), STOPS_VERSION.to_string())];
            tokio::spawn(post(url, headers, resume_body(&id)))
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let (_, body) = all_equal(&answers);
    assert_eq!(messages(&serde_json::from_str(body).unwrap()), ["Paid 1."]);
    assert_eq!(paid_count(&servers[1], "racer").await, json!(1));

    // The server-to-server resume, 16 times at once on both processes, while the client
    // also resumes the stop through both.
    let trace = launch_stop(&servers[1], "hook").await;
    let id = trace["stopID"].as_str().unwrap().to_string();
    let path = trace["resume"]["url"].as_str().unwrap().to_string();
    let token = trace["resume"]["token"].as_str().unwrap().to_string();
    let mut hooks = Vec::new();
    let mut clients = Vec::new();
    for i in 0..16 {
        let auth = vec![("authorization".to_string(), format!("Bearer {token}"))];
        hooks.push(tokio::spawn(post(
            servers[i % 2].url(&path),
            auth,
            json!({ "type": "success" }),
        )));
        let headers = vec![("versionID".to_string(), STOPS_VERSION.to_string())];
        clients.push(tokio::spawn(post(
            servers[(i + 1) % 2].url("/state/user/hook/interact"),
            headers,
            resume_body(&id),
        )));
    }
    let mut hook_answers = Vec::new();
    for t in hooks {
        hook_answers.push(t.await.unwrap());
    }
    let mut client_answers = Vec::new();
    for t in clients {
        client_answers.push(t.await.unwrap());
    }
    let (_, hook) = all_equal(&hook_answers);
    let hook: Value = serde_json::from_str(hook).unwrap();
    assert_eq!(hook["status"], json!("resumed"));
    assert_eq!(hook["event"], json!("success"));
    let (_, client) = all_equal(&client_answers);
    // Whichever came first ran the turn; the client sees its continuation either way.
    assert_eq!(
        messages(&serde_json::from_str(client).unwrap()),
        ["Paid 1."]
    );
    assert_eq!(paid_count(&servers[0], "hook").await, json!(1));
}
