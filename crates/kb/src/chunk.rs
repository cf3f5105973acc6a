//! A document → chunks of about 100–300 words. Paragraphs (blank-line separated) are kept
//! whole when they fit; a heading (`# …`, as Markdown writes it and html2text renders it) ends
//! the chunk before it once that chunk is long enough, so a chunk is mostly one section; a
//! chunk cut for its size carries the last words of the previous one (a small overlap) so a
//! sentence across the cut can still be found whole.

/// Chunk sizes, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// A heading ends the current chunk only once it has at least this many words.
    pub min_words: usize,
    /// A chunk never grows past this many words (a longer paragraph is cut).
    pub max_words: usize,
    /// Words of the previous chunk repeated at the start of the next after a size cut.
    pub overlap_words: usize,
}

impl Default for ChunkConfig {
    fn default() -> ChunkConfig {
        ChunkConfig {
            min_words: 100,
            max_words: 300,
            overlap_words: 30,
        }
    }
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// `<documentID>:<n>`, n from 0 in document order: stable while the document is unchanged.
    pub chunk_id: String,
    pub document_id: String,
    /// The document's path relative to its project folder.
    pub source: String,
    pub content: String,
}

/// A block of the document: a heading line or a paragraph, as its words.
enum Block<'a> {
    Heading(Vec<&'a str>),
    Paragraph(Vec<&'a str>),
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if !para.is_empty() {
                out.push(Block::Paragraph(std::mem::take(&mut para)));
            }
        } else if trimmed.starts_with('#') {
            if !para.is_empty() {
                out.push(Block::Paragraph(std::mem::take(&mut para)));
            }
            out.push(Block::Heading(trimmed.split_whitespace().collect()));
        } else {
            para.extend(trimmed.split_whitespace());
        }
    }
    if !para.is_empty() {
        out.push(Block::Paragraph(para));
    }
    out
}

/// Collects words into chunks.
struct Builder<'a> {
    config: ChunkConfig,
    current: Vec<&'a str>,
    done: Vec<String>,
}

impl<'a> Builder<'a> {
    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.done.push(self.current.join(" "));
            self.current.clear();
        }
    }

    /// Ends the current chunk because it is full; the next starts with its last words.
    fn cut(&mut self) {
        let keep = self.config.overlap_words.min(self.current.len());
        let tail: Vec<&'a str> = self.current[self.current.len() - keep..].to_vec();
        self.flush();
        self.current = tail;
    }

    fn push_words(&mut self, words: &[&'a str]) {
        let max = self.config.max_words.max(1);
        if self.current.len() + words.len() > max && self.current.len() > self.overlap_len() {
            self.cut();
        }
        for w in words {
            if self.current.len() >= max {
                self.cut();
            }
            self.current.push(w);
        }
    }

    /// The overlap a fresh chunk may start with (a chunk of only that is not cut again).
    fn overlap_len(&self) -> usize {
        self.config.overlap_words.min(self.config.max_words / 2)
    }
}

/// The chunks of a document's text (an empty text has none).
pub fn chunk_text(text: &str, config: ChunkConfig) -> Vec<String> {
    let mut b = Builder {
        config,
        current: Vec::new(),
        done: Vec::new(),
    };
    for block in blocks(text) {
        match block {
            Block::Heading(words) => {
                if b.current.len() >= config.min_words {
                    b.flush();
                }
                b.push_words(&words);
            }
            Block::Paragraph(words) => b.push_words(&words),
        }
    }
    b.flush();
    b.done
}

/// The chunks of one document, with their ids.
pub fn chunk_document(
    document_id: &str,
    source: &str,
    text: &str,
    config: ChunkConfig,
) -> Vec<Chunk> {
    chunk_text(text, config)
        .into_iter()
        .enumerate()
        .map(|(n, content)| Chunk {
            chunk_id: format!("{document_id}:{n}"),
            document_id: document_id.to_string(),
            source: source.to_string(),
            content,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, prefix: &str) -> String {
        (0..n)
            .map(|i| format!("{prefix}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn count(s: &str) -> usize {
        s.split_whitespace().count()
    }

    #[test]
    fn a_short_document_is_one_chunk() {
        let chunks = chunk_document(
            "d1",
            "a.md",
            "# Title\n\nOne line.\n\nTwo lines.",
            ChunkConfig::default(),
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].chunk_id, "d1:0");
        assert_eq!(chunks[0].content, "# Title One line. Two lines.");
        assert_eq!(chunks[0].source, "a.md");
        assert!(chunk_text("  \n\n ", ChunkConfig::default()).is_empty());
    }

    #[test]
    fn headings_split_sections_once_long_enough() {
        let text = format!(
            "# A\n\n{}\n\n# B\n\n{}\n\n# C\n\n{}",
            words(120, "a"),
            words(20, "b"),
            words(20, "c")
        );
        let chunks = chunk_text(&text, ChunkConfig::default());
        assert_eq!(chunks.len(), 2, "{chunks:?}");
        assert!(chunks[0].starts_with("# A a0") && chunks[0].ends_with("a119"));
        // B is too short to stand alone: C joins it.
        assert!(chunks[1].starts_with("# B b0") && chunks[1].contains("# C c0"));
    }

    #[test]
    fn long_paragraphs_are_cut_with_an_overlap() {
        let config = ChunkConfig::default();
        let chunks = chunk_text(&words(1000, "w"), config);
        assert!(chunks.len() >= 4, "{}", chunks.len());
        for c in &chunks {
            assert!(count(c) <= config.max_words, "{}", count(c));
        }
        // The second chunk starts with the last 30 words of the first.
        let first: Vec<&str> = chunks[0].split_whitespace().collect();
        let second: Vec<&str> = chunks[1].split_whitespace().collect();
        assert_eq!(&first[first.len() - 30..], &second[..30]);
        // Every word is somewhere.
        assert!(chunks.last().unwrap().ends_with("w999"));
    }

    #[test]
    fn paragraphs_are_kept_whole_when_they_fit() {
        let text = format!("{}\n\n{}", words(200, "p"), words(200, "q"));
        let chunks = chunk_text(&text, ChunkConfig::default());
        assert_eq!(chunks.len(), 2);
        assert!(chunks[0].ends_with("p199"));
        // The second starts with the overlap, then the whole second paragraph.
        assert!(
            chunks[1].starts_with("p170")
                && chunks[1].contains("q0")
                && chunks[1].ends_with("q199")
        );
    }
}
