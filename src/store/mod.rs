//! Session storage: one state per (project, user), plus transcripts and feedback.
//!
//! [`SessionStore`] is object safe (`Arc<dyn SessionStore>`) and asynchronous, so a networked
//! implementation (Redis, next) fits behind it unchanged. Every read-modify-write of a session
//! (an interact turn, a variables patch, PUT, DELETE, reset) is a [`SessionTxn`]:
//! [`SessionStore::begin`] waits for the per-session lock and reads the state,
//! [`SessionStore::commit`] writes the new state (or deletes it) and releases the lock; dropping
//! the transaction without committing releases the lock and leaves the state as it was. This
//! serialises the turns of one user: in memory with a per-key async mutex, in Redis with a per-key
//! lock (`SET NX PX` + token) that holds across server processes — and it keeps a Redis turn at
//! two round trips (lock + `GET` in one script, `SET` + unlock in another).

mod memory;

pub use memory::MemoryStore;

use crate::engine::State;
use serde_json::{Map, Value};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;

/// Where a session lives: the project (all its versions share one session per user) and user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub project_id: String,
    pub user_id: String,
}

impl SessionKey {
    pub fn new(project_id: impl Into<String>, user_id: impl Into<String>) -> SessionKey {
        SessionKey {
            project_id: project_id.into(),
            user_id: user_id.into(),
        }
    }
}

impl std::fmt::Display for SessionKey {
    /// The reference's storage key, `general-platform.session.<projectID>.<userID>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "general-platform.session.{}.{}",
            self.project_id, self.user_id
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached (HTTP 503); the server keeps running.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The session stayed locked by another turn for too long (HTTP 503).
    #[error("session is busy: another request for this user did not finish in time")]
    LockTimeout,
    /// The state is larger than the store accepts; the old state is kept (HTTP 413).
    #[error("session state too large: {size} bytes (limit {limit})")]
    TooLarge { size: usize, limit: usize },
    /// Stored data that cannot be read back (HTTP 500).
    #[error("stored session is corrupt: {0}")]
    Corrupt(String),
}

/// A boxed future returned by store methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A held session lock; dropping it releases the lock. Implementations put their own guard in it
/// and get it back with [`SessionLock::downcast_mut`] (e.g. the Redis lock token at commit).
pub struct SessionLock {
    guard: Box<dyn Any + Send + Sync>,
}

impl SessionLock {
    pub fn new(guard: impl Any + Send + Sync) -> SessionLock {
        SessionLock {
            guard: Box::new(guard),
        }
    }

    /// The implementation's guard.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.guard.downcast_mut::<T>()
    }
}

impl std::fmt::Debug for SessionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionLock")
    }
}

/// Exclusive access to one session: the state read under the lock, and the lock.
#[derive(Debug)]
pub struct SessionTxn {
    pub key: SessionKey,
    /// The stored state when the transaction began (`None`: no session).
    pub state: Option<State>,
    pub lock: SessionLock,
}

/// Session, transcript and feedback storage.
pub trait SessionStore: Send + Sync + 'static {
    /// A short name for logs (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Waits until no other transaction holds the session, then locks it and reads its state.
    fn begin<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, SessionTxn>;

    /// Stores `state` (`None` deletes the session) and releases the lock.
    fn commit<'a>(&'a self, txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()>;

    /// The stored state, if any, without locking (a consistent snapshot of the last commit).
    fn get<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, Option<State>>;

    /// Inserts or updates the transcript of `(project_id, session_id)` (`spec/dm-api.md` §1.7):
    /// on insert `createdAt` and `reportTags: []` are set, always `updatedAt` and `fields`.
    /// `now` is an ISO-8601 timestamp. Returns the stored document.
    fn upsert_transcript<'a>(
        &'a self,
        project_id: &'a str,
        session_id: &'a str,
        fields: Map<String, Value>,
        now: &'a str,
    ) -> StoreFuture<'a, Value>;

    /// Transcripts of a project, oldest first.
    fn transcripts<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>>;

    /// Records one feedback document.
    fn add_feedback<'a>(&'a self, project_id: &'a str, feedback: Value) -> StoreFuture<'a, ()>;

    /// Feedback of a project, oldest first.
    fn feedback<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>>;
}
