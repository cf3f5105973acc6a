//! Store-level scenarios run against a single Redis (`tests/redis/store.rs`) and a Redis
//! Cluster (`tests/redis/cluster.rs`). `make` builds a new store on the same Redis and prefix:
//! two stores are two server processes as far as Redis can tell (separate connections, separate
//! in-process queues).

use flowdm::engine::State;
use flowdm::store::{
    BeginOptions, Begun, RedisConfig, RedisStore, SessionKey, SessionStore, SessionTxn, StoreError,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings for tests: short timeouts so failures show quickly.
pub fn config(urls: &str, cluster: bool, prefix: &str) -> RedisConfig {
    RedisConfig {
        urls: urls.split(',').map(str::to_string).collect(),
        cluster,
        prefix: prefix.to_string(),
        session_ttl: Some(Duration::from_secs(600)),
        lock_ttl: Duration::from_secs(10),
        timeout: Duration::from_secs(2),
        max_state_bytes: 64 * 1024,
        connections: 2,
        wait_replicas: 0,
    }
}

pub fn key(u: &str) -> SessionKey {
    SessionKey::new("proj-1", u)
}

pub const WAIT: Duration = Duration::from_secs(10);

pub async fn begin(s: &RedisStore, k: &SessionKey) -> Result<SessionTxn, StoreError> {
    match s.begin(k, BeginOptions::wait(WAIT)).await? {
        Begun::Txn(t) => Ok(t),
        Begun::Replay(_) => panic!("no idempotency key given"),
    }
}

pub fn state_with(n: i64) -> State {
    let mut st = State::default();
    st.variables.insert("n".into(), json!(n));
    st
}

pub fn n_of(st: &State) -> i64 {
    st.variables.get("n").and_then(Value::as_i64).unwrap_or(0)
}

/// begin / commit / get / delete, versions, TTL, and the round trips of a turn.
pub async fn turn_basics(make: &dyn Fn() -> RedisStore, redis: &mut dyn redis::ConnectionLike) {
    let s = make();
    let k = key("basics");
    let keys = s.session_keys(&k);
    assert_eq!(s.get(&k).await, Ok(None));
    let before = s.round_trips();
    let txn = begin(&s, &k).await.expect("begin");
    assert_eq!(txn.state, None);
    s.commit(txn, Some(state_with(1))).await.expect("commit");
    assert_eq!(
        s.round_trips() - before,
        2,
        "an uncontended turn is two round trips"
    );
    assert_eq!(s.get(&k).await.expect("get").map(|st| n_of(&st)), Some(1));
    // Stored as the state and a version 1, both with the idle TTL; the lock is gone.
    let v: String = redis::cmd("GET")
        .arg(&keys.version)
        .query(redis)
        .expect("GET");
    assert_eq!(v, "1");
    let vttl: i64 = redis::cmd("PTTL")
        .arg(&keys.version)
        .query(redis)
        .expect("PTTL");
    assert!(vttl > 590_000 && vttl <= 600_000, "version ttl {vttl}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys.state)
        .query(redis)
        .expect("PTTL");
    assert!(ttl > 590_000 && ttl <= 600_000, "ttl {ttl}");
    let lock: i64 = redis::cmd("EXISTS")
        .arg(&keys.lock)
        .query(redis)
        .expect("EXISTS");
    assert_eq!(lock, 0);
    // A second turn sees the first and bumps the version.
    let txn = begin(&s, &k).await.expect("begin");
    assert_eq!(txn.state.as_ref().map(n_of), Some(1));
    s.commit(txn, Some(state_with(2))).await.expect("commit");
    let v: String = redis::cmd("GET")
        .arg(&keys.version)
        .query(redis)
        .expect("GET");
    assert_eq!(v, "2");
    // Dropping a transaction changes nothing and releases the lock (another store gets it).
    let txn = begin(&s, &k).await.expect("begin");
    drop(txn);
    let other = make();
    let started = Instant::now();
    let txn = begin(&other, &k).await.expect("begin after drop");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the dropped lock was released"
    );
    assert_eq!(txn.state.as_ref().map(n_of), Some(2));
    // Delete.
    other.commit(txn, None).await.expect("delete");
    assert_eq!(s.get(&k).await, Ok(None));
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&keys.state)
        .arg(&keys.version)
        .arg(&keys.lock)
        .query(redis)
        .expect("EXISTS");
    assert_eq!(exists, 0);
    assert_eq!(s.queued_sessions(), 0);
    assert!(s.ready().await.is_ok());
}

