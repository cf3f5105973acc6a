//! The embedded in-memory store (the default when no Redis is configured). Everything is lost
//! when the process stops.

use super::queue::{LocalGuard, LocalLocks};
use super::{
    new_transcript, update_transcript, BeginOptions, Begun, SessionKey, SessionLock, SessionStore,
    SessionTxn, StoreError, StoreFuture, DEFAULT_MAX_STATE_BYTES, IDEMPOTENCY_RECORDS_PER_SESSION,
};
use dashmap::DashMap;
use flowdm_engine::State;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Per-project caps on transcripts and feedback kept in memory (oldest dropped first), so public
/// routes cannot grow the process without bound.
pub const MAX_TRANSCRIPTS_PER_PROJECT: usize = 10_000;
pub const MAX_FEEDBACK_PER_PROJECT: usize = 10_000;

#[derive(Default)]
struct Transcripts {
    /// Documents in insertion order.
    docs: VecDeque<Value>,
}

/// Responses stored under idempotency keys for one session (oldest dropped first).
#[derive(Default)]
struct Replays {
    responses: HashMap<String, Vec<u8>>,
    order: VecDeque<String>,
}

/// In-memory store settings.
#[derive(Debug, Clone)]
pub struct MemoryConfig {
    /// Largest serialised state accepted; larger → [`StoreError::TooLarge`] (413) and the old
    /// state is kept, as in the Redis store.
    pub max_state_bytes: usize,
}

impl Default for MemoryConfig {
    fn default() -> MemoryConfig {
        MemoryConfig {
            max_state_bytes: DEFAULT_MAX_STATE_BYTES,
        }
    }
}

/// Sessions in a concurrent map; per-key async mutexes serialise turns of one user.
pub struct MemoryStore {
    cfg: MemoryConfig,
    sessions: DashMap<SessionKey, State>,
    locks: LocalLocks,
    replays: DashMap<SessionKey, Replays>,
    transcripts: Mutex<HashMap<String, Transcripts>>,
    feedback: Mutex<HashMap<String, VecDeque<Value>>>,
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::with_config(MemoryConfig::default())
    }
}

impl MemoryStore {
    /// A store with the default settings.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    pub fn with_config(cfg: MemoryConfig) -> MemoryStore {
        MemoryStore {
            cfg,
            sessions: DashMap::default(),
            locks: LocalLocks::default(),
            replays: DashMap::default(),
            transcripts: Mutex::default(),
            feedback: Mutex::default(),
        }
    }

    pub fn config(&self) -> &MemoryConfig {
        &self.cfg
    }

    /// Number of stored sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Number of keys with a lock entry (held or awaited); entries are removed on release.
    pub fn lock_entries(&self) -> usize {
        self.locks.len()
    }
}

/// The held session mutex (dropping it releases the session).
struct MemoryGuard {
    _guard: LocalGuard,
}

/// Counts the bytes written to it (the serialised size of a state, without keeping the bytes).
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `state` as the Redis store would store it (compact JSON).
fn serialised_len(state: &State) -> Result<usize, StoreError> {
    let mut count = ByteCount(0);
    serde_json::to_writer(&mut count, state)
        .map_err(|e| StoreError::Corrupt(format!("cannot serialise the state: {e}")))?;
    Ok(count.0)
}

fn lock_poisoned<T>(_: T) -> StoreError {
    StoreError::Corrupt("in-memory store mutex poisoned".into())
}

impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn begin<'a>(&'a self, key: &'a SessionKey, opts: BeginOptions<'a>) -> StoreFuture<'a, Begun> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + opts.wait;
            let guard =
                self.locks
                    .lock_until(key, deadline)
                    .await
                    .ok_or(StoreError::LockTimeout {
                        waited_ms: opts.wait.as_millis() as u64,
                    })?;
            if let Some(idem) = opts.idempotency_key {
                let stored = self
                    .replays
                    .get(key)
                    .and_then(|r| r.responses.get(idem).cloned());
                if let Some(bytes) = stored {
                    return Ok(Begun::Replay(bytes));
                }
            }
            let lock = SessionLock::new(MemoryGuard { _guard: guard });
            // A copy: the stored state stays intact until commit, whatever happens to the turn.
            let state = self.sessions.get(key).map(|s| s.clone());
            let mut txn = SessionTxn::new(key.clone(), state, lock);
            txn.idempotency_key = opts.idempotency_key.map(str::to_string);
            Ok(Begun::Txn(txn))
        })
    }

    fn commit<'a>(&'a self, mut txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            // The exact size is only needed when the quick upper bound is over the cap.
            if let Some(s) = state
                .as_ref()
                .filter(|s| s.json_size_bound() > self.cfg.max_state_bytes)
            {
                let size = serialised_len(s)?;
                if size > self.cfg.max_state_bytes {
                    // `txn` is dropped: the lock is released, the stored state stays as it was.
                    return Err(StoreError::TooLarge {
                        size,
                        limit: self.cfg.max_state_bytes,
                    });
                }
            }
            let deleted = state.is_none();
            let replaced = match state {
                Some(s) => self.sessions.insert(txn.key.clone(), s),
                None => self.sessions.remove(&txn.key).map(|(_, s)| s),
            };
            if deleted {
                self.replays.remove(&txn.key);
            } else if let (Some(idem), Some(response)) =
                (txn.idempotency_key.take(), txn.response.take())
            {
                let mut r = self.replays.entry(txn.key.clone()).or_default();
                if !r.responses.contains_key(&idem) {
                    if r.order.len() >= IDEMPOTENCY_RECORDS_PER_SESSION {
                        if let Some(old) = r.order.pop_front() {
                            r.responses.remove(&old);
                        }
                    }
                    r.order.push_back(idem.clone());
                    r.responses.insert(idem, response);
                }
            }
            // Release the lock, then drop the old state outside any map lock.
            drop(txn);
            drop(replaced);
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, Option<State>> {
        Box::pin(async move { Ok(self.sessions.get(key).map(|s| s.clone())) })
    }

    fn upsert_transcript<'a>(
        &'a self,
        project_id: &'a str,
        session_id: &'a str,
        fields: Map<String, Value>,
        now: &'a str,
    ) -> StoreFuture<'a, Value> {
        Box::pin(async move {
            let mut all = self.transcripts.lock().map_err(lock_poisoned)?;
            let list = all.entry(project_id.to_string()).or_default();
            let existing = list
                .docs
                .iter()
                .position(|d| d.get("sessionID").and_then(Value::as_str) == Some(session_id));
            let doc = match existing {
                Some(i) => &mut list.docs[i],
                None => {
                    if list.docs.len() >= MAX_TRANSCRIPTS_PER_PROJECT {
                        list.docs.pop_front();
                    }
                    let d = new_transcript(project_id, session_id, now);
                    list.docs.push_back(Value::Object(d));
                    let last = list.docs.len() - 1;
                    &mut list.docs[last]
                }
            };
            if let Some(d) = doc.as_object_mut() {
                update_transcript(d, fields, now);
            }
            Ok(doc.clone())
        })
    }

    fn transcripts<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let all = self.transcripts.lock().map_err(lock_poisoned)?;
            Ok(all
                .get(project_id)
                .map(|t| t.docs.iter().cloned().collect())
                .unwrap_or_default())
        })
    }

    fn add_feedback<'a>(&'a self, project_id: &'a str, feedback: Value) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut all = self.feedback.lock().map_err(lock_poisoned)?;
            let list = all.entry(project_id.to_string()).or_default();
            if list.len() >= MAX_FEEDBACK_PER_PROJECT {
                list.pop_front();
            }
            list.push_back(feedback);
            Ok(())
        })
    }

    fn feedback<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let all = self.feedback.lock().map_err(lock_poisoned)?;
            Ok(all
                .get(project_id)
                .map(|f| f.iter().cloned().collect())
                .unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use std::time::Duration;

    fn key(u: &str) -> SessionKey {
        SessionKey::new("p1", u)
    }

    async fn begin(s: &MemoryStore, k: &SessionKey) -> Result<SessionTxn, StoreError> {
        match s
            .begin(k, BeginOptions::wait(Duration::from_secs(10)))
            .await?
        {
            Begun::Txn(t) => Ok(t),
            Begun::Replay(_) => panic!("no idempotency key given"),
        }
    }

    #[tokio::test]
    async fn begin_commit_get_delete() {
        let s = MemoryStore::new();
        assert_eq!(s.get(&key("u")).await, Ok(None));
        let txn = begin(&s, &key("u")).await.expect("begin");
        assert_eq!(txn.state, None);
        let mut st = State::default();
        st.variables.insert("x".into(), json!(1));
        s.commit(txn, Some(st.clone())).await.expect("commit");
        assert_eq!(s.get(&key("u")).await, Ok(Some(st.clone())));
        assert_eq!(s.get(&key("other")).await, Ok(None));
        assert_eq!(s.get(&SessionKey::new("p2", "u")).await, Ok(None));
        // Dropping a transaction changes nothing.
        let txn = begin(&s, &key("u")).await.expect("begin");
        assert_eq!(txn.state.as_ref(), Some(&st));
        drop(txn);
        assert_eq!(s.get(&key("u")).await, Ok(Some(st)));
        let txn = begin(&s, &key("u")).await.expect("begin");
        s.commit(txn, None).await.expect("delete");
        assert_eq!(s.get(&key("u")).await, Ok(None));
        assert_eq!(s.lock_entries(), 0);
        assert_eq!(key("u").to_string(), "general-platform.session.p1.u");
    }

    #[tokio::test]
    async fn transactions_are_exclusive_per_key_and_cleaned_up() {
        let s = Arc::new(MemoryStore::new());
        let held = begin(&s, &key("a")).await.expect("begin");
        // another key is independent
        let other = begin(&s, &key("b")).await.expect("begin b");
        drop(other);
        // the same key waits
        let s2 = s.clone();
        let waiter = tokio::spawn(async move {
            let _t = begin(&s2, &key("a")).await.expect("begin a again");
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        s.commit(held, Some(State::default()))
            .await
            .expect("commit");
        tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("released")
            .expect("join");
        assert_eq!(s.lock_entries(), 0);
    }

    #[tokio::test]
    async fn concurrent_read_modify_write_loses_nothing() {
        let s = Arc::new(MemoryStore::new());
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut txn = begin(&s, &key("n")).await.expect("begin");
                let mut st = txn.state.take().unwrap_or_default();
                let n = st.variables.get("n").and_then(Value::as_i64).unwrap_or(0);
                tokio::task::yield_now().await;
                st.variables.insert("n".into(), json!(n + 1));
                s.commit(txn, Some(st)).await.expect("commit");
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
        let st = s.get(&key("n")).await.expect("get").expect("state");
        assert_eq!(st.variables.get("n"), Some(&json!(64)));
        assert_eq!(s.lock_entries(), 0);
    }

    #[tokio::test]
    async fn a_waiter_gives_up_after_the_wait() {
        let s = MemoryStore::new();
        let held = begin(&s, &key("w")).await.expect("begin");
        let r = s
            .begin(&key("w"), BeginOptions::wait(Duration::from_millis(30)))
            .await;
        assert_eq!(r.err(), Some(StoreError::LockTimeout { waited_ms: 30 }));
        drop(held);
        assert_eq!(s.lock_entries(), 0);
    }

    #[tokio::test]
    async fn idempotent_responses_are_replayed_until_the_session_is_deleted() {
        let s = MemoryStore::new();
        let opts = BeginOptions {
            wait: Duration::from_secs(1),
            idempotency_key: Some("k1"),
        };
        let Begun::Txn(mut txn) = s.begin(&key("i"), opts).await.expect("begin") else {
            panic!("nothing stored yet")
        };
        txn.response = Some(b"answer".to_vec());
        s.commit(txn, Some(State::default())).await.expect("commit");
        match s.begin(&key("i"), opts).await.expect("begin") {
            Begun::Replay(b) => assert_eq!(b, b"answer"),
            Begun::Txn(_) => panic!("expected a replay"),
        }
        // Another user, or another key, runs normally.
        assert!(matches!(
            s.begin(&key("j"), opts).await.expect("begin"),
            Begun::Txn(_)
        ));
        let txn = begin(&s, &key("i")).await.expect("begin");
        s.commit(txn, None).await.expect("delete");
        assert!(matches!(
            s.begin(&key("i"), opts).await.expect("begin"),
            Begun::Txn(_)
        ));
    }

    #[tokio::test]
    async fn a_state_over_the_cap_is_refused_and_the_old_one_kept() {
        let s = MemoryStore::with_config(MemoryConfig {
            max_state_bytes: 200,
        });
        assert_eq!(MemoryStore::new().config().max_state_bytes, 1024 * 1024);
        let mut small = State::default();
        small.variables.insert("x".into(), json!(1));
        let txn = begin(&s, &key("big")).await.expect("begin");
        s.commit(txn, Some(small.clone())).await.expect("commit");
        let mut big = small.clone();
        big.variables.insert("blob".into(), json!("x".repeat(500)));
        let size = serde_json::to_vec(&big).expect("serialise").len();
        let opts = BeginOptions {
            wait: Duration::from_secs(1),
            idempotency_key: Some("k"),
        };
        let Begun::Txn(mut txn) = s.begin(&key("big"), opts).await.expect("begin") else {
            panic!("nothing stored yet")
        };
        txn.response = Some(b"answer".to_vec());
        assert_eq!(
            s.commit(txn, Some(big)).await,
            Err(StoreError::TooLarge { size, limit: 200 })
        );
        // The old state is kept, no response was stored, the lock is free.
        assert_eq!(s.get(&key("big")).await, Ok(Some(small.clone())));
        assert_eq!(s.lock_entries(), 0);
        let txn = match s.begin(&key("big"), opts).await.expect("begin again") {
            Begun::Txn(t) => t,
            Begun::Replay(_) => panic!("a refused commit stores no response"),
        };
        assert_eq!(txn.state.as_ref(), Some(&small));
        // Deleting is never too large.
        s.commit(txn, None).await.expect("delete");
        assert_eq!(s.get(&key("big")).await, Ok(None));
    }

    #[test]
    fn the_lock_gives_back_the_implementation_guard() {
        let mut l = SessionLock::new(42u32);
        assert_eq!(l.downcast_mut::<u32>().copied(), Some(42));
        assert!(l.downcast_mut::<String>().is_none());
    }

    #[tokio::test]
    async fn transcripts_upsert_by_session() {
        let s = MemoryStore::new();
        let mut f = Map::new();
        f.insert("os".into(), json!("Linux"));
        let a = s
            .upsert_transcript("p1", "s1", f, "2024-01-01T00:00:00.000Z")
            .await
            .expect("insert");
        assert_eq!(a["reportTags"], json!([]));
        assert_eq!(a["createdAt"], json!("2024-01-01T00:00:00.000Z"));
        let mut f = Map::new();
        f.insert("unread".into(), json!(true));
        let b = s
            .upsert_transcript("p1", "s1", f, "2024-01-02T00:00:00.000Z")
            .await
            .expect("update");
        assert_eq!(b["_id"], a["_id"]);
        assert_eq!(b["createdAt"], json!("2024-01-01T00:00:00.000Z"));
        assert_eq!(b["updatedAt"], json!("2024-01-02T00:00:00.000Z"));
        assert_eq!(b["os"], json!("Linux"));
        assert_eq!(b["unread"], json!(true));
        s.upsert_transcript("p1", "s2", Map::new(), "2024-01-03T00:00:00.000Z")
            .await
            .expect("second");
        s.upsert_transcript("p2", "s1", Map::new(), "2024-01-03T00:00:00.000Z")
            .await
            .expect("other project");
        assert_eq!(s.transcripts("p1").await.expect("list").len(), 2);
        assert_eq!(s.transcripts("p2").await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn feedback_is_kept() {
        let s = MemoryStore::new();
        s.add_feedback("p1", json!({"name": "Thumbs up"}))
            .await
            .expect("add");
        s.add_feedback("p1", json!({"name": "Thumbs down"}))
            .await
            .expect("add");
        let f = s.feedback("p1").await.expect("list");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1]["name"], json!("Thumbs down"));
        assert!(s.feedback("p2").await.expect("list").is_empty());
    }
}
