//! Helpers shared by the root test binaries (`http`, `redis`, `cli`): the application on port 0,
//! an HTTP client, private Redis servers, trace accessors. Each binary uses part of them.
#![allow(dead_code, unused_imports)]

pub mod arbitrary_json;
pub mod custom_actions;
pub mod embeddings_stub;
pub mod gated;
pub mod library;
pub mod llm_stub;
pub mod redis_servers;
pub mod registry_scenario;
pub mod server;
pub mod stops;
pub mod stub_server;
pub mod traces;