/// The lock holds across stores: a waiter gives up after its wait (409), then gets the turn
/// once the holder commits, and sees the holder's write.
pub async fn lock_across_stores(make: &dyn Fn() -> RedisStore) {
    let a = make();
    let b = make();
    let k = key("lock");
    let held = begin(&a, &k).await.expect("begin a");
    let started = Instant::now();
    let r = b
        .begin(&k, BeginOptions::wait(Duration::from_millis(200)))
        .await;
    assert_eq!(r.err(), Some(StoreError::LockTimeout { waited_ms: 200 }));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(2));
    let b2 = make();
    let waiter = tokio::spawn(async move {
        let txn = begin(&b2, &key("lock")).await.expect("begin b");
        txn.state.as_ref().map(n_of)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished());
    a.commit(held, Some(state_with(7))).await.expect("commit");
    let seen = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter got its turn")
        .expect("join");
    assert_eq!(seen, Some(7));
}

/// `tasks` read-modify-writes of one session spread over two stores: none lost.
pub async fn concurrent_increments(make: &dyn Fn() -> RedisStore, tasks: usize) {
    let stores = [Arc::new(make()), Arc::new(make())];
    let k = key("counter");
    let mut handles = Vec::new();
    for i in 0..tasks {
        let s = stores[i % 2].clone();
        let k = k.clone();
        handles.push(tokio::spawn(async move {
            let mut txn = begin(&s, &k).await.expect("begin");
            let mut st = txn.state.take().unwrap_or_default();
            let n = n_of(&st);
            tokio::task::yield_now().await;
            st.variables.insert("n".into(), json!(n + 1));
            s.commit(txn, Some(st)).await.expect("commit");
            n + 1
        }));
    }
    let mut seen = Vec::new();
    for h in handles {
        seen.push(h.await.expect("join"));
    }
    seen.sort();
    assert_eq!(seen, (1..=tasks as i64).collect::<Vec<_>>());
    let st = stores[0].get(&k).await.expect("get").expect("state");
    assert_eq!(n_of(&st), tasks as i64);
}

/// A response stored under an idempotency key is replayed (by any store), not run again;
/// deleting the session forgets it.
pub async fn idempotency(make: &dyn Fn() -> RedisStore) {
    let a = make();
    let b = make();
    let k = key("idem");
    let opts = BeginOptions {
        wait: WAIT,
        idempotency_key: Some("req-1"),
    };
    let Begun::Txn(mut txn) = a.begin(&k, opts).await.expect("begin") else {
        panic!("nothing stored yet")
    };
    txn.response = Some(b"answer-1".to_vec());
    a.commit(txn, Some(state_with(1))).await.expect("commit");
    for s in [&a, &b] {
        let before = s.round_trips();
        match s.begin(&k, opts).await.expect("begin") {
            Begun::Replay(bytes) => assert_eq!(bytes, b"answer-1"),
            Begun::Txn(_) => panic!("expected a replay"),
        }
        // One round trip answers; the begin pipeline also took the lock, which is released in
        // the background (a second round trip that may or may not have happened yet).
        let trips = s.round_trips() - before;
        assert!((1..=2).contains(&trips), "{trips} round trips");
    }
    // Not locked by the replay (once its background unlock ran).
    let txn = begin(&b, &k).await.expect("begin");
    assert_eq!(txn.state.as_ref().map(n_of), Some(1));
    drop(txn);
    // A transaction without a response stores no record.
    let opts2 = BeginOptions {
        wait: WAIT,
        idempotency_key: Some("req-2"),
    };
    let Begun::Txn(txn) = a.begin(&k, opts2).await.expect("begin") else {
        panic!("req-2 is new")
    };
    a.commit(txn, Some(state_with(2))).await.expect("commit");
    let Begun::Txn(txn) = a.begin(&k, opts2).await.expect("begin") else {
        panic!("req-2 stored no response")
    };
    // Delete: the records go with the session.
    a.commit(txn, None).await.expect("delete");
    assert!(matches!(
        b.begin(&k, opts).await.expect("begin"),
        Begun::Txn(_)
    ));
}

