//! The local intent classifier: TF-IDF features ([`crate::text`]) and a one-vs-rest ridge
//! (regularised least squares) classifier, solved in closed form in its dual with a Cholesky
//! factorisation (`faer`). Scores become confidences through a softmax that includes a `None`
//! candidate with a fixed score, so an utterance the model has no evidence for gets a low
//! confidence instead of a confident guess (see `docs/nlu.md`).

use crate::text::{self, Block};
use crate::vectors::WordVectors;
use crate::vocabulary::Vocabulary;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// The classifier's constants, chosen by cross-validation on the benchmark's train splits
/// (`cargo run --release -p flowdm-nlu --example cv`), never on test data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Ridge regularisation (the weight of ‖w‖² against the squared error).
    pub lambda: f64,
    /// Softmax temperature over the ridge scores (targets are ±1).
    pub temperature: f64,
    /// The lowest score of the implicit `None` candidate: an intent has to score above it.
    pub none_score: f64,
    /// … and above its score for a text with no known feature (its bias) by this much.
    pub evidence_margin: f64,
    /// Below this cosine similarity to the best intent's closest training example, the
    /// confidence shrinks in proportion: the text is unlike anything the intent was taught.
    pub min_similarity: f64,
    /// A text with no known content word needs at least this similarity (a paraphrase of a
    /// taught one-word utterance), else it ranks nothing ("hello" for "help": 0.29).
    pub look_alike: f64,
    /// The length of a text's word vector beside its TF-IDF features (length 1), when the
    /// classifier has [`WordVectors`].
    pub vector_weight: f64,
    /// With word vectors, a text with no known content word still has evidence when its word
    /// vector is at least this close (cosine) to one of the best intent's training examples
    /// ("get me an uber" for "i need a taxi": 0.55; "thanks" for "help": 0.36; "I am doing
    /// well" for "can you help me": 0.19).
    pub semantic_evidence: f64,
}

impl Params {
    /// The constants with word vectors ([`WordVectors`]), chosen by the same cross-validation.
    pub fn with_vectors() -> Params {
        Params {
            lambda: 2.5,
            vector_weight: 2.5,
            ..Params::default()
        }
    }
}

impl Default for Params {
    fn default() -> Params {
        Params {
            lambda: 1.5,
            temperature: 0.01,
            none_score: -0.95,
            evidence_margin: 0.0,
            min_similarity: 0.15,
            look_alike: 0.35,
            vector_weight: 1.0,
            semantic_evidence: 0.3,
        }
    }
}
/// Each block (words, characters) is normalised to this length, so a text has norm ≤ 1.
const BLOCK_NORM: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// A guess is never certain: confidence 1 is left to exact (NLC) matches.
pub const MAX_CONFIDENCE: f64 = 0.999;

/// A sparse, normalised feature vector: `(column, value)` pairs.
type SparseVec = Vec<(u32, f32)>;

/// A trained classifier over `labels` (intent names).
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Feature id → (column, inverse document frequency).
    vocab: FxHashMap<u64, (u32, f32)>,
    /// Column-major weights: `weights[column * labels + label]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    labels: Vec<String>,
    params: Params,
    /// The training vectors of each label.
    examples: Vec<Vec<SparseVec>>,
    /// The words taught: a text with no known content word ranks nothing.
    vocabulary: Vocabulary,
    /// Word vectors, their weights and the training examples' vectors.
    dense: Option<Dense>,
}

/// The word-vector block of a classifier ([`WordVectors`]).
#[derive(Debug, Clone)]
struct Dense {
    vectors: Arc<WordVectors>,
    /// Weights, `[labels × dims]`.
    weights: Mat<f32>,
    /// The content-word vectors of each label's training examples
    /// ([`WordVectors::embed_both`]; empty when a text has none).
    examples: Vec<Vec<Vec<f32>>>,
}

