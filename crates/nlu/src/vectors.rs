//! Word vectors: a static vector per word piece, distilled from a sentence-embedding model by
//! `scripts/nlu-vectors` (`docs/nlu.md` § Word vectors). A text's vector is the mean of its word
//! pieces' vectors (BERT's WordPiece, [`WordPieces`]), unit length. The classifier learns from it beside
//! its TF-IDF features, so "wake me up" and "set an alarm" can share evidence without sharing a
//! word. Optional: without vectors the classifier is unchanged.

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The file names in a vectors directory.
pub const VECTORS_FILE: &str = "vectors.safetensors";
pub const VOCAB_FILE: &str = "vocab.txt";
/// The tensor holding the vectors, `[pieces, dims]`, F32.
const TENSOR: &str = "vectors";

/// Where `scripts/nlu-vectors` installs the vectors by default and `flowdm serve` looks for
/// them: `${XDG_DATA_HOME:-~/.local/share}/flowdm/nlu-vectors`.
pub fn default_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("flowdm").join("nlu-vectors"))
}

/// Why a vectors directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VectorsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// BERT's WordPiece split of one word: greedy longest match first, from the word's start; a
/// continuation piece is written `##piece` in the vocabulary. A word that cannot be split
/// entirely, or is longer than 100 characters, is unknown (no pieces), as in BERT.
///
/// Written here rather than taken from the `tokenizers` crate (which was tried): its WordPiece
/// builds a `String` for every candidate substring and every token, and took 36 µs of a 52 µs
/// prediction for 150 intents (`cargo bench -p flowdm-nlu --bench nlu`); these lookups borrow.
#[derive(Debug, Default)]
struct WordPieces {
    /// Pieces that start a word.
    first: FxHashMap<String, u32>,
    /// Continuation pieces, without their `##`.
    rest: FxHashMap<String, u32>,
}

/// BERT's limit: longer words are unknown.
const MAX_PIECE_WORD_CHARS: usize = 100;

impl WordPieces {
    fn new(pieces: &[&str]) -> WordPieces {
        let mut out = WordPieces::default();
        for (id, piece) in pieces.iter().enumerate() {
            let id = id as u32;
            match piece.strip_prefix("##") {
                Some(rest) if !rest.is_empty() => out.rest.entry(rest.to_string()).or_insert(id),
                _ => out.first.entry(piece.to_string()).or_insert(id),
            };
        }
        out
    }

    /// Appends the piece ids of `word` to `out`; `false` (nothing appended) when it is unknown.
    fn split(&self, word: &str, out: &mut Vec<u32>) -> bool {
        if word.is_empty() || word.chars().count() > MAX_PIECE_WORD_CHARS {
            return false;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let table = if start == 0 { &self.first } else { &self.rest };
            let mut end = word.len();
            let found = loop {
                if let Some(&id) = table.get(&word[start..end]) {
                    break Some(id);
                }
                // The previous character boundary.
                end = word[start..end]
                    .char_indices()
                    .next_back()
                    .map_or(start, |(i, _)| start + i);
                if end <= start {
                    break None;
                }
            };
            match found {
                Some(id) => out.push(id),
                None => {
                    out.truncate(mark);
                    return false;
                }
            }
            start = end;
        }
        true
    }
}

/// Word-piece vectors and the WordPiece vocabulary that indexes them.
pub struct WordVectors {
    pieces: WordPieces,
    dims: usize,
    /// Row-major `[pieces, dims]`.
    data: Vec<f32>,
}

impl std::fmt::Debug for WordVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordVectors")
            .field("pieces", &self.len())
            .field("dims", &self.dims)
            .finish()
    }
}

