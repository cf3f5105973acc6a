//! The live registry of the server (`docs/custom-actions.md` § Persistence): the custom actions
//! of `--actions-dir` and the library of `--library-dir` (both read-only), plus the records of
//! the registry store (kinds `"actions"` and `"library"`, managed through `/api/custom-actions`
//! and `/api/library`), as one [`Snapshot`] that every turn reads ([`LiveRegistry::current`], no
//! I/O). A change through the API rebuilds the snapshot at once; a change made by another server
//! process sharing the store (Redis) is seen by [`LiveRegistry::watch`], which reads the store's
//! generation counter about every second and rebuilds the snapshot when it moved. When the store
//! cannot be read, turns keep the last snapshot.
//!
//! The library is rebuilt from every version of every stored entry (a session keeps the version
//! it started, so old versions stay runnable); compiled versions are cached by `(id, version)`
//! (and the record's timestamps, so a record deleted and created again is compiled again), so a
//! reload compiles only what is new.

use arc_swap::ArcSwap;
use flowdm_model::{Library, LibraryVersion, ServerAction, ServerActions};
use flowdm_store::{RegistryError, RegistryStore};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// The registry kind of custom actions.
pub const ACTIONS: &str = "actions";
/// The registry kind of library entries.
pub const LIBRARY: &str = "library";

/// How often the store's generation is read to pick up other processes' changes.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// What one turn uses: the custom actions and the library of sub-flows.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub actions: Arc<ServerActions>,
    pub library: Arc<Library>,
}

/// A compiled stored version: `(id, version, created_at, updated_at)`.
type CacheKey = (String, u64, String, String);

/// The file-declared actions and library entries (never changed by the API; read again by
/// [`LiveRegistry::reload_files`]).
#[derive(Default)]
pub struct Files {
    /// `--actions-dir`'s actions.
    pub actions: Vec<ServerAction>,
    /// `--library-dir`'s entries, compiled.
    pub library: Vec<Arc<LibraryVersion>>,
}

impl Files {
    /// The file action of this id, if any.
    pub fn action(&self, id: &str) -> Option<&ServerAction> {
        self.actions.iter().find(|a| a.id == id)
    }
}

pub struct LiveRegistry {
    files: ArcSwap<Files>,
    /// `--library-dir` (where a file entry's `config.file` is read).
    pub library_dir: PathBuf,
    /// `--actions-dir` (read again by [`LiveRegistry::reload_files`]; empty: not known).
    pub actions_dir: PathBuf,
    pub store: Arc<dyn RegistryStore>,
    snapshot: ArcSwap<Snapshot>,
    /// Compiled stored library versions (`None`: it did not compile, logged once).
    compiled: Mutex<HashMap<CacheKey, Option<Arc<LibraryVersion>>>>,
    /// The store generation the snapshot was built from (`u64::MAX`: never built).
    generation: AtomicU64,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn cache_key(raw: &Value) -> CacheKey {
    (
        text(raw, "id"),
        raw.get("version").and_then(Value::as_u64).unwrap_or(0),
        text(raw, "created_at"),
        text(raw, "updated_at"),
    )
}

impl LiveRegistry {
    /// The files alone until [`LiveRegistry::reload`] reads the store; `actions_dir` and
    /// `library_dir` are where [`LiveRegistry::reload_files`] reads them again.
    pub fn new(
        action_files: Vec<ServerAction>,
        library_files: &Library,
        actions_dir: PathBuf,
        library_dir: PathBuf,
        store: Arc<dyn RegistryStore>,
    ) -> LiveRegistry {
        let library_files: Vec<Arc<LibraryVersion>> = library_files.versions().cloned().collect();
        LiveRegistry {
            snapshot: ArcSwap::from_pointee(Snapshot {
                actions: Arc::new(ServerActions::new(action_files.clone())),
                library: Arc::new(Library::from_shared(library_files.clone())),
            }),
            files: ArcSwap::from_pointee(Files {
                actions: action_files,
                library: library_files,
            }),
            library_dir,
            actions_dir,
            store,
            compiled: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(u64::MAX),
        }
    }

