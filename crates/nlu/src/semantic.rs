//! The optional embeddings side of intent classification, without any I/O: an index of the
//! agent's training utterances as unit vectors (made by the server from an embeddings provider
//! when the agent loads), a nearest-utterance ranking of a text's vector against it, and the
//! combination of that ranking with the local classifier's ([`combine`]).
//!
//! The vectors come from outside (`docs/nlu.md` § Optional embeddings provider); this module only
//! does arithmetic on them, so it is tested with hand-made vectors.

use std::collections::HashMap;

/// How the provider's ranking weighs against the local classifier's unless told otherwise:
/// `(1 − w) · local + w · provider`. Above 0.4 (1 − the default threshold 0.6), a text the
/// local classifier has no evidence for can still pass the threshold on the provider's word alone
/// when the provider is confident (≥ 0.6 / w).
pub const DEFAULT_WEIGHT: f64 = 0.7;

/// The constants of the nearest-utterance ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Softmax temperature over cosine similarities.
    pub temperature: f64,
    /// The similarity of the implicit `None` candidate: an intent whose nearest utterance is less
    /// similar than this gets less than an even share against it.
    pub none_similarity: f64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            temperature: 0.05,
            none_similarity: 0.5,
        }
    }
}

/// Why an index could not be built or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("no utterance to index")]
    Empty,
    #[error("{got} vectors for {expected} utterances")]
    Count { expected: usize, got: usize },
    #[error("a vector of {got} dimensions where {expected} were expected")]
    Dimensions { expected: usize, got: usize },
    #[error("a vector with no length (all zeros, or not a number)")]
    ZeroVector,
}

/// Unit vectors of an agent's training utterances, each labelled with its intent.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingIndex {
    /// Intent names, each once, in first-seen order.
    intents: Vec<String>,
    /// Per utterance: the index of its intent in `intents`.
    labels: Vec<usize>,
    /// Row-major unit vectors, `dims` per utterance.
    vectors: Vec<f32>,
    dims: usize,
    params: Params,
}

impl EmbeddingIndex {
    /// An index of `intents[i]`'s utterance embedded as `vectors[i]` (the same length, every
    /// vector of the same dimension and not zero).
    pub fn build(intents: &[String], vectors: Vec<Vec<f32>>) -> Result<EmbeddingIndex, IndexError> {
        EmbeddingIndex::build_with(intents, vectors, Params::default())
    }

    /// [`EmbeddingIndex::build`] with other ranking constants.
    pub fn build_with(
        intents: &[String],
        vectors: Vec<Vec<f32>>,
        params: Params,
    ) -> Result<EmbeddingIndex, IndexError> {
        if intents.len() != vectors.len() {
            return Err(IndexError::Count {
                expected: intents.len(),
                got: vectors.len(),
            });
        }
        let dims = vectors.first().map(Vec::len).ok_or(IndexError::Empty)?;
        if dims == 0 {
            return Err(IndexError::ZeroVector);
        }
        let mut index = EmbeddingIndex {
            intents: Vec::new(),
            labels: Vec::with_capacity(intents.len()),
            vectors: Vec::with_capacity(dims * intents.len()),
            dims,
            params,
        };
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (intent, v) in intents.iter().zip(vectors) {
            let unit = unit(v, dims)?;
            let next = ids.len();
            let id = *ids.entry(intent.as_str()).or_insert(next);
            if id == index.intents.len() {
                index.intents.push(intent.clone());
            }
            index.labels.push(id);
            index.vectors.extend(unit);
        }
        Ok(index)
    }

    /// How many utterances it holds.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The dimension of its vectors.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Each intent's cosine similarity to `query`: that of its nearest utterance, in index
    /// order.
    pub fn similarities(&self, query: &[f32]) -> Result<Vec<(String, f64)>, IndexError> {
        let q = unit(query.to_vec(), self.dims)?;
        let mut best = vec![f64::NEG_INFINITY; self.intents.len()];
        for (row, &label) in self.vectors.chunks_exact(self.dims).zip(&self.labels) {
            let dot: f64 = row
                .iter()
                .zip(&q)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            if dot > best[label] {
                best[label] = dot;
            }
        }
        Ok(self.intents.iter().cloned().zip(best).collect())
    }

    /// The provider's ranking of a text whose vector is `query`: each intent's share of a
    /// softmax (temperature [`Params::temperature`]) over the similarities of its nearest
    /// utterance, with a `None` candidate at [`Params::none_similarity`]; best first, the `None`
    /// share left out (so the shares sum to less than 1).
    pub fn rank(&self, query: &[f32]) -> Result<Vec<(String, f64)>, IndexError> {
        let sims = self.similarities(query)?;
        let t = self.params.temperature.max(1e-6);
        // Shifted by the largest score so no exponent overflows.
        let top = sims
            .iter()
            .map(|(_, s)| *s)
            .fold(self.params.none_similarity, f64::max);
        let none = ((self.params.none_similarity - top) / t).exp();
        let exps: Vec<f64> = sims.iter().map(|(_, s)| ((s - top) / t).exp()).collect();
        let total = none + exps.iter().sum::<f64>();
        let mut ranked: Vec<(String, f64)> = sims
            .into_iter()
            .zip(exps)
            .map(|((name, _), e)| (name, e / total))
            .collect();
        sort_best_first(&mut ranked);
        Ok(ranked)
    }
}

