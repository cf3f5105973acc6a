//! The Redis store against a three-node Redis Cluster (`REDIS_CLUSTER_URLS`, started by
//! `scripts/test` with `scripts/redis-cluster`): the same scenarios as a single node, sessions
//! spread over the nodes, and two servers with `--redis-cluster` serialising one user's turns.

use crate::scenarios::{self, config};
use crate::support::redis_servers::*;
use crate::support::server::*;
use flowdm::store::{hash_tag, RedisConfig, RedisStore, SessionStore};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

fn maker(urls: String, prefix: String, tweak: fn(&mut RedisConfig)) -> impl Fn() -> RedisStore {
    move || {
        let mut cfg = config(&urls, true, &prefix);
        tweak(&mut cfg);
        RedisStore::new(cfg).expect("store")
    }
}

macro_rules! cluster_or_skip {
    ($name:expr) => {
        match cluster_urls($name) {
            Some(u) => u,
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_turn_basics_and_version_check() {
    let urls = cluster_or_skip!("cluster_turn_basics");
    let make = maker(urls.clone(), unique_prefix("c-basics"), |_| {});
    let mut conn = connect_cluster(&urls);
    scenarios::turn_basics(&make, &mut conn).await;
    scenarios::version_check(&make, &mut conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_lock_idempotency_cap_and_crash() {
    let urls = cluster_or_skip!("cluster_lock");
    let make = maker(urls.clone(), unique_prefix("c-lock"), |c| {
        c.lock_ttl = Duration::from_millis(500)
    });
    scenarios::lock_across_stores(&make).await;
    scenarios::idempotency(&make).await;
    scenarios::idempotency_cap(&make).await;
    scenarios::size_cap(&make).await;
    scenarios::lock_ttl_and_late_commit(&make).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_concurrent_increments_and_transcripts() {
    let urls = cluster_or_skip!("cluster_increments");
    let make = maker(urls.clone(), unique_prefix("c-incr"), |_| {});
    scenarios::concurrent_increments(&make, 64).await;
    scenarios::transcripts_and_feedback(&make, "proj-ct").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_spread_over_the_nodes_one_slot_each() {
    let urls = cluster_or_skip!("cluster_spread");
    let prefix = unique_prefix("c-spread");
    let s = maker(urls.clone(), prefix.clone(), |_| {})();
    for i in 0..24 {
        let k = scenarios::key(&format!("user-{i}"));
        let txn = scenarios::begin(&s, &k).await.expect("begin");
        s.commit(txn, Some(scenarios::state_with(i)))
            .await
            .expect("commit");
        let keys = s.session_keys(&k);
        let all = [
            keys.state.clone(),
            keys.version.clone(),
            keys.lock.clone(),
            keys.idempotency_order.clone(),
            keys.staged_state("t"),
            keys.record("k"),
        ];
        let tags: BTreeSet<&str> = all.iter().map(|k| hash_tag(k)).collect();
        assert_eq!(tags.len(), 1, "one hash tag per session");
    }
    // Count this test's keys on every node: more than one node holds some.
    let mut nodes_with_keys = 0;
    for url in urls.split(',') {
        let mut c = connect(url);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut c)
            .expect("KEYS");
        if !keys.is_empty() {
            nodes_with_keys += 1;
        }
    }
    assert!(nodes_with_keys >= 2, "24 sessions all on one node");
    for i in 0..24 {
        let st = s
            .get(&scenarios::key(&format!("user-{i}")))
            .await
            .expect("get")
            .expect("state");
        assert_eq!(scenarios::n_of(&st), i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_the_cluster_serialise_one_users_turns() {
    let urls = cluster_or_skip!("cluster_http");
    let prefix = unique_prefix("c-http");
    let start = || {
        counter_redis_server(&urls)
            .arg("--redis-cluster")
            .arg("--redis-prefix")
            .arg(&prefix)
            .start()
    };
    let servers = [start(), start()];
    let hdr = [("versionID", COUNTER_VERSION)];
    let r = send(
        Method::POST,
        &servers[0].url("/state/user/racer/interact"),
        &hdr,
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(Method::GET, &servers[1].url("/ready"), &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut tasks = Vec::new();
    for i in 0..32 {
        tasks.push(spawn_tick(servers[i % 2].url("/state/user/racer/interact")));
    }
    let mut said = BTreeSet::new();
    for t in tasks {
        let m = t.await.expect("join");
        assert_eq!(m.len(), 1);
        assert!(said.insert(m[0].clone()), "seen twice: {}", m[0]);
    }
    let expected: BTreeSet<String> = (1..=32).map(|n| format!("count {n}")).collect();
    assert_eq!(said, expected);
    let r = send(
        Method::GET,
        &servers[1].url("/state/user/racer"),
        &hdr,
        None,
    )
    .await;
    assert_eq!(r.json()["variables"]["count"], json!(32));
}
