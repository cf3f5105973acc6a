//! Compiler tests: `.vf` exports → runtime programs, and compiled agents run by the engine.
//! One test binary; the modules are its areas. The corpus (`../shared/corpus`) is read in place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The property tests' strategies and bounded configuration (shared with the root tests).
#[path = "../../../../tests/support/arbitrary_json.rs"]
mod arbitrary_json;
/// The engine tests' helpers (sessions with a fixed clock and randomness, trace accessors).
#[path = "../../../engine/tests/engine/common.rs"]
mod common;
mod conversations;
mod corpus;
mod corpus_files;
mod ground_truth;
mod properties;
mod steps;
mod understanding;
