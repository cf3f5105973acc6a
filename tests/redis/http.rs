//! The real server on the Redis store (`REDIS_URL`, started by `scripts/test`): two server
//! processes sharing one Redis serialise one user's turns (64 concurrent interacts, none lost or
//! applied twice), a busy session answers 409, `Idempotency-Key` retries are replayed by either
//! process, the state routes, transcripts and feedback live in Redis, the state cap, idle expiry.

use crate::support::redis_servers::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

macro_rules! redis_or_skip {
    ($name:expr) => {
        match redis_url($name) {
            Some(u) => u,
            None => return,
        }
    };
}

/// A server on the counter agent (and the example agents) using Redis under `prefix`.
fn server(url: &str, prefix: &str, extra: &[&str]) -> Server {
    counter_redis_server(url)
        .with_example("payment.vf")
        .arg("--redis-prefix")
        .arg(prefix)
        .args(extra)
        .start()
}

const V: (&str, &str) = ("versionID", COUNTER_VERSION);

async fn tick(s: &Server, user: &str, extra: &[(&str, &str)]) -> Resp {
    let mut h = vec![V];
    h.extend_from_slice(extra);
    send(
        Method::POST,
        &s.url(&format!("/state/user/{user}/interact")),
        &h,
        Some(&json!({"action": {"type": "tick"}})),
    )
    .await
}

