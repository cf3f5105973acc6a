//! HTTP tests: the real application on port 0 inside the test process, talked to over HTTP
//! with a real client, like a DM API client would. One test binary; the modules are its areas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod agents;
mod ai_corpus;
mod ai_provider;
mod ai_steps;
mod api_step;
mod auth;
mod chat;
mod clients;
mod concurrency;
mod conditional;
mod contract;
mod custom_actions_api;
mod errors;
mod function_step;
mod knowledge_base;
mod library_api;
mod logs;
mod metrics;
mod nlu;
mod nlu_provider;
mod nlu_vectors;
mod properties;
mod public;
mod rate_limits;
mod reload;
mod server_actions;
mod shutdown;
mod socket;
mod stops;
mod streaming;

mod state;
mod stateless;
mod subflow;
mod v4;
mod validate_properties;
mod widget;
