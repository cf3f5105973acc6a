//! The loaded agents, reloaded without a restart (`docs/reload.md`).
//!
//! [`LiveAgents`] holds the current [`Registry`] (swapped whole by a reload, so a request sees
//! one consistent set) and the agents a reload replaced or removed ("retired"), kept for the
//! sessions that started on them:
//!
//! * **Reload.** `POST /admin/reload` or the watcher on `--diagrams` (debounced) reads the
//!   folder again. A file whose bytes did not change keeps its compiled agent; a changed or new
//!   file is compiled; a file that fails to load keeps the agents it had (the reason is
//!   reported); a removed file's agents leave the registry. Every agent replaced or removed is
//!   retired.
//! * **Pinning.** Each agent has a *revision*: the first 16 hex digits of the SHA-256 of its
//!   file's bytes (the same in every process that loads the same file). A turn records the
//!   revision it ran on in the session (`storage["flowdm:revision"]`); the next turn of that
//!   session runs on that revision while it is kept, even after a reload, and a `launch` (a new
//!   conversation) or a new session takes the current one. A retired agent is dropped once no
//!   turn has used it for `retire_after` (the session TTL: no session can still use it), and at
//!   most [`MAX_RETIRED`] revisions of one version are kept (older ones are dropped: their
//!   sessions move to the current revision).

use crate::engine::{Agent, State};
use crate::projects::{agent_files, is_agent_file, load_agent, AgentError, Registry};
use arc_swap::ArcSwap;
use flowdm_nlu::vectors::WordVectors;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a session records the revision it runs on.
pub const REVISION_KEY: &str = "flowdm:revision";
/// Retired revisions kept per version.
pub const MAX_RETIRED: usize = 8;

/// One loaded file.
#[derive(Debug, Clone)]
struct FileAgents {
    revision: String,
    agents: Vec<Arc<Agent>>,
}

/// One set of loaded agents and what was loaded from each file.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub registry: Arc<Registry>,
    files: HashMap<PathBuf, FileAgents>,
    /// Version id → its loaded agent and revision.
    by_version: HashMap<String, (Arc<Agent>, String)>,
    /// The OpenAPI document with this registry's projects and versions.
    pub openapi: actix_web::web::Bytes,
}

#[derive(Debug)]
struct Retired {
    agent: Arc<Agent>,
    revision: String,
    last_used: Instant,
}

/// A file compiled and loaded: `{file, projectID, versionID, revision}`.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedFile {
    pub file: String,
    #[serde(rename = "projectID")]
    pub project_id: String,
    #[serde(rename = "versionID")]
    pub version_id: String,
    pub revision: String,
}

/// What a reload did (the answer of `POST /admin/reload`).
#[derive(Debug, Default, Clone, Serialize)]
pub struct ReloadReport {
    /// Files compiled and loaded (new or changed).
    pub loaded: Vec<LoadedFile>,
    /// Files whose bytes did not change.
    pub unchanged: usize,
    /// Files that failed: `{file, error}`; their previous agents (if any) are kept.
    pub failed: Vec<serde_json::Value>,
    /// Files gone from the folder: their agents left the registry.
    pub removed: Vec<String>,
    /// Revisions kept for the sessions that started on them.
    pub retired: usize,
}

/// What [`LiveAgents::build`] read: the new snapshot, the report and the agents no longer in the
/// snapshot (with their revisions).
struct Built {
    snapshot: Snapshot,
    reload: ReloadReport,
    gone: Vec<(Arc<Agent>, String)>,
}

