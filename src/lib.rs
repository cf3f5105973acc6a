//! flowdm: a self-hosted runtime for Voiceflow agents that speaks the Dialog Manager API.
//!
//! Layers (see `../shared/design.md`): [`model`] (program IR and loaders) → [`engine`] (the pure
//! turn) → [`nlu`] (text → intent). The HTTP server and session stores sit on top.

pub mod compile;
pub mod engine;
pub mod http;
pub mod model;
pub mod nlu;
pub mod projects;
pub mod store;
