//! Engine tests: the pure turn, no server. One test binary; the modules are its areas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent;
mod agents;
mod ai;
mod api;
/// The property tests' strategies and bounded configuration (shared with the root tests).
#[path = "../../../../tests/support/arbitrary_json.rs"]
mod arbitrary_json;
mod common;
mod corpus;
mod dm;
mod dm_capture;
mod function;
mod nodes;
mod properties;
mod properties_turns;
mod requests;
mod server_actions;
mod stops;
mod subflow;
mod worked_example;