async fn launch(s: &Server, user: &str) {
    let r = send(
        Method::POST,
        &s.url(&format!("/state/user/{user}/interact")),
        &[V],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn count(s: &Server, user: &str) -> Value {
    let r = send(
        Method::GET,
        &s.url(&format!("/state/user/{user}")),
        &[V],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["variables"]["count"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_sixty_four_concurrent_interacts_for_one_user() {
    let url = redis_or_skip!("two_servers_64");
    let prefix = unique_prefix("http64");
    let servers = [server(&url, &prefix, &[]), server(&url, &prefix, &[])];
    launch(&servers[0], "racer").await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut tasks = Vec::new();
    for i in 0..64 {
        let url = servers[i % 2].url("/state/user/racer/interact");
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("versionID", COUNTER_VERSION)
                .header("content-type", "application/json")
                .body(r#"{"action":{"type":"tick"}}"#)
                .send()
                .await
                .expect("sent");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("json body");
            (status, body)
        }));
    }
    let mut said = BTreeSet::new();
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.expect("join");
        match status {
            200 => {
                ok += 1;
                let m = messages(&body);
                assert_eq!(m.len(), 1, "{body}");
                assert!(
                    said.insert(m[0].clone()),
                    "a count was seen twice: {}",
                    m[0]
                );
            }
            // Allowed by the contract (nothing changed), not expected with a 10 s wait.
            409 => assert_eq!(body["code"], json!(409)),
            s => panic!("unexpected {s}: {body}"),
        }
    }
    let expected: BTreeSet<String> = (1..=ok).map(|n| format!("count {n}")).collect();
    assert_eq!(said, expected, "every successful turn saw a distinct count");
    assert_eq!(count(&servers[1], "racer").await, json!(ok));
    assert_eq!(
        ok, 64,
        "with the default 10 s lock wait every request gets its turn"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_session_answers_409_and_changes_nothing() {
    let url = redis_or_skip!("busy_409");
    let prefix = unique_prefix("busy");
    let s = server(&url, &prefix, &["--lock-wait-ms", "150"]);
    launch(&s, "busy").await;
    assert_eq!(tick(&s, "busy", &[]).await.status, 200);
    // Another process holds the lock (as a turn in progress would).
    let lock = format!("{prefix}{{{COUNTER_PROJECT}:busy}}:l");
    let mut c = connect(&url);
    let _: () = redis::cmd("SET")
        .arg(&lock)
        .arg("another-turn")
        .arg("PX")
        .arg(5000)
        .query(&mut c)
        .expect("SET");
    let started = std::time::Instant::now();
    let r = tick(&s, "busy", &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status, 409, "{}", r.text);
    let b = r.json();
    assert_eq!(b["code"], json!(409));
    assert_eq!(b["status"], json!("Conflict"));
    let data = b["data"].as_str().expect("data");
    assert!(data.starts_with("session is busy"), "{data}");
    assert!(data.contains("nothing was changed"), "{data}");
    // PATCH and DELETE wait for the lock too; reads do not.
    let r = send(Method::DELETE, &s.url("/state/user/busy"), &[V], None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(count(&s, "busy").await, json!(1));
    let _: () = redis::cmd("DEL").arg(&lock).query(&mut c).expect("DEL");
    let r = tick(&s, "busy", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(messages(&r.json()), vec!["count 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_are_replayed_by_either_server() {
    let url = redis_or_skip!("idempotency_http");
    let prefix = unique_prefix("idem-http");
    let a = server(&url, &prefix, &[]);
    let b = server(&url, &prefix, &[]);
    launch(&a, "idem").await;
    let first = tick(&a, "idem", &[("Idempotency-Key", "tick-1")]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    for s in [&a, &b, &a] {
        let again = tick(s, "idem", &[("Idempotency-Key", "tick-1")]).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.text, first.text, "the stored answer, byte for byte");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(count(&b, "idem").await, json!(1), "the turn ran once");
    // A new key runs a new turn.
    let second = tick(&b, "idem", &[("Idempotency-Key", "tick-2")]).await;
    assert_eq!(messages(&second.json()), vec!["count 2"]);
    // The same key on another request: 422, nothing run.
    let r = send(
        Method::POST,
        &a.url("/state/user/idem/interact"),
        &[V, ("Idempotency-Key", "tick-1")],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["code"], json!(422));
    assert_eq!(count(&a, "idem").await, json!(2));
    // Keys are per session: another user may use the same key.
    launch(&a, "other").await;
    let r = tick(&a, "other", &[("Idempotency-Key", "tick-1")]).await;
    assert_eq!(r.header("idempotent-replayed"), None);
    assert_eq!(messages(&r.json()), vec!["count 1"]);
    // A bad key is a 400 validation error.
    let long = "k".repeat(256);
    for bad in [long.as_str(), "has space"] {
        let r = tick(&a, "idem", &[("Idempotency-Key", bad)]).await;
        assert_validation(&r, "Idempotency-Key");
    }
    // PATCH is idempotent with a key too.
    for _ in 0..2 {
        let r = send(
            Method::PATCH,
            &b.url("/state/user/idem/variables"),
            &[V, ("Idempotency-Key", "patch-1")],
            Some(&json!({"note": "hi"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["variables"]["note"], json!("hi"));
    }
    // The public route (web widget) as well.
    let public = format!("/public/{PAYMENT_PROJECT}/state/user/widget/interact");
    let mut texts = Vec::new();
    for s in [&a, &b] {
        let r = send(
            Method::POST,
            &s.url(&public),
            &[("Idempotency-Key", "launch-1")],
            Some(&json!({"action": {"type": "launch"}})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        texts.push(r.text);
    }
    assert_eq!(texts[0], texts[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_on_the_memory_store_too() {
    let s = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .start();
    launch(&s, "mem").await;
    let first = tick(&s, "mem", &[("Idempotency-Key", "k")]).await;
    let again = tick(&s, "mem", &[("Idempotency-Key", "k")]).await;
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(count(&s, "mem").await, json!(1));
    let r = send(Method::GET, &s.url("/ready"), &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ready", "store": "memory"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_routes_transcripts_and_feedback_live_in_redis() {
    let url = redis_or_skip!("state_routes");
    let prefix = unique_prefix("routes");
    let a = server(&url, &prefix, &[]);
    let b = server(&url, &prefix, &[]);
    let r = send(Method::GET, &a.url("/ready"), &[], None).await;
    assert_eq!(r.json(), json!({"status": "ready", "store": "redis"}));
    // PUT on one server, GET on the other.
    let st = json!({"stack": [], "storage": {}, "variables": {"count": 41}});
    let r = send(Method::PUT, &a.url("/state/user/s"), &[V], Some(&st)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(count(&b, "s").await, json!(41));
    let r = send(
        Method::PATCH,
        &b.url("/state/user/s/variables"),
        &[V],
        Some(&json!({"count": 42})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(count(&a, "s").await, json!(42));
    let r = send(Method::POST, &a.url("/state/user/s"), &[V], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(count(&b, "s").await, json!(0));
    let r = send(Method::DELETE, &b.url("/state/user/s"), &[V], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(Method::GET, &a.url("/state/user/s"), &[V], None).await;
    assert_eq!(r.json(), json!({}));
    // Transcripts and feedback go to Redis.
    let r = send(
        Method::POST,
        &a.url(&format!("/public/{PAYMENT_PROJECT}/transcripts")),
        &[],
        Some(&json!({"sessionID": "sess-1", "os": "Linux"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["_id"].clone();
    let r = send(
        Method::POST,
        &b.url(&format!("/public/{PAYMENT_PROJECT}/transcripts")),
        &[],
        Some(&json!({"sessionID": "sess-1", "unread": true})),
    )
    .await;
    assert_eq!(
        r.json()["_id"],
        id,
        "one transcript per session, whichever server"
    );
    assert_eq!(r.json()["os"], json!("Linux"));
    let r = send(
        Method::POST,
        &b.url(&format!("/feedback/{PAYMENT_PROJECT}/user/u1")),
        &[],
        Some(&json!({"name": "Thumbs up"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut c = connect(&url);
    let doc: String = redis::cmd("HGET")
        .arg(format!("{prefix}{{{PAYMENT_PROJECT}}}:t"))
        .arg("sess-1")
        .query(&mut c)
        .expect("transcript in redis");
    assert!(doc.contains("\"unread\":true"), "{doc}");
    let fb: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{prefix}{{{PAYMENT_PROJECT}}}:f"))
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .expect("feedback in redis");
    assert_eq!(fb.len(), 1);
    assert!(fb[0].contains("Thumbs up"), "{}", fb[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_over_the_cap_answers_413_and_the_old_state_is_kept() {
    let url = redis_or_skip!("state_cap");
    let prefix = unique_prefix("cap-http");
    let s = server(&url, &prefix, &["--max-state-bytes", "6000"]);
    launch(&s, "big").await;
    assert_eq!(tick(&s, "big", &[]).await.status, 200);
    let r = send(
        Method::PATCH,
        &s.url("/state/user/big/variables"),
        &[V],
        Some(&json!({"pad": "x".repeat(8000)})),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.text);
    let b = r.json();
    assert_eq!(b["code"], json!(413));
    assert!(
        b["data"]
            .as_str()
            .is_some_and(|d| d.starts_with("session state too large") && d.contains("6000")),
        "{b}"
    );
    let r = send(Method::GET, &s.url("/state/user/big"), &[V], None).await;
    assert!(r.json()["variables"].get("pad").is_none(), "old state kept");
    // And the session is not left locked.
    let r = tick(&s, "big", &[]).await;
    assert_eq!(messages(&r.json()), vec!["count 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_turns_refresh_the_ttl() {
    let url = redis_or_skip!("session_ttl");
    let prefix = unique_prefix("ttl-http");
    let s = server(&url, &prefix, &["--session-ttl", "1"]);
    launch(&s, "ttl").await;
    let key = format!("{prefix}{{{COUNTER_PROJECT}:ttl}}:d");
    let mut c = connect(&url);
    let pttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut c).expect("PTTL");
    assert!(pttl > 0 && pttl <= 1000, "pttl {pttl}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(tick(&s, "ttl", &[]).await.status, 200);
    let pttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut c).expect("PTTL");
    assert!(pttl > 600, "refreshed by the turn: {pttl}");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = send(Method::GET, &s.url("/state/user/ttl"), &[V], None).await;
    assert_eq!(r.json(), json!({}), "expired");
}
