//! flowdm's local knowledge base: the documents of each project (`<kb_dir>/<projectID>/`,
//! recursively: `.txt`, `.md`, `.html`/`.htm`, `.pdf`), cut into chunks of about 100–300 words
//! and indexed in RAM with BM25 (tantivy, English stemming), one index per project, rebuilt when
//! its files change. `docs/knowledge-base.md` describes the folder layout, the formats, the
//! chunking, the retrieval, the reload and the limits.
//!
//! | module | concern |
//! |---|---|
//! | [`extract`] | one file → its text (per format) |
//! | [`load`] | a project folder → its documents (walk, skip, caps) |
//! | [`chunk`] | a document → its chunks |
//! | [`index`] | chunks → a tantivy index; a question → the best chunks |
//! | [`base`] | [`KnowledgeBase`]: every project's index, swapped on reload |
//! | [`watch`] | the file watcher: changed projects re-indexed (debounced) |
//! | [`fusion`] | optional hybrid re-ranking (reciprocal rank fusion) |

pub mod base;
pub mod chunk;
pub mod extract;
pub mod fusion;
pub mod index;
pub mod load;
pub mod watch;

pub use base::KnowledgeBase;
pub use chunk::{Chunk, ChunkConfig};
pub use flowdm_engine::{KbChunk, KbQuery};
pub use load::{Document, Limits};

/// Why a knowledge-base operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// The project has no folder under the knowledge-base directory.
    #[error("project {project} has no knowledge base (no folder {dir})")]
    NoDocuments { project: String, dir: String },
    /// The knowledge-base directory (or a project folder) cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The search index could not be built or searched.
    #[error("search index: {0}")]
    Index(String),
    /// The file watcher could not be started.
    #[error("file watcher: {0}")]
    Watch(String),
}

impl From<tantivy::TantivyError> for KbError {
    fn from(e: tantivy::TantivyError) -> KbError {
        KbError::Index(e.to_string())
    }
}
