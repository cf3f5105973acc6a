//! The knowledge base in the server: loading `--kb-dir` at start (watched for changes), and the
//! search the engine's `Effect::Kb` (the KB search step, the no-match fallback) goes through:
//! [`KbSearcher`] implements `flowdm_actions`'s [`KbSearch`] (a type of this package, so the
//! implementation of the other crate's trait for it is allowed; one for
//! `flowdm_kb::KnowledgeBase` here would not be: neither would be local).

use flowdm_engine::{KbChunk, KbQuery};
use flowdm_kb::KnowledgeBase;
use std::path::Path;
use std::sync::Arc;

pub use flowdm_actions::effects::KbSearch;

/// The server's knowledge base behind [`KbSearch`].
#[derive(Debug, Clone)]
pub struct KbSearcher(pub Arc<KnowledgeBase>);

impl KbSearch for KbSearcher {
    fn search(&self, query: &KbQuery) -> Result<Vec<KbChunk>, String> {
        self.0
            .search(&query.project_id, &query.question, query.chunk_limit)
            .map_err(|e| e.to_string())
    }
}

/// The knowledge base of `dir`, indexed and watched; `None` when the directory does not exist
/// (no knowledge base: not an error) or cannot be read (an error in the log, the server starts
/// without). A watcher that cannot start only costs the reload (a warning).
pub fn load(dir: &Path) -> Option<Arc<KnowledgeBase>> {
    if !dir.exists() {
        tracing::info!(dir = %dir.display(), "no knowledge-base directory: knowledge-base queries answer no chunks");
        return None;
    }
    let started = std::time::Instant::now();
    let kb = match KnowledgeBase::load(dir) {
        Ok(kb) => Arc::new(kb),
        Err(error) => {
            tracing::error!(dir = %dir.display(), %error, "knowledge base not loaded");
            return None;
        }
    };
    tracing::info!(
        dir = %dir.display(),
        projects = kb.project_ids().len(),
        millis = started.elapsed().as_millis() as u64,
        "knowledge base loaded"
    );
    if let Err(error) = kb.watch() {
        tracing::warn!(dir = %dir.display(), %error, "knowledge base: changes will not be picked up until a restart");
    }
    Some(kb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_through_the_trait() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("p")).unwrap();
        std::fs::write(dir.join("p/a.txt"), "Refunds take five days.").unwrap();
        let kb = load(&dir).unwrap();
        let searcher: Box<dyn KbSearch> = Box::new(KbSearcher(kb));
        let query = |project: &str| KbQuery {
            project_id: project.into(),
            question: "how long for a refund".into(),
            chunk_limit: 2,
        };
        let hits = searcher.search(&query("p")).unwrap();
        assert_eq!(hits[0].source, "a.txt");
        assert!(searcher.search(&query("q")).unwrap_err().contains("q"));
        assert!(load(&dir.join("missing")).is_none());
    }
}