/// At most `IDEMPOTENCY_RECORDS_PER_SESSION` records per session: the oldest go first.
pub async fn idempotency_cap(make: &dyn Fn() -> RedisStore) {
    let s = make();
    let k = key("idem-cap");
    let cap = flowdm::store::IDEMPOTENCY_RECORDS_PER_SESSION;
    for i in 0..cap + 6 {
        let idem = format!("k{i}");
        let opts = BeginOptions {
            wait: WAIT,
            idempotency_key: Some(&idem),
        };
        let Begun::Txn(mut txn) = s.begin(&k, opts).await.expect("begin") else {
            panic!("{idem} is new")
        };
        txn.response = Some(idem.clone().into_bytes());
        s.commit(txn, Some(state_with(i as i64)))
            .await
            .expect("commit");
    }
    let replayed = |i: usize| {
        let s = &s;
        let k = &k;
        async move {
            let idem = format!("k{i}");
            let opts = BeginOptions {
                wait: WAIT,
                idempotency_key: Some(&idem),
            };
            match s.begin(k, opts).await.expect("begin") {
                Begun::Replay(b) => {
                    assert_eq!(b, idem.as_bytes());
                    true
                }
                Begun::Txn(_) => false,
            }
        }
    };
    assert!(!replayed(0).await, "the oldest record was dropped");
    assert!(!replayed(5).await);
    assert!(replayed(6).await);
    assert!(replayed(cap + 5).await);
}

