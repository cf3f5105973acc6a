//! Rate limits (`docs/limits.md`): a [`RateLimiter`] answers, for one bucket (an API key, a
//! user of a project), whether one more request may pass now, with what the `X-RateLimit-*`
//! and `Retry-After` headers tell.
//!
//! Both implementations run the same algorithm, GCRA (a token bucket without a timer): a
//! bucket of [`RateQuota`] `limit / window` lets `limit` requests through at once and regains
//! one every `window / limit`. A refused request consumes nothing.
//!
//! * [`MemoryRateLimiter`]: in this process (`governor`'s keyed limiter); buckets not used for
//!   a while are dropped every [`SWEEP_EVERY`] checks.
//! * [`RedisRateLimiter`]: shared by every server on the same Redis (`lua/rate.lua`, one
//!   `EVALSHA` per check on the session store's connections, Redis' clock). A Redis error is
//!   returned to the caller, which lets the request through (fail open).

use super::redis::Inner as RedisInner;
use super::StoreError;
use governor::clock::{Clock, MonotonicClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::Quota;
use redis::Script;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Checks between two sweeps of the in-memory buckets.
pub const SWEEP_EVERY: u64 = 4096;

/// `limit` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub limit: NonZeroU32,
    pub window: Duration,
}

/// Why a quota does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rate limit: expected <requests>/<seconds> (e.g. 500/60) or off")]
pub struct BadQuota(pub String);

impl RateQuota {
    /// `N/SECONDS` (e.g. `500/60`); `off`, `0` or an empty string: `None` (no limit).
    pub fn parse(s: &str) -> Result<Option<RateQuota>, BadQuota> {
        let t = s.trim();
        if t.is_empty() || t == "0" || t.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || BadQuota(s.to_string());
        let (n, secs) = t.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0 * 365.0) {
            return Err(bad());
        }
        let window = Duration::from_secs_f64(secs);
        let limit = NonZeroU32::new(n).ok_or_else(bad)?;
        if window.as_micros() < u128::from(limit.get()) {
            return Err(bad());
        }
        Ok(Some(RateQuota { limit, window }))
    }

    /// The time one request's place takes to come back: `window / limit`.
    pub fn interval(&self) -> Duration {
        self.window / self.limit.get()
    }
}

impl std::fmt::Display for RateQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.limit, self.window.as_secs_f64())
    }
}

/// The answer of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// The request may pass (and was counted).
    pub allowed: bool,
    /// The quota's `limit` (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Requests that may still pass at once after this one (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Refused: how long until one request may pass (`Retry-After`); zero when allowed.
    pub retry_after: Duration,
    /// How long until the bucket is full again (`X-RateLimit-Reset`).
    pub reset_after: Duration,
}

/// A boxed future of a check.
pub type RateFuture<'a> =
    Pin<Box<dyn Future<Output = Result<RateDecision, StoreError>> + Send + 'a>>;

/// Counts requests per bucket against one quota.
pub trait RateLimiter: Send + Sync + 'static {
    /// `memory` or `redis` (logs).
    fn name(&self) -> &'static str;
    /// The quota.
    fn quota(&self) -> RateQuota;
    /// Counts one request in `bucket` if it may pass now.
    fn check<'a>(&'a self, bucket: &'a str) -> RateFuture<'a>;
}

type Keyed = governor::RateLimiter<
    String,
    DashMapStateStore<String>,
    MonotonicClock,
    StateInformationMiddleware,
>;

/// The limiter of one process.
pub struct MemoryRateLimiter {
    quota: RateQuota,
    limiter: Keyed,
    checks: AtomicU64,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemoryRateLimiter({})", self.quota)
    }
}

