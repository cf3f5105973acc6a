//! The embedded in-memory store (the default when no Redis is configured). Everything is lost
//! when the process stops.

use super::{SessionKey, SessionLock, SessionStore, SessionTxn, StoreError, StoreFuture};
use crate::engine::State;
use dashmap::DashMap;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-project caps on transcripts and feedback kept in memory (oldest dropped first), so public
/// routes cannot grow the process without bound.
pub const MAX_TRANSCRIPTS_PER_PROJECT: usize = 10_000;
pub const MAX_FEEDBACK_PER_PROJECT: usize = 10_000;

type LockMap = DashMap<SessionKey, Arc<AsyncMutex<()>>>;

#[derive(Default)]
struct Transcripts {
    /// Documents in insertion order.
    docs: VecDeque<Value>,
}

/// Sessions in a concurrent map; per-key async mutexes serialise turns of one user.
#[derive(Default)]
pub struct MemoryStore {
    sessions: DashMap<SessionKey, State>,
    locks: Arc<LockMap>,
    transcripts: Mutex<HashMap<String, Transcripts>>,
    feedback: Mutex<HashMap<String, VecDeque<Value>>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
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

/// Holds a session mutex; on drop releases it and removes the map entry when nobody else
/// holds or awaits it.
struct MemoryGuard {
    guard: Option<OwnedMutexGuard<()>>,
    locks: Arc<LockMap>,
    key: SessionKey,
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        // Waiters clone the Arc under the shard lock, so a count of 1 (the map's own) means
        // nobody holds or awaits this mutex.
        self.locks
            .remove_if(&self.key, |_, m| Arc::strong_count(m) == 1);
    }
}

fn lock_poisoned<T>(_: T) -> StoreError {
    StoreError::Corrupt("in-memory store mutex poisoned".into())
}

fn new_object_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_string()
}

impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn begin<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, SessionTxn> {
        Box::pin(async move {
            let mutex = self.locks.entry(key.clone()).or_default().clone();
            let guard = mutex.lock_owned().await;
            let lock = SessionLock::new(MemoryGuard {
                guard: Some(guard),
                locks: self.locks.clone(),
                key: key.clone(),
            });
            // A copy: the stored state stays intact until commit, whatever happens to the turn.
            let state = self.sessions.get(key).map(|s| s.clone());
            Ok(SessionTxn {
                key: key.clone(),
                state,
                lock,
            })
        })
    }

    fn commit<'a>(&'a self, txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let replaced = match state {
                Some(s) => self.sessions.insert(txn.key.clone(), s),
                None => self.sessions.remove(&txn.key).map(|(_, s)| s),
            };
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
                    let mut d = Map::new();
                    d.insert("_id".into(), new_object_id().into());
                    d.insert("projectID".into(), project_id.into());
                    d.insert("sessionID".into(), session_id.into());
                    d.insert("createdAt".into(), now.into());
                    d.insert("reportTags".into(), Value::Array(vec![]));
                    list.docs.push_back(Value::Object(d));
                    let last = list.docs.len() - 1;
                    &mut list.docs[last]
                }
            };
            if let Some(d) = doc.as_object_mut() {
                for (k, v) in fields {
                    if k != "_id" && k != "projectID" && k != "createdAt" && k != "reportTags" {
                        d.insert(k, v);
                    }
                }
                d.insert("updatedAt".into(), now.into());
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
    use std::time::Duration;

    fn key(u: &str) -> SessionKey {
        SessionKey::new("p1", u)
    }

    #[tokio::test]
    async fn begin_commit_get_delete() {
        let s = MemoryStore::new();
        assert_eq!(s.get(&key("u")).await, Ok(None));
        let txn = s.begin(&key("u")).await.expect("begin");
        assert_eq!(txn.state, None);
        let mut st = State::default();
        st.variables.insert("x".into(), json!(1));
        s.commit(txn, Some(st.clone())).await.expect("commit");
        assert_eq!(s.get(&key("u")).await, Ok(Some(st.clone())));
        assert_eq!(s.get(&key("other")).await, Ok(None));
        assert_eq!(s.get(&SessionKey::new("p2", "u")).await, Ok(None));
        // Dropping a transaction changes nothing.
        let txn = s.begin(&key("u")).await.expect("begin");
        assert_eq!(txn.state.as_ref(), Some(&st));
        drop(txn);
        assert_eq!(s.get(&key("u")).await, Ok(Some(st)));
        let txn = s.begin(&key("u")).await.expect("begin");
        s.commit(txn, None).await.expect("delete");
        assert_eq!(s.get(&key("u")).await, Ok(None));
        assert_eq!(s.lock_entries(), 0);
        assert_eq!(key("u").to_string(), "general-platform.session.p1.u");
    }

    #[tokio::test]
    async fn transactions_are_exclusive_per_key_and_cleaned_up() {
        let s = Arc::new(MemoryStore::new());
        let held = s.begin(&key("a")).await.expect("begin");
        // another key is independent
        let other = s.begin(&key("b")).await.expect("begin b");
        drop(other);
        // the same key waits
        let s2 = s.clone();
        let waiter = tokio::spawn(async move {
            let _t = s2.begin(&key("a")).await.expect("begin a again");
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
                let mut txn = s.begin(&key("n")).await.expect("begin");
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
