//! Session storage: one state per (project, user), plus transcripts and feedback.
//!
//! [`SessionStore`] is object safe (`Arc<dyn SessionStore>`) and asynchronous, so a networked
//! implementation (Redis, next) fits behind it unchanged. Every read-modify-write of a session
//! (an interact turn, a variables patch) runs while holding [`SessionStore::lock`] for that key,
//! which serialises the turns of one user: in memory with a per-key async mutex, in Redis with a
//! per-key lock (`SET NX PX` + token) so it holds across server processes.

mod memory;

pub use memory::MemoryStore;

use crate::engine::State;
use serde_json::{Map, Value};
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

/// Exclusive access to one session; dropping it releases the lock.
pub struct SessionLock {
    _guard: Box<dyn Send + Sync>,
}

impl SessionLock {
    pub fn new(guard: impl Send + Sync + 'static) -> SessionLock {
        SessionLock {
            _guard: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for SessionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionLock")
    }
}

/// Session, transcript and feedback storage.
pub trait SessionStore: Send + Sync + 'static {
    /// A short name for logs (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Waits until no other holder has the session, then holds it until the lock is dropped.
    fn lock<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, SessionLock>;

    /// The stored state, if any.
    fn get<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, Option<State>>;

    /// Replaces the stored state.
    fn put<'a>(&'a self, key: &'a SessionKey, state: State) -> StoreFuture<'a, ()>;

    /// Removes the stored state (no error when there is none).
    fn delete<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, ()>;

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
