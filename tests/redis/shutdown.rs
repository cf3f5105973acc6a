//! Graceful shutdown on the Redis store (`REDIS_URL`): a server process gets SIGTERM with turns
//! in flight; they finish and commit (read back through another server), and the session locks
//! are free as soon as the process is gone — also for a turn its drain timeout cut short.

use crate::support::gated::{gated_stub, launch_two, two_calls_agent, wait_hits};
use crate::support::redis_servers::*;
use crate::support::server::*;
use crate::support::traces::messages;
use serde_json::json;
use std::time::Duration;

fn builder(base: &str, url: &str, prefix: &str) -> ServerBuilder {
    Server::builder()
        .files(&[("two.vfr", two_calls_agent(base))])
        .args(&[
            "--allow-outbound",
            "127.0.0.1/32",
            "--redis",
            url,
            "--redis-prefix",
            prefix,
        ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_commits_the_turns_in_flight_and_frees_their_locks() {
    let Some(url) = redis_url("shutdown commits") else {
        return;
    };
    let prefix = unique_prefix("shutdown");
    let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let mut server = builder(&base, &url, &prefix)
        .args(&["--shutdown-timeout", "20"])
        .start_process();
    let turns: Vec<_> = ["u1", "u2", "u3"]
        .into_iter()
        .map(|u| tokio::spawn(launch_two(server.url(""), u)))
        .collect();
    wait_hits(&hits, 3).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.add_permits(100);
    for t in turns {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(messages(&r.json()), ["one", "two", "three"]);
    }
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
    assert_eq!(status.map(|s| s.success()), Some(true), "{}", server.logs());

    // Every commit is in Redis, and no lock is left: another server, which waits at most
    // 200 ms for a lock, runs the next turn of each user at once.
    let other = builder(&base, &url, &prefix)
        .args(&["--lock-wait-ms", "200"])
        .start();
    for u in ["u1", "u2", "u3"] {
        let st = User::new(&other, u, "twov").state().await;
        assert_eq!(st["variables"]["a"], "x", "{st}");
        assert_eq!(st["variables"]["b"], "x", "{st}");
        let r = launch_two(other.url(""), u).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_cut_by_the_drain_timeout_leaves_its_session_unlocked_and_unchanged() {
    let Some(url) = redis_url("shutdown cut") else {
        return;
    };
    let prefix = unique_prefix("shutdown-cut");
    let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let mut server = builder(&base, &url, &prefix)
        .args(&["--shutdown-timeout", "1"])
        .start_process();
    let stuck = tokio::spawn(launch_two(server.url(""), "stuck"));
    wait_hits(&hits, 1).await;
    server.signal("TERM");
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    assert!(status.is_some(), "still running after its drain timeout");
    stuck.abort();
    gate.add_permits(100);
    // The lock TTL is 10 s; a lock left behind would make this turn wait, then 409.
    let other = builder(&base, &url, &prefix)
        .args(&["--lock-wait-ms", "200"])
        .start();
    let st = User::new(&other, "stuck", "twov").state().await;
    assert!(
        st["variables"].get("a").is_none(),
        "nothing committed: {st}"
    );
    let r = launch_two(other.url(""), "stuck").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(messages(&r.json()), ["one", "two", "three"]);
}
