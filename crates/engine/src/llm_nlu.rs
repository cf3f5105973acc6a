//! Intent classification by the AI provider: projects whose `intentClassification` is of type
//! `llm` or `rag` (2024–2025 exports) have the model choose the intent of a typed text among the
//! local classifier's best candidates (each shown with examples of its utterances), or `None`.
//! The call is an effect of the turn like any other (`docs/effects.md`); without an answer (no
//! provider, a failure, an answer naming no candidate) the local classifier's choice stands.

use crate::effects::{ChatMessage, Effect, EffectResult, LlmRequest, DEFAULT_AI_MODEL};
use crate::request::Request;
use crate::Agent;
use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::NONE_INTENT;
use std::collections::VecDeque;

/// The classifier's best intents shown to the model first.
const CANDIDATES: usize = 5;
/// Intents shown to the model at most.
const MAX_CANDIDATES: usize = 12;
/// Example utterances shown per candidate.
const EXAMPLES: usize = 3;

/// What classification did to a request.
pub(crate) enum Classified {
    Request(Request),
    /// The turn stops for this call.
    Pending(Effect),
}

/// Re-classifies a text's intent request (`ranking`: the classifier's, best first) when the
/// project asks for it; the next LLM result of `effects` is this call's.
pub(crate) fn classify(
    agent: &Agent,
    request: Request,
    ranking: &[(String, f64)],
    effects: &mut VecDeque<EffectResult>,
    now_ms: u64,
) -> Classified {
    let Some(params) = &agent.project.version.settings.llm_classification else {
        return Classified::Request(request);
    };
    let Some(text) = request
        .query()
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty())
    else {
        return Classified::Request(request);
    };
    // The classifier's best first, then the agent's other intents (the model may know a
    // paraphrase the classifier has no word of).
    let mut candidates: Vec<&str> = Vec::new();
    let names = ranking
        .iter()
        .map(|(name, _)| name.as_str())
        .take(CANDIDATES)
        .chain(agent.nlu.model().intents.iter().map(|i| i.name.as_str()));
    for name in names {
        if candidates.len() == MAX_CANDIDATES {
            break;
        }
        if name != NONE_INTENT && !candidates.contains(&name) && agent.nlu.is_used(name) {
            candidates.push(name);
        }
    }
    if candidates.is_empty() {
        return Classified::Request(request);
    }
    let answer = match effects.pop_front() {
        None => {
            // The examples are generated only for the call (not on the run with its answer).
            let request = prompt(params, &agent.nlu.training_texts(), &candidates, &text);
            return Classified::Pending(Effect::Llm(request));
        }
        Some(EffectResult::Llm(Ok(answer))) => answer.content,
        Some(_) => return Classified::Request(request),
    };
    let chosen = answer
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    if chosen.eq_ignore_ascii_case(NONE_INTENT) {
        return Classified::Request(Request::intent(NONE_INTENT, &text, vec![], None));
    }
    let Some(intent) = candidates.iter().find(|c| c.eq_ignore_ascii_case(chosen)) else {
        return Classified::Request(request);
    };
    if request.intent_name() == Some(intent) {
        return Classified::Request(request);
    }
    let cx = ExtractContext {
        now_ms: Some(now_ms),
    };
    let entities = agent
        .nlu
        .extract(intent, &text, &cx)
        .iter()
        .map(|e| serde_json::json!({ "name": e.name, "value": e.value }))
        .collect();
    Classified::Request(Request::intent(intent, &text, entities, Some(1.0)))
}

fn prompt(
    params: &flowdm_model::AiParams,
    training: &[(String, String)],
    candidates: &[&str],
    text: &str,
) -> LlmRequest {
    let lines: Vec<String> = candidates
        .iter()
        .map(|name| {
            let examples: Vec<String> = training
                .iter()
                .filter(|(intent, _)| intent == name)
                .take(EXAMPLES)
                .map(|(_, t)| format!("\"{t}\""))
                .collect();
            format!("- {name}: {}", examples.join(", "))
        })
        .collect();
    LlmRequest {
        model: Some(params.model.clone().unwrap_or_else(|| DEFAULT_AI_MODEL.into())),
        system: Some(format!(
            "Classify the user's message as one of these intents (each with examples of what users say). Answer with the intent's name only, or {NONE_INTENT} if none fits.\n\n{}",
            lines.join("\n")
        )),
        messages: vec![ChatMessage {
            role: "user".into(),
            content: text.to_string(),
            ..ChatMessage::default()
        }],
        temperature: params.temperature,
        max_tokens: Some(20),
        tools: Vec::new(),
    }
}
