//! Session storage: one state per (project, user), plus transcripts and feedback.
//!
//! [`SessionStore`] is object safe (`Arc<dyn SessionStore>`) and asynchronous, so the in-memory
//! store and the Redis store ([`RedisStore`], single node or Redis Cluster) sit behind it
//! unchanged. Every read-modify-write of a session (an interact turn, a variables patch, PUT,
//! DELETE, reset) is a [`SessionTxn`]: [`SessionStore::begin`] waits (at most
//! [`BeginOptions::wait`]) for the per-session lock and reads the state,
//! [`SessionStore::commit`] writes the new state (or deletes it) and releases the lock; dropping
//! the transaction without committing releases the lock and leaves the state as it was. This
//! serialises the turns of one user: in memory with a per-key async mutex, in Redis with a
//! per-key lock (`SET NX PX` + token) that holds across server processes, behind the same
//! in-process queue — and it keeps a Redis turn at two round trips (lock + read in one script,
//! version-checked write + unlock in another). `docs/redis.md` documents the semantics.
//!
//! Idempotent retries: a transaction begun with an idempotency key stores the response given to
//! [`SessionTxn::response`] with the commit (atomically); a later `begin` with the same key on
//! the same session answers [`Begun::Replay`] with those bytes instead of a transaction.

mod keys;
mod memory;
mod queue;
pub mod rate;
mod redis;
pub mod registry;

pub use self::redis::{RedisConfig, RedisStore};
pub use keys::{hash_tag, ProjectKeys, SessionKeys};
pub use memory::{MemoryConfig, MemoryStore};
pub use rate::{MemoryRateLimiter, RateDecision, RateLimiter, RateQuota, RedisRateLimiter};
pub use registry::{
    MemoryRegistry, RedbRegistry, RedisRegistry, RegistryError, RegistryFuture, RegistryStore,
};

use flowdm_engine::State;
use serde_json::{Map, Value};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Default cap on a stored session state (its JSON size in bytes), shared by every store: a
/// larger state is refused with [`StoreError::TooLarge`] and the old one kept.
pub const DEFAULT_MAX_STATE_BYTES: usize = 1024 * 1024;

/// How long the Redis store keeps an idle session by default (seven days).
pub const DEFAULT_SESSION_TTL_SECS: u64 = 7 * 24 * 3600;

/// Idempotency records kept per session (oldest dropped first).
pub const IDEMPOTENCY_RECORDS_PER_SESSION: usize = 64;

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
    /// The backend cannot be reached or did not answer in time (HTTP 503); nothing was
    /// changed by this request (see `docs/redis.md` for a failure during the commit itself).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The request did not get its turn within the lock wait: other requests for the same
    /// session held it (HTTP 409). Nothing was changed.
    #[error("session is busy: other requests for this user held it for {waited_ms} ms (the lock wait); nothing was changed, retry later")]
    LockTimeout { waited_ms: u64 },
    /// The turn lost its lock before it could commit (it ran longer than the lock TTL and
    /// another turn took over), or the stored version changed under it (HTTP 409). Nothing was
    /// stored.
    #[error("session conflict: {0}; nothing was stored, retry the request")]
    Conflict(String),
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
    /// The idempotency key the transaction was begun with.
    pub idempotency_key: Option<String>,
    /// The response to remember under [`SessionTxn::idempotency_key`], stored atomically with
    /// the commit (ignored without a key).
    pub response: Option<Vec<u8>>,
}

impl SessionTxn {
    /// A transaction on `key` holding `lock`.
    pub fn new(key: SessionKey, state: Option<State>, lock: SessionLock) -> SessionTxn {
        SessionTxn {
            key,
            state,
            lock,
            idempotency_key: None,
            response: None,
        }
    }
}

/// How to begin a transaction.
#[derive(Debug, Clone, Copy)]
pub struct BeginOptions<'a> {
    /// How long to wait for the session lock (in-process queue and store lock together);
    /// past it, [`StoreError::LockTimeout`].
    pub wait: Duration,
    /// An idempotency key (the `Idempotency-Key` header): when a response was stored under it
    /// for this session, `begin` answers [`Begun::Replay`] and takes no lock.
    pub idempotency_key: Option<&'a str>,
}

impl BeginOptions<'_> {
    /// Waits at most `wait`, no idempotency key.
    pub fn wait(wait: Duration) -> BeginOptions<'static> {
        BeginOptions {
            wait,
            idempotency_key: None,
        }
    }
}

/// What [`SessionStore::begin`] gives.
// `Txn` is the common case and lives only for one request: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Begun {
    /// The session is locked for this request.
    Txn(SessionTxn),
    /// The request was already processed: the response stored under its idempotency key.
    Replay(Vec<u8>),
}

/// A 24-hex-digit id (like a Mongo ObjectId) for new transcripts.
pub(crate) fn new_object_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_string()
}

/// A new transcript document of `(project_id, session_id)` created at `now`.
pub(crate) fn new_transcript(project_id: &str, session_id: &str, now: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("_id".into(), new_object_id().into());
    d.insert("projectID".into(), project_id.into());
    d.insert("sessionID".into(), session_id.into());
    d.insert("createdAt".into(), now.into());
    d.insert("reportTags".into(), Value::Array(vec![]));
    d
}

/// Sets `fields` (except the ones fixed at creation) and `updatedAt` on a transcript.
pub(crate) fn update_transcript(
    doc: &mut Map<String, Value>,
    fields: Map<String, Value>,
    now: &str,
) {
    for (k, v) in fields {
        if k != "_id" && k != "projectID" && k != "createdAt" && k != "reportTags" {
            doc.insert(k, v);
        }
    }
    doc.insert("updatedAt".into(), now.into());
}

/// Session, transcript and feedback storage.
pub trait SessionStore: Send + Sync + 'static {
    /// A short name for logs (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Whether the backend answers (for `GET /ready`); the in-memory store always does.
    fn ready(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Waits (at most `opts.wait`) until no other transaction holds the session, then locks it
    /// and reads its state — or, when `opts.idempotency_key` was already used on this session,
    /// answers the stored response without locking.
    fn begin<'a>(&'a self, key: &'a SessionKey, opts: BeginOptions<'a>) -> StoreFuture<'a, Begun>;

    /// Stores `state` (`None` deletes the session) and the transaction's idempotency record,
    /// and releases the lock. On an error nothing was stored (or, for
    /// [`StoreError::Unavailable`] when the connection broke during the write, the outcome is
    /// unknown: retry with the same idempotency key) and the lock is released or expires.
    fn commit<'a>(&'a self, txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()>;

    /// How often a transaction still running (a turn waiting on outbound calls) must
    /// [`SessionStore::renew`] its lock; `None`: locks that never expire (in-memory).
    fn renew_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// Extends the transaction's lock to a full TTL again, if it is still ours
    /// ([`StoreError::Conflict`] when it expired: the commit would be refused). A crashed
    /// server stops renewing, so its users are freed one TTL later.
    fn renew<'a>(&'a self, _txn: &'a mut SessionTxn) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Releases every session lock this process still holds (a shutdown whose drain timeout
    /// cut turns short): the sessions are free at once instead of one lock TTL later. Gives how
    /// many were released; the in-memory store has nothing to release.
    fn release_held(&self) -> StoreFuture<'_, usize> {
        Box::pin(async { Ok(0) })
    }

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