/// Transcripts upsert by session id and feedback is appended, seen by every store.
pub async fn transcripts_and_feedback(make: &dyn Fn() -> RedisStore, project: &str) {
    let a = make();
    let b = make();
    let mut f = Map::new();
    f.insert("os".into(), json!("Linux"));
    let first = a
        .upsert_transcript(project, "s1", f, "2024-01-01T00:00:00.000Z")
        .await
        .expect("insert");
    assert_eq!(first["reportTags"], json!([]));
    assert_eq!(first["projectID"], json!(project));
    let mut f = Map::new();
    f.insert("unread".into(), json!(true));
    f.insert("_id".into(), json!("not-allowed"));
    let second = b
        .upsert_transcript(project, "s1", f, "2024-01-02T00:00:00.000Z")
        .await
        .expect("update");
    assert_eq!(second["_id"], first["_id"]);
    assert_eq!(second["createdAt"], json!("2024-01-01T00:00:00.000Z"));
    assert_eq!(second["updatedAt"], json!("2024-01-02T00:00:00.000Z"));
    assert_eq!(second["os"], json!("Linux"));
    assert_eq!(second["unread"], json!(true));
    // Concurrent upserts of one transcript from two stores: every field lands.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = Arc::new(make());
        let project = project.to_string();
        tasks.push(tokio::spawn(async move {
            let mut f = Map::new();
            f.insert(format!("field{i}"), json!(i));
            s.upsert_transcript(&project, "s2", f, "2024-01-03T00:00:00.000Z")
                .await
                .expect("upsert")
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let list = a.transcripts(project).await.expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["sessionID"], json!("s1"));
    assert_eq!(list[1]["sessionID"], json!("s2"));
    for i in 0..16 {
        assert_eq!(list[1][format!("field{i}")], json!(i), "{}", list[1]);
    }
    a.add_feedback(project, json!({"name": "Thumbs up"}))
        .await
        .expect("add");
    b.add_feedback(project, json!({"name": "Thumbs down", "n": 1.5}))
        .await
        .expect("add");
    let fb = a.feedback(project).await.expect("list");
    assert_eq!(fb.len(), 2);
    assert_eq!(fb[1], json!({"name": "Thumbs down", "n": 1.5}));
    assert!(a.feedback("other-project").await.expect("list").is_empty());
    assert!(a
        .transcripts("other-project")
        .await
        .expect("list")
        .is_empty());
}

/// A state over the cap is refused; the old state stays and the lock is released.
pub async fn size_cap(make: &dyn Fn() -> RedisStore) {
    let s = make();
    let k = key("big");
    let txn = begin(&s, &k).await.expect("begin");
    s.commit(txn, Some(state_with(1))).await.expect("commit");
    let txn = begin(&s, &k).await.expect("begin");
    let mut big = state_with(2);
    big.variables
        .insert("pad".into(), json!("x".repeat(100_000)));
    match s.commit(txn, Some(big)).await {
        Err(StoreError::TooLarge { size, limit }) => {
            assert!(size > 100_000);
            assert_eq!(limit, 64 * 1024);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let other = make();
    let started = Instant::now();
    let txn = begin(&other, &k).await.expect("begin");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        txn.state.as_ref().map(n_of),
        Some(1),
        "the old state is kept"
    );
}

/// A lock holder that never comes back (a crashed process) blocks its session only until the
/// lock TTL; if it does come back after that, its commit is refused and stores nothing.
pub async fn lock_ttl_and_late_commit(make: &dyn Fn() -> RedisStore) {
    let crashed = make();
    let k = key("crash");
    let stale = begin(&crashed, &k).await.expect("begin");
    let other = make();
    let started = Instant::now();
    let txn = begin(&other, &k).await.expect("the lock expires");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "waited {waited:?} for a 500 ms lock TTL"
    );
    other
        .commit(txn, Some(state_with(5)))
        .await
        .expect("commit");
    match crashed.commit(stale, Some(state_with(99))).await {
        Err(StoreError::Conflict(_)) => {}
        r => panic!("expected a conflict, got {r:?}"),
    }
    assert_eq!(other.get(&k).await.expect("get").map(|s| n_of(&s)), Some(5));
}

/// A write that bypassed the lock (the version changed) makes the commit fail; nothing stored.
pub async fn version_check(make: &dyn Fn() -> RedisStore, redis: &mut dyn redis::ConnectionLike) {
    let s = make();
    let k = key("version");
    let keys = s.session_keys(&k);
    let txn = begin(&s, &k).await.expect("begin");
    s.commit(txn, Some(state_with(1))).await.expect("commit");
    let txn = begin(&s, &k).await.expect("begin");
    let _: () = redis::cmd("SET")
        .arg(&keys.version)
        .arg("41")
        .query(redis)
        .expect("tamper");
    match s.commit(txn, Some(state_with(2))).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("changed"), "{m}"),
        r => panic!("expected a conflict, got {r:?}"),
    }
    assert_eq!(s.get(&k).await.expect("get").map(|s| n_of(&s)), Some(1));
    // The lock was released with the refusal.
    let started = Instant::now();
    let txn = begin(&make(), &k).await.expect("begin");
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(txn);
}

/// A turn that runs longer than the lock TTL keeps its lock by renewing it (a slow outbound
/// call): its commit succeeds, and nobody else got in meanwhile; without renewal the lock
/// expires and the commit is refused.
pub async fn renewed_lock_outlives_its_ttl(make: &dyn Fn() -> RedisStore) {
    let s = make();
    let k = key("renew");
    let every = s.renew_every().expect("redis locks expire");
    let mut txn = begin(&s, &k).await.expect("begin");
    for _ in 0..6 {
        tokio::time::sleep(every).await;
        s.renew(&mut txn).await.expect("renew");
    }
    // Twice the TTL later the lock is still ours: another store waits.
    let other = make();
    let waiting = tokio::time::timeout(Duration::from_millis(200), begin(&other, &k)).await;
    assert!(waiting.is_err(), "the renewed lock was taken");
    s.commit(txn, Some(state_with(7))).await.expect("commit");
    assert_eq!(s.get(&k).await.expect("get").map(|s| n_of(&s)), Some(7));

    let mut txn = begin(&s, &k).await.expect("begin");
    tokio::time::sleep(every * 4).await;
    match s.renew(&mut txn).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("expired"), "{m}"),
        r => panic!("expected a conflict, got {r:?}"),
    }
}