impl WordVectors {
    /// Loads `DIR/vectors.safetensors` and `DIR/vocab.txt` (one piece a line, the row order).
    pub fn load(dir: &Path) -> Result<WordVectors, VectorsError> {
        let vocab_path = dir.join(VOCAB_FILE);
        let vectors_path = dir.join(VECTORS_FILE);
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| VectorsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let invalid = |path: &Path, reason: String| VectorsError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let vocab = String::from_utf8(read(&vocab_path)?)
            .map_err(|_| invalid(&vocab_path, "not UTF-8".into()))?;
        let pieces: Vec<&str> = vocab.lines().collect();
        let raw = read(&vectors_path)?;
        let tensors = safetensors::SafeTensors::deserialize(&raw)
            .map_err(|e| invalid(&vectors_path, e.to_string()))?;
        let tensor = tensors
            .tensor(TENSOR)
            .map_err(|e| invalid(&vectors_path, e.to_string()))?;
        let &[rows, dims] = tensor.shape() else {
            return Err(invalid(&vectors_path, "`vectors` is not a matrix".into()));
        };
        if tensor.dtype() != safetensors::Dtype::F32 {
            return Err(invalid(&vectors_path, "`vectors` is not F32".into()));
        }
        if rows != pieces.len() || dims == 0 {
            return Err(invalid(
                &vectors_path,
                format!(
                    "{rows} vectors of {dims} dimensions for {} word pieces",
                    pieces.len()
                ),
            ));
        }
        let data: Vec<f32> = tensor
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if data.iter().any(|v| !v.is_finite()) {
            return Err(invalid(&vectors_path, "a vector is not finite".into()));
        }
        WordVectors::from_parts(&pieces, dims, data).map_err(|reason| invalid(&vocab_path, reason))
    }