impl MemoryRateLimiter {
    pub fn new(quota: RateQuota) -> MemoryRateLimiter {
        let interval = quota.interval().max(Duration::from_nanos(1));
        let gq = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(quota.limit);
        let limiter: Keyed =
            governor::RateLimiter::new(gq, DashMapStateStore::default(), MonotonicClock);
        MemoryRateLimiter {
            quota,
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Buckets currently kept.
    pub fn buckets(&self) -> usize {
        self.limiter.len()
    }

    fn decide(&self, bucket: &str) -> RateDecision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let limit = self.quota.limit.get();
        let interval = self.quota.interval();
        match self.limiter.check_key(&bucket.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity().min(limit);
                RateDecision {
                    allowed: true,
                    limit,
                    remaining,
                    retry_after: Duration::ZERO,
                    reset_after: interval * (limit - remaining),
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                RateDecision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    retry_after: wait,
                    reset_after: wait + interval * (limit - 1),
                }
            }
        }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn quota(&self) -> RateQuota {
        self.quota
    }

    fn check<'a>(&'a self, bucket: &'a str) -> RateFuture<'a> {
        let decision = self.decide(bucket);
        Box::pin(async move { Ok(decision) })
    }
}

static RATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/rate.lua")));

/// The limiter shared by every server on one Redis (built by
/// [`super::RedisStore::rate_limiter`]: it uses the store's connections and timeout).
pub struct RedisRateLimiter {
    inner: Arc<RedisInner>,
    quota: RateQuota,
    /// `<prefix>rate:<name>:`
    key_prefix: String,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisRateLimiter({}, {:?})", self.quota, self.key_prefix)
    }
}

impl RedisRateLimiter {
    pub(crate) fn new(inner: Arc<RedisInner>, name: &str, quota: RateQuota) -> RedisRateLimiter {
        let key_prefix = format!("{}rate:{name}:", inner.prefix());
        RedisRateLimiter {
            inner,
            quota,
            key_prefix,
        }
    }

    /// The Redis key of `bucket`.
    pub fn key(&self, bucket: &str) -> String {
        format!("{}{bucket}", self.key_prefix)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RateLimiter for RedisRateLimiter {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn quota(&self) -> RateQuota {
        self.quota
    }

    fn check<'a>(&'a self, bucket: &'a str) -> RateFuture<'a> {
        let key = self.key(bucket);
        let interval = micros(self.quota.interval()).max(1);
        let limit = self.quota.limit.get();
        Box::pin(async move {
            let reply: Vec<i64> = self
                .inner
                .exec(|mut c| async move {
                    RATE_SCRIPT
                        .key(key)
                        .arg(interval)
                        .arg(limit)
                        .invoke_async(&mut c)
                        .await
                })
                .await?;
            let at = |i: usize| reply.get(i).copied().unwrap_or(0).max(0);
            let us = |i: usize| Duration::from_micros(at(i) as u64);
            if reply.len() != 4 {
                return Err(StoreError::Corrupt(format!(
                    "the rate-limit script answered {reply:?}"
                )));
            }
            Ok(RateDecision {
                allowed: at(0) == 1,
                limit,
                remaining: u32::try_from(at(1)).unwrap_or(limit).min(limit),
                retry_after: us(2),
                reset_after: us(3),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse() {
        let q = RateQuota::parse("2/60").unwrap().unwrap();
        assert_eq!(q.limit.get(), 2);
        assert_eq!(q.window, Duration::from_secs(60));
        assert_eq!(q.interval(), Duration::from_secs(30));
        assert_eq!(
            RateQuota::parse(" 500 / 0.5 ")
                .unwrap()
                .unwrap()
                .limit
                .get(),
            500
        );
        for off in ["", "off", "OFF", "0"] {
            assert_eq!(RateQuota::parse(off).unwrap(), None, "{off}");
        }
        for bad in ["5", "0/60", "a/60", "5/0", "5/-1", "5/x", "5/nan", "/60"] {
            assert!(RateQuota::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn memory_buckets_are_separate_and_refusals_consume_nothing() {
        let l = MemoryRateLimiter::new(RateQuota::parse("2/60").unwrap().unwrap());
        let a1 = l.check("a").await.unwrap();
        assert!(a1.allowed);
        assert_eq!((a1.limit, a1.remaining), (2, 1));
        let a2 = l.check("a").await.unwrap();
        assert!(a2.allowed);
        assert_eq!(a2.remaining, 0);
        assert!(a2.reset_after > Duration::from_secs(59));
        for _ in 0..3 {
            let a3 = l.check("a").await.unwrap();
            assert!(!a3.allowed);
            assert!(a3.retry_after > Duration::from_secs(29));
            assert!(a3.retry_after <= Duration::from_secs(30));
        }
        assert!(l.check("b").await.unwrap().allowed);
        assert_eq!(l.buckets(), 2);
    }

    #[tokio::test]
    async fn memory_buckets_refill() {
        let l = MemoryRateLimiter::new(RateQuota::parse("1/0.05").unwrap().unwrap());
        assert!(l.check("a").await.unwrap().allowed);
        assert!(!l.check("a").await.unwrap().allowed);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(l.check("a").await.unwrap().allowed);
    }
}