impl Classifier {
    /// Trains on `(text, label index)` pairs; `None` when there is nothing to learn from (no
    /// example, fewer than two labels with examples, or a failed factorisation).
    pub fn train(examples: &[(String, usize)], labels: Vec<String>) -> Option<Classifier> {
        Classifier::train_with(examples, labels, Params::default(), None)
    }

    /// [`Classifier::train`] with other constants, and word vectors when there are some.
    pub fn train_with(
        examples: &[(String, usize)],
        labels: Vec<String>,
        params: Params,
        vectors: Option<&Arc<WordVectors>>,
    ) -> Option<Classifier> {
        let classes = labels.len();
        if examples.is_empty() || classes == 0 {
            return None;
        }
        let words: Vec<Vec<String>> = examples.iter().map(|(t, _)| text::words(t)).collect();
        let docs: Vec<Vec<(u64, Block)>> = words.iter().map(|w| text::features_of(w)).collect();
        let vocab = fit_vocab(&docs);
        let mut clf = Classifier {
            vocab,
            weights: Vec::new(),
            bias: vec![0.0; classes],
            labels,
            params,
            examples: Vec::new(),
            vocabulary: Vocabulary::new(examples.iter().map(|(t, _)| t.as_str())),
            dense: None,
        };
        let rows: Vec<SparseVec> = docs.iter().map(|d| clf.vectorize(d)).collect();
        let n = rows.len();
        let columns = clf.vocab.len();

        let mut gram = gram_matrix(&rows, columns);
        // The word-vector block: K += EEᵀ (E: n × dims, each row the text's vector × weight).
        let embedded = vectors.map(|v| {
            let weight = params.vector_weight as f32;
            let mut e = Mat::<f32>::zeros(n, v.dims());
            let mut content = vec![Vec::new(); classes];
            for (i, (words, (_, label))) in words.iter().zip(examples).enumerate() {
                let (all, about) = v.embed_both(words);
                for (k, x) in all.iter().flatten().enumerate() {
                    e[(i, k)] = x * weight;
                }
                content[*label].push(about.unwrap_or_default());
            }
            gram += &e * e.transpose();
            (v.clone(), e, content)
        });
        // An unregularised intercept: solve on the centred kernel HKH (H = I − 11ᵀ/n) and
        // centred targets; then w = Xᵀα and intercept = ȳ − (1/n)·1ᵀKα.
        let row_mean: Vec<f32> = (0..n)
            .map(|i| (0..n).map(|j| gram[(i, j)]).sum::<f32>() / n as f32)
            .collect();
        let mean = row_mean.iter().sum::<f32>() / n as f32;
        let lambda = params.lambda as f32;
        let centred = Mat::<f32>::from_fn(n, n, |i, j| {
            gram[(i, j)] - row_mean[i] - row_mean[j] + mean + if i == j { lambda } else { 0.0 }
        });
        drop(gram);
        let target = |i: usize, c: usize| if examples[i].1 == c { 1.0 } else { -1.0 };
        let y_mean: Vec<f32> = (0..classes)
            .map(|c| (0..n).map(|i| target(i, c)).sum::<f32>() / n as f32)
            .collect();
        let mut dual = Mat::<f32>::from_fn(n, classes, |i, c| target(i, c) - y_mean[c]);
        let llt = centred.llt(Side::Lower).ok()?;
        llt.solve_in_place(dual.as_mut());

        let mut weights = vec![0.0f32; columns * classes];
        let mut alpha = vec![0.0f32; classes];
        for (i, row) in rows.iter().enumerate() {
            for (c, a) in alpha.iter_mut().enumerate() {
                *a = dual[(i, c)];
                // Column sums of K are n·row_mean (K is symmetric).
                clf.bias[c] -= row_mean[i] * *a;
            }
            for &(col, v) in row {
                let w = &mut weights[col as usize * classes..(col as usize + 1) * classes];
                for (w, a) in w.iter_mut().zip(&alpha) {
                    *w += v * a;
                }
            }
        }
        for (b, y) in clf.bias.iter_mut().zip(&y_mean) {
            *b += *y;
        }
        clf.weights = weights;
        clf.examples = vec![Vec::new(); classes];
        for (row, (_, label)) in rows.into_iter().zip(examples) {
            clf.examples[*label].push(row);
        }
        clf.dense = embedded.map(|(vectors, e, examples)| Dense {
            // [labels × dims] = (Eᵀ α)ᵀ
            weights: dual.transpose() * &e,
            examples,
            vectors,
        });
        Some(clf)
    }

