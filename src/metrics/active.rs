//! `flowdm_active_sessions`: the distinct sessions that had a turn within a window, in this
//! process. Memory is bounded: a session is kept as a 64-bit hash of its key (never the user id)
//! with the time of its last turn, in [`SHARDS`] shards (so turns on different workers rarely wait
//! for each other); entries older than the window are pruned once per [`PRUNE_EVERY`] touches of
//! a shard, when it is full, and at each count; past `cap / SHARDS` sessions in a shard no new one
//! is added there until some expire (the gauge then reads about `cap`).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Touches between two prunings (of one shard).
const PRUNE_EVERY: u32 = 1024;
/// Shards, so turns on different workers rarely wait for each other.
const SHARDS: usize = 16;

struct Inner {
    last_turn: HashMap<u64, Instant>,
    touches: u32,
}

/// The sessions seen within `window`, sharded by key.
pub struct ActiveSessions {
    window: Duration,
    /// Most sessions per shard (the cap over [`SHARDS`]).
    cap: usize,
    hasher: RandomState,
    shards: Vec<Mutex<Inner>>,
}

impl ActiveSessions {
    pub fn new(window: Duration, cap: usize) -> ActiveSessions {
        ActiveSessions {
            window,
            cap: cap.div_ceil(SHARDS),
            hasher: RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Inner {
                        last_turn: HashMap::new(),
                        touches: 0,
                    })
                })
                .collect(),
        }
    }

    /// The key of `(project, user)`: a hash keyed by this process's random seed.
    pub fn key(&self, project_id: &str, user_id: &str) -> u64 {
        self.hasher.hash_one((project_id, user_id))
    }

    /// A turn of the session of `key` now.
    pub fn touch(&self, key: u64) {
        self.touch_at(key, Instant::now());
    }

    fn touch_at(&self, key: u64, now: Instant) {
        let Some(Ok(mut inner)) = self.shards.get(key as usize % SHARDS).map(|s| s.lock()) else {
            return;
        };
        inner.touches = inner.touches.wrapping_add(1);
        if inner.touches % PRUNE_EVERY == 0 || inner.last_turn.len() >= self.cap {
            self.prune(&mut inner, now);
        }
        if inner.last_turn.len() < self.cap || inner.last_turn.contains_key(&key) {
            inner.last_turn.insert(key, now);
        }
    }

    fn prune(&self, inner: &mut Inner, now: Instant) {
        let window = self.window;
        inner
            .last_turn
            .retain(|_, at| now.saturating_duration_since(*at) < window);
    }

    /// The sessions with a turn within the window.
    pub fn count(&self) -> usize {
        self.count_at(Instant::now())
    }

    fn count_at(&self, now: Instant) -> usize {
        let mut count = 0;
        for shard in &self.shards {
            if let Ok(mut inner) = shard.lock() {
                self.prune(&mut inner, now);
                count += inner.last_turn.len();
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_sessions_within_the_window_up_to_the_cap() {
        let a = ActiveSessions::new(Duration::from_secs(60), 1000);
        let t0 = Instant::now();
        a.touch_at(a.key("p", "u1"), t0);
        a.touch_at(a.key("p", "u1"), t0);
        a.touch_at(a.key("p", "u2"), t0);
        a.touch_at(a.key("q", "u1"), t0);
        assert_eq!(a.count_at(t0), 3);
        // One session per shard at most: keys of one shard past the first are not added, a
        // known one is refreshed.
        let capped = ActiveSessions::new(Duration::from_secs(60), SHARDS);
        for k in [0, SHARDS as u64, 2 * SHARDS as u64, 1] {
            capped.touch_at(k, t0);
        }
        assert_eq!(capped.count_at(t0), 2);
        capped.touch_at(0, t0);
        assert_eq!(capped.count_at(t0), 2);
        let later = t0 + Duration::from_secs(45);
        a.touch_at(a.key("p", "u1"), later);
        assert_eq!(a.count_at(t0 + Duration::from_secs(61)), 1);
        assert_eq!(a.count_at(t0 + Duration::from_secs(200)), 0);
    }
}
