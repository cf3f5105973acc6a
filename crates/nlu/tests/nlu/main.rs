//! NLU tests from outside the crate: properties of prediction and every entity extractor on
//! random text (`docs/property-tests.md`). The unit tests live beside the code (`src/tests.rs`,
//! `src/entities/tests.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The property tests' bounded configuration (shared with the root tests).
#[path = "../../../../tests/support/arbitrary_json.rs"]
mod arbitrary_json;
mod properties;
mod vectors;
