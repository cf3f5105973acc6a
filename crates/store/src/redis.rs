//! The Redis session store: one node or a Redis Cluster (`redis` with `cluster-async`,
//! connections from `deadpool-redis`). `docs/redis.md` describes keys, semantics and failures.
//!
//! **A turn is two round trips**, each one pipeline:
//!
//! * `begin`: (`GET` of the idempotency record,) `SET <lock> <random token> NX PX <lock TTL>`,
//!   `GET` of the version and of the state. The reads count only when the `SET` took the lock:
//!   then no other turn can write until we commit or the lock expires.
//! * `commit`: `PSETEX` of the new state (and of the response to remember) under staging keys,
//!   then `lua/commit.lua`, which checks the lock token and the version, `RENAME`s the staged
//!   values into place, bumps the version, sets the idle TTL, trims the idempotency records and
//!   deletes the lock — atomically. Large values never pass through Lua (Redis would hash every
//!   byte of them).
//!
//! A request whose lock is taken polls with a short backoff until its lock wait runs out (then
//! [`StoreError::LockTimeout`], 409). In front of the Redis lock an in-process queue
//! ([`LocalLocks`]) lines up the requests of one session on this process, so at most one of them
//! polls Redis.
//!
//! **Connections.** A multiplexed connection carries any number of concurrent requests, so the
//! store keeps a few long-lived *lanes* (one per worker thread by default), each holding one
//! connection taken from the `deadpool-redis` pool; a thread always uses the same lane, whose
//! connection it opened itself (its I/O task runs on that thread). A connection that fails with
//! an I/O error or does not answer within the timeout is thrown away and the next request opens
//! a new one through the pool — that is the reconnect. While Redis cannot be reached, requests
//! fail fast with [`StoreError::Unavailable`] (503) and a reconnect is tried at most every
//! [`RECONNECT_BACKOFF`] per lane.

mod conn;
mod reply;

use super::keys::{ProjectKeys, SessionKeys};
use super::memory::{MAX_FEEDBACK_PER_PROJECT, MAX_TRANSCRIPTS_PER_PROJECT};
use super::queue::{LocalGuard, LocalLocks};
use super::{
    new_transcript, update_transcript, BeginOptions, Begun, SessionKey, SessionLock, SessionStore,
    SessionTxn, StoreError, StoreFuture, IDEMPOTENCY_RECORDS_PER_SESSION,
};
pub(crate) use conn::Conn;
use conn::{lane_index, Held, Lane, Pool};
use deadpool_redis::{Runtime, Timeouts};
use flowdm_engine::State;
use redis::{RedisError, Script, Value as RValue};
use reply::{corrupt, is_broken, is_noscript, parse_begin, pool_error, unavailable, BeginReply};
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::time::Instant;

/// While a lane cannot connect, requests on it fail at once for this long before the next try.
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(200);
/// Longest sleep between two tries for a lock held by another process.
const MAX_LOCK_POLL: Duration = Duration::from_millis(8);
/// Tries of a transcript upsert that lost a race with another upsert of the same transcript.
const TRANSCRIPT_TRIES: usize = 16;

/// Redis store settings (`flowdm serve --redis …`, `docs/redis.md`).
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). One URL for a single
    /// node; for a cluster, any number of seed nodes.
    pub urls: Vec<String>,
    /// Talk Redis Cluster (slots, redirections) instead of a single node.
    pub cluster: bool,
    /// Prepended to every key (no `{` or `}`).
    pub prefix: String,
    /// Idle expiry of a session, refreshed by every committed turn; `None`: never.
    pub session_ttl: Option<Duration>,
    /// Expiry of a session lock, so a crashed lock holder blocks its user at most this long. A
    /// turn that runs longer loses its lock and commits nothing (409).
    pub lock_ttl: Duration,
    /// Longest wait for one Redis command (connecting included); slower → 503.
    pub timeout: Duration,
    /// Largest serialised state accepted; larger → 413 and the old state is kept.
    pub max_state_bytes: usize,
    /// Long-lived multiplexed connections (lanes); 0 = one per CPU.
    pub connections: usize,
    /// Replicas that must have a commit before the turn is answered (`WAIT`, sent to the
    /// session's primary); fewer within `timeout` → 503, so an answered turn survives the
    /// failover of its primary. 0: no wait.
    pub wait_replicas: usize,
}

