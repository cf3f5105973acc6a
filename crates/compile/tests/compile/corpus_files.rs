//! Helpers for the compiler tests: the shared corpus (`../shared/corpus`, read in place, never
//! copied) and small JSON accessors.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The corpus directory, or `None` (with a message) when it is not beside the checkout.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus not found at {}: skipped", dir.display());
        None
    }
}

/// A corpus file by name, or `None` (with a message) when it is missing.
pub fn corpus_file(name: &str) -> Option<PathBuf> {
    let p = corpus_dir()?.join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("corpus file {name} not found: skipped");
        None
    }
}

/// Every agent file of the corpus (`.vf`, `.vfr`, `.json`), sorted.
pub fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|x| x.to_str()),
                        Some("vf" | "vfr" | "json")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

pub fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string()
}
