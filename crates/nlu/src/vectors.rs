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
        assert!((e[0] - x / n).abs() < 1e-6 && (e[1] - y / n).abs() < 1e-6, "{e:?}");
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
        let missing = WordVectors::load(Path::new("/nonexistent/flowdm-vectors")).unwrap_err();
        assert!(matches!(missing, VectorsError::Read { .. }), "{missing}");

        let dir = std::env::temp_dir().join(format!("flowdm-vectors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(VOCAB_FILE), "[UNK]\nhello\nworld\n").unwrap();
        let write = |rows: usize, values: &[f32]| {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, 2], &bytes)
                    .unwrap();
            let raw = safetensors::serialize([(TENSOR, view)], &None).unwrap();
            std::fs::write(dir.join(VECTORS_FILE), raw).unwrap();
        };
        write(3, &[0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let v = WordVectors::load(&dir).unwrap();
        assert_eq!(v.embed(&words("hello")), Some(vec![1.0, 0.0]));
        write(2, &[0.0, 0.0, 1.0, 0.0]);
        let e = WordVectors::load(&dir).unwrap_err().to_string();
        assert!(e.contains("2 vectors of 2 dimensions for 3 word pieces"), "{e}");
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
