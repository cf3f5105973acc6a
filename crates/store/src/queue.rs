//! The in-process queue in front of a session lock: one async mutex per session key in use, so
//! requests of one user on one process wait in FIFO order (tokio's mutex is fair) instead of
//! all polling the shared lock. The memory store's lock is this queue alone; the Redis store
//! puts it in front of the Redis lock so one process has at most one request per session
//! contending in Redis.

use super::SessionKey;
use dashmap::DashMap;
use std::sync::Arc;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio::time::Instant;

type LockMap = DashMap<SessionKey, Arc<AsyncMutex<()>>>;

/// Per-key async mutexes; entries exist only while a key is held or awaited.
#[derive(Default)]
pub(crate) struct LocalLocks {
    map: Arc<LockMap>,
}

/// Holds a key's mutex; on drop releases it and removes the map entry when nobody else holds
/// or awaits it.
pub(crate) struct LocalGuard {
    guard: Option<OwnedMutexGuard<()>>,
    map: Arc<LockMap>,
    key: SessionKey,
}

impl Drop for LocalGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        remove_if_unused(&self.map, &self.key);
    }
}

/// Waiters clone the Arc under the shard lock, so a count of 1 (the map's own) means nobody
/// holds or awaits this mutex.
fn remove_if_unused(map: &LockMap, key: &SessionKey) {
    map.remove_if(key, |_, m| Arc::strong_count(m) == 1);
}

/// Removes the entry of a waiter that gave up (timeout, cancelled request). Declared before
/// the wait, so it is dropped after the wait's future (which holds the mutex's Arc).
struct WaitCleanup<'a> {
    map: &'a LockMap,
    key: &'a SessionKey,
    armed: bool,
}

impl Drop for WaitCleanup<'_> {
    fn drop(&mut self) {
        if self.armed {
            remove_if_unused(self.map, self.key);
        }
    }
}

impl LocalLocks {
    /// Number of keys with an entry (held or awaited).
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Waits for `key`'s mutex until `deadline`; `None` when the deadline passed first.
    pub(crate) async fn lock_until(
        &self,
        key: &SessionKey,
        deadline: Instant,
    ) -> Option<LocalGuard> {
        let mut cleanup = WaitCleanup {
            map: &self.map,
            key,
            armed: true,
        };
        let mutex = self.map.entry(key.clone()).or_default().clone();
        let guard = tokio::time::timeout_at(deadline, mutex.lock_owned()).await;
        match guard {
            Ok(guard) => {
                cleanup.armed = false;
                Some(LocalGuard {
                    guard: Some(guard),
                    map: self.map.clone(),
                    key: key.clone(),
                })
            }
            // The timed-out future (and its Arc) is gone: `cleanup` removes the entry if unused.
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn entries_are_removed_after_release_and_after_a_timeout() {
        let q = LocalLocks::default();
        let k = SessionKey::new("p", "u");
        let far = Instant::now() + Duration::from_secs(5);
        let g = q.lock_until(&k, far).await.expect("free");
        assert_eq!(q.len(), 1);
        // A second waiter times out; the entry stays (the first still holds it).
        let soon = Instant::now() + Duration::from_millis(30);
        assert!(q.lock_until(&k, soon).await.is_none());
        assert_eq!(q.len(), 1);
        drop(g);
        assert_eq!(q.len(), 0);
        // A waiter that times out on a key nobody else uses leaves nothing behind either.
        let g = q.lock_until(&k, far).await.expect("free");
        let cancelled =
            tokio::time::timeout(Duration::from_millis(20), q.lock_until(&k, far)).await;
        assert!(cancelled.is_err());
        drop(g);
        assert_eq!(q.len(), 0);
    }
}
