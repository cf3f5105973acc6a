//! Tests of the command line itself, on the `flowdm` binary: `check` and `compile`, and
//! `serve` as an operator starts it (flags and environment variables, start-up with broken
//! files, what it logs, keys never logged).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod ai;
mod check_nlu;
mod compile;
mod keys;
mod serve;
