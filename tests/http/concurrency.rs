//! Turns of one user are serialised: concurrent interacts all apply, once each.

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_interacts_for_one_user_all_apply() {
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .arg("--workers")
        .arg("4")
        .start();
    let u = User::new(&server, "racer", COUNTER_VERSION);
    u.act(json!({"type": "launch"})).await;
    let url = server.url("/state/user/racer/interact");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        tasks.push(spawn_tick(url.clone()));
    }
    let mut said = BTreeSet::new();
    for t in tasks {
        let msgs = t.await.expect("join");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(
            said.insert(msgs[0].clone()),
            "a count was seen twice: {}",
            msgs[0]
        );
    }
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("count {n}")).collect();
    assert_eq!(said, expected);
    assert_eq!(u.state().await["variables"]["count"], json!(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_users_do_not_interfere() {
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .start();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let url = format!("{base}/state/user/user-{i}/interact");
            let hdr = [("versionID", COUNTER_VERSION)];
            send(
                Method::POST,
                &url,
                &hdr,
                Some(&json!({"action": {"type": "launch"}})),
            )
            .await;
            for _ in 0..=i % 5 {
                send(
                    Method::POST,
                    &url,
                    &hdr,
                    Some(&json!({"action": {"type": "tick"}})),
                )
                .await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    for i in 0..20 {
        let u = User::new(&server, &format!("user-{i}"), COUNTER_VERSION);
        assert_eq!(
            u.state().await["variables"]["count"],
            json!(i % 5 + 1),
            "user-{i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_and_interacts_lose_nothing() {
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .start();
    let u = User::new(&server, "mixed", COUNTER_VERSION);
    u.act(json!({"type": "launch"})).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let hdr = [("versionID", COUNTER_VERSION)];
            if i % 2 == 0 {
                let url = format!("{base}/state/user/mixed/interact");
                send(
                    Method::POST,
                    &url,
                    &hdr,
                    Some(&json!({"action": {"type": "tick"}})),
                )
                .await
            } else {
                let url = format!("{base}/state/user/mixed/variables");
                send(
                    Method::PATCH,
                    &url,
                    &hdr,
                    Some(&json!({ format!("p{i}"): i })),
                )
                .await
            }
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").status, 200);
    }
    let vars = u.state().await["variables"].clone();
    assert_eq!(vars["count"], json!(15));
    for i in (1..30).step_by(2) {
        assert_eq!(vars[format!("p{i}")], json!(i), "{vars}");
    }
}

/// The counter agent where the event `event` leads to `lines` (the first one named `first`).
fn counter_with(event: &str, first: &str, lines: serde_json::Value) -> String {
    let mut agent: serde_json::Value = serde_json::from_str(&counter_agent()).expect("json");
    let program = &mut agent["programs"]["c0ffeed00000000000000001"]["lines"];
    for (id, line) in lines.as_object().expect("lines") {
        program[id] = line.clone();
    }
    program["wait"]["interactions"]
        .as_array_mut()
        .expect("interactions")
        .push(json!({ "event": { "type": event }, "nextId": first }));
    agent.to_string()
}

/// The counter agent plus a `spin` event leading to two code steps that loop until the sandbox
/// stops them and lead to each other: a turn that runs until the engine's 15 s turn timeout.
fn spinning_agent() -> String {
    counter_with(
        "spin",
        "spin",
        json!({
            "spin": { "type": "code", "code": "while (true) {}", "success_id": "again", "fail_id": "again" },
            "again": { "type": "code", "code": "while (true) {}", "success_id": "spin", "fail_id": "spin" }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pathological_turn_does_not_block_other_requests() {
    // One HTTP worker: if the turn ran on it, nothing else could be answered meanwhile.
    let server = Server::builder()
        .files(&[("counter.vfr", spinning_agent())])
        .arg("--workers")
        .arg("1")
        .start();
    let spinner = User::new(&server, "spinner", COUNTER_VERSION);
    spinner.act(json!({"type": "launch"})).await;
    let url = server.url("/state/user/spinner/interact");
    let spin = tokio::spawn(async move {
        send(
            Method::POST,
            &url,
            &[("versionID", COUNTER_VERSION)],
            Some(&json!({"action": {"type": "spin"}, "config": {"excludeTypes": []}})),
        )
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Meanwhile, the same worker answers the health check and another user's whole turn.
    let health = send(Method::GET, &server.url("/health"), &[], None).await;
    assert_eq!(health.status, 200);
    let other = User::new(&server, "bystander", COUNTER_VERSION);
    other.act(json!({"type": "launch"})).await;
    assert_eq!(
        messages(&other.act(json!({"type": "tick"})).await),
        ["count 1"]
    );
    assert!(
        !spin.is_finished(),
        "the long turn should still be running while the others were answered"
    );
    // The long turn still ends, at the engine's limits, with a debug trace.
    let r = spin.await.expect("join");
    assert_eq!(r.status, 200, "{}", r.text);
    let traces = r.json();
    assert!(
        traces
            .as_array()
            .expect("traces")
            .iter()
            .any(|t| t["type"] == "debug"
                && t["payload"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("turn timeout"))),
        "{traces}"
    );
}

/// The counter agent plus a `slow` event: count + 1, then a code step that runs until the
/// sandbox's step limit (far longer than the 2 ms a turn may run on an HTTP worker), then
/// `count N`.
fn slow_agent() -> String {
    counter_with(
        "slow",
        "inc_slow",
        json!({
            "inc_slow": { "type": "set", "sets": [ { "variable": "count", "expression": "v['count'] + 1" } ], "nextId": "slow" },
            "slow": { "type": "code", "code": "while (true) {}", "success_id": "say", "fail_id": "say" }
        }),
    )
}

#[tokio::test]
async fn a_turn_moved_off_the_worker_is_applied_once() {
    // The turn starts on the HTTP worker, runs over its budget after `count + 1`, and runs
    // again from the stored state on the blocking pool: the count goes up by one, not two.
    let server = Server::builder()
        .files(&[("counter.vfr", slow_agent())])
        .start();
    let u = User::new(&server, "slowpoke", COUNTER_VERSION);
    u.act(json!({"type": "launch"})).await;
    assert_eq!(messages(&u.act(json!({"type": "slow"})).await), ["count 1"]);
    assert_eq!(messages(&u.act(json!({"type": "slow"})).await), ["count 2"]);
    assert_eq!(u.state().await["variables"]["count"], json!(2));
    // The same on the stateless route, where the state comes with the request.
    let url = server.url(&format!("/interact/{COUNTER_VERSION}"));
    let launch = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    let state = launch.json()["state"].clone();
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({"state": state, "action": {"type": "slow"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(messages(&r.json()["trace"]), ["count 1"]);
    assert_eq!(r.json()["state"]["variables"]["count"], json!(1));
}
