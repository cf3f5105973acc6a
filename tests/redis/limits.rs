//! Rate limits and conditional writes on the Redis store (`docs/limits.md`): two server
//! processes share one limit, a Redis that does not answer lets requests through (fail open),
//! and a session's `ETag` is the same from either process, so an `If-Match` written against one
//! is checked by the other.

use crate::support::redis_servers::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

macro_rules! redis_or_skip {
    ($name:expr) => {
        match redis_url($name) {
            Some(u) => u,
            None => return,
        }
    };
}

const V: (&str, &str) = ("versionID", COUNTER_VERSION);

fn server(url: &str, prefix: &str, extra: &[&str]) -> Server {
    counter_redis_server(url)
        .arg("--redis-prefix")
        .arg(prefix)
        .args(extra)
        .start()
}

async fn tick(s: &Server, user: &str) -> Resp {
    send(
        Method::POST,
        &s.url(&format!("/state/user/{user}/interact")),
        &[V],
        Some(&json!({"action": {"type": "tick"}})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_limit() {
    let url = redis_or_skip!("limits_shared");
    let prefix = unique_prefix("limits");
    let args = ["--rate-limit-user", "3/60", "--rate-limit-key", "5/60"];
    let s = [server(&url, &prefix, &args), server(&url, &prefix, &args)];
    // One user: three requests over both servers pass, the fourth is refused by either.
    for (i, remaining) in ["2", "1", "0"].iter().enumerate() {
        let r = tick(&s[i % 2], "shared").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some(*remaining));
    }
    for server in &s {
        let r = tick(server, "shared").await;
        assert_eq!(r.status, 429, "{}", r.text);
        assert_eq!(r.json()["data"], "Too Many Request");
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=20).contains(&retry), "{retry}");
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    }
    // The key bucket (here: the version, no Authorization) counted the 3 passing requests; those
    // refused for their user did not reach it. Two more pass (another user), then the key is
    // refused (the user "third" was counted first: 4 buckets in all).
    for server in &s {
        let r = tick(server, "other").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = tick(&s[0], "third").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
    // The buckets are hashed: no user id in the keys.
    let mut c = connect(&url);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}rate:*"))
        .query(&mut c)
        .unwrap();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| !k.contains("shared") && !k.contains("other")),
        "{keys:?}"
    );
    for k in &keys {
        let ttl: i64 = redis::cmd("PTTL").arg(k).query(&mut c).unwrap();
        assert!(ttl > 0 && ttl <= 60_000, "{k}: {ttl}");
    }
}

#[tokio::test]
async fn a_redis_that_does_not_answer_lets_requests_through() {
    // Nothing listens on this port: the limiter fails and the request passes (the stateless
    // route does not need the store).
    let url = format!("redis://127.0.0.1:{}", free_port());
    let s = server(
        &url,
        "fail-open:",
        &["--rate-limit-key", "1/60", "--redis-timeout-ms", "200"],
    );
    for _ in 0..3 {
        let r = send(Method::GET, &s.url("/interact/state"), &[V], None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_are_the_same_on_every_server() {
    let url = redis_or_skip!("etags_shared");
    let prefix = unique_prefix("etags");
    let s = [server(&url, &prefix, &[]), server(&url, &prefix, &[])];
    let r = tick(&s[0], "tagged").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t1 = r.header("etag").unwrap().to_string();
    let get = |i: usize| {
        let url = s[i].url("/state/user/tagged");
        async move { send(Method::GET, &url, &[V], None).await }
    };
    let g = get(1).await;
    assert_eq!(g.header("etag"), Some(t1.as_str()));
    let state = g.json();
    // An admin tool on server 1 writes with the tag; one on server 0 with the same (now stale)
    // tag is refused and changes nothing.
    let mut changed = state.clone();
    changed["variables"]["count"] = json!(100);
    let body = json!({"stack": changed["stack"], "storage": changed["storage"], "variables": changed["variables"]});
    let r = send(
        Method::PUT,
        &s[1].url("/state/user/tagged"),
        &[V, ("if-match", t1.as_str())],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t2 = r.header("etag").unwrap().to_string();
    assert_eq!(get(0).await.header("etag"), Some(t2.as_str()));
    let r = send(
        Method::PATCH,
        &s[0].url("/state/user/tagged/variables"),
        &[V, ("if-match", t1.as_str())],
        Some(&json!({"count": 5})),
    )
    .await;
    assert_eq!(r.status, 412, "{}", r.text);
    let g = get(0).await;
    assert_eq!(g.json()["variables"]["count"], 100);
    assert_eq!(g.header("etag"), Some(t2.as_str()));
    // If-None-Match: * does not overwrite the session another server created.
    let r = send(
        Method::PUT,
        &s[0].url("/state/user/tagged"),
        &[V, ("if-none-match", "*")],
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 412, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_if_match_writes_on_two_servers_one_wins() {
    let url = redis_or_skip!("etags_race");
    let prefix = unique_prefix("etag-race");
    let s = [server(&url, &prefix, &[]), server(&url, &prefix, &[])];
    let r = tick(&s[0], "raced").await;
    let tag = r.header("etag").unwrap().to_string();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (url, tag) = (s[i % 2].url("/state/user/raced/variables"), tag.clone());
            tokio::spawn(async move {
                let h = [V, ("if-match", tag.as_str())];
                (
                    i,
                    send(Method::PATCH, &url, &h, Some(&json!({"winner": i}))).await,
                )
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        match r.status {
            200 => winners.push(i),
            412 => assert_eq!(r.json()["code"], 412),
            other => panic!("{other}: {}", r.text),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let g = send(Method::GET, &s[1].url("/state/user/raced"), &[V], None).await;
    assert_eq!(g.json()["variables"]["winner"], json!(winners[0]));
}
