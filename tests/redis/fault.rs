//! Faults, on a private `redis-server` each test starts itself (an fsync'ed append-only file, so
//! a killed server comes back with every acknowledged write):
//!
//! * Redis is killed in the middle of a load on two servers and started again: every request
//!   answers 200 or 503 (409 when a session waits out a lock left by the crash), service resumes
//!   without restarting flowdm, and — each client retrying a failed request with its
//!   `Idempotency-Key` before sending the next, as a client should — every user's answers are
//!   exactly `count 1..n` and its stored count is n, the number of distinct requests: no turn
//!   lost, none applied twice, no session corrupted.
//! * The same with Redis frozen (SIGSTOP: slow, not down) instead of killed.
//! * A server started while Redis is down connects by itself when it comes up.
//! * Round trips per turn, counted by Redis itself (`INFO commandstats`): two pipelines.

use crate::support::redis_servers::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn server(url: &str, extra: &[&str]) -> Server {
    counter_redis_server(url).args(extra).start_process()
}

/// Short timeouts so the test sees failures and recovery quickly.
const FAULT_ARGS: [&str; 6] = [
    "--redis-timeout-ms",
    "250",
    "--redis-lock-ttl-ms",
    "1500",
    "--lock-wait-ms",
    "2000",
];

/// Answers replayed from an idempotency record (a retry of a request that was applied although
/// its answer was a 503), over all tests of this file.
static REPLAYED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Starts `user`'s session; it must answer 200.
async fn launch(c: &reqwest::Client, base: &str, user: &str) {
    let r = c
        .post(format!("{base}/state/user/{user}/interact"))
        .header("versionID", COUNTER_VERSION)
        .header("content-type", "application/json")
        .body(r#"{"action":{"type":"launch"}}"#)
        .send()
        .await
        .expect("launch");
    assert_eq!(r.status(), 200);
}

/// One tick with an idempotency key: (status, body). Counts replayed answers in `REPLAYED`.
async fn tick(c: &reqwest::Client, base: &str, user: &str, key: &str) -> (u16, Value) {
    let r = c
        .post(format!("{base}/state/user/{user}/interact"))
        .header("versionID", COUNTER_VERSION)
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(r#"{"action":{"type":"tick"}}"#)
        .send()
        .await
        .expect("the server answers (it never crashes)");
    let status = r.status().as_u16();
    if r.headers().contains_key("idempotent-replayed") {
        REPLAYED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!(text));
    (status, body)
}

#[derive(Default, Debug)]
struct UserLog {
    /// Every idempotency key sent, in order.
    keys: Vec<String>,
    /// Keys still failing (503/409) when the load ended (retried after it).
    failed: Vec<String>,
    /// key → the count its 200 answer said.
    said: BTreeMap<String, String>,
    ok_after_recovery: usize,
    unavailable: usize,
    busy: usize,
}

/// `users` sequential clients over two servers during `load`; `fault` runs meanwhile. Then
/// every failed request is retried with its key, and counts are checked.
async fn load_with_fault(
    bases: [String; 2],
    users: usize,
    load: Duration,
    fault: impl std::future::Future<Output = Instant> + Send + 'static,
) -> Vec<UserLog> {
    let c = client();
    for u in 0..users {
        launch(&c, &bases[0], &format!("user-{u}")).await;
    }
    let recovered_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let fault_done = recovered_at.clone();
    let fault = tokio::spawn(async move {
        let t = fault.await;
        *fault_done.lock().expect("lock") = Some(t);
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..users {
        let c = c.clone();
        let bases = bases.clone();
        let recovered_at = recovered_at.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("user-{u}");
            let mut log = UserLog::default();
            let mut seq = 0;
            while started.elapsed() < load {
                let key = format!("{user}-{seq}");
                seq += 1;
                log.keys.push(key.clone());
                // Like a client: on 503 / 409, retry the same request (same key) before the next.
                let mut attempt = 0;
                loop {
                    let base = &bases[(seq + attempt) % 2];
                    attempt += 1;
                    let (status, body) = tick(&c, base, &user, &key).await;
                    match status {
                        200 => {
                            let m = messages(&body);
                            assert_eq!(m.len(), 1, "{body}");
                            log.said.insert(key.clone(), m[0].clone());
                            if recovered_at.lock().expect("lock").is_some() {
                                log.ok_after_recovery += 1;
                            }
                            break;
                        }
                        503 => {
                            assert_eq!(body["code"], json!(503), "{body}");
                            let data = body["data"].as_str().unwrap_or_default();
                            assert!(data.starts_with("session store unavailable"), "{body}");
                            log.unavailable += 1;
                        }
                        409 => {
                            assert_eq!(body["code"], json!(409), "{body}");
                            log.busy += 1;
                        }
                        s => panic!("unexpected status {s}: {body}"),
                    }
                    if started.elapsed() >= load {
                        log.failed.push(key.clone());
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            log
        }));
    }
    let mut logs = Vec::new();
    for t in tasks {
        logs.push(t.await.expect("join"));
    }
    fault.await.expect("fault");
    // Retry the requests still failing when the load ended, with their keys, until they answer.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (u, log) in logs.iter_mut().enumerate() {
        let user = format!("user-{u}");
        for key in std::mem::take(&mut log.failed) {
            loop {
                let (status, body) = tick(&c, &bases[1], &user, &key).await;
                if status == 200 {
                    let m = messages(&body);
                    assert_eq!(m.len(), 1, "{body}");
                    log.said.insert(key, m[0].clone());
                    break;
                }
                assert!(
                    matches!(status, 409 | 503),
                    "unexpected {status} on retry: {body}"
                );
                assert!(Instant::now() < deadline, "{key} never succeeded: {body}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    // Every request applied exactly once: the answers are exactly count 1..=n and the stored
    // count is n.
    for (u, log) in logs.iter().enumerate() {
        let n = log.keys.len();
        assert_eq!(log.said.len(), n, "user-{u}: every request answered");
        let said: BTreeSet<&String> = log.said.values().collect();
        let expected: Vec<String> = (1..=n).map(|i| format!("count {i}")).collect();
        assert_eq!(
            said,
            expected.iter().collect::<BTreeSet<_>>(),
            "user-{u}: a count missing or repeated"
        );
        let r = c
            .get(format!("{}/state/user/user-{u}", bases[0]))
            .header("versionID", COUNTER_VERSION)
            .send()
            .await
            .expect("get");
        let st: Value = r.json().await.expect("state");
        assert_eq!(st["variables"]["count"], json!(n), "user-{u}");
    }
    logs
}

/// Prints what the load saw; returns the 503 answers and the 200 answers after recovery.
fn summary(logs: &[UserLog]) -> (usize, usize) {
    let (sent, unavailable, busy, ok_after) = logs.iter().fold((0, 0, 0, 0), |a, l| {
        (
            a.0 + l.keys.len(),
            a.1 + l.unavailable,
            a.2 + l.busy,
            a.3 + l.ok_after_recovery,
        )
    });
    eprintln!(
        "sent {sent}, 503 {unavailable}, 409 {busy}, 200 after Redis came back {ok_after}, replayed so far {}",
        REPLAYED.load(std::sync::atomic::Ordering::Relaxed)
    );
    (unavailable, ok_after)
}

/// Two servers on the Redis at `url` with the short fault timeouts, and their base URLs.
fn fault_servers(url: &str) -> ([Server; 2], [String; 2]) {
    let servers = [server(url, &FAULT_ARGS), server(url, &FAULT_ARGS)];
    let bases = [servers[0].base.clone(), servers[1].base.clone()];
    (servers, bases)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_mid_load_then_back_no_turn_lost_or_doubled() {
    let Some(redis) = PrivateRedis::start("redis_killed_mid_load") else {
        return;
    };
    let (servers, bases) = fault_servers(&redis.url());
    let redis = Arc::new(std::sync::Mutex::new(redis));
    let r2 = redis.clone();
    let fault = async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        r2.lock().expect("lock").kill();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        r2.lock().expect("lock").restart();
        Instant::now()
    };
    let logs = load_with_fault(bases.clone(), 6, Duration::from_millis(3500), fault).await;
    let (unavailable, ok_after) = summary(&logs);
    assert!(unavailable > 0, "the outage was seen");
    assert!(ok_after > 0, "service resumed without restarting flowdm");
    for s in &servers {
        let r = send(Method::GET, &s.url("/ready"), &[], None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!s.logs().contains("panicked"), "{}", s.logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_frozen_mid_load_answers_503_then_recovers_no_turn_lost_or_doubled() {
    let Some(redis) = PrivateRedis::start("redis_frozen_mid_load") else {
        return;
    };
    let (servers, bases) = fault_servers(&redis.url());
    let redis = Arc::new(redis);
    let r2 = redis.clone();
    let fault = async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        r2.pause();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        r2.resume();
        Instant::now()
    };
    let logs = load_with_fault(bases, 6, Duration::from_millis(3500), fault).await;
    let (unavailable, ok_after) = summary(&logs);
    assert!(unavailable > 0, "the freeze was seen");
    assert!(ok_after > 0, "service resumed");
    for s in &servers {
        assert!(!s.logs().contains("panicked"), "{}", s.logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_while_redis_is_down_connects_when_it_comes_up() {
    let Some(mut redis) = PrivateRedis::start("started_while_down") else {
        return;
    };
    redis.kill();
    let s = server(&redis.url(), &["--redis-timeout-ms", "250"]);
    let r = send(Method::GET, &s.url("/ready"), &[], None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json()["code"], json!(503));
    let c = client();
    let (status, _) = tick(&c, &s.base, "late", "k1").await;
    assert_eq!(status, 503);
    redis.restart();
    let started = Instant::now();
    loop {
        let r = send(Method::GET, &s.url("/ready"), &[], None).await;
        if r.status == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{}", r.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = send(
        Method::POST,
        &s.url("/state/user/late/interact"),
        &[("versionID", COUNTER_VERSION)],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (status, body) = tick(&c, &s.base, "late", "k1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(messages(&body), vec!["count 1"]);
}

/// Calls per command from `INFO commandstats`.
fn commandstats(c: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(c)
        .expect("INFO");
    info.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("cmdstat_")?;
            let (name, stats) = rest.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_two_redis_round_trips() {
    let Some(redis) = PrivateRedis::start("round_trips") else {
        return;
    };
    let s = server(&redis.url(), &[]);
    let c = client();
    launch(&c, &s.base, "rt").await;
    let mut conn = redis.connect();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut conn)
        .expect("RESETSTAT");
    const TURNS: u64 = 50;
    for i in 0..TURNS {
        let r = c
            .post(format!("{}/state/user/rt/interact", s.base))
            .header("versionID", COUNTER_VERSION)
            .header("content-type", "application/json")
            .header("Idempotency-Key", format!("t{i}"))
            .body(r#"{"action":{"type":"tick"}}"#)
            .send()
            .await
            .expect("tick");
        assert_eq!(r.status(), 200);
    }
    let stats = commandstats(&mut conn);
    // Commands run inside the commit script are listed too (GET, RENAME, INCR, PEXPIRE, DEL,
    // …), but SET, PSETEX and EVALSHA only ever come from the client: each begin pipeline sends
    // exactly one SET (the lock), each commit pipeline exactly one EVALSHA (after one PSETEX of
    // the state and one of the response to remember). So the round trips are SET + EVALSHA.
    let calls = |c: &str| stats.get(c).copied().unwrap_or(0);
    assert_eq!(
        calls("set"),
        TURNS,
        "one begin pipeline per turn: {stats:?}"
    );
    assert_eq!(
        calls("evalsha"),
        TURNS,
        "one commit pipeline per turn: {stats:?}"
    );
    assert_eq!(calls("psetex"), 2 * TURNS, "{stats:?}");
    assert_eq!((calls("set") + calls("evalsha")) / TURNS, 2);
    for absent in [
        "ping",
        "eval",
        "script|load",
        "hello",
        "client|setinfo",
        "hget",
        "hset",
    ] {
        assert_eq!(stats.get(absent), None, "{absent} in {stats:?}");
    }
}
