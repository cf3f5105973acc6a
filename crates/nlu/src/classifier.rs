//! The local intent classifier: TF-IDF features ([`crate::text`]) and a one-vs-rest ridge
//! (regularised least squares) classifier, solved in closed form in its dual with a Cholesky
//! factorisation (`faer`). Scores become confidences through a softmax that includes a `None`
//! candidate with a fixed score, so an utterance the model has no evidence for gets a low
//! confidence instead of a confident guess (see `docs/nlu.md`).

use crate::text::{self, Block};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rustc_hash::FxHashMap;

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
}

impl Default for Params {
    fn default() -> Params {
        Params {
            lambda: 1.5,
            temperature: 0.01,
            none_score: -0.95,
            evidence_margin: 0.0,
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
}

impl Classifier {
    /// Trains on `(text, label index)` pairs; `None` when there is nothing to learn from (no
    /// example, fewer than two labels with examples, or a failed factorisation).
    pub fn train(examples: &[(String, usize)], labels: Vec<String>) -> Option<Classifier> {
        Classifier::train_with(examples, labels, Params::default())
    }

    /// [`Classifier::train`] with other constants.
    pub fn train_with(
        examples: &[(String, usize)],
        labels: Vec<String>,
        params: Params,
    ) -> Option<Classifier> {
        let classes = labels.len();
        if examples.is_empty() || classes == 0 {
            return None;
        }
        let docs: Vec<Vec<(u64, Block)>> =
            examples.iter().map(|(t, _)| text::features(t)).collect();
        let vocab = fit_vocab(&docs);
        let mut clf = Classifier {
            vocab,
            weights: Vec::new(),
            bias: vec![0.0; classes],
            labels,
            params,
        };
        let rows: Vec<SparseVec> = docs.iter().map(|d| clf.vectorize(d)).collect();
        let n = rows.len();
        let columns = clf.vocab.len();

        // Gram matrix K = XXᵀ through postings.
        let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); columns];
        for (i, row) in rows.iter().enumerate() {
            for &(c, v) in row {
                postings[c as usize].push((i as u32, v));
            }
        }
        let mut gram = Mat::<f64>::zeros(n, n);
        for list in &postings {
            for (a, &(i, vi)) in list.iter().enumerate() {
                for &(j, vj) in &list[a..] {
                    let p = f64::from(vi) * f64::from(vj);
                    gram[(i as usize, j as usize)] += p;
                    if i != j {
                        gram[(j as usize, i as usize)] += p;
                    }
                }
            }
        }
        // An unregularised intercept: solve on the centred kernel HKH (H = I − 11ᵀ/n) and
        // centred targets; then w = Xᵀα and intercept = ȳ − (1/n)·1ᵀKα.
        let row_mean: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| gram[(i, j)]).sum::<f64>() / n as f64)
            .collect();
        let mean = row_mean.iter().sum::<f64>() / n as f64;
        let centred = Mat::<f64>::from_fn(n, n, |i, j| {
            gram[(i, j)] - row_mean[i] - row_mean[j]
                + mean
                + if i == j { params.lambda } else { 0.0 }
        });
        let target = |i: usize, c: usize| if examples[i].1 == c { 1.0 } else { -1.0 };
        let y_mean: Vec<f64> = (0..classes)
            .map(|c| (0..n).map(|i| target(i, c)).sum::<f64>() / n as f64)
            .collect();
        let mut dual = Mat::<f64>::from_fn(n, classes, |i, c| target(i, c) - y_mean[c]);
        let llt = centred.llt(Side::Lower).ok()?;
        llt.solve_in_place(dual.as_mut());

        let mut weights = vec![0.0f32; columns * classes];
        for (i, row) in rows.iter().enumerate() {
            for c in 0..classes {
                let a = dual[(i, c)];
                // Column sums of K are n·row_mean (K is symmetric).
                clf.bias[c] -= (row_mean[i] * a) as f32;
                for &(col, v) in row {
                    weights[col as usize * classes + c] += v * a as f32;
                }
            }
        }
        for (b, y) in clf.bias.iter_mut().zip(&y_mean) {
            *b += *y as f32;
        }
        clf.weights = weights;
        Some(clf)
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Each label with its confidence, best first (only labels with confidence > 0.001).
    pub fn rank(&self, text: &str) -> Vec<(usize, f64)> {
        self.rank_scores(text).unwrap_or_default()
    }

    fn rank_scores(&self, text: &str) -> Option<Vec<(usize, f64)>> {
        let x = self.vectorize(&text::features(text));
        if x.is_empty() {
            return None;
        }
        let classes = self.labels.len();
        let mut scores: Vec<f64> = self.bias.iter().map(|b| f64::from(*b)).collect();
        for (col, v) in x {
            let row = &self.weights[col as usize * classes..(col as usize + 1) * classes];
            for (s, w) in scores.iter_mut().zip(row) {
                *s += f64::from(v * w);
            }
        }
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
    fn nothing_to_learn_is_no_classifier() {
        assert!(Classifier::train(&[], vec!["a".into()]).is_none());
    }
}