/// `v` scaled to length 1; an error when its dimension is not `dims` or it has no length.
fn unit(mut v: Vec<f32>, dims: usize) -> Result<Vec<f32>, IndexError> {
    if v.len() != dims {
        return Err(IndexError::Dimensions {
            expected: dims,
            got: v.len(),
        });
    }
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm <= f64::EPSILON {
        return Err(IndexError::ZeroVector);
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Ok(v)
}

fn sort_best_first(ranked: &mut [(String, f64)]) {
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// A ranking made outside the NLU for one text (by the server, from the provider), to combine
/// with the local classifier's.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRanking {
    /// The text it ranks: it is used only for a request with exactly this text.
    pub text: String,
    /// `(intent, confidence)`, any order.
    pub intents: Vec<(String, f64)>,
    /// The provider's weight `w` in `(1 − w) · local + w · provider`, in `[0, 1]`.
    pub weight: f64,
}

/// `(1 − weight) · local + weight · external` for every intent either ranks (a missing intent
/// counts 0), best first; `weight` is clamped to `[0, 1]`.
pub fn combine(
    local: &[(String, f64)],
    external: &[(String, f64)],
    weight: f64,
) -> Vec<(String, f64)> {
    let w = if weight.is_nan() {
        0.0
    } else {
        weight.clamp(0.0, 1.0)
    };
    let mut out: Vec<(String, f64)> = Vec::with_capacity(local.len() + external.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut add = |name: &str, p: f64| {
        let i = *at.entry(name.to_string()).or_insert_with(|| {
            out.push((name.to_string(), 0.0));
            out.len() - 1
        });
        out[i].1 += p;
    };
    for (name, p) in local {
        add(name, (1.0 - w) * p);
    }
    for (name, p) in external {
        add(name, w * p);
    }
    sort_best_first(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn index() -> EmbeddingIndex {
        EmbeddingIndex::build(
            &names(&["buy", "buy", "cancel"]),
            vec![
                vec![1.0, 0.0, 0.0],
                vec![2.0, 2.0, 0.0],
                vec![0.0, 0.0, 3.0],
            ],
        )
        .expect("index")
    }

    #[test]
    fn nearest_utterance_per_intent() {
        let idx = index();
        assert_eq!((idx.len(), idx.dims()), (3, 3));
        let sims = idx.similarities(&[0.0, 5.0, 0.0]).expect("sims");
        assert_eq!(sims[0].0, "buy");
        assert!((sims[0].1 - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(sims[1], ("cancel".to_string(), 0.0));
    }

    #[test]
    fn rank_is_confident_near_an_utterance_and_low_far_from_all() {
        let idx = index();
        let near = idx.rank(&[0.0, 0.1, 1.0]).expect("rank");
        assert_eq!(near[0].0, "cancel");
        assert!(near[0].1 > 0.99, "{near:?}");
        // Orthogonal to every utterance: the None candidate takes nearly everything.
        let idx4 = EmbeddingIndex::build(
            &names(&["a", "b"]),
            vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]],
        )
        .expect("index");
        let far = idx4.rank(&[0.0, 0.0, 1.0, 1.0]).expect("rank");
        assert!(far.iter().all(|(_, p)| *p < 0.001), "{far:?}");
        // Halfway between two intents: an even split below the default threshold.
        let mid = idx4.rank(&[1.0, 1.0, 0.0, 0.0]).expect("rank");
        assert!(
            (mid[0].1 - mid[1].1).abs() < 1e-9 && mid[0].1 < 0.5,
            "{mid:?}"
        );
    }

    #[test]
    fn bad_vectors_are_errors() {
        assert_eq!(
            EmbeddingIndex::build(&[], vec![]).err(),
            Some(IndexError::Empty)
        );
        assert_eq!(
            EmbeddingIndex::build(&names(&["a"]), vec![]).err(),
            Some(IndexError::Count {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            EmbeddingIndex::build(&names(&["a", "b"]), vec![vec![1.0, 0.0], vec![1.0]]).err(),
            Some(IndexError::Dimensions {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            EmbeddingIndex::build(&names(&["a"]), vec![vec![0.0, 0.0]]).err(),
            Some(IndexError::ZeroVector)
        );
        assert_eq!(
            EmbeddingIndex::build(&names(&["a"]), vec![vec![f32::NAN, 1.0]]).err(),
            Some(IndexError::ZeroVector)
        );
        let idx = index();
        assert!(matches!(
            idx.rank(&[1.0, 0.0]),
            Err(IndexError::Dimensions { .. })
        ));
        assert_eq!(idx.rank(&[0.0; 3]).err(), Some(IndexError::ZeroVector));
    }

    #[test]
    fn combine_is_a_weighted_mean() {
        let local = vec![("a".to_string(), 0.8), ("b".to_string(), 0.1)];
        let ext = vec![("b".to_string(), 0.9), ("c".to_string(), 0.05)];
        let c = combine(&local, &ext, 0.7);
        assert_eq!(c[0].0, "b");
        assert!((c[0].1 - (0.3 * 0.1 + 0.7 * 0.9)).abs() < 1e-12);
        assert_eq!(c[1].0, "a");
        assert!((c[1].1 - 0.24).abs() < 1e-12);
        assert!((c[2].1 - 0.035).abs() < 1e-12);
        // Weight 0: the local ranking; weight out of range is clamped.
        assert_eq!(combine(&local, &ext, 0.0)[0], ("a".to_string(), 0.8));
        assert_eq!(combine(&local, &ext, 7.0)[0], ("b".to_string(), 0.9));
        assert_eq!(combine(&local, &ext, f64::NAN)[0], ("a".to_string(), 0.8));
    }
}
