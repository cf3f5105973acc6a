//! What every handler shares: the loaded agents, the keys, the session store, the limits.

use super::auth::Keys;
use super::limits::Limits;
use crate::nlu_provider::SemanticNlu;
use crate::store::SessionStore;
use flowdm_actions::effects::Effects;
use flowdm_actions::perform::EffectBudget;
use std::sync::Arc;

/// The application state (built by [`crate::app::Application::build`]).
pub struct AppState {
    /// The loaded agents (reloaded without a restart, `crate::agents`).
    pub agents: Arc<crate::agents::LiveAgents>,
    pub keys: Keys,
    pub store: Arc<dyn SessionStore>,
    pub limits: Limits,
    /// `ALLOWED_PUBLIC_ORIGINS`: when not empty, public routes refuse other `Origin`s (403).
    pub public_origins: Vec<String>,
    /// Shown by `/health` (`NODE_ENV`).
    pub environment: String,
    /// The optional embeddings provider of intent classification (unset: the local classifier
    /// alone).
    pub semantic: Option<Arc<SemanticNlu>>,
    /// Performs the effects turns stop for: outbound HTTP of API steps, completions of the AI
    /// provider, knowledge-base searches.
    pub effects: Arc<Effects>,
    /// How much one turn may wait on effects and how many AI tokens it may use.
    pub effect_budget: EffectBudget,
    /// The custom actions the server runs and the library of sub-flows: files + the registry
    /// store, one snapshot per turn.
    pub live: Arc<crate::live_registry::LiveRegistry>,
    /// The management API's key (`--admin-key`); `None`: that API answers 403.
    pub admin_key: Option<crate::config::Secret>,
    /// The chat pages' web chat bundle (`--widget-bundle`, `--widget-url`; [`super::chat`]).
    pub chat: crate::config::ChatConfig,
    /// Rate limits per API key and per user (`--rate-limit-key`, `--rate-limit-user`;
    /// `docs/limits.md`); off by default.
    pub rate_limits: super::rate_limit::RateLimits,
    /// The process's metrics (`GET /metrics`, `docs/observability.md`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Whether a public route may answer a request from `origin` (`ALLOWED_PUBLIC_ORIGINS`;
    /// empty: every origin).
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.public_origins.is_empty() || self.public_origins.iter().any(|o| o == origin)
    }
}
