//! Word vectors: a static vector per word piece, distilled from a sentence-embedding model by
//! `scripts/nlu-vectors` (`docs/nlu.md` § Word vectors). A text's vector is the mean of its word
//! pieces' vectors (WordPiece, `tokenizers`), unit length. The classifier learns from it beside
//! its TF-IDF features, so "wake me up" and "set an alarm" can share evidence without sharing a
//! word. Optional: without vectors the classifier is unchanged.

use std::path::{Path, PathBuf};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::Model;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The file names in a vectors directory.
pub const VECTORS_FILE: &str = "vectors.safetensors";
pub const VOCAB_FILE: &str = "vocab.txt";
/// The tensor holding the vectors, `[pieces, dims]`, F32.
const TENSOR: &str = "vectors";

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

/// Word-piece vectors and the WordPiece vocabulary that indexes them.
pub struct WordVectors {
    pieces: WordPiece,
    dims: usize,
    /// Row-major `[pieces, dims]`.
    data: Vec<f32>,
    unknown: Option<u32>,
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
        let vocab: ahash::AHashMap<String, u32> = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_string(), i as u32))
            .collect();
        let unknown = vocab.get("[UNK]").copied();
        let pieces = WordPiece::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WordVectors {
            pieces,
            dims,
            data,
            unknown,
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
        let mut sum = vec![0.0f32; self.dims];
        let mut count = 0usize;
        for word in words {
            if word.chars().count() > crate::text::MAX_WORD_CHARS {
                continue;
            }
            let plain: String = if word.is_ascii() {
                word.clone()
            } else {
                word.nfd().filter(|c| !is_combining_mark(*c)).collect()
            };
            let Ok(tokens) = self.pieces.tokenize(&plain) else {
                continue;
            };
            for token in tokens {
                if Some(token.id) == self.unknown {
                    continue;
                }
                let start = token.id as usize * self.dims;
                if let Some(row) = self.data.get(start..start + self.dims) {
                    sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    count += 1;
                }
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