    /// Vectors from memory: `pieces[i]`'s vector is `data[i * dims..(i + 1) * dims]`.
    pub fn from_parts(pieces: &[&str], dims: usize, data: Vec<f32>) -> Result<WordVectors, String> {
        if dims == 0 || data.len() != pieces.len() * dims {
            return Err(format!(
                "{} values are not {} vectors of {dims}",
                data.len(),
                pieces.len()
            ));
        }
        Ok(WordVectors {
            pieces: WordPieces::new(pieces),
            dims,
            data,
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// How many word pieces have a vector.
    pub fn len(&self) -> usize {
        self.data.len() / self.dims
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The unit-length mean vector of the word pieces of `words` (already lowercased by
    /// [`crate::text::words`]); accents are removed as the uncased model was trained. `None`
    /// when no piece is known.
    pub fn embed(&self, words: &[String]) -> Option<Vec<f32>> {
        self.embed_both(words).0
    }

    /// [`WordVectors::embed`] of `words`, and of their content words only (all of them when
    /// every word is a stop word): what a text is about. Each word is split into pieces once.
    ///
    /// Stop words dominate a mean of static vectors: with them "I am doing well" is as close to
    /// "can you help me" (0.60) as "get me an uber" is to "i need a taxi"; without, 0.19 and
    /// 0.55. (As a feature of the classifier, the stop words help: "what", "when", "set".)
    pub fn embed_both(&self, words: &[String]) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
        let any_content = words.iter().any(|w| !crate::vocabulary::is_stop_word(w));
        let mut all = Vec::with_capacity(words.len() * 2);
        let mut content = Vec::with_capacity(words.len() * 2);
        for word in words {
            if word.chars().count() > crate::text::MAX_WORD_CHARS {
                continue;
            }
            let start = all.len();
            if word.is_ascii() {
                self.pieces.split(word, &mut all);
            } else {
                let plain: String = word.nfd().filter(|c| !is_combining_mark(*c)).collect();
                self.pieces.split(&plain, &mut all);
            }
            if any_content && !crate::vocabulary::is_stop_word(word) {
                content.extend_from_slice(&all[start..]);
            }
        }
        let all = self.mean(&all);
        let content = if any_content {
            self.mean(&content)
        } else {
            all.clone()
        };
        (all, content)
    }

    /// The unit-length mean of the vectors of `ids`; `None` when there is none.
    fn mean(&self, ids: &[u32]) -> Option<Vec<f32>> {
        let mut sum = vec![0.0f32; self.dims];
        let mut count = 0usize;
        for &id in ids {
            let start = id as usize * self.dims;
            if let Some(row) = self.data.get(start..start + self.dims) {
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                count += 1;
            }
        }
        let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
        if count == 0 || norm <= f32::EPSILON {
            return None;
        }
        sum.iter_mut().for_each(|v| *v /= norm);
        Some(sum)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two-dimensional vectors: "wake", "alarm" and "morning" point one way, "rain" and
    /// "umbrella" the other; "##s" is a suffix piece.
    pub(crate) fn toy() -> WordVectors {
        let pieces = [
            "[PAD]", "[UNK]", "wake", "alarm", "morning", "rain", "umbrella", "##s", "cafe",
        ];
        let data = vec![
            0.0, 0.0, // [PAD]
            0.0, 0.0, // [UNK]
            1.0, 0.1, // wake
            0.9, 0.0, // alarm
            0.8, 0.2, // morning
            0.0, 1.0, // rain
            0.1, 0.9, // umbrella
            0.5, 0.5, // ##s
            0.3, 0.3, // cafe
        ];
        WordVectors::from_parts(&pieces, 2, data).unwrap()
    }

    fn words(text: &str) -> Vec<String> {
        crate::text::words(text)
    }

    #[test]
    fn a_text_is_the_unit_mean_of_its_word_pieces() {
        let v = toy();
        assert_eq!(v.len(), 9);
        assert_eq!(v.dims(), 2);
        let e = v.embed(&words("Wake ALARM")).unwrap();
        let (x, y) = (1.9f32, 0.1f32);
        let n = (x * x + y * y).sqrt();
        assert!(
            (e[0] - x / n).abs() < 1e-6 && (e[1] - y / n).abs() < 1e-6,
            "{e:?}"
        );
        // "alarms" = "alarm" + "##s"; unknown words are skipped; accents removed ("café").
        let plural = v.embed(&words("alarms xyzzy")).unwrap();
        let (x, y) = (1.4f32, 0.5f32);
        let n = (x * x + y * y).sqrt();
        assert!((plural[0] - x / n).abs() < 1e-6, "{plural:?}");
        assert_eq!(v.embed(&words("café")), v.embed(&words("cafe")));
    }

    #[test]
    fn nothing_known_is_no_vector() {
        let v = toy();
        for text in ["", "xyzzy qwerty", "😀😀", &"a".repeat(100_000)] {
            assert_eq!(v.embed(&words(text)), None, "{text:.20}");
        }
    }

    #[test]
    fn bad_parts_and_files_are_errors() {
        assert!(WordVectors::from_parts(&["a", "b"], 2, vec![0.0; 3]).is_err());
        assert!(WordVectors::from_parts(&["a"], 0, Vec::new()).is_err());
        // WordPiece: longest match first, "##" pieces after the first, all or nothing.
        let v = WordVectors::from_parts(
            &["un", "##aff", "##able", "##a", "aff", "é"],
            1,
            vec![0.0; 6],
        )
        .unwrap();
        let split = |w: &str| {
            let mut ids = Vec::new();
            v.pieces.split(w, &mut ids).then_some(ids)
        };
        assert_eq!(split("unaffable"), Some(vec![0, 1, 2]));
        assert_eq!(split("affa"), Some(vec![4, 3]));
        assert_eq!(split("unx"), None);
        assert_eq!(split("é"), Some(vec![5]));
        assert_eq!(split(""), None);
        let missing = WordVectors::load(Path::new("/nonexistent/flowdm-vectors")).unwrap_err();
        assert!(matches!(missing, VectorsError::Read { .. }), "{missing}");

        let dir = std::env::temp_dir().join(format!("flowdm-vectors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(VOCAB_FILE), "[UNK]\nhello\nworld\n").unwrap();
        let write = |rows: usize, values: &[f32]| {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                vec![rows, 2],
                &bytes,
            )
            .unwrap();
            let raw = safetensors::serialize([(TENSOR, view)], &None).unwrap();
            std::fs::write(dir.join(VECTORS_FILE), raw).unwrap();
        };
        write(3, &[0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let v = WordVectors::load(&dir).unwrap();
        assert_eq!(v.embed(&words("hello")), Some(vec![1.0, 0.0]));
        write(2, &[0.0, 0.0, 1.0, 0.0]);
        let e = WordVectors::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("2 vectors of 2 dimensions for 3 word pieces"),
            "{e}"
        );
        write(3, &[0.0, 0.0, f32::NAN, 0.0, 0.0, 1.0]);
        assert!(WordVectors::load(&dir).is_err());
        std::fs::write(dir.join(VECTORS_FILE), b"not safetensors").unwrap();
        assert!(matches!(
            WordVectors::load(&dir),
            Err(VectorsError::Invalid { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