/// The live agents.
pub struct LiveAgents {
    dir: PathBuf,
    actions: Arc<flowdm_model::ServerActions>,
    library: Arc<flowdm_model::Library>,
    /// The classifier's word vectors, given to every agent.
    vectors: Option<Arc<WordVectors>>,
    current: ArcSwap<Snapshot>,
    retired: Mutex<Vec<Retired>>,
    retire_after: Duration,
    /// One reload at a time.
    reloading: Mutex<()>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

fn revision_of(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// Records a file that failed to load.
fn failed(reload: &mut ReloadReport, path: &Path, error: AgentError) {
    reload.failed.push(serde_json::json!({
        "file": path.display().to_string(), "error": error.to_string(),
    }));
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LiveAgents {
    /// Loads `dir` (as [`Registry::load_dir_with_library`] does: failed files are reported and
    /// skipped); only an unreadable folder is an error. The report's `loaded` lists every
    /// agent loaded.
    pub fn load(
        dir: &Path,
        actions: Arc<flowdm_model::ServerActions>,
        library: Arc<flowdm_model::Library>,
        vectors: Option<Arc<WordVectors>>,
        retire_after: Duration,
    ) -> std::io::Result<(LiveAgents, ReloadReport)> {
        let live = LiveAgents {
            dir: dir.to_path_buf(),
            actions,
            library,
            vectors,
            current: ArcSwap::from_pointee(Snapshot::default()),
            retired: Mutex::new(Vec::new()),
            retire_after,
            reloading: Mutex::new(()),
            watcher: Mutex::new(None),
        };
        let built = live.build(&HashMap::new())?;
        live.current.store(Arc::new(built.snapshot));
        Ok((live, built.reload))
    }

    /// The current registry.
    pub fn registry(&self) -> Arc<Registry> {
        self.current.load().registry.clone()
    }

    /// The current OpenAPI document.
    pub fn openapi(&self) -> actix_web::web::Bytes {
        self.current.load().openapi.clone()
    }

    /// Reads the folder and builds a snapshot, reusing `previous` files whose bytes did not
    /// change (and keeping a failed file's previous agents). Gives the agents no longer in the
    /// snapshot too.
    fn build(&self, previous: &HashMap<PathBuf, FileAgents>) -> std::io::Result<Built> {
        let mut registry = Registry::with(self.actions.clone(), self.library.clone())
            .with_vectors(self.vectors.clone());
        let mut files = HashMap::new();
        let mut reload = ReloadReport::default();
        for path in agent_files(&self.dir)? {
            let loaded = std::fs::read(&path)
                .map_err(|source| {
                    AgentError::Load(flowdm_model::LoadError::Io {
                        path: path.display().to_string(),
                        source,
                    })
                })
                .and_then(|bytes| {
                    let revision = revision_of(&bytes);
                    match previous.get(&path) {
                        Some(old) if old.revision == revision => Ok(old.clone()),
                        _ => {
                            let (project, warnings) = load_agent(&path)?;
                            for w in &warnings {
                                tracing::warn!(file = %path.display(), warning = %w, "agent loaded with a warning");
                            }
                            let agent = registry.agent(project);
                            Ok(FileAgents {
                                revision,
                                agents: vec![agent],
                            })
                        }
                    }
                });
            let file = match loaded {
                Ok(found) => found,
                Err(error) => {
                    tracing::error!(file = %path.display(), reason = %error, "agent not loaded");
                    failed(&mut reload, &path, error);
                    // The previous agents of this file stay.
                    match previous.get(&path) {
                        Some(old) => old.clone(),
                        None => continue,
                    }
                }
            };
            // Kept from the previous snapshot (its bytes did not change, or it failed).
            let unchanged = previous
                .get(&path)
                .is_some_and(|o| o.revision == file.revision);
            let mut inserted = Vec::new();
            for agent in &file.agents {
                match registry.insert_agent(agent.clone(), &path) {
                    Ok(()) => inserted.push(agent.clone()),
                    Err(error) => failed(&mut reload, &path, error),
                }
            }
            for agent in &inserted {
                if !unchanged {
                    reload.loaded.push(LoadedFile {
                        file: path.display().to_string(),
                        project_id: agent.version.project_id.clone(),
                        version_id: agent.version.id.clone(),
                        revision: file.revision.clone(),
                    });
                }
            }
            if unchanged {
                reload.unchanged += 1;
            }
            if !inserted.is_empty() {
                files.insert(
                    path,
                    FileAgents {
                        revision: file.revision,
                        agents: inserted,
                    },
                );
            }
        }
        // What the new snapshot no longer has.
        let mut gone = Vec::new();
        for (path, old) in previous {
            let kept = files.get(path);
            if kept.is_none() {
                reload.removed.push(path.display().to_string());
            }
            for agent in &old.agents {
                let still = kept.is_some_and(|f| f.agents.iter().any(|a| Arc::ptr_eq(a, agent)));
                if !still {
                    gone.push((agent.clone(), old.revision.clone()));
                }
            }
        }
        let registry = Arc::new(registry);
        let openapi = crate::http::openapi::document(&registry).into();
        let by_version = files
            .values()
            .flat_map(|f| {
                f.agents
                    .iter()
                    .map(|a| (a.version.id.clone(), (a.clone(), f.revision.clone())))
            })
            .collect();
        Ok(Built {
            snapshot: Snapshot {
                registry,
                files,
                by_version,
                openapi,
            },
            reload,
            gone,
        })
    }

    /// Reads the folder again (see the module's doc) and swaps the new registry in.
    pub fn reload(&self) -> std::io::Result<ReloadReport> {
        let _one = lock(&self.reloading);
        let previous = self.current.load_full();
        let Built {
            snapshot,
            reload: mut report,
            gone,
            ..
        } = self.build(&previous.files)?;
        self.current.store(Arc::new(snapshot));
        let mut retired = lock(&self.retired);
        let now = Instant::now();
        for (agent, revision) in gone {
            retired.push(Retired {
                agent,
                revision,
                last_used: now,
            });
        }
        self.prune(&mut retired, now);
        report.retired = retired.len();
        tracing::info!(
            loaded = report.loaded.len(),
            unchanged = report.unchanged,
            failed = report.failed.len(),
            removed = report.removed.len(),
            retired = report.retired,
            "agents reloaded"
        );
        Ok(report)
    }

    /// Drops retired agents unused for `retire_after`, and all but the newest [`MAX_RETIRED`]
    /// of each version.
    fn prune(&self, retired: &mut Vec<Retired>, now: Instant) {
        retired.retain(|r| now.duration_since(r.last_used) < self.retire_after);
        let mut seen: HashMap<String, usize> = HashMap::new();
        // Newest last: keep the last MAX_RETIRED of each version.
        for i in (0..retired.len()).rev() {
            let n = seen.entry(retired[i].agent.version.id.clone()).or_default();
            *n += 1;
            if *n > MAX_RETIRED {
                retired.remove(i);
            }
        }
    }

    /// The revision of a loaded or retired agent.
    pub fn revision(&self, agent: &Arc<Agent>) -> Option<String> {
        let current = self.current.load();
        if let Some((loaded, revision)) = current.by_version.get(&agent.version.id) {
            if Arc::ptr_eq(loaded, agent) {
                return Some(revision.clone());
            }
        }
        lock(&self.retired)
            .iter()
            .find(|r| Arc::ptr_eq(&r.agent, agent))
            .map(|r| r.revision.clone())
    }

    /// The agent a turn of `state` runs on, for a request resolved to `requested`: the
    /// revision the session recorded, when it is of the same version and still kept, unless
    /// the turn starts the conversation anew (`fresh`); else `requested`.
    pub fn pinned(&self, requested: &Arc<Agent>, state: &State, fresh: bool) -> Arc<Agent> {
        let recorded = state.storage.get(REVISION_KEY).and_then(|v| v.as_str());
        let Some(recorded) = recorded.filter(|_| !fresh) else {
            return requested.clone();
        };
        // The usual case: the session is on the current revision.
        let current = self.current.load();
        if current
            .by_version
            .get(&requested.version.id)
            .is_some_and(|(a, r)| r == recorded && Arc::ptr_eq(a, requested))
        {
            return requested.clone();
        }
        let mut retired = lock(&self.retired);
        let found = retired
            .iter_mut()
            .find(|r| r.revision == recorded && r.agent.version.id == requested.version.id);
        match found {
            Some(r) => {
                r.last_used = Instant::now();
                r.agent.clone()
            }
            None => requested.clone(),
        }
    }

    /// Records in `state` the revision of `agent` (when it is known).
    pub fn record(&self, agent: &Arc<Agent>, state: &mut State) {
        if let Some(revision) = self.revision(agent) {
            state.storage.insert(
                REVISION_KEY.to_string(),
                serde_json::Value::String(revision),
            );
        }
    }

    /// The folder's path.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `watcher` alive as long as this.
    pub(crate) fn keep_watcher(&self, watcher: notify::RecommendedWatcher) {
        *lock(&self.watcher) = Some(watcher);
    }

    /// Drops retired agents unused for too long (called by the watcher thread now and then).
    pub fn prune_now(&self) {
        let mut retired = lock(&self.retired);
        self.prune(&mut retired, Instant::now());
    }
}

/// How long the folder must be quiet before a reload (an editor's save is a burst of events).
pub const DEBOUNCE: Duration = Duration::from_millis(300);
/// How often retired revisions are pruned when nothing changes.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Watches the agents' folder: a change (a file written, added, removed or renamed) reloads
/// the agents once the folder has been quiet for [`DEBOUNCE`]. A folder that cannot be watched
/// is logged: `POST /admin/reload` still works.
pub fn watch(agents: &Arc<LiveAgents>) {
    use notify::{EventKind, RecursiveMode, Watcher};
    let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    let started = notify::recommended_watcher(tx).and_then(|mut w| {
        w.watch(agents.dir(), RecursiveMode::NonRecursive)
            .map(|()| w)
    });
    let watcher = match started {
        Ok(w) => w,
        Err(error) => {
            tracing::warn!(dir = %agents.dir().display(), %error, "agents: not watching the folder (reload with POST /admin/reload)");
            return;
        }
    };
    let weak = Arc::downgrade(agents);
    let spawned = std::thread::Builder::new()
        .name("agents-watch".into())
        .spawn(move || {
            let is_change = |e: &notify::Event| {
                !matches!(e.kind, EventKind::Access(_))
                    && e.paths.iter().any(|p| is_agent_file(p))
            };
            let mut dirty = false;
            loop {
                let wait = if dirty { DEBOUNCE } else { PRUNE_EVERY };
                match rx.recv_timeout(wait) {
                    Ok(Ok(event)) => dirty |= is_change(&event),
                    Ok(Err(error)) => tracing::warn!(%error, "agents: watch error"),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        let Some(agents) = weak.upgrade() else { return };
                        if std::mem::take(&mut dirty) {
                            if let Err(error) = agents.reload() {
                                tracing::error!(%error, "agents: the folder cannot be read; the loaded agents stay");
                            }
                        } else {
                            agents.prune_now();
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
    match spawned {
        Ok(_) => {
            agents.keep_watcher(watcher);
            tracing::info!(dir = %agents.dir().display(), "agents: watching the folder for changes");
        }
        Err(error) => tracing::warn!(%error, "agents: no watcher thread"),
    }
}
