//! The optional embeddings provider of intent classification (`docs/nlu.md` § Optional
//! embeddings provider). The engine does no I/O, so the server does the provider's part:
//!
//! * at start ([`SemanticNlu::load`]), every loaded agent's training texts are embedded in
//!   batches and kept as an [`EmbeddingIndex`] per version; an agent whose embedding fails runs
//!   without one (a warning);
//! * before a `text` turn ([`SemanticNlu::hint`]), the text is embedded (one request, a short
//!   timeout), ranked against the agent's index, and the ranking goes to the engine in
//!   `TurnInput::nlu_hint`, which mixes it into the local classifier's (the inference route does
//!   the same with `Nlu::predict_with`). Any failure: no hint (a warning), the local classifier
//!   alone.

pub mod client;

use crate::config::EmbeddingsConfig;
use crate::engine::{Agent, ExternalRanking, Request};
use crate::nlu::semantic::EmbeddingIndex;
use crate::projects::Registry;
use client::{EmbeddingsClient, ProviderError};
use flowdm_actions::outbound::Policy;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tracing::Instrument;

/// The provider and the loaded agents' indexes.
#[derive(Debug)]
pub struct SemanticNlu {
    client: EmbeddingsClient,
    /// Version id → the index of its training texts.
    indexes: HashMap<String, EmbeddingIndex>,
    timeout: Duration,
    weight: f64,
}

/// Why one agent's index could not be made.
#[derive(Debug, thiserror::Error)]
enum IndexFailure {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    Index(#[from] crate::nlu::semantic::IndexError),
}

impl SemanticNlu {
    /// Embeds the training texts of every agent of `registry`. Requests go through the SSRF
    /// guard with `outbound` as allow-list: a provider on a private or loopback address needs
    /// `--allow-outbound` (`docs/outbound.md`). Runs to the end before the server starts; it runs its requests on a thread and runtime of its own, so it can be
    /// called from a synchronous function inside another runtime (`Application::build`).
    /// Only a client that cannot be built is an error; an agent the provider fails for runs
    /// without an index, and once the provider is unreachable the remaining agents are not tried.
    pub fn load(
        config: &EmbeddingsConfig,
        outbound: &Policy,
        registry: &Registry,
    ) -> Result<SemanticNlu, ProviderError> {
        let client = EmbeddingsClient::new(config, outbound)?;
        let loader = EmbeddingsClient::new(config, outbound)?;
        let agents: Vec<&Agent> = registry
            .projects()
            .flat_map(|p| p.versions.iter().map(|a| a.as_ref()))
            .collect();
        let indexes = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| ProviderError::Client(e.to_string()))?;
                    Ok(runtime.block_on(index_all(&loader, config, &agents)))
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(ProviderError::Client("the loading thread panicked".into()))
                })
        })?;
        Ok(SemanticNlu {
            client,
            indexes,
            timeout: config.timeout,
            weight: config.weight,
        })
    }

    /// How many agents have an index.
    pub fn indexed(&self) -> usize {
        self.indexes.len()
    }

    /// The provider's ranking of the text of `request` for `agent`, when the request is
    /// non-empty text and the agent has an index; `None` on any failure (logged).
    pub async fn hint(&self, agent: &Agent, request: Option<&Request>) -> Option<ExternalRanking> {
        let text = request
            .filter(|r| r.ty() == "text")
            .and_then(Request::payload)
            .and_then(Value::as_str)?;
        self.rank_text(agent, text).await
    }

    /// The provider's ranking of `text` for `agent` (`None`: empty text, no index, or a
    /// failure, logged).
    pub async fn rank_text(&self, agent: &Agent, text: &str) -> Option<ExternalRanking> {
        let index = self.indexes.get(&agent.version.id)?;
        if text.trim().is_empty() {
            return None;
        }
        let span = tracing::debug_span!("nlu_embeddings", version = %agent.version.id);
        let vectors = self
            .client
            .embed(&[text.to_string()], self.timeout)
            .instrument(span)
            .await;
        let ranked = vectors.map_err(IndexFailure::from).and_then(|mut v| {
            let query = v.pop().unwrap_or_default();
            index.rank(&query).map_err(IndexFailure::from)
        });
        match ranked {
            Ok(intents) => Some(ExternalRanking {
                text: text.to_string(),
                intents,
                weight: self.weight,
            }),
            Err(error) => {
                tracing::warn!(version = %agent.version.id, %error, "embeddings provider failed for a turn: the local classifier alone");
                None
            }
        }
    }
}

/// Every agent's index; failures are logged and leave the agent without one.
async fn index_all(
    client: &EmbeddingsClient,
    config: &EmbeddingsConfig,
    agents: &[&Agent],
) -> HashMap<String, EmbeddingIndex> {
    let mut indexes = HashMap::new();
    for (done, agent) in agents.iter().enumerate() {
        let version = agent.version.id.as_str();
        let span = tracing::info_span!("nlu_embeddings_load", version = %version);
        match index_agent(client, config, agent).instrument(span).await {
            Ok(Some(index)) => {
                tracing::info!(version = %version, utterances = index.len(), dims = index.dims(), "agent utterances embedded");
                indexes.insert(version.to_string(), index);
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(version = %version, %error, "embeddings provider failed for this agent: it runs on the local classifier alone");
                if matches!(&error, IndexFailure::Provider(e) if e.is_unreachable()) {
                    let skipped = agents.len() - done - 1;
                    if skipped > 0 {
                        tracing::warn!(
                            skipped,
                            "embeddings provider unreachable: the other agents are not embedded"
                        );
                    }
                    break;
                }
            }
        }
    }
    indexes
}

/// One agent's index (`None`: it has no training text).
async fn index_agent(
    client: &EmbeddingsClient,
    config: &EmbeddingsConfig,
    agent: &Agent,
) -> Result<Option<EmbeddingIndex>, IndexFailure> {
    let (intents, texts): (Vec<String>, Vec<String>) =
        agent.nlu.training_texts().into_iter().unzip();
    if texts.is_empty() {
        return Ok(None);
    }
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(config.batch.max(1)) {
        vectors.extend(client.embed(batch, config.load_timeout).await?);
    }
    Ok(Some(EmbeddingIndex::build(&intents, vectors)?))
}