impl Default for RedisConfig {
    fn default() -> RedisConfig {
        RedisConfig {
            urls: vec!["redis://127.0.0.1:6379".into()],
            cluster: false,
            prefix: "flowdm:".into(),
            session_ttl: Some(Duration::from_secs(crate::DEFAULT_SESSION_TTL_SECS)),
            lock_ttl: Duration::from_secs(10),
            timeout: Duration::from_millis(1000),
            max_state_bytes: super::DEFAULT_MAX_STATE_BYTES,
            connections: 0,
            wait_replicas: 0,
        }
    }
}

/// The Lua scripts (loaded into Redis on first use: `EVALSHA`, `SCRIPT LOAD` on `NOSCRIPT`).
struct Scripts {
    commit: Script,
    unlock: Script,
    renew: Script,
    transcript: Script,
    transcripts: Script,
    feedback: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    commit: Script::new(include_str!("lua/commit.lua")),
    unlock: Script::new(include_str!("lua/unlock.lua")),
    renew: Script::new(include_str!("lua/renew.lua")),
    transcript: Script::new(include_str!("lua/transcript.lua")),
    transcripts: Script::new(include_str!("lua/transcripts.lua")),
    feedback: Script::new(include_str!("lua/feedback.lua")),
});

/// The store's connections and settings (shared with the rate limiter, `super::rate`).
pub(crate) struct Inner {
    cfg: RedisConfig,
    pool: Pool,
    lanes: Vec<Lane>,
    queue: LocalLocks,
    round_trips: AtomicU64,
    /// The session locks this process holds (lock key → token), released by
    /// [`SessionStore::release_held`] at shutdown. Sharded: every turn writes it, from every
    /// worker.
    held: dashmap::DashMap<String, String>,
}

impl Inner {
    fn hold(&self, lock_key: &str, token: &str) {
        self.held.insert(lock_key.to_string(), token.to_string());
    }

    fn let_go(&self, lock_key: &str, token: &str) {
        self.held.remove_if(lock_key, |_, t| t == token);
    }
}

impl Inner {
    /// The calling thread's lane connection, (re)connecting when there is none.
    async fn conn(&self) -> Result<(Conn, usize, u64), StoreError> {
        let li = lane_index(self.lanes.len());
        let lane = &self.lanes[li];
        if let Some((c, id)) = lane.current() {
            return Ok((c, li, id));
        }
        let _connecting = lane.connecting.lock().await;
        if let Some((c, id)) = lane.current() {
            return Ok((c, li, id));
        }
        let retry_at = lane.state.lock().ok().and_then(|s| s.retry_at);
        if retry_at.is_some_and(|t| Instant::now() < t) {
            return Err(StoreError::Unavailable(
                "Redis is unreachable (reconnecting)".into(),
            ));
        }
        let held = match &self.pool {
            Pool::Single(p) => p.get().await.map(Held::Single).map_err(pool_error),
            Pool::Cluster(p) => p.get().await.map(Held::Cluster).map_err(pool_error),
        };
        let mut s = lane
            .state
            .lock()
            .map_err(|_| StoreError::Corrupt("Redis lane mutex poisoned".into()))?;
        match held {
            Ok(held) => {
                s.next_id += 1;
                let id = s.next_id;
                let conn = held.conn();
                s.conn = Some((conn.clone(), id));
                s.held = Some(held);
                s.retry_at = None;
                Ok((conn, li, id))
            }
            Err(e) => {
                s.retry_at = Some(Instant::now() + RECONNECT_BACKOFF);
                Err(e)
            }
        }
    }

    fn timed_out(&self) -> StoreError {
        StoreError::Unavailable(format!(
            "Redis did not answer within {} ms",
            self.cfg.timeout.as_millis()
        ))
    }

