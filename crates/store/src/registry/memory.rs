//! The registry in memory (tests; lost with the process).

use super::{checked_put, identity, RegistryFuture, RegistryStore};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// `(kind, id)` → every version, oldest first (the last is current).
type Records = BTreeMap<(String, String), Vec<Value>>;

#[derive(Debug, Default)]
pub struct MemoryRegistry {
    records: Mutex<Records>,
    generation: AtomicU64,
}

impl MemoryRegistry {
    pub fn new() -> MemoryRegistry {
        MemoryRegistry::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Records) -> T) -> T {
        let mut guard = match self.records.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

fn key(kind: &str, id: &str) -> (String, String) {
    (kind.to_string(), id.to_string())
}

impl RegistryStore for MemoryRegistry {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn list<'a>(&'a self, kind: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        let out = self.with(|r| {
            r.iter()
                .filter(|((k, _), _)| k == kind)
                .filter_map(|(_, v)| v.last().cloned())
                .collect()
        });
        Box::pin(async move { Ok(out) })
    }

    fn get<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Option<Value>> {
        let out = self.with(|r| r.get(&key(kind, id)).and_then(|v| v.last().cloned()));
        Box::pin(async move { Ok(out) })
    }

    fn put<'a>(&'a self, kind: &'a str, record: Value, expected: u64) -> RegistryFuture<'a, Value> {
        let out = self.with(|r| {
            let (id, _, _) = identity(&record)?;
            let k = key(kind, &id);
            let current = r.get(&k).and_then(|v| v.last());
            let others = r
                .iter()
                .filter(|((kk, _), _)| kk == kind)
                .filter_map(|(_, v)| v.last());
            let stored = checked_put(record, expected, current, others)?;
            r.entry(k).or_default().push(stored.clone());
            self.generation.fetch_add(1, Ordering::SeqCst);
            Ok(stored)
        });
        Box::pin(async move { out })
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, bool> {
        let out = self.with(|r| r.remove(&key(kind, id)).is_some());
        if out {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        Box::pin(async move { Ok(out) })
    }

    fn history<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        let out = self.with(|r| r.get(&key(kind, id)).cloned().unwrap_or_default());
        Box::pin(async move { Ok(out) })
    }

    fn get_version<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        version: u64,
    ) -> RegistryFuture<'a, Option<Value>> {
        let out = self.with(|r| {
            r.get(&key(kind, id)).and_then(|v| {
                v.iter()
                    .find(|x| x.get("version").and_then(Value::as_u64) == Some(version))
                    .cloned()
            })
        });
        Box::pin(async move { Ok(out) })
    }

    fn generation(&self) -> RegistryFuture<'_, u64> {
        let g = self.generation.load(Ordering::SeqCst);
        Box::pin(async move { Ok(g) })
    }
}
