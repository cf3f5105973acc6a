//! Sandbox tests from outside the crate: properties of the JavaScript bridge on random values
//! and scripts (`docs/property-tests.md`). The unit tests live beside the code
//! (`src/sandbox/tests*.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The property tests' strategies and bounded configuration (shared with the root tests).
#[path = "../../../../tests/support/arbitrary_json.rs"]
mod arbitrary_json;
mod properties;
