//! The live custom actions of the server (`docs/custom-actions.md` § Persistence): the actions of
//! `--actions-dir` (read-only) plus the records of the registry store (kind `"actions"`, managed
//! through `/api/custom-actions`), as one [`ServerActions`] snapshot that every turn reads
//! ([`LiveActions::current`], no I/O). A change through the API rebuilds the snapshot at once;
//! a change made by another server process sharing the store (Redis) is seen by
//! [`LiveActions::watch`], which reads the store's generation counter about every second and
//! rebuilds the snapshot when it moved. When the store cannot be read, turns keep the last
//! snapshot.

use arc_swap::ArcSwap;
use flowdm_model::{ServerAction, ServerActions};
use flowdm_store::{RegistryError, RegistryStore};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The registry kind of custom actions.
pub const KIND: &str = "actions";

/// How often the store's generation is read to pick up other processes' changes.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

pub struct LiveActions {
    /// `--actions-dir`'s actions (never changed by the API).
    files: Vec<ServerAction>,
    pub store: Arc<dyn RegistryStore>,
    snapshot: ArcSwap<ServerActions>,
    /// The store generation the snapshot was built from (`u64::MAX`: never built).
    generation: AtomicU64,
}

impl LiveActions {
    /// The file actions alone until [`LiveActions::reload`] reads the store.
    pub fn new(files: Vec<ServerAction>, store: Arc<dyn RegistryStore>) -> LiveActions {
        LiveActions {
            snapshot: ArcSwap::from_pointee(ServerActions::new(files.clone())),
            files,
            store,
            generation: AtomicU64::new(u64::MAX),
        }
    }

    /// The actions the next turn uses.
    pub fn current(&self) -> Arc<ServerActions> {
        self.snapshot.load_full()
    }

    /// The snapshot for a turn: [`LiveActions::current`] once the store has been read; before
    /// that (the first turns after a start, or a store unreachable since the start) the store
    /// is read first, and when it cannot be, the file actions alone.
    pub async fn for_turn(&self) -> Arc<ServerActions> {
        if self.generation.load(Ordering::SeqCst) == u64::MAX {
            if let Err(error) = self.reload().await {
                tracing::debug!(%error, "custom actions registry not read yet");
            }
        }
        self.current()
    }

    /// The file-declared actions.
    pub fn files(&self) -> &[ServerAction] {
        &self.files
    }

    /// The file action of this id, if any.
    pub fn file_action(&self, id: &str) -> Option<&ServerAction> {
        self.files.iter().find(|a| a.id == id)
    }

    /// Rebuilds the snapshot from the files and the store's records (a record that does not
    /// parse is logged and skipped; a store record never replaces a file action of its id).
    pub async fn reload(&self) -> Result<(), RegistryError> {
        let generation = self.store.generation().await?;
        let records = self.store.list(KIND).await?;
        let mut actions = self.files.clone();
        for raw in records {
            match ServerAction::parse(&raw) {
                Ok(a) if self.file_action(&a.id).is_none() => actions.push(a),
                Ok(a) => {
                    tracing::warn!(id = %a.id, "stored custom action shadowed by a file action of its id")
                }
                Err(error) => {
                    let id = raw.get("id").and_then(Value::as_str).unwrap_or("?");
                    tracing::error!(%id, %error, "stored custom action not used");
                }
            }
        }
        self.snapshot.store(Arc::new(ServerActions::new(actions)));
        self.generation.store(generation, Ordering::SeqCst);
        Ok(())
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
        let weak: Weak<LiveActions> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(POLL_EVERY).await;
                let Some(live) = weak.upgrade() else { return };
                match live.refresh().await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("custom actions registry reachable again");
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, "custom actions registry unreachable: turns keep the last actions");
                    }
                    Err(_) => {}
                }
            }
        });
    }
}
