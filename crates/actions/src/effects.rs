//! [`Effects`]: the server's [`Performer`], dispatching each effect of a turn to what performs
//! it: HTTP to the guarded outbound client, completions to the AI provider, searches to the
//! knowledge base. A missing provider or knowledge base is an error result, which the step
//! turns into its fail path, never a failed turn.

use crate::http_effect;
use crate::llm::LlmClient;
use crate::outbound::OutboundClient;
use crate::perform::{Performer, Performing};
use flowdm_engine::{Effect, EffectResult, KbChunk, KbQuery};
use std::sync::Arc;

/// The answer of an AI step when no provider is configured.
pub const NO_AI_PROVIDER: &str = "no AI provider is configured (set --ai-url)";
/// The answer of a knowledge-base search when there is no knowledge base.
pub const NO_KNOWLEDGE_BASE: &str = "no knowledge base is configured";

/// A search in progress (an embeddings provider may be asked to re-rank).
pub type KbSearching<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<KbChunk>, String>> + Send + 'a>>;

/// Searches a project's knowledge base (implemented by the knowledge base, elsewhere).
pub trait KbSearch: Send + Sync {
    /// The best `query.chunk_limit` chunks of `query.project_id`'s documents for
    /// `query.question`, best first (possibly none), or why the search failed.
    fn search<'a>(&'a self, query: &'a KbQuery) -> KbSearching<'a>;
}

/// What performs each kind of effect.
#[derive(Clone)]
pub struct Effects {
    /// The API step's outbound calls.
    pub http: OutboundClient,
    /// The AI provider (`--ai-url`); `None`: AI steps take their fail path.
    pub llm: Option<LlmClient>,
    /// The knowledge base; `None`: KB searches fail.
    pub kb: Option<Arc<dyn KbSearch>>,
}

impl Effects {
    /// Outbound HTTP only: no AI provider, no knowledge base.
    pub fn http_only(http: OutboundClient) -> Effects {
        Effects {
            http,
            llm: None,
            kb: None,
        }
    }
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effects")
            .field("http", &self.http)
            .field("llm", &self.llm)
            .field("kb", &self.kb.is_some())
            .finish()
    }
}

impl Performer for Effects {
    fn perform<'a>(&'a self, effect: &'a Effect) -> Performing<'a> {
        Box::pin(async move {
            match effect {
                Effect::Http(request) => {
                    EffectResult::Http(http_effect::send(&self.http, request).await)
                }
                Effect::Llm(request) => EffectResult::Llm(match &self.llm {
                    Some(llm) => llm.complete(request).await,
                    None => Err(NO_AI_PROVIDER.into()),
                }),
                Effect::Kb(query) => EffectResult::Kb(match &self.kb {
                    Some(kb) => kb.search(query).await,
                    None => Err(NO_KNOWLEDGE_BASE.into()),
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::OutboundConfig;
    use flowdm_engine::LlmRequest;

    struct OneChunk;

    impl KbSearch for OneChunk {
        fn search<'a>(&'a self, query: &'a KbQuery) -> KbSearching<'a> {
            Box::pin(async move {
                Ok(vec![KbChunk {
                    score: 1.0,
                    chunk_id: "c".into(),
                    document_id: "d".into(),
                    content: query.question.clone(),
                    source: "faq.md".into(),
                }])
            })
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn missing_providers_answer_with_an_error_and_the_kb_is_searched() {
        let http = OutboundClient::new(OutboundConfig::default()).unwrap();
        let mut effects = Effects::http_only(http);
        let llm = Effect::Llm(LlmRequest::default());
        let query = Effect::Kb(KbQuery {
            project_id: "p".into(),
            question: "refunds?".into(),
            chunk_limit: 2,
        });
        assert_eq!(
            block_on(effects.perform(&llm)),
            EffectResult::Llm(Err(NO_AI_PROVIDER.into()))
        );
        assert_eq!(
            block_on(effects.perform(&query)),
            EffectResult::Kb(Err(NO_KNOWLEDGE_BASE.into()))
        );
        effects.kb = Some(Arc::new(OneChunk));
        match block_on(effects.perform(&query)) {
            EffectResult::Kb(Ok(chunks)) => assert_eq!(chunks[0].content, "refunds?"),
            other => panic!("{other:?}"),
        }
    }
}
