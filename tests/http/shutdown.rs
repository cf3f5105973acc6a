//! Graceful shutdown (`docs/operations.md`): on SIGTERM or SIGINT the server stops accepting,
//! lets the turns in flight finish and commit (their answers and streams complete), disconnects
//! socket clients after their running turns, and exits 0; a second signal stops at once. The
//! server runs as a process (signals are the process's); the Redis variant, with the commits and
//! locks checked on Redis, is in tests/redis/shutdown.rs.

use crate::socket::Io;
use crate::support::gated::{gated_stub, launch_two, two_calls_agent, wait_hits};
use crate::support::server::*;
use crate::support::traces::messages;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

fn process(base: &str, extra: &[&str]) -> Server {
    Server::builder()
        .files(&[("two.vfr", two_calls_agent(base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .args(extra)
        .start_process()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_turns_in_flight_finish_and_answer() {
    for signal in ["TERM", "INT"] {
        let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
        let mut server = process(&base, &["--shutdown-timeout", "20"]);
        // A classic turn and a streamed one, both held at their first API call.
        let url = server.url("");
        let classic = tokio::spawn(launch_two(url.clone(), "classic"));
        let streamed = tokio::spawn({
            let url = url.clone();
            async move {
                send(
                    Method::POST,
                    &format!("{url}/v2/project/twop/user/streamed/interact/stream"),
                    &[],
                    Some(&json!({"action": {"type": "launch"}})),
                )
                .await
            }
        });
        wait_hits(&hits, 2).await;
        server.signal(signal);
        // The listener closes: a new request is refused (its connection fails) or never served.
        let mut refused = false;
        for _ in 0..100 {
            let fresh = reqwest::Client::new()
                .get(format!("{url}/health"))
                .timeout(Duration::from_millis(300))
                .send()
                .await;
            if fresh.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(refused, "{signal}: still accepting");
        // The turns go on and answer whole.
        gate.add_permits(100);
        let r = classic.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(messages(&r.json()), ["one", "two", "three"]);
        let r = streamed.await.unwrap();
        assert_eq!(r.status, 200);
        assert!(
            r.text.contains("\"three\"") && r.text.contains("event: end"),
            "{}",
            r.text
        );
        let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
        assert_eq!(
            status.map(|s| s.success()),
            Some(true),
            "{signal}: {:?}\n{}",
            status,
            server.logs()
        );
        let logs = server.logs();
        assert!(logs.contains("shutting down"), "{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_timeout_bounds_the_wait_and_a_second_signal_stops_at_once() {
    let (base, _gate, hits) = gated_stub(json!({ "v": "x" })).await;
    // A turn that never gets its answer: the drain timeout (1 s) ends the wait.
    let mut server = process(&base, &["--shutdown-timeout", "1"]);
    let stuck = tokio::spawn(launch_two(server.url(""), "stuck"));
    wait_hits(&hits, 1).await;
    server.signal("TERM");
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    assert!(status.is_some(), "still running after its drain timeout");
    stuck.abort();

    // A second signal does not wait for the drain timeout (60 s here).
    let (base, _gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let mut server = process(&base, &["--shutdown-timeout", "60"]);
    let stuck = tokio::spawn(launch_two(server.url(""), "stuck"));
    wait_hits(&hits, 1).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    assert!(status.is_some(), "a second signal did not stop the server");
    stuck.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_clients_get_their_running_turn_then_a_disconnect() {
    let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let mut server = process(&base, &["--shutdown-timeout", "20"]);
    let mut io = Io::connect(&server).await;
    io.start_in("twop", "sock", None).await;
    io.emit("action", Some(json!({"action": {"type": "launch"}})))
        .await;
    wait_hits(&hits, 1).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.add_permits(100);
    // The running turn completes…
    let mut said = Vec::new();
    loop {
        let (name, data) = io.event().await;
        if name == "action" {
            assert_eq!(data["status"], "completed", "{data}");
            break;
        }
        if let Some(text) = data["trace"]["payload"]["message"].as_str() {
            said.push(text.to_string());
        }
    }
    assert_eq!(said, ["one", "two", "three"]);
    // …then engine.io's close packet (a client reconnects: to another server behind a load
    // balancer, with its session key).
    assert_eq!(io.packet().await, "1");
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
    assert_eq!(status.map(|s| s.success()), Some(true));
}
