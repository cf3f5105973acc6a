//! One project's chunks → an in-RAM tantivy index (BM25), and a question → its best chunks.
//!
//! The question is user text, never tantivy query syntax: it goes through the same analyzer as
//! the documents (words, lower case, ASCII folding, English stop words removed, English
//! stemming) and the resulting terms become a disjunction of term queries. So `:(){}[]^~"`,
//! `AND`, `-x` or `field:value` in a question cannot fail to parse nor change the query: they
//! are punctuation or plain words.

use crate::chunk::Chunk;
use crate::{KbChunk, KbError};
use std::collections::HashSet;
use tantivy::collector::TopDocs;
use tantivy::query::BooleanQuery;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

/// The analyzer's name in the index's tokenizer manager.
const ANALYZER: &str = "kb_en";

/// Indexing memory per writer thread (tantivy's minimum is 15 MB; the index is built once per
/// load, on one thread).
const WRITER_MEMORY: usize = 32 * 1024 * 1024;

/// Words and queries are analysed alike: simple words, longer than 40 bytes dropped (they are
/// not words), lower case, accents folded, English stop words dropped, English stems.
fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter_dynamic(RemoveLongFilter::limit(40))
        .filter_dynamic(LowerCaser)
        .filter_dynamic(AsciiFoldingFilter);
    let builder = match StopWordFilter::new(Language::English) {
        Some(stop) => builder.filter_dynamic(stop),
        None => builder,
    };
    builder
        .filter_dynamic(Stemmer::new(Language::English))
        .build()
}

/// The index of one project: its chunks and their BM25 index.
pub struct ProjectIndex {
    chunks: Vec<Chunk>,
    index: Index,
    reader: IndexReader,
    content: Field,
    ord: Field,
}

impl std::fmt::Debug for ProjectIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectIndex")
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl ProjectIndex {
    /// Indexes `chunks` (in RAM).
    pub fn build(chunks: Vec<Chunk>) -> Result<ProjectIndex, KbError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let content = schema.add_text_field("content", text);
        // The chunk's position in `chunks`: the stored text is ours, not tantivy's.
        let ord = schema.add_u64_field("ord", STORED);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY)?;
        for (i, chunk) in chunks.iter().enumerate() {
            writer.add_document(doc!(content => chunk.content.as_str(), ord => i as u64))?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(ProjectIndex {
            chunks,
            index,
            reader,
            content,
            ord,
        })
    }

    /// How many chunks are indexed.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The analysed terms of a question, each once, in order.
    fn terms(&self, question: &str) -> Result<Vec<Term>, KbError> {
        let mut analyzer = self.index.tokenizer_for_field(self.content)?;
        let mut stream = analyzer.token_stream(question);
        let mut seen = HashSet::new();
        let mut terms = Vec::new();
        while stream.advance() {
            let text = &stream.token().text;
            if seen.insert(text.clone()) {
                terms.push(Term::from_field_text(self.content, text));
            }
        }
        Ok(terms)
    }

    /// The `limit` best chunks for `question`, best first, with their BM25 scores. A question
    /// with no searchable word (empty, punctuation, stop words only) finds nothing.
    pub fn search(&self, question: &str, limit: usize) -> Result<Vec<KbChunk>, KbError> {
        // The engine's limit comes from an agent's step: never more hits than chunks.
        let limit = limit.min(self.chunks.len());
        if limit == 0 {
            return Ok(Vec::new());
        }
        let terms = self.terms(question)?;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new_multiterms_query(terms);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let chunk = doc
                .get_first(self.ord)
                .and_then(|v| v.as_u64())
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.chunks.get(i))
                .ok_or_else(|| KbError::Index("a hit without its chunk".into()))?;
            out.push(KbChunk {
                score: f64::from(score),
                chunk_id: chunk.chunk_id.clone(),
                document_id: chunk.document_id.clone(),
                content: chunk.content.clone(),
                source: chunk.source.clone(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{chunk_document, ChunkConfig};

    fn index(docs: &[(&str, &str)]) -> ProjectIndex {
        let chunks = docs
            .iter()
            .flat_map(|(id, text)| {
                chunk_document(id, &format!("{id}.txt"), text, ChunkConfig::default())
            })
            .collect();
        ProjectIndex::build(chunks).unwrap()
    }

    fn sample() -> ProjectIndex {
        index(&[
            (
                "ship",
                "We ship parcels worldwide. Shipping takes three to five days.",
            ),
            (
                "ret",
                "Returns are accepted within thirty days of delivery.",
            ),
            ("pay", "We accept credit cards, PayPal and bank transfers."),
        ])
    }

    #[test]
    fn best_first_with_stemming() {
        let idx = sample();
        let hits = idx.search("How long does shipping take?", 3).unwrap();
        assert_eq!(hits[0].chunk_id, "ship:0");
        assert_eq!(hits[0].source, "ship.txt");
        assert!(hits[0].score > 0.0);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        // "returning" and "Returns" share a stem.
        let hits = idx.search("returning an item", 1).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].document_id, "ret");
    }

    #[test]
    fn empty_questions_find_nothing() {
        let idx = sample();
        assert!(idx.search("", 3).unwrap().is_empty());
        assert!(idx.search("   ?! ", 3).unwrap().is_empty());
        assert!(idx.search("the a of", 3).unwrap().is_empty());
        assert!(idx.search("shipping", 0).unwrap().is_empty());
        assert_eq!(idx.search("shipping", usize::MAX).unwrap().len(), 1);
        assert!(index(&[]).search("shipping", 3).unwrap().is_empty());
    }

    #[test]
    fn query_syntax_is_plain_text() {
        let idx = sample();
        for q in [
            ":(){}[]^~\"",
            "content:shipping",
            "\"unclosed phrase",
            "shipping AND -returns",
            "ord:0 OR *",
            "a^2~3 [1 TO 5} {x} (y",
            "\\ / ! ' ` +",
        ] {
            let hits = idx.search(q, 3);
            assert!(hits.is_ok(), "{q}: {hits:?}");
        }
        // `-returns` does not exclude returns, `content:` is not a field.
        let hits = idx.search("content:shipping AND -returns", 3).unwrap();
        let docs: Vec<&str> = hits.iter().map(|h| h.document_id.as_str()).collect();
        assert!(docs.contains(&"ship") && docs.contains(&"ret"), "{docs:?}");
    }
}