    /// The cosine similarities of a text to the closest training example of `label`: of its
    /// TF-IDF vector `x`, and of its content-word vector `e` (0 without).
    fn similarity(&self, x: &[(u32, f32)], e: Option<&[f32]>, label: usize) -> (f64, f64) {
        let Some(rows) = self.examples.get(label) else {
            return (0.0, 0.0);
        };
        let sparse = best_sparse_similarity(x, rows, self.vocab.len());
        let dense = match (self.dense.as_ref(), e) {
            (Some(dense), Some(e)) => dense
                .examples
                .get(label)
                .into_iter()
                .flatten()
                .map(|row| row.iter().zip(e).map(|(a, b)| a * b).sum::<f32>())
                .fold(0.0f32, f32::max),
            _ => 0.0,
        };
        (f64::from(sparse), f64::from(dense))
    }

    /// Approximate heap size: weights, biases and the vocabulary table.
    pub fn size_bytes(&self) -> usize {
        self.weights.len() * 4
            + self.bias.len() * 4
            + self.dense.as_ref().map_or(0, |d| {
                (d.weights.nrows() * d.weights.ncols()
                    + d.examples.iter().flatten().map(Vec::len).sum::<usize>())
                    * 4
            })
            + self.vocab.capacity() * (std::mem::size_of::<(u64, (u32, f32))>() + 1)
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Each label with its confidence, best first (only labels with confidence > 0.001).
    pub fn rank(&self, text: &str) -> Vec<(usize, f64)> {
        self.rank_scores(text).unwrap_or_default()
    }

    fn rank_scores(&self, text: &str) -> Option<Vec<(usize, f64)>> {
        let words = text::words(text);
        let evidence = self.vocabulary.has_evidence(&words);
        let x = self.vectorize(&text::features_of(&words));
        if x.is_empty() {
            return None;
        }
        let classes = self.labels.len();
        let mut acc: Vec<f32> = self.bias.clone();
        for &(col, v) in &x {
            let row = &self.weights[col as usize * classes..(col as usize + 1) * classes];
            for (s, w) in acc.iter_mut().zip(row) {
                *s += v * w;
            }
        }
        // The text's word vectors: of all its words (a feature) and of its content words (for
        // the evidence check below).
        let (all, content) = match &self.dense {
            Some(dense) => dense.vectors.embed_both(&words),
            None => (None, None),
        };
        if let (Some(dense), Some(e)) = (&self.dense, all) {
            let weight = self.params.vector_weight as f32;
            let e: Vec<f32> = e.into_iter().map(|v| v * weight).collect();
            // One matrix-vector product (faer's SIMD kernels): a dense loop here is 4× slower.
            let scores = &dense.weights * faer::ColRef::from_slice(&e);
            for (c, s) in acc.iter_mut().enumerate() {
                *s += scores[c];
            }
        }
        let scores: Vec<f64> = acc.into_iter().map(f64::from).collect();
        // The `None` candidate: the best intent must beat its own no-evidence score (its bias)
        // by the margin, and the floor.
        let best = (0..classes).max_by(|a, b| scores[*a].total_cmp(&scores[*b]))?;
        let none =
            (f64::from(self.bias[best]) + self.params.evidence_margin).max(self.params.none_score);
        let top = scores.iter().copied().fold(none, f64::max);
        let exp = |s: f64| ((s - top) / self.params.temperature).exp();
        let total: f64 = scores.iter().map(|s| exp(*s)).sum::<f64>() + exp(none);
        let mut ranked: Vec<(usize, f64)> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| (i, (exp(*s) / total).min(MAX_CONFIDENCE)))
            .filter(|(_, p)| *p > 0.001)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        if let Some(&(best, _)) = ranked.first() {
            let (similarity, semantic) = self.similarity(&x, content.as_deref(), best);
            let evidence = evidence || semantic >= self.params.semantic_evidence;
            if !evidence && similarity < self.params.look_alike {
                return None;
            }
            let similarity = similarity.max(semantic);
            if similarity < self.params.min_similarity {
                let shrink = similarity / self.params.min_similarity;
                ranked.iter_mut().for_each(|r| r.1 *= shrink);
            }
        }
        Some(ranked)
    }