    /// The key prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.cfg.prefix
    }

    /// Runs one Redis round trip with the store's timeout; a broken or silent connection is
    /// thrown away (the next call reconnects).
    pub(crate) async fn exec<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let deadline = Instant::now() + self.cfg.timeout;
        let (conn, li, id) = match tokio::time::timeout_at(deadline, self.conn()).await {
            Ok(r) => r?,
            Err(_) => return Err(self.timed_out()),
        };
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout_at(deadline, op(conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if is_broken(&e) {
                    self.lanes[li].invalidate(id);
                }
                Err(unavailable(&e))
            }
            Err(_) => {
                self.lanes[li].invalidate(id);
                Err(self.timed_out())
            }
        }
    }

    /// With `wait_replicas`, waits until that many replicas have this process's writes to
    /// the primary of `key` (`WAIT`, routed to that primary in a cluster); fewer in time → 503
    /// (the commit may not survive a failover: a retry with the same Idempotency-Key replays
    /// it, or runs it again if it was lost).
    async fn replicated(&self, key: &str) -> Result<(), StoreError> {
        let want = self.cfg.wait_replicas;
        if want == 0 {
            return Ok(());
        }
        let wait_ms = (self.cfg.timeout.as_millis() as u64 / 2).max(1);
        let key = key.to_string();
        let acked: i64 = self
            .exec(|c| async move {
                let mut cmd = redis::cmd("WAIT");
                cmd.arg(want).arg(wait_ms);
                match c {
                    Conn::Single(mut c) => cmd.query_async(&mut c).await,
                    Conn::Cluster(mut c) => {
                        use redis::cluster_routing::{
                            Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
                        };
                        let route = Route::with_key(key.as_bytes(), SlotAddr::Master);
                        let routing =
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                        let v = c.route_command(cmd, routing).await?;
                        Ok(redis::from_redis_value(v)?)
                    }
                }
            })
            .await?;
        if (acked as usize) < want {
            return Err(StoreError::Unavailable(format!(
                "the commit reached {acked} of {want} replicas in time; retry with the same Idempotency-Key"
            )));
        }
        Ok(())
    }

    async fn unlock(&self, lock_key: String, token: String) -> Result<(), StoreError> {
        self.exec(|mut c| async move {
            SCRIPTS
                .unlock
                .key(lock_key)
                .arg(token)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(drop)
    }
}

/// Releases the Redis lock (if it may still be ours) in the background, then the in-process
/// queue (`local`, when given), so the next request of this process starts after the unlock.
/// While Redis cannot be reached the unlock is retried until the lock would have expired
/// anyway, so a lock taken by a request whose answer was lost does not outlive an outage.
fn release_later(inner: Arc<Inner>, lock_key: String, token: String, local: Option<LocalGuard>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        // No runtime (shutting down): the lock expires by its TTL.
        return;
    };
    rt.spawn(async move {
        let give_up = Instant::now() + inner.cfg.lock_ttl;
        let mut local = local;
        let mut pause = Duration::from_millis(50);
        loop {
            match inner.unlock(lock_key.clone(), token.clone()).await {
                Ok(()) => {
                    inner.let_go(&lock_key, &token);
                    break;
                }
                Err(e) => {
                    // Do not keep this process's next request waiting on an outage.
                    drop(local.take());
                    if Instant::now() + pause >= give_up {
                        tracing::debug!(error = %e, "session unlock failed; the lock expires by its TTL");
                        break;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
        drop(local);
    });
}

/// The Redis half of a session lock.
struct RedisGuard {
    inner: Arc<Inner>,
    keys: SessionKeys,
    token: String,
    /// The version read at begin.
    version: String,
    local: Option<LocalGuard>,
    /// The Redis lock may still be ours (cleared once a commit released it).
    held: bool,
}

impl Drop for RedisGuard {
    fn drop(&mut self) {
        let local = self.local.take();
        if self.held {
            release_later(
                self.inner.clone(),
                std::mem::take(&mut self.keys.lock),
                std::mem::take(&mut self.token),
                local,
            );
        }
    }
}

/// Sessions in Redis (one node or a cluster).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl RedisStore {
    /// Builds the store; connects lazily (a Redis that is down at start is not an error: the
    /// server answers 503 and `/ready` says so until it is back). Errors name the problem
    /// without echoing the URL (it may hold a password).
    pub fn new(cfg: RedisConfig) -> Result<RedisStore, String> {
        if cfg.urls.is_empty() {
            return Err("no Redis URL given".into());
        }
        if cfg.prefix.contains(['{', '}']) {
            return Err(
                "the Redis key prefix may not contain '{' or '}' (they set the cluster hash tag)"
                    .into(),
            );
        }
        if cfg.lock_ttl.is_zero() || cfg.timeout.is_zero() {
            return Err("the Redis lock TTL and timeout must be positive".into());
        }
        for u in &cfg.urls {
            redis::Client::open(u.as_str()).map_err(|_| {
                "invalid Redis URL: expected redis://[user:password@]host:port[/db]".to_string()
            })?;
        }
        if !cfg.cluster && cfg.urls.len() > 1 {
            return Err("several Redis URLs need --redis-cluster".into());
        }
        let lanes = if cfg.connections == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            cfg.connections
        };
        let timeouts = Timeouts {
            wait: Some(cfg.timeout),
            create: Some(cfg.timeout),
            recycle: Some(cfg.timeout),
        };
        let pool = if cfg.cluster {
            let pc = deadpool_redis::cluster::Config::from_urls(cfg.urls.clone());
            let p = pc
                .builder()
                .map_err(|_| "invalid Redis Cluster URLs".to_string())?
                .max_size(lanes + 1)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(|e| format!("cannot build the Redis Cluster pool: {e}"))?;
            Pool::Cluster(p)
        } else {
            let conn_cfg = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(cfg.timeout))
                .set_response_timeout(Some(cfg.timeout));
            let manager = deadpool_redis::Manager::new_with_config(cfg.urls[0].as_str(), conn_cfg)
                .map_err(|_| "invalid Redis URL".to_string())?;
            let p = deadpool_redis::Pool::builder(manager)
                .max_size(lanes + 1)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(|e| format!("cannot build the Redis pool: {e}"))?;
            Pool::Single(p)
        };
        Ok(RedisStore {
            inner: Arc::new(Inner {
                pool,
                lanes: (0..lanes).map(|_| Lane::default()).collect(),
                queue: LocalLocks::default(),
                round_trips: AtomicU64::new(0),
                held: dashmap::DashMap::new(),
                cfg,
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.cfg
    }

    /// For logs: mode, node count, key prefix — never the URLs.
    pub fn describe(&self) -> String {
        let c = &self.inner.cfg;
        format!(
            "redis ({}, {} node URL{}, prefix {:?}, session TTL {}, lock TTL {} ms, timeout {} ms)",
            if c.cluster { "cluster" } else { "single node" },
            c.urls.len(),
            if c.urls.len() == 1 { "" } else { "s" },
            c.prefix,
            c.session_ttl
                .map(|t| format!("{} s", t.as_secs()))
                .unwrap_or_else(|| "none".into()),
            c.lock_ttl.as_millis(),
            c.timeout.as_millis(),
        )
    }

    /// Redis round trips made so far (one per command or script call; a `NOSCRIPT` reload
    /// after a Redis restart is not counted).
    pub fn round_trips(&self) -> u64 {
        self.inner.round_trips.load(Ordering::Relaxed)
    }

    /// Requests waiting in (or holding) the in-process queue.
    pub fn queued_sessions(&self) -> usize {
        self.inner.queue.len()
    }

    /// A rate limiter named `name` (its keys: `<prefix>rate:<name>:<bucket>`) on this store's
    /// connections, shared by every server on the same Redis (`docs/limits.md`).
    pub fn rate_limiter(
        &self,
        name: &str,
        quota: super::rate::RateQuota,
    ) -> super::rate::RedisRateLimiter {
        super::rate::RedisRateLimiter::new(self.inner.clone(), name, quota)
    }

    /// The keys of a session.
    pub fn session_keys(&self, key: &SessionKey) -> SessionKeys {
        SessionKeys::new(&self.inner.cfg.prefix, key)
    }

    /// The keys of a project.
    pub fn project_keys(&self, project_id: &str) -> ProjectKeys {
        ProjectKeys::new(&self.inner.cfg.prefix, project_id)
    }

    async fn begin_impl(
        &self,
        key: &SessionKey,
        opts: BeginOptions<'_>,
    ) -> Result<Begun, StoreError> {
        let inner = &self.inner;
        let deadline = Instant::now() + opts.wait;
        let busy = || StoreError::LockTimeout {
            waited_ms: opts.wait.as_millis() as u64,
        };
        let local = inner
            .queue
            .lock_until(key, deadline)
            .await
            .ok_or_else(busy)?;
        let keys = self.session_keys(key);
        let token = new_token();
        let lock_ttl = inner.cfg.lock_ttl.as_millis() as u64;
        let mut backoff = Duration::from_millis(1);
        loop {
            let reply = inner
                .exec(|mut c| {
                    let mut pipe = redis::pipe();
                    if let Some(k) = opts.idempotency_key {
                        pipe.cmd("GET").arg(keys.record(k));
                    }
                    pipe.cmd("SET")
                        .arg(&keys.lock)
                        .arg(&token)
                        .arg("NX")
                        .arg("PX")
                        .arg(lock_ttl)
                        .cmd("GET")
                        .arg(&keys.version)
                        .cmd("GET")
                        .arg(&keys.state)
                        .ignore_errors();
                    async move { pipe.query_async::<Vec<RValue>>(&mut c).await }
                })
                .await
                .and_then(|r| parse_begin(r, opts.idempotency_key.is_some()));
            let reply = match reply {
                Ok(r) => r,
                Err(e) => {
                    // The pipeline may have taken the lock before the answer was lost.
                    drop(local);
                    release_later(inner.clone(), keys.lock.clone(), token, None);
                    return Err(e);
                }
            };
            match reply {
                BeginReply::Replay { response, locked } => {
                    if locked {
                        drop(local);
                        release_later(inner.clone(), keys.lock.clone(), token, None);
                    }
                    return Ok(Begun::Replay(response));
                }
                BeginReply::Locked { version, data } => {
                    inner.hold(&keys.lock, &token);
                    let guard = RedisGuard {
                        inner: inner.clone(),
                        keys,
                        token,
                        version,
                        local: Some(local),
                        held: true,
                    };
                    let state = match data {
                        Some(d) => match serde_json::from_slice::<State>(&d) {
                            Ok(s) => Some(s),
                            // `guard` is dropped: the lock is released.
                            Err(e) => return Err(corrupt("stored session is not a state", e)),
                        },
                        None => None,
                    };
                    let mut txn = SessionTxn::new(key.clone(), state, SessionLock::new(guard));
                    txn.idempotency_key = opts.idempotency_key.map(str::to_string);
                    return Ok(Begun::Txn(txn));
                }
                BeginReply::Busy => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(busy());
                    }
                    let jitter = rand::random::<u64>() % (backoff.as_micros() as u64 / 2 + 1);
                    let pause = (backoff + Duration::from_micros(jitter)).min(deadline - now);
                    tokio::time::sleep(pause).await;
                    backoff = (backoff * 2).min(MAX_LOCK_POLL);
                }
            }
        }
    }

    async fn commit_impl(
        &self,
        mut txn: SessionTxn,
        state: Option<State>,
    ) -> Result<(), StoreError> {
        let inner = &self.inner;
        let Some(guard) = txn.lock.downcast_mut::<RedisGuard>() else {
            return Err(StoreError::Corrupt(
                "a transaction of another store was committed to Redis".into(),
            ));
        };
        let (op, data) = match &state {
            Some(s) => (
                "set",
                serde_json::to_vec(s).map_err(|e| corrupt("cannot serialise the state", e))?,
            ),
            None => ("del", Vec::new()),
        };
        if data.len() > inner.cfg.max_state_bytes {
            // `txn` is dropped: the lock is released, the stored state stays as it was.
            return Err(StoreError::TooLarge {
                size: data.len(),
                limit: inner.cfg.max_state_bytes,
            });
        }
        let ttl = inner
            .cfg
            .session_ttl
            .map(|t| t.as_millis() as u64)
            .unwrap_or(0);
        let (idem, response) = match (txn.idempotency_key.take(), txn.response.take()) {
            (Some(k), Some(r)) => (k, r),
            _ => (String::new(), Vec::new()),
        };
        let r: i64 = {
            let keys = &guard.keys;
            let token = &guard.token;
            let lock_ttl = inner.cfg.lock_ttl.as_millis() as u64;
            let staged_state = keys.staged_state(token);
            let staged_response = keys.staged_response(token);
            let record = keys.record(&idem);
            let record_prefix = keys.record_prefix();
            let mut inv = SCRIPTS.commit.prepare_invoke();
            inv.key(&keys.state)
                .key(&keys.version)
                .key(&keys.lock)
                .key(&staged_state)
                .key(&keys.idempotency_order)
                .key(&staged_response)
                .key(&record)
                .arg(token)
                .arg(&guard.version)
                .arg(op)
                .arg(ttl)
                .arg(&idem)
                .arg(IDEMPOTENCY_RECORDS_PER_SESSION)
                .arg(&record_prefix);
            let mut pipe = redis::pipe();
            if op == "set" {
                pipe.cmd("PSETEX")
                    .arg(&staged_state)
                    .arg(lock_ttl)
                    .arg(&data);
            }
            if !idem.is_empty() {
                pipe.cmd("PSETEX")
                    .arg(&staged_response)
                    .arg(lock_ttl)
                    .arg(&response);
            }
            pipe.invoke_script(&inv).ignore_errors();
            let mut tries = 0;
            loop {
                tries += 1;
                let replies: Vec<RValue> = inner
                    .exec(|mut c| {
                        let pipe = &pipe;
                        async move { pipe.query_async(&mut c).await }
                    })
                    .await?;
                match replies.last() {
                    Some(RValue::Int(n)) => break *n,
                    Some(RValue::ServerError(e)) => {
                        let e = RedisError::from(e.clone());
                        if is_noscript(&e) && tries == 1 {
                            // Redis restarted (or flushed its script cache): load and run again.
                            inner
                                .exec(
                                    |mut c| async move { SCRIPTS.commit.load_async(&mut c).await },
                                )
                                .await?;
                            continue;
                        }
                        return Err(unavailable(&e));
                    }
                    other => return Err(corrupt("unexpected commit reply", format!("{other:?}"))),
                }
            }
        };
        inner.let_go(&guard.keys.lock, &guard.token);
        match r {
            1 => {
                guard.held = false;
                inner.replicated(&guard.keys.lock).await
            }
            -1 => {
                guard.held = false;
                Err(StoreError::Conflict(format!(
                    "the turn held the session longer than the lock TTL ({} ms) and lost its lock",
                    inner.cfg.lock_ttl.as_millis()
                )))
            }
            -2 => {
                guard.held = false;
                Err(StoreError::Conflict(
                    "the stored session was changed outside of a turn".into(),
                ))
            }
            -3 => {
                guard.held = false;
                Err(StoreError::Unavailable(
                    "Redis lost the staged state before the commit; nothing was stored".into(),
                ))
            }
            n => Err(corrupt("unexpected commit reply", n)),
        }
    }

    async fn upsert_transcript_impl(
        &self,
        project_id: &str,
        session_id: &str,
        fields: Map<String, Value>,
        now: &str,
    ) -> Result<Value, StoreError> {
        let inner = &self.inner;
        let keys = self.project_keys(project_id);
        for _ in 0..TRANSCRIPT_TRIES {
            let current: Option<String> = inner
                .exec(|mut c| {
                    let cmd = redis::cmd("HGET")
                        .arg(&keys.transcripts)
                        .arg(session_id)
                        .clone();
                    async move { cmd.query_async(&mut c).await }
                })
                .await?;
            let mut doc = match &current {
                Some(text) => match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        return Err(StoreError::Corrupt(
                            "stored transcript is not an object".into(),
                        ))
                    }
                },
                None => new_transcript(project_id, session_id, now),
            };
            update_transcript(&mut doc, fields.clone(), now);
            let doc = Value::Object(doc);
            let text = doc.to_string();
            let stored: i64 = inner
                .exec(|mut c| {
                    let mut inv = SCRIPTS.transcript.prepare_invoke();
                    inv.key(&keys.transcripts)
                        .key(&keys.transcript_order)
                        .arg(session_id)
                        .arg(current.as_deref().unwrap_or(""))
                        .arg(&text)
                        .arg(MAX_TRANSCRIPTS_PER_PROJECT);
                    async move { inv.invoke_async(&mut c).await }
                })
                .await?;
            if stored == 1 {
                return Ok(doc);
            }
        }
        Err(StoreError::Conflict(
            "the transcript was updated concurrently too many times".into(),
        ))
    }
}

fn parse_docs(list: Vec<Vec<u8>>, what: &str) -> Result<Vec<Value>, StoreError> {
    list.iter()
        .map(|b| serde_json::from_slice(b).map_err(|e| corrupt(what, e)))
        .collect()
}

impl SessionStore for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn release_held(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let keys: Vec<String> = self.inner.held.iter().map(|e| e.key().clone()).collect();
            let held: Vec<(String, String)> = keys
                .into_iter()
                .filter_map(|k| self.inner.held.remove(&k))
                .collect();
            let mut released = 0;
            for (lock_key, token) in held {
                if self.inner.unlock(lock_key, token).await.is_ok() {
                    released += 1;
                }
            }
            Ok(released)
        })
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let pong: String = self
                .inner
                .exec(|mut c| async move { redis::cmd("PING").query_async(&mut c).await })
                .await?;
            if pong == "PONG" {
                Ok(())
            } else {
                Err(StoreError::Unavailable(format!(
                    "Redis answered {pong:?} to PING"
                )))
            }
        })
    }

    fn begin<'a>(&'a self, key: &'a SessionKey, opts: BeginOptions<'a>) -> StoreFuture<'a, Begun> {
        Box::pin(self.begin_impl(key, opts))
    }

    fn commit<'a>(&'a self, txn: SessionTxn, state: Option<State>) -> StoreFuture<'a, ()> {
        Box::pin(self.commit_impl(txn, state))
    }

    fn renew_every(&self) -> Option<Duration> {
        Some(self.inner.cfg.lock_ttl / 3)
    }

    fn renew<'a>(&'a self, txn: &'a mut SessionTxn) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let Some(guard) = txn.lock.downcast_mut::<RedisGuard>() else {
                return Ok(());
            };
            let (lock_key, token) = (guard.keys.lock.clone(), guard.token.clone());
            let ttl = self.inner.cfg.lock_ttl.as_millis() as u64;
            let extended: i64 = self
                .inner
                .exec(|mut c| {
                    let (lock_key, token) = (lock_key.clone(), token.clone());
                    async move {
                        SCRIPTS
                            .renew
                            .key(lock_key)
                            .arg(token)
                            .arg(ttl)
                            .invoke_async::<i64>(&mut c)
                            .await
                    }
                })
                .await?;
            if extended == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict(
                    "the session lock expired during the turn".into(),
                ))
            }
        })
    }

    fn get<'a>(&'a self, key: &'a SessionKey) -> StoreFuture<'a, Option<State>> {
        Box::pin(async move {
            let keys = self.session_keys(key);
            let data: Option<Vec<u8>> = self
                .inner
                .exec(|mut c| {
                    let cmd = redis::cmd("GET").arg(&keys.state).clone();
                    async move { cmd.query_async(&mut c).await }
                })
                .await?;
            data.map(|d| {
                serde_json::from_slice(&d).map_err(|e| corrupt("stored session is not a state", e))
            })
            .transpose()
        })
    }

    fn upsert_transcript<'a>(
        &'a self,
        project_id: &'a str,
        session_id: &'a str,
        fields: Map<String, Value>,
        now: &'a str,
    ) -> StoreFuture<'a, Value> {
        Box::pin(self.upsert_transcript_impl(project_id, session_id, fields, now))
    }

    fn transcripts<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let keys = self.project_keys(project_id);
            let list: Vec<Vec<u8>> = self
                .inner
                .exec(|mut c| {
                    let mut inv = SCRIPTS.transcripts.prepare_invoke();
                    inv.key(&keys.transcripts).key(&keys.transcript_order);
                    async move { inv.invoke_async(&mut c).await }
                })
                .await?;
            parse_docs(list, "stored transcript is not JSON")
        })
    }

    fn add_feedback<'a>(&'a self, project_id: &'a str, feedback: Value) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let keys = self.project_keys(project_id);
            let doc = feedback.to_string();
            self.inner
                .exec(|mut c| {
                    let mut inv = SCRIPTS.feedback.prepare_invoke();
                    inv.key(&keys.feedback)
                        .arg(doc)
                        .arg(MAX_FEEDBACK_PER_PROJECT);
                    async move { inv.invoke_async::<i64>(&mut c).await }
                })
                .await
                .map(drop)
        })
    }

    fn feedback<'a>(&'a self, project_id: &'a str) -> StoreFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let keys = self.project_keys(project_id);
            let list: Vec<Vec<u8>> = self
                .inner
                .exec(|mut c| {
                    let cmd = redis::cmd("LRANGE")
                        .arg(&keys.feedback)
                        .arg(0)
                        .arg(-1)
                        .clone();
                    async move { cmd.query_async(&mut c).await }
                })
                .await?;
            parse_docs(list, "stored feedback is not JSON")
        })
    }
}
