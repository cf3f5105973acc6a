//! Cross-validation of the NLU on a benchmark's train split, and its score on the test split.
//!
//!     [FLOWDM_NLU_VECTORS=DIR] cargo run --release -p flowdm-nlu --example cv -- DIR [FOLDS] [lambda,temperature,none,margin[,similarity[,look-alike[,vector-weight[,semantic-evidence]]]]] [OTHER]
//!
//! DIR holds `train/{seq.in,label}` (and `test/` for the held-out figure), e.g.
//! `../shared/nlu/hwu64_10`. Each intent's utterances become one model intent; predictions go
//! through the whole cascade at the default threshold (0.6), as the server answers them. OTHER,
//! another benchmark's directory, gives out-of-scope text: the share of its train utterances the
//! model answers `None` is printed too (a model that never says `None` is no good either).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowdm_nlu::classifier::Params;
use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::vectors::WordVectors;
use flowdm_nlu::Nlu;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn read(dir: &Path, split: &str) -> Vec<(String, String)> {
    let texts = std::fs::read_to_string(dir.join(split).join("seq.in")).unwrap_or_default();
    let labels = std::fs::read_to_string(dir.join(split).join("label")).unwrap_or_default();
    texts
        .lines()
        .zip(labels.lines())
        .map(|(t, l)| (t.to_string(), l.trim().to_string()))
        .collect()
}

fn model(data: &[&(String, String)]) -> serde_json::Value {
    let mut intents: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for (text, label) in data {
        intents
            .entry(label)
            .or_default()
            .push(json!({ "text": text }));
    }
    let intents: Vec<_> = intents
        .into_iter()
        .map(|(name, inputs)| json!({ "key": name, "name": name, "inputs": inputs }))
        .collect();
    json!({ "intents": intents, "slots": [] })
}

/// (accuracy at the threshold, top-1 accuracy of the ranking)
fn score(nlu: &Nlu, test: &[&(String, String)]) -> (f64, f64) {
    let cx = ExtractContext::default();
    let (mut ok, mut top) = (0, 0);
    for (text, label) in test {
        if nlu.predict(text, &cx).intent == *label {
            ok += 1;
        }
        if nlu.rank(text).first().map(|r| &r.0) == Some(label) {
            top += 1;
        }
    }
    let n = test.len().max(1) as f64;
    (ok as f64 / n, top as f64 / n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("../shared/nlu/hwu64_10"),
    );
    let folds: usize = args.get(2).and_then(|f| f.parse().ok()).unwrap_or(5);
    // FLOWDM_NLU_VECTORS=DIR: the classifier with word vectors (scripts/nlu-vectors).
    let vectors = std::env::var_os("FLOWDM_NLU_VECTORS")
        .map(|dir| Arc::new(WordVectors::load(Path::new(&dir)).unwrap()));
    let mut params = match vectors {
        Some(_) => Params::with_vectors(),
        None => Params::default(),
    };
    if let Some(p) = args.get(3) {
        let v: Vec<f64> = p.split(',').map(|x| x.parse().unwrap()).collect();
        params = Params {
            lambda: v[0],
            temperature: v[1],
            none_score: v[2],
            evidence_margin: v[3],
            min_similarity: v.get(4).copied().unwrap_or(params.min_similarity),
            look_alike: v.get(5).copied().unwrap_or(params.look_alike),
            vector_weight: v.get(6).copied().unwrap_or(params.vector_weight),
            semantic_evidence: v.get(7).copied().unwrap_or(params.semantic_evidence),
        };
    }
    let train = read(dir, "train");
    let (mut cv, mut cv_top) = (0.0, 0.0);
    for f in 0..folds {
        let fit: Vec<_> = train
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds != f)
            .map(|e| e.1)
            .collect();
        let held: Vec<_> = train
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds == f)
            .map(|e| e.1)
            .collect();
        let nlu = Nlu::build_with(Some(&model(&fit)), None, None, params, vectors.as_ref());
        let (a, t) = score(&nlu, &held);
        cv += a / folds as f64;
        cv_top += t / folds as f64;
    }
    println!("{params:?}");
    println!(
        "cv({folds}) accuracy at 0.6: {:.1} %, top-1: {:.1} %",
        cv * 100.0,
        cv_top * 100.0
    );
    if let Some(other) = args.get(4) {
        let all: Vec<_> = train.iter().collect();
        let nlu = Nlu::build_with(Some(&model(&all)), None, None, params, vectors.as_ref());
        let cx = ExtractContext::default();
        let ood = read(Path::new(other), "train");
        let none = ood
            .iter()
            .filter(|(t, _)| nlu.predict(t, &cx).is_none())
            .count();
        println!(
            "out of scope answered None: {:.1} %",
            none as f64 * 100.0 / ood.len().max(1) as f64
        );
    }
    let test = read(dir, "test");
    if !test.is_empty() {
        let all: Vec<_> = train.iter().collect();
        let started = Instant::now();
        let nlu = Nlu::build_with(Some(&model(&all)), None, None, params, vectors.as_ref());
        let trained = started.elapsed();
        let (a, t) = score(&nlu, &test.iter().collect::<Vec<_>>());
        println!(
            "test accuracy at 0.6: {:.1} %, top-1: {:.1} % (trained on {} utterances in {:.0?})",
            a * 100.0,
            t * 100.0,
            train.len(),
            trained
        );
    }
}