    /// Sublinear TF × IDF, each block L2-normalised to [`BLOCK_NORM`]; unknown features dropped.
    fn vectorize(&self, doc: &[(u64, Block)]) -> SparseVec {
        let mut counts: FxHashMap<u32, (f32, f32, Block)> = FxHashMap::default();
        for (id, block) in doc {
            if let Some(&(col, idf)) = self.vocab.get(id) {
                counts.entry(col).or_insert((0.0, idf, *block)).0 += 1.0;
            }
        }
        let mut norms = [0.0f32; 2];
        let mut out: Vec<(u32, f32, Block)> = counts
            .into_iter()
            .map(|(col, (tf, idf, block))| {
                let v = (1.0 + tf.ln()) * idf;
                norms[block as usize] += v * v;
                (col, v, block)
            })
            .collect();
        out.sort_unstable_by_key(|e| e.0);
        out.into_iter()
            .map(|(col, v, block)| {
                let norm = norms[block as usize].sqrt();
                (
                    col,
                    if norm > 0.0 {
                        v / norm * BLOCK_NORM
                    } else {
                        0.0
                    },
                )
            })
            .collect()
    }
}

/// The largest dot product of `x` with one of `rows` (TF-IDF vectors over `columns` columns).
fn best_sparse_similarity(x: &[(u32, f32)], rows: &[SparseVec], columns: usize) -> f32 {
    // `x` scattered into a dense buffer (reused per thread), each example a gather.
    DENSE.with(|dense| {
        let mut dense = dense.borrow_mut();
        if dense.len() < columns {
            dense.resize(columns, 0.0);
        }
        for &(col, v) in x {
            dense[col as usize] = v;
        }
        let best = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(col, v)| dense[col as usize] * v)
                    .sum::<f32>()
            })
            .fold(0.0f32, f32::max);
        for &(col, _) in x {
            dense[col as usize] = 0.0;
        }
        best
    })
}

thread_local! {
    /// A zeroed dense vector for [`Classifier::similarity`] (zeroed again after each use).
    static DENSE: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// K = XXᵀ, one row at a time (Gustavson): row i accumulates `x_i[f]·x_j[f]` over the
/// postings of its features into a dense buffer, for j ≥ i only, and is mirrored.
fn gram_matrix(rows: &[SparseVec], columns: usize) -> Mat<f32> {
    let n = rows.len();
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); columns];
    for (i, row) in rows.iter().enumerate() {
        for &(c, v) in row {
            postings[c as usize].push((i as u32, v));
        }
    }
    // postings[f][cursor[f]..] are the rows ≥ the current one.
    let mut cursor = vec![0usize; columns];
    let mut gram = Mat::<f32>::zeros(n, n);
    let mut acc = vec![0.0f32; n];
    for (i, row) in rows.iter().enumerate() {
        acc[i..].iter_mut().for_each(|a| *a = 0.0);
        for &(c, vi) in row {
            let c = c as usize;
            for &(j, vj) in &postings[c][cursor[c]..] {
                acc[j as usize] += vi * vj;
            }
            cursor[c] += 1;
        }
        for (j, a) in acc.iter().enumerate().skip(i) {
            gram[(i, j)] = *a;
            gram[(j, i)] = *a;
        }
    }
    gram
}

