//! Knowledge-base query latency (`cargo bench -p flowdm-kb --bench kb`): one project of 10 000
//! synthetic chunks of 150 words each (words drawn from a 5 000-word vocabulary with a Zipf-like
//! skew, like text), indexed in RAM; a 6-word question, top 3 and top 10, and the index build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use flowdm_kb::index::ProjectIndex;
use flowdm_kb::Chunk;
use std::hint::black_box;

const CHUNKS: usize = 10_000;
const WORDS_PER_CHUNK: usize = 150;
const VOCABULARY: usize = 5_000;

/// A deterministic xorshift generator (no dependency for the bench's data).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Skewed towards small indexes: frequent words are frequent.
    fn word(&mut self) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((VOCABULARY as f64).powf(u) as usize).min(VOCABULARY - 1)
    }
}

fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ren", "tu", "sa", "vel", "do", "pri", "na", "gor", "te", "shu", "bel",
        "ix", "om",
    ];
    let mut s = String::new();
    let mut n = i + 16;
    while n > 0 {
        s.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    s
}

fn chunks() -> Vec<Chunk> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..CHUNKS)
        .map(|n| {
            let content = (0..WORDS_PER_CHUNK)
                .map(|_| word(rng.word()))
                .collect::<Vec<_>>()
                .join(" ");
            Chunk {
                chunk_id: format!("doc{}:{}", n / 10, n % 10),
                document_id: format!("doc{}", n / 10),
                source: format!("doc{}.txt", n / 10),
                content,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = chunks();
    let index = ProjectIndex::build(data.clone()).unwrap();
    let question = format!(
        "how do {} and {} work with {} {}?",
        word(40),
        word(700),
        word(2500),
        word(4100)
    );
    assert!(!index.search(&question, 3).unwrap().is_empty());
    c.bench_function("kb query, 10k chunks, top 3", |b| {
        b.iter(|| index.search(black_box(&question), 3).unwrap())
    });
    c.bench_function("kb query, 10k chunks, top 10", |b| {
        b.iter(|| index.search(black_box(&question), 10).unwrap())
    });
    let mut group = c.benchmark_group("kb build");
    group.sample_size(10);
    group.bench_function("index 10k chunks", |b| {
        b.iter(|| ProjectIndex::build(black_box(data.clone())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
