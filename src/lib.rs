//! flowdm: a self-hosted runtime for Voiceflow agents that speaks the Dialog Manager API.
//!
//! This package is the server: the actix-web application ([`app::Application`]), its routes
//! ([`http`]), the loaded agents ([`projects`]) and the `flowdm` command line. The layers below it
//! are crates of the workspace (`docs/architecture.md`), re-exported here under their layer names:
//! [`model`] (program IR, `.vfr` loader) → [`compile`] (`.vf` → IR) and [`nlu`] (text → intent) →
//! [`engine`] (the pure turn) → [`store`] (session stores).

pub use flowdm_actions as actions;
pub use flowdm_compile as compile;
pub use flowdm_engine as engine;
pub use flowdm_model as model;
pub use flowdm_nlu as nlu;
pub use flowdm_store as store;

pub mod agents;
pub mod app;
pub mod cli;
pub mod config;
pub mod declarations;
pub mod http;
pub mod kb;
pub mod library;
pub mod live_registry;
pub mod metrics;
pub mod nlu_provider;
pub mod projects;
pub mod server_actions;
pub mod socket;
