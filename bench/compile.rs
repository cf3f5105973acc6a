//! Compiling `.vf` creator exports (`cargo bench -p flowdm-compile --bench compile`); target: ≤ 50 ms for 1 MB.
//!
//! * the largest file of `../shared/corpus` (the 2021 Alexa skill, 23 diagrams, ~500 KB): parse +
//!   compile + load, and compile alone from the parsed document;
//! * a 1 MB export: that file's diagrams copied with fresh ids until the document is ≥ 1 MB.
//!
//! Without the corpus beside the checkout, the example agents of `diagrams/` are used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use flowdm_compile::compile;
use flowdm_model::load_vfr;
use regex::Regex;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The biggest agent file with diagrams: the corpus's, else the example agents'.
fn largest() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.as_path();
    let dirs = [root.join("../shared/corpus"), root.join("diagrams")];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let best = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("vf" | "vfr" | "json")
                )
            })
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.len(), p)))
            .max();
        if let Some((_, p)) = best {
            return p;
        }
    }
    panic!("no agent file found");
}

/// The document with its diagrams copied (fresh 24-hex ids per copy) until it is ≥ `bytes`.
fn grown(doc: &Value, bytes: usize) -> Value {
    let diagrams = serde_json::to_string(&doc["diagrams"]).unwrap_or_default();
    let id = Regex::new("[0-9a-f]{24}").unwrap_or_else(|_| unreachable!());
    let mut all: Map<String, Value> = doc["diagrams"].as_object().cloned().unwrap_or_default();
    let mut out = doc.clone();
    let mut copy = 0u32;
    while serde_json::to_vec(&out)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        < bytes
    {
        copy += 1;
        let renamed = id.replace_all(&diagrams, |c: &regex::Captures<'_>| {
            format!("{:06x}{}", copy, &c[0][6..])
        });
        let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&renamed) else {
            break;
        };
        all.extend(extra);
        out["diagrams"] = Value::Object(all.clone());
    }
    out
}

fn bench(c: &mut Criterion) {
    let path = largest();
    let bytes = std::fs::read(&path).unwrap_or_default();
    let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let kb = bytes.len() / 1024;
    eprintln!("largest file: {name} ({kb} KB)");

    let mut g = c.benchmark_group("compile");
    g.measurement_time(Duration::from_secs(4));
    g.bench_function(format!("parse+compile+load {kb} KB"), |b| {
        b.iter(|| {
            let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let compiled = compile(&doc, &name).unwrap_or_else(|e| panic!("{e}"));
            load_vfr(&compiled.vfr).unwrap_or_else(|e| panic!("{e}")).0
        })
    });
    g.bench_function(format!("compile only {kb} KB"), |b| {
        b.iter(|| compile(&doc, &name).unwrap_or_else(|e| panic!("{e}")))
    });

    let big = grown(&doc, 1 << 20);
    let big_bytes = serde_json::to_vec(&big).unwrap_or_default();
    let mb = big_bytes.len() as f64 / (1 << 20) as f64;
    eprintln!(
        "grown export: {:.2} MB, {} diagrams",
        mb,
        big["diagrams"].as_object().map(Map::len).unwrap_or(0)
    );
    g.bench_function(format!("parse+compile+load {mb:.2} MB"), |b| {
        b.iter(|| {
            let doc: Value = serde_json::from_slice(&big_bytes).unwrap_or(Value::Null);
            let compiled = compile(&doc, &name).unwrap_or_else(|e| panic!("{e}"));
            load_vfr(&compiled.vfr).unwrap_or_else(|e| panic!("{e}")).0
        })
    });
    g.bench_function(format!("compile only {mb:.2} MB"), |b| {
        b.iter(|| compile(&big, &name).unwrap_or_else(|e| panic!("{e}")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
