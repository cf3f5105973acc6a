//! Reload on change: a `notify` watcher on the knowledge-base directory. Events are gathered
//! per project until the directory has been quiet for the debounce delay (an editor's save or a
//! copy of many files is one burst), then each changed project is indexed again on the watcher's
//! thread and swapped in ([`KnowledgeBase::reload_project`]); searches meanwhile use the old
//! index. Reads (the reload's own among them) are not changes, so a reload never triggers
//! another.

use crate::{KbError, KnowledgeBase};
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long the directory must be quiet before the changed projects are indexed again.
pub const DEBOUNCE: Duration = Duration::from_millis(500);

/// A burst of changes that never pauses is still indexed after this long.
const MAX_WAIT: Duration = Duration::from_secs(5);

impl KnowledgeBase {
    /// Starts watching the directory (debounced by [`DEBOUNCE`]). The watcher lives as long as
    /// the knowledge base; a second call replaces the first watcher.
    pub fn watch(self: &Arc<Self>) -> Result<(), KbError> {
        self.watch_with(DEBOUNCE)
    }

    /// [`KnowledgeBase::watch`] with another debounce delay.
    pub fn watch_with(self: &Arc<Self>, debounce: Duration) -> Result<(), KbError> {
        let root = self
            .dir()
            .canonicalize()
            .map_err(|e| KbError::Watch(format!("{}: {e}", self.dir().display())))?;
        let (tx, rx) = channel::<notify::Result<Event>>();
        let mut watcher =
            notify::recommended_watcher(tx).map_err(|e| KbError::Watch(e.to_string()))?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| KbError::Watch(format!("{}: {e}", root.display())))?;
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("kb-watch".into())
            .spawn(move || run(weak, root, rx, debounce))
            .map_err(|e| KbError::Watch(e.to_string()))?;
        // The thread ends when this watcher (and so the channel's sender) is dropped.
        *self.watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(watcher);
        tracing::info!(dir = %self.dir().display(), "knowledge base: watching for changes");
        Ok(())
    }
}

/// Whether an event can change a document (reads and metadata changes cannot).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Other => false,
    }
}

/// The project folder names an event's paths fall in.
fn projects_of(root: &Path, event: &Event) -> Vec<String> {
    if !is_change(&event.kind) {
        return Vec::new();
    }
    event
        .paths
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .filter_map(|rel| rel.components().next())
        .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
        .filter(|name| !name.starts_with('.'))
        .collect()
}

fn run(
    kb: Weak<KnowledgeBase>,
    root: PathBuf,
    rx: Receiver<notify::Result<Event>>,
    debounce: Duration,
) {
    let mut dirty = BTreeSet::new();
    let note = |dirty: &mut BTreeSet<String>, event: notify::Result<Event>| match event {
        Ok(event) => dirty.extend(projects_of(&root, &event)),
        Err(error) => tracing::warn!(%error, "knowledge base: file watcher error"),
    };
    loop {
        // Wait for a first change.
        match rx.recv() {
            Ok(event) => note(&mut dirty, event),
            Err(_) => return,
        }
        if dirty.is_empty() {
            continue;
        }
        // Then for the burst to end.
        let started = Instant::now();
        while started.elapsed() < MAX_WAIT {
            match rx.recv_timeout(debounce) {
                Ok(event) => note(&mut dirty, event),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let Some(kb) = kb.upgrade() else { return };
        for project in std::mem::take(&mut dirty) {
            if let Err(error) = kb.reload_project(&project) {
                tracing::warn!(project, %error, "knowledge base: not reloaded, the previous index stays");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(mut ok: impl FnMut() -> bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    #[test]
    fn a_changed_file_is_indexed_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p")).unwrap();
        std::fs::write(dir.path().join("p/a.txt"), "Parcels ship on Mondays.").unwrap();
        let kb = Arc::new(KnowledgeBase::load(dir.path()).unwrap());
        kb.watch_with(Duration::from_millis(100)).unwrap();
        assert!(kb.search("p", "warranty", 2).unwrap().is_empty());
        std::fs::write(dir.path().join("p/b.md"), "# Warranty\n\nTwo years.").unwrap();
        assert!(wait_for(|| !kb
            .search("p", "warranty", 2)
            .unwrap()
            .is_empty()));
        // A new project folder is picked up too.
        std::fs::create_dir_all(dir.path().join("q")).unwrap();
        std::fs::write(dir.path().join("q/c.txt"), "Opening hours: nine to five.").unwrap();
        assert!(wait_for(|| kb
            .search("q", "hours", 2)
            .is_ok_and(|h| h.len() == 1)));
    }

    #[test]
    fn reads_are_not_changes() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Remove(
            notify::event::RemoveKind::File
        )));
    }
}
