//! Answers from the knowledge base: the prompt that asks the model to answer a question from
//! the chunks found, and how its answer reads. Shared by the engine's KB steps and the server's
//! `POST /knowledge-base/query` (synthesis), so both answer alike.

use crate::effects::{ChatMessage, KbChunk, LlmRequest, DEFAULT_AI_MODEL};

/// What the model is told to answer when the chunks do not hold the answer.
pub const NOT_FOUND_MARKER: &str = "NOT_FOUND";

/// The request that answers `question` from `chunks` only, with `model` (else
/// [`DEFAULT_AI_MODEL`]).
pub fn synthesis_request(question: &str, chunks: &[KbChunk], model: Option<&str>) -> LlmRequest {
    let knowledge: Vec<String> = chunks
        .iter()
        .map(|c| format!("<source name=\"{}\">\n{}\n</source>", c.source, c.content))
        .collect();
    LlmRequest {
        system: Some(format!(
            "Answer the user's question using only the knowledge below, briefly. If the knowledge does not contain the answer, reply exactly {NOT_FOUND_MARKER}.\n\n<knowledge>\n{}\n</knowledge>",
            knowledge.join("\n")
        )),
        messages: vec![ChatMessage {
            role: "user".into(),
            content: question.to_string(),
            ..ChatMessage::default()
        }],
        model: Some(model.unwrap_or(DEFAULT_AI_MODEL).to_string()),
        ..LlmRequest::default()
    }
}

/// The model's synthesis as an answer: `None` when it says the knowledge does not answer.
pub fn synthesised(content: String) -> Option<String> {
    (!content.contains(NOT_FOUND_MARKER) && !content.trim().is_empty()).then_some(content)
}
