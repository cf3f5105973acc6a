//! Optional hybrid retrieval: BM25 candidates re-ranked with the cosine similarity of their
//! embeddings to the question's, by reciprocal rank fusion (Cormack et al., 2009). RRF uses
//! ranks only, so BM25 scores (unbounded) and cosines (−1..1) need no normalisation. The server
//! computes the embeddings (an OpenAI-compatible provider) and calls [`fuse`]; this module is
//! pure.

use crate::KbChunk;

/// The usual RRF constant: it damps the weight of the very first ranks.
pub const RRF_K: f64 = 60.0;

/// Re-ranks `candidates` (BM25 order, best first) with `similarities[i]`, the cosine of
/// candidate `i`'s embedding with the question's. Each candidate scores
/// `1/(k + bm25 rank) + 1/(k + cosine rank)` (ranks from 1), which becomes its `score`; ties
/// keep the BM25 order. A candidate without a similarity (the slice is shorter, or NaN) gets
/// only its BM25 term.
pub fn fuse(candidates: Vec<KbChunk>, similarities: &[f64], k: f64) -> Vec<KbChunk> {
    let n = candidates.len();
    let mut by_cosine: Vec<usize> = (0..n)
        .filter(|&i| similarities.get(i).is_some_and(|s| !s.is_nan()))
        .collect();
    by_cosine.sort_by(|&a, &b| similarities[b].total_cmp(&similarities[a]).then(a.cmp(&b)));
    let mut fused: Vec<f64> = (0..n).map(|i| 1.0 / (k + (i + 1) as f64)).collect();
    for (rank, &i) in by_cosine.iter().enumerate() {
        fused[i] += 1.0 / (k + (rank + 1) as f64);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| fused[b].total_cmp(&fused[a]).then(a.cmp(&b)));
    let mut slots: Vec<Option<KbChunk>> = candidates.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| {
            slots[i].take().map(|mut c| {
                c.score = fused[i];
                c
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &str, score: f64) -> KbChunk {
        KbChunk {
            score,
            chunk_id: id.into(),
            document_id: "d".into(),
            content: String::new(),
            source: "s".into(),
        }
    }

    fn ids(chunks: &[KbChunk]) -> Vec<&str> {
        chunks.iter().map(|c| c.chunk_id.as_str()).collect()
    }

    #[test]
    fn agreement_keeps_the_order() {
        let out = fuse(
            vec![chunk("a", 9.0), chunk("b", 5.0), chunk("c", 1.0)],
            &[0.9, 0.5, 0.1],
            RRF_K,
        );
        assert_eq!(ids(&out), ["a", "b", "c"]);
        assert!((out[0].score - 2.0 / 61.0).abs() < 1e-12);
    }

    #[test]
    fn semantics_can_promote_a_candidate() {
        // c is last for BM25 but first by far for the embeddings; b is second in both.
        let out = fuse(
            vec![chunk("a", 9.0), chunk("b", 5.0), chunk("c", 1.0)],
            &[0.1, 0.5, 0.9],
            1.0,
        );
        // a: 1/2 + 1/4, b: 1/3 + 1/3, c: 1/4 + 1/2 → a and c tie (BM25 order), b below.
        assert_eq!(ids(&out), ["a", "c", "b"]);
        let out = fuse(
            vec![chunk("a", 9.0), chunk("b", 5.0), chunk("c", 1.0)],
            &[0.1, 0.95, 0.9],
            RRF_K,
        );
        assert_eq!(ids(&out), ["b", "a", "c"]);
    }

    #[test]
    fn missing_similarities_count_for_nothing() {
        let out = fuse(
            vec![chunk("a", 9.0), chunk("b", 5.0)],
            &[f64::NAN, 0.3],
            RRF_K,
        );
        assert_eq!(ids(&out), ["b", "a"]);
        assert!(fuse(Vec::new(), &[], RRF_K).is_empty());
        assert_eq!(ids(&fuse(vec![chunk("a", 1.0)], &[], RRF_K)), ["a"]);
    }
}
