//! Session store options of `flowdm serve` (flattened into its arguments) and the store they
//! select: the in-memory store by default, Redis with `--redis` / `REDIS_URL`.

use flowdm_store::{
    MemoryConfig, MemoryStore, RedisConfig, RedisStore, SessionStore, DEFAULT_MAX_STATE_BYTES,
};
use std::sync::Arc;
use std::time::Duration;

/// `flowdm serve` options for sessions (`docs/redis.md`).
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Redis URL for sessions, transcripts and feedback (default: the embedded in-memory
    /// store). With --redis-cluster: one or more seed nodes, comma separated.
    #[arg(long, value_name = "URL", env = "REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    /// The Redis URLs are Redis Cluster nodes.
    #[arg(long, env = "FLOWDM_REDIS_CLUSTER")]
    pub redis_cluster: bool,
    /// Prefix of every Redis key.
    #[arg(
        long,
        value_name = "PREFIX",
        env = "FLOWDM_REDIS_PREFIX",
        default_value = "flowdm:"
    )]
    pub redis_prefix: String,
    /// Idle expiry of a Redis session in seconds, refreshed by every turn (0: never).
    #[arg(
        long,
        value_name = "SECONDS",
        env = "FLOWDM_SESSION_TTL",
        default_value_t = 7 * 24 * 3600
    )]
    pub session_ttl: u64,
    /// Largest stored session state in bytes (Redis and in-memory); a larger one is refused
    /// (413), the old state kept.
    #[arg(
        long,
        value_name = "BYTES",
        env = "FLOWDM_MAX_STATE_BYTES",
        default_value_t = DEFAULT_MAX_STATE_BYTES
    )]
    pub max_state_bytes: usize,
    /// How long a request waits for other requests of the same user to finish (then 409).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_LOCK_WAIT_MS",
        default_value_t = 10_000
    )]
    pub lock_wait_ms: u64,
    /// Expiry of a Redis session lock: a crashed server blocks its users at most this long; a
    /// turn running longer commits nothing (409).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_REDIS_LOCK_TTL_MS",
        default_value_t = 10_000
    )]
    pub redis_lock_ttl_ms: u64,
    /// Longest wait for one Redis command, connecting included (slower: 503).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_REDIS_TIMEOUT_MS",
        default_value_t = 1_000
    )]
    pub redis_timeout_ms: u64,
    /// Long-lived multiplexed Redis connections (default: one per worker).
    #[arg(long, value_name = "N", env = "FLOWDM_REDIS_CONNECTIONS")]
    pub redis_connections: Option<usize>,
}

impl StoreArgs {
    /// How long a request waits for its turn.
    pub fn lock_wait(&self) -> Duration {
        Duration::from_millis(self.lock_wait_ms.max(1))
    }

    /// The Redis settings, when `--redis` is set (and not blank).
    pub fn redis_config(&self, workers: Option<usize>) -> Option<RedisConfig> {
        let urls: Vec<String> = self
            .redis
            .as_deref()?
            .split(',')
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return None;
        }
        Some(RedisConfig {
            urls,
            cluster: self.redis_cluster,
            prefix: self.redis_prefix.clone(),
            session_ttl: (self.session_ttl > 0).then(|| Duration::from_secs(self.session_ttl)),
            lock_ttl: Duration::from_millis(self.redis_lock_ttl_ms),
            timeout: Duration::from_millis(self.redis_timeout_ms),
            max_state_bytes: self.max_state_bytes,
            connections: self.redis_connections.or(workers).unwrap_or(0),
        })
    }

    /// The selected store and a description for the start-up log (never the URL).
    pub fn build(&self, workers: Option<usize>) -> Result<(Arc<dyn SessionStore>, String), String> {
        match self.redis_config(workers) {
            None => {
                let cfg = MemoryConfig {
                    max_state_bytes: self.max_state_bytes,
                };
                Ok((Arc::new(MemoryStore::with_config(cfg)), "memory".into()))
            }
            Some(cfg) => {
                let store = RedisStore::new(cfg)?;
                let what = store.describe();
                Ok((Arc::new(store), what))
            }
        }
    }
}
