//! The NLU of a 150-intent agent (`cargo bench -p flowdm-nlu --bench nlu`): one prediction
//! (the whole §8.2 cascade: strict NLC, classifier, open-slot NLC) and training at load from
//! 1,500 utterances. The agent is generated (deterministic): 150 intents of 10 utterances of
//! 4–9 words drawn from 600 words, so every intent has its own vocabulary and shares the rest,
//! like real agents. Prints the model's size and the resident memory it added. The same again
//! with word vectors when they are installed (`scripts/nlu-vectors`; `FLOWDM_NLU_VECTORS=DIR`,
//! else the default directory).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::vectors::WordVectors;
use flowdm_nlu::Nlu;
use serde_json::{json, Value};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

/// The server binary uses mimalloc too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const INTENTS: usize = 150;
const UTTERANCES: usize = 10;

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "to", "sa", "vu", "pe", "dor", "li", "qua", "ne", "ti", "bo",
        "shi", "gra",
    ];
    format!(
        "{}{}{}",
        SYLLABLES[i % 16],
        SYLLABLES[(i / 16) % 16],
        SYLLABLES[(i / 256) % 16]
    )
}

fn utterance(rng: &mut Rng, intent: usize) -> String {
    let len = 4 + rng.next(6);
    (0..len)
        .map(|_| {
            // Half the words from the intent's own 8, half from 600 shared ones.
            if rng.next(2) == 0 {
                word(1000 + intent * 8 + rng.next(8))
            } else {
                word(rng.next(600))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn model() -> Value {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let intents: Vec<Value> = (0..INTENTS)
        .map(|i| {
            let inputs: Vec<Value> = (0..UTTERANCES)
                .map(|_| json!({ "text": utterance(&mut rng, i) }))
                .collect();
            json!({ "key": format!("k{i}"), "name": format!("intent_{i}"), "inputs": inputs })
        })
        .collect();
    json!({ "intents": intents, "slots": [] })
}

fn resident_kb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

/// The installed word vectors, if any.
fn vectors() -> Option<Arc<WordVectors>> {
    let dir = std::env::var_os("FLOWDM_NLU_VECTORS")
        .map(PathBuf::from)
        .or_else(flowdm_nlu::vectors::default_dir)?;
    WordVectors::load(&dir).ok().map(Arc::new)
}

fn build(model: &Value, vectors: Option<&Arc<WordVectors>>) -> Nlu {
    Nlu::build_with_vectors(Some(model), None, None, vectors)
}

fn bench_with(c: &mut Criterion, vectors: Option<&Arc<WordVectors>>) {
    let suffix = if vectors.is_some() {
        ", word vectors"
    } else {
        ""
    };
    let model = model();
    let before = resident_kb();
    let nlu = build(&model, vectors);
    if let (Some(b), Some(a)) = (before, resident_kb()) {
        eprintln!(
            "150-intent model{suffix}: {} KB of weights and vocabulary; resident memory +{} KB",
            nlu.size_bytes() / 1024,
            a.saturating_sub(b)
        );
    }
    let mut rng = Rng(7);
    let queries: Vec<String> = (0..64).map(|i| utterance(&mut rng, i * 2)).collect();
    let cx = ExtractContext::default();
    let mut i = 0;
    c.bench_function(&format!("nlu predict (150 intents{suffix})"), |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(nlu.predict(black_box(&queries[i]), &cx))
        })
    });
    let mut group = c.benchmark_group("nlu");
    group.sample_size(20);
    group.bench_function(
        format!("train (150 intents, 1,500 utterances{suffix})"),
        |b| b.iter(|| black_box(build(black_box(&model), vectors))),
    );
    group.finish();
}

/// The resident memory a model adds is only seen for the first one a process builds (the
/// allocator reuses what the first training freed): `NLU_BENCH_VECTORS_FIRST=1` builds the one
/// with vectors first.
fn bench(c: &mut Criterion) {
    let Some(v) = vectors() else {
        eprintln!("no word vectors installed (scripts/nlu-vectors): without them only");
        return bench_with(c, None);
    };
    if std::env::var_os("NLU_BENCH_VECTORS_FIRST").is_some() {
        bench_with(c, Some(&v));
        bench_with(c, None);
    } else {
        bench_with(c, None);
        bench_with(c, Some(&v));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