/// Feature id → (column, smoothed IDF `ln((1+n)/(1+df)) + 1`).
fn fit_vocab(docs: &[Vec<(u64, Block)>]) -> FxHashMap<u64, (u32, f32)> {
    let mut df: FxHashMap<u64, u32> = FxHashMap::default();
    for doc in docs {
        let mut seen: Vec<u64> = doc.iter().map(|f| f.0).collect();
        seen.sort_unstable();
        seen.dedup();
        for id in seen {
            *df.entry(id).or_default() += 1;
        }
    }
    let n = docs.len() as f32;
    let mut ids: Vec<(u64, u32)> = df.into_iter().collect();
    ids.sort_unstable();
    ids.into_iter()
        .enumerate()
        .map(|(col, (id, d))| (id, (col as u32, ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(data: &[(&str, usize)], labels: &[&str]) -> Classifier {
        let ex: Vec<(String, usize)> = data.iter().map(|(t, l)| (t.to_string(), *l)).collect();
        Classifier::train(&ex, labels.iter().map(|l| l.to_string()).collect()).unwrap()
    }

    fn sample() -> Classifier {
        train(
            &[
                ("set an alarm for seven", 0),
                ("wake me up at six", 0),
                ("alarm for tomorrow morning", 0),
                ("what is the weather like", 1),
                ("will it rain today", 1),
                ("is it sunny outside", 1),
                ("play some music", 2),
                ("put on a song by queen", 2),
                ("i want to hear jazz", 2),
            ],
            &["alarm", "weather", "music"],
        )
    }

    #[test]
    fn ranks_paraphrases_and_typos() {
        let c = sample();
        assert_eq!(c.rank("please set my alarm")[0].0, 0);
        assert_eq!(c.rank("is it going to rain")[0].0, 1);
        assert_eq!(c.rank("play a song")[0].0, 2);
        assert_eq!(c.rank("wether today")[0].0, 1);
        assert_eq!(c.rank("MUSIC!!!")[0].0, 2);
    }

    #[test]
    fn confident_on_training_text_and_unsure_on_unrelated_text() {
        let c = sample();
        assert!(c.rank("will it rain today")[0].1 > 0.9);
        let junk = c.rank("xqzv kkpw");
        assert!(junk.first().map(|r| r.1).unwrap_or(0.0) < 0.6, "{junk:?}");
        assert!(c.rank("").first().map(|r| r.1).unwrap_or(0.0) < 0.6);
    }

    #[test]
    fn word_vectors_relate_texts_that_share_no_word() {
        let data: Vec<(String, usize)> = [
            ("set an alarm", 0),
            ("alarm for seven", 0),
            ("will it rain", 1),
            ("rain tomorrow", 1),
        ]
        .iter()
        .map(|(t, l)| (t.to_string(), *l))
        .collect();
        let labels = vec!["alarm".to_string(), "weather".to_string()];
        let plain = Classifier::train(&data, labels.clone()).unwrap();
        let vectors = Arc::new(crate::vectors::tests::toy());
        let with =
            Classifier::train_with(&data, labels, Params::with_vectors(), Some(&vectors)).unwrap();
        // "umbrella" and "wake up in the morning" were never taught; their vectors are near
        // "rain" and "alarm".
        assert!(
            plain.rank("umbrella").is_empty(),
            "{:?}",
            plain.rank("umbrella")
        );
        assert_eq!(with.rank("umbrella")[0].0, 1, "{:?}", with.rank("umbrella"));
        assert_eq!(with.rank("wake morning")[0].0, 0);
        // What was taught is still known.
        assert_eq!(with.rank("will it rain")[0].0, 1);
        assert!(with.rank("will it rain")[0].1 > 0.9);
        assert!(with.size_bytes() > plain.size_bytes());
    }

    #[test]
    fn nothing_to_learn_is_no_classifier() {
        assert!(Classifier::train(&[], vec!["a".into()]).is_none());
    }
}