    /// What the next turn uses.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The snapshot for a turn: [`LiveRegistry::current`] once the store has been read; before
    /// that (the first turns after a start, or a store unreachable since the start) the store
    /// is read first, and when it cannot be, the files alone.
    pub async fn for_turn(&self) -> Arc<Snapshot> {
        if self.generation.load(Ordering::SeqCst) == u64::MAX {
            if let Err(error) = self.reload().await {
                tracing::debug!(%error, "registry not read yet");
            }
        }
        self.current()
    }

    /// The file-declared actions and library entries.
    pub fn files(&self) -> Arc<Files> {
        self.files.load_full()
    }

    /// Reads `--actions-dir` and `--library-dir` again (`POST /admin/reload`, docs/reload.md),
    /// then rebuilds the snapshot. Sessions keep the library versions they pinned
    /// (`storage.subflowVersions`) as long as a version of that number is loaded.
    pub async fn reload_files(&self) -> Result<(), RegistryError> {
        let (dir, lib) = (self.actions_dir.clone(), self.library_dir.clone());
        let files = tokio::task::spawn_blocking(move || Files {
            actions: crate::server_actions::load_list(&dir),
            library: crate::library::load(&lib).versions().cloned().collect(),
        })
        .await
        .unwrap_or_default();
        self.files.store(Arc::new(files));
        self.reload().await
    }

    /// Rebuilds the snapshot from the files and the store's records (a record that does not
    /// parse or compile is logged and skipped; a store record never replaces a file action of
    /// its id, nor a file library version of its name and version).
    pub async fn reload(&self) -> Result<(), RegistryError> {
        let generation = self.store.generation().await?;
        let actions = self.actions_from(self.store.list(ACTIONS).await?);
        // A record whose current version is compiled already has its history compiled too (a
        // history only grows; a record deleted and created again has a new `created_at`): only
        // the others' histories are read.
        let mut known = Vec::new();
        let mut raw_versions = Vec::new();
        for record in self.store.list(LIBRARY).await? {
            match self.lineage(&cache_key(&record)) {
                Some(versions) => known.extend(versions),
                None => {
                    let id = text(&record, "id");
                    raw_versions.extend(self.store.history(LIBRARY, &id).await?);
                }
            }
        }
        let library = self.library_from(known, raw_versions).await;
        self.snapshot.store(Arc::new(Snapshot {
            actions: Arc::new(actions),
            library: Arc::new(library),
        }));
        self.generation.store(generation, Ordering::SeqCst);
        Ok(())
    }

    fn actions_from(&self, records: Vec<Value>) -> ServerActions {
        let files = self.files();
        let mut actions = files.actions.clone();
        for raw in records {
            match ServerAction::parse(&raw) {
                Ok(a) if files.action(&a.id).is_none() => actions.push(a),
                Ok(a) => {
                    tracing::warn!(id = %a.id, "stored custom action shadowed by a file action of its id")
                }
                Err(error) => {
                    let id = raw.get("id").and_then(Value::as_str).unwrap_or("?");
                    tracing::error!(%id, %error, "stored custom action not used");
                }
            }
        }
        ServerActions::new(actions)
    }

