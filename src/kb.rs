//! The knowledge base in the server: loading `--kb-dir` at start (watched for changes), and the
//! search the engine's `Effect::Kb` (the KB search step, KB answers, the no-match fallback) and
//! `POST /knowledge-base/query` go through: [`KbSearcher`] implements `flowdm_actions`'s
//! [`KbSearch`] (a type of this package, so the implementation of the other crate's trait for it
//! is allowed; one for `flowdm_kb::KnowledgeBase` here would not be: neither would be local).
//!
//! Hybrid retrieval when the embeddings provider is configured (`--nlu-embeddings-url`): BM25
//! finds [`CANDIDATES`] candidates, the provider embeds the question and the candidates not
//! embedded yet (kept by content in a bounded cache), and reciprocal rank fusion of the BM25 and
//! cosine ranks picks the best (`flowdm_kb::fusion`). A provider that fails or is slow costs the
//! re-ranking only: the BM25 order is answered (logged).

use crate::nlu_provider::client::EmbeddingsClient;
use flowdm_actions::effects::KbSearching;
use flowdm_engine::{KbChunk, KbQuery};
use flowdm_kb::KnowledgeBase;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use flowdm_actions::effects::KbSearch;

/// BM25 candidates re-ranked by the embeddings (at least; 4 × the chunks asked for if more).
pub const CANDIDATES: usize = 20;
/// Chunk embeddings kept (by content); the cache starts over when full.
const CACHE_MAX: usize = 50_000;

/// The embeddings side of hybrid retrieval.
pub struct KbEmbedder {
    pub client: Arc<EmbeddingsClient>,
    /// How long one search waits for its embeddings.
    pub timeout: Duration,
    cache: Mutex<HashMap<u64, Arc<Vec<f32>>>>,
}

impl KbEmbedder {
    pub fn new(client: Arc<EmbeddingsClient>, timeout: Duration) -> KbEmbedder {
        KbEmbedder {
            client,
            timeout,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The cosine similarity of each candidate with `question`.
    async fn similarities(
        &self,
        question: &str,
        candidates: &[KbChunk],
    ) -> Result<Vec<f64>, String> {
        let keys: Vec<u64> = candidates.iter().map(|c| content_key(&c.content)).collect();
        let missing: Vec<usize> = {
            let cache = self
                .cache
                .lock()
                .map_err(|_| "embeddings cache poisoned".to_string())?;
            (0..candidates.len())
                .filter(|&i| !cache.contains_key(&keys[i]))
                .collect()
        };
        let mut inputs = vec![question.to_string()];
        inputs.extend(missing.iter().map(|&i| candidates[i].content.clone()));
        let vectors = self
            .client
            .embed(&inputs, self.timeout)
            .await
            .map_err(|e| e.to_string())?;
        let (query, fresh) = vectors
            .split_first()
            .ok_or("the provider answered no vector")?;
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| "embeddings cache poisoned".to_string())?;
        if cache.len() + fresh.len() > CACHE_MAX {
            cache.clear();
        }
        for (&i, v) in missing.iter().zip(fresh) {
            cache.insert(keys[i], Arc::new(v.clone()));
        }
        Ok(keys
            .iter()
            .map(|k| cache.get(k).map_or(f64::NAN, |v| cosine(query, v)))
            .collect())
    }
}

fn content_key(content: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    content.hash(&mut h);
    h.finish()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    if na == 0.0 || nb == 0.0 {
        f64::NAN
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// The server's knowledge base behind [`KbSearch`], hybrid when it has an embedder.
pub struct KbSearcher {
    pub kb: Arc<KnowledgeBase>,
    pub embedder: Option<KbEmbedder>,
}

impl KbSearch for KbSearcher {
    fn search<'a>(&'a self, query: &'a KbQuery) -> KbSearching<'a> {
        Box::pin(async move {
            let limit = query.chunk_limit.max(1);
            let Some(embedder) = &self.embedder else {
                return self
                    .kb
                    .search(&query.project_id, &query.question, limit)
                    .map_err(|e| e.to_string());
            };
            let wide = CANDIDATES.max(limit * 4);
            let mut candidates = self
                .kb
                .search(&query.project_id, &query.question, wide)
                .map_err(|e| e.to_string())?;
            if candidates.len() > 1 {
                match embedder.similarities(&query.question, &candidates).await {
                    Ok(similarities) => {
                        candidates = flowdm_kb::fusion::fuse(
                            candidates,
                            &similarities,
                            flowdm_kb::fusion::RRF_K,
                        );
                    }
                    Err(error) => {
                        tracing::warn!(%error, "knowledge base: embeddings failed, BM25 order only");
                    }
                }
            }
            candidates.truncate(limit);
            Ok(candidates)
        })
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
        let searcher: Box<dyn KbSearch> = Box::new(KbSearcher { kb, embedder: None });
        let query = |project: &str| KbQuery {
            project_id: project.into(),
            question: "how long for a refund".into(),
            chunk_limit: 2,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let hits = rt.block_on(searcher.search(&query("p"))).unwrap();
        assert_eq!(hits[0].source, "a.txt");
        assert!(rt
            .block_on(searcher.search(&query("q")))
            .unwrap_err()
            .contains("q"));
        assert!(load(&dir.join("missing")).is_none());
    }

    #[test]
    fn cosine_of_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-9);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-9);
        assert!(cosine(&[0.0, 0.0], &[1.0, 0.0]).is_nan());
    }
}
