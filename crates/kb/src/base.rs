//! [`KnowledgeBase`]: the index of every project folder under one directory. A reload builds
//! the project's new index first and then swaps it in: searches meanwhile use the old one, and
//! a search holds its project's index (an `Arc`) only for its own duration.

use crate::chunk::{chunk_document, ChunkConfig};
use crate::index::ProjectIndex;
use crate::load::{load_documents, Limits};
use crate::{KbChunk, KbError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The knowledge bases of every project: `<dir>/<projectID>/…`.
pub struct KnowledgeBase {
    dir: PathBuf,
    limits: Limits,
    chunking: ChunkConfig,
    projects: RwLock<HashMap<String, Arc<ProjectIndex>>>,
    /// The file watcher ([`crate::watch`]), when started; dropped with the knowledge base.
    pub(crate) watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("dir", &self.dir)
            .field("projects", &self.project_ids())
            .finish()
    }
}

impl KnowledgeBase {
    /// Loads and indexes every project folder of `dir` with the default limits and chunking.
    pub fn load(dir: impl Into<PathBuf>) -> Result<KnowledgeBase, KbError> {
        KnowledgeBase::load_with(dir, Limits::default(), ChunkConfig::default())
    }

    /// Loads and indexes every project folder of `dir`. Files directly in `dir` belong to no
    /// project and are skipped (with a warning); only an unreadable `dir` is an error.
    pub fn load_with(
        dir: impl Into<PathBuf>,
        limits: Limits,
        chunking: ChunkConfig,
    ) -> Result<KnowledgeBase, KbError> {
        let dir = dir.into();
        let kb = KnowledgeBase {
            dir,
            limits,
            chunking,
            projects: RwLock::new(HashMap::new()),
            watcher: Mutex::new(None),
        };
        let entries = std::fs::read_dir(&kb.dir).map_err(|source| KbError::Io {
            path: kb.dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                // One unreadable project folder does not stop the others.
                if let Err(error) = kb.reload_project(name) {
                    tracing::warn!(project = name, %error, "knowledge base: project not loaded");
                }
            } else {
                tracing::warn!(file = %path.display(), "knowledge base: file skipped: documents go in a folder named after their project ID");
            }
        }
        Ok(kb)
    }

    /// The knowledge-base directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The projects that have a knowledge base, sorted.
    pub fn project_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.read().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// How many chunks a project has (`None`: no knowledge base).
    pub fn chunk_count(&self, project_id: &str) -> Option<usize> {
        self.read().get(project_id).map(|p| p.len())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<ProjectIndex>>> {
        // A panic while swapping an `Arc` cannot leave the map half-written: use it anyway.
        self.projects.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The `limit` chunks of `project_id` that best answer `question`, best first, with their
    /// BM25 scores. An empty question, or a project whose folder has no document → an empty
    /// list; a project without a folder → [`KbError::NoDocuments`].
    pub fn search(
        &self,
        project_id: &str,
        question: &str,
        limit: usize,
    ) -> Result<Vec<KbChunk>, KbError> {
        let index = self
            .read()
            .get(project_id)
            .cloned()
            .ok_or_else(|| KbError::NoDocuments {
                project: project_id.to_string(),
                dir: self.dir.join(project_id).display().to_string(),
            })?;
        index.search(question, limit)
    }

    /// Indexes the folder of `project_id` again and swaps the new index in (the old one serves
    /// until then); a folder that no longer exists removes the project. A project id is one
    /// folder name: anything else (`..`, a path) is refused.
    pub fn reload_project(&self, project_id: &str) -> Result<(), KbError> {
        if project_id.is_empty() || project_id.starts_with('.') || project_id.contains(['/', '\\'])
        {
            return Err(KbError::Index(format!(
                "{project_id:?} is not a project folder name"
            )));
        }
        let folder = self.dir.join(project_id);
        if !folder.is_dir() {
            if self.write().remove(project_id).is_some() {
                tracing::info!(
                    project = project_id,
                    "knowledge base removed: its folder is gone"
                );
            }
            return Ok(());
        }
        let started = std::time::Instant::now();
        let docs = load_documents(&folder, &self.limits)?;
        let mut chunks = Vec::new();
        for doc in &docs {
            chunks.extend(chunk_document(
                &doc.id,
                &doc.source,
                &doc.text,
                self.chunking,
            ));
        }
        if chunks.len() > self.limits.max_chunks {
            tracing::warn!(
                project = project_id,
                chunks = chunks.len(),
                max_chunks = self.limits.max_chunks,
                "knowledge base: chunks over the cap dropped (the last files in path order)"
            );
            chunks.truncate(self.limits.max_chunks);
        }
        let count = chunks.len();
        let index = ProjectIndex::build(chunks)?;
        self.write().insert(project_id.to_string(), Arc::new(index));
        tracing::info!(
            project = project_id,
            documents = docs.len(),
            chunks = count,
            millis = started.elapsed().as_millis() as u64,
            "knowledge base indexed"
        );
        Ok(())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<ProjectIndex>>> {
        self.projects.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p1")).unwrap();
        std::fs::create_dir_all(dir.path().join("p2")).unwrap();
        std::fs::write(dir.path().join("p1/a.txt"), "Our shop opens at nine.").unwrap();
        std::fs::write(dir.path().join("stray.txt"), "no project").unwrap();
        let kb = KnowledgeBase::load(dir.path()).unwrap();
        assert_eq!(kb.project_ids(), ["p1", "p2"]);
        let hits = kb.search("p1", "when does the shop open", 2).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].source, "a.txt");
        assert!(kb.search("p2", "shop", 2).unwrap().is_empty());
        let missing = kb.search("p3", "shop", 2).unwrap_err();
        assert!(matches!(missing, KbError::NoDocuments { .. }), "{missing}");
        assert!(missing.to_string().contains("p3"));
        assert!(kb.search("../p1", "shop", 2).is_err());
    }

    #[test]
    fn reload_replaces_the_index() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p")).unwrap();
        std::fs::write(dir.path().join("p/a.txt"), "Parcels ship on Mondays.").unwrap();
        let kb = KnowledgeBase::load(dir.path()).unwrap();
        assert!(kb.search("p", "warranty", 2).unwrap().is_empty());
        std::fs::write(dir.path().join("p/b.txt"), "The warranty lasts two years.").unwrap();
        kb.reload_project("p").unwrap();
        assert_eq!(kb.search("p", "warranty", 2).unwrap()[0].source, "b.txt");
        std::fs::remove_dir_all(dir.path().join("p")).unwrap();
        kb.reload_project("p").unwrap();
        assert!(kb.search("p", "warranty", 2).is_err());
        assert!(kb.reload_project("..").is_err());
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(KnowledgeBase::load(dir.path().join("none")).is_err());
    }
}