    /// Every cached version of the record whose current version is `current` (same id and
    /// creation), when that one is cached.
    fn lineage(&self, current: &CacheKey) -> Option<Vec<(CacheKey, Option<Arc<LibraryVersion>>)>> {
        let cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        cache.contains_key(current).then(|| {
            cache
                .iter()
                .filter(|(k, _)| k.0 == current.0 && k.2 == current.2 && k.1 <= current.1)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    /// The library of the files, the `known` compiled versions and every version of
    /// `raw_versions`: the cached ones reused, the others compiled on the blocking pool.
    async fn library_from(
        &self,
        known: Vec<(CacheKey, Option<Arc<LibraryVersion>>)>,
        raw_versions: Vec<Value>,
    ) -> Library {
        let mut ready: Vec<Arc<LibraryVersion>> = self.files().library.clone();
        ready.extend(known.iter().filter_map(|(_, v)| v.clone()));
        let mut fresh = Vec::new();
        let mut keep: HashMap<CacheKey, Option<Arc<LibraryVersion>>> = known.into_iter().collect();
        {
            let cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
            for raw in raw_versions {
                let key = cache_key(&raw);
                match cache.get(&key) {
                    Some(done) => {
                        ready.extend(done.clone());
                        keep.insert(key, done.clone());
                    }
                    None => fresh.push((key, raw)),
                }
            }
        }
        if !fresh.is_empty() {
            let compiled = tokio::task::spawn_blocking(move || {
                fresh
                    .into_iter()
                    .map(|(key, raw)| {
                        let done = match crate::library::compile_record(&raw) {
                            Ok(v) => Some(Arc::new(v)),
                            Err(error) => {
                                tracing::error!(id = %key.0, version = key.1, %error, "stored library version not used");
                                None
                            }
                        };
                        (key, done)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_else(|error| {
                tracing::error!(%error, "compiling stored library versions failed");
                Vec::new()
            });
            for (key, done) in compiled {
                ready.extend(done.clone());
                keep.insert(key, done);
            }
        }
        // Versions no longer stored (a deleted entry) leave the cache.
        *self.compiled.lock().unwrap_or_else(|p| p.into_inner()) = keep;
        Library::from_shared(ready)
    }

    /// Reads the store's generation; rebuilds the snapshot when it changed.
    pub async fn refresh(&self) -> Result<(), RegistryError> {
        let g = self.store.generation().await?;
        if g != self.generation.load(Ordering::SeqCst) {
            self.reload().await?;
        }
        Ok(())
    }

    /// Refreshes every [`POLL_EVERY`] while the registry lives (a task on the current tokio
    /// runtime); a store that cannot be read is logged once per outage and the last snapshot
    /// kept.
    pub fn watch(self: &Arc<Self>) {
        let weak: Weak<LiveRegistry> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(POLL_EVERY).await;
                let Some(live) = weak.upgrade() else { return };
                match live.refresh().await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("registry reachable again");
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, "registry unreachable: turns keep the last custom actions and library");
                    }
                    Err(_) => {}
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{LiveRegistry, LIBRARY};
    use flowdm_model::Library;
    use flowdm_store::{MemoryRegistry, RegistryStore};
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn record(version_text: &str, created_at: &str, updated_at: &str) -> Value {
        let vf: Value = serde_json::from_slice(
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("examples/library/confirm-order.vf"),
            )
            .expect("read"),
        )
        .expect("json");
        json!({ "id": "e1", "name": "confirm", "description": version_text, "scope": "shared",
            "created_at": created_at, "updated_at": updated_at,
            "config": { "source": vf, "diagram": "Confirm Order" } })
    }

    #[tokio::test]
    async fn every_stored_version_is_in_the_library_and_compiled_once() {
        let store = Arc::new(MemoryRegistry::new());
        let live = LiveRegistry::new(
            Vec::new(),
            &Library::default(),
            "actions".into(),
            "library".into(),
            store.clone(),
        );
        store
            .put(LIBRARY, record("v1", "t0", "t0"), 0)
            .await
            .expect("put");
        live.reload().await.expect("reload");
        let first = live.current().library.clone();
        let v1 = first.version("confirm", 1, "p").expect("v1").clone();
        store
            .put(LIBRARY, record("v2", "t0", "t1"), 1)
            .await
            .expect("put");
        live.reload().await.expect("reload");
        let lib = live.current().library.clone();
        assert_eq!(
            lib.latest_shared("confirm", "p")
                .expect("latest")
                .entry
                .version,
            2
        );
        // Version 1 stays (a pinned session runs it), not compiled again.
        assert!(Arc::ptr_eq(
            lib.version("confirm", 1, "p").expect("v1"),
            &v1
        ));
        // Deleted and created again: compiled again from the new record.
        store.delete(LIBRARY, "e1").await.expect("delete");
        live.reload().await.expect("reload");
        assert!(live.current().library.is_empty());
        store
            .put(LIBRARY, record("new", "t2", "t2"), 0)
            .await
            .expect("put");
        live.reload().await.expect("reload");
        let lib = live.current().library.clone();
        let again = lib.version("confirm", 1, "p").expect("v1");
        assert_eq!(again.entry.description, "new");
        assert!(lib.version("confirm", 2, "p").is_none());
    }
}
