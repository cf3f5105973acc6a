//! The engine: runs one turn of a project given state, request, config, clock and randomness.

pub mod env;
pub mod expr;
pub mod request;
pub mod state;
pub mod trace;
