//! The Redis session store against a real Redis (`REDIS_URL`, started by `scripts/test`): turns,
//! the lock across stores (= processes), lost-update freedom, idempotency, expiry, the state
//! cap, a crashed lock holder, the version check, transcripts and feedback, round trips.

use crate::scenarios::{self, config};
use crate::support::redis_servers::*;
use flowdm::store::{RedisConfig, RedisStore, SessionStore, StoreError};
use std::time::Duration;

fn maker(url: String, prefix: String, tweak: fn(&mut RedisConfig)) -> impl Fn() -> RedisStore {
    move || {
        let mut cfg = config(&url, false, &prefix);
        tweak(&mut cfg);
        RedisStore::new(cfg).expect("store")
    }
}

macro_rules! redis_or_skip {
    ($name:expr) => {
        match redis_url($name) {
            Some(u) => u,
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_basics() {
    let url = redis_or_skip!("turn_basics");
    let make = maker(url.clone(), unique_prefix("basics"), |_| {});
    scenarios::turn_basics(&make, &mut connect(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_across_stores() {
    let url = redis_or_skip!("lock_across_stores");
    scenarios::lock_across_stores(&maker(url, unique_prefix("lock"), |_| {})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_increments_over_two_stores() {
    let url = redis_or_skip!("concurrent_increments");
    scenarios::concurrent_increments(&maker(url, unique_prefix("incr"), |_| {}), 64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_responses_are_replayed() {
    let url = redis_or_skip!("idempotency");
    let make = maker(url, unique_prefix("idem"), |_| {});
    scenarios::idempotency(&make).await;
    scenarios::idempotency_cap(&make).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_and_feedback() {
    let url = redis_or_skip!("transcripts_and_feedback");
    let prefix = unique_prefix("transcripts");
    scenarios::transcripts_and_feedback(&maker(url, prefix, |_| {}), "proj-t").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_over_the_cap_are_refused() {
    let url = redis_or_skip!("size_cap");
    scenarios::size_cap(&maker(url, unique_prefix("cap"), |_| {})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_lock_holder_blocks_only_until_the_lock_ttl() {
    let url = redis_or_skip!("lock_ttl");
    let make = maker(url, unique_prefix("crash"), |c| {
        c.lock_ttl = Duration::from_millis(500)
    });
    scenarios::lock_ttl_and_late_commit(&make).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lock_outlives_its_ttl() {
    let url = redis_or_skip!("renew");
    let make = maker(url, unique_prefix("renew"), |c| {
        c.lock_ttl = Duration::from_millis(300)
    });
    scenarios::renewed_lock_outlives_its_ttl(&make).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_version_checked() {
    let url = redis_or_skip!("version_check");
    let make = maker(url.clone(), unique_prefix("version"), |_| {});
    scenarios::version_check(&make, &mut connect(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire() {
    let url = redis_or_skip!("expiry");
    let make = maker(url.clone(), unique_prefix("ttl"), |c| {
        c.session_ttl = Some(Duration::from_millis(300))
    });
    let s = make();
    let k = scenarios::key("expires");
    let txn = scenarios::begin(&s, &k).await.expect("begin");
    s.commit(txn, Some(scenarios::state_with(1)))
        .await
        .expect("commit");
    // Every turn refreshes the TTL: keep the session alive past its TTL with turns.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let txn = scenarios::begin(&s, &k).await.expect("begin");
        let st = txn.state.clone().expect("still there");
        s.commit(txn, Some(st)).await.expect("commit");
    }
    assert!(s.get(&k).await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.get(&k).await, Ok(None), "expired after 300 ms idle");
    // No expiry configured: no TTL.
    let make = maker(url.clone(), unique_prefix("nottl"), |c| {
        c.session_ttl = None
    });
    let s = make();
    let txn = scenarios::begin(&s, &k).await.expect("begin");
    s.commit(txn, Some(scenarios::state_with(1)))
        .await
        .expect("commit");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&s.session_keys(&k).state)
        .query(&mut connect(&url))
        .expect("PTTL");
    assert_eq!(ttl, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_session_is_reported_and_unlocked() {
    let url = redis_or_skip!("corrupt");
    let make = maker(url.clone(), unique_prefix("corrupt"), |_| {});
    let s = make();
    let k = scenarios::key("bad");
    let keys = s.session_keys(&k);
    let _: () = redis::cmd("MSET")
        .arg(&keys.version)
        .arg("1")
        .arg(&keys.state)
        .arg("{not json")
        .query(&mut connect(&url))
        .expect("MSET");
    for _ in 0..2 {
        match scenarios::begin(&s, &k).await {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("not a state"), "{m}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
    assert!(matches!(s.get(&k).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn bad_configurations_are_refused_without_echoing_the_url() {
    let mut cfg = config("redis://user:hunter2@127.0.0.1:1", false, "p:");
    cfg.urls = vec!["http://user:hunter2@example".into()];
    let e = RedisStore::new(cfg.clone()).expect_err("bad scheme");
    assert!(!e.contains("hunter2"), "{e}");
    cfg.urls = vec!["redis://127.0.0.1:1".into(), "redis://127.0.0.1:2".into()];
    assert!(RedisStore::new(cfg.clone())
        .expect_err("two urls")
        .contains("--redis-cluster"));
    cfg.urls = vec!["redis://127.0.0.1:1".into()];
    cfg.prefix = "a{b}".into();
    assert!(RedisStore::new(cfg).expect_err("prefix").contains("prefix"));
}

#[tokio::test]
async fn an_unreachable_redis_answers_unavailable_quickly() {
    // Nothing listens on this port (bound and released).
    let port = free_port();
    let mut cfg = config(&format!("redis://127.0.0.1:{port}"), false, "p:");
    cfg.timeout = Duration::from_millis(300);
    let s = RedisStore::new(cfg).expect("store");
    let k = scenarios::key("down");
    let started = std::time::Instant::now();
    for _ in 0..3 {
        match s
            .begin(
                &k,
                flowdm::store::BeginOptions::wait(Duration::from_secs(5)),
            )
            .await
        {
            Err(StoreError::Unavailable(m)) => assert!(!m.contains(&port.to_string()), "{m}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert!(matches!(s.ready().await, Err(StoreError::Unavailable(_))));
        assert!(matches!(s.get(&k).await, Err(StoreError::Unavailable(_))));
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.queued_sessions(), 0);
}
