//! `POST /knowledge-base/query`: the project's knowledge base searched for a question
//! (`docs/knowledge-base.md`). The project comes from the API key like the other project routes
//! (`super::auth::resolve_version`, the development version of the key's project); the body is
//! validated before anything else runs. The answer is `{output, chunks}`: `output` is an answer
//! written from the chunks by the AI provider when `synthesis` is asked for and a provider is
//! configured (else `null`); `chunks` are the best chunks, best first, with their BM25 scores.

use super::auth::resolve_version;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::JsonBody;
use super::response::Answer;
use super::state::AppState;
use super::validate::must_be;
use actix_web::{web, HttpRequest};
use flowdm_engine::KbChunk;
use serde::Serialize;
use serde_json::{Map, Value};

/// The longest accepted question, in characters.
pub const MAX_QUESTION_CHARS: usize = 10_000;
/// `chunkLimit`'s range and default (Voiceflow's).
pub const MAX_CHUNK_LIMIT: u64 = 10;
pub const DEFAULT_CHUNK_LIMIT: usize = 2;

/// A validated query body.
#[derive(Debug, Clone, PartialEq)]
pub struct KbQueryBody {
    pub question: String,
    pub chunk_limit: usize,
    /// Asked for an answer written by the AI provider.
    pub synthesis: bool,
    /// `settings.model`: the model of the synthesis.
    pub model: Option<String>,
}

/// Validates the body (AJV's wording, like `super::validate`). Other keys are ignored, so a
/// client sending more of Voiceflow's options (`tags`, …) still gets its chunks.
pub fn query_body(body: &Value) -> Result<KbQueryBody, ApiError> {
    let obj: &Map<String, Value> = body
        .as_object()
        .ok_or_else(|| must_be("body", "object", body))?;
    let question = match obj.get("question") {
        None => {
            return Err(ApiError::validation(
                "question",
                "must have required property 'question'",
            ))
        }
        Some(Value::String(s)) => s,
        Some(v) => return Err(must_be("question", "string", v)),
    };
    let chars = question.chars().count();
    if chars == 0 {
        return Err(ApiError::validation(
            "question",
            "must NOT have fewer than 1 characters",
        ));
    }
    if chars > MAX_QUESTION_CHARS {
        return Err(ApiError::validation(
            "question",
            format!("must NOT have more than {MAX_QUESTION_CHARS} characters (got {chars})"),
        ));
    }
    let chunk_limit = match obj.get("chunkLimit") {
        None | Some(Value::Null) => DEFAULT_CHUNK_LIMIT,
        // `2.0` is an integer too (JSON Schema's view).
        Some(v) => match v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }) {
            Some(n) if (1..=MAX_CHUNK_LIMIT).contains(&n) => n as usize,
            _ if v.is_number() => {
                return Err(ApiError::validation(
                    "chunkLimit",
                    format!("must be an integer from 1 to {MAX_CHUNK_LIMIT} (got {v})"),
                ))
            }
            _ => return Err(must_be("chunkLimit", "integer", v)),
        },
    };
    let synthesis = match obj.get("synthesis") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(must_be("synthesis", "boolean", v)),
    };
    for field in ["settings", "filters"] {
        match obj.get(field) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(v) => return Err(must_be(field, "object", v)),
        }
    }
    let model = obj
        .get("settings")
        .and_then(|s| s.get("model"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(KbQueryBody {
        question: question.clone(),
        chunk_limit,
        synthesis,
        model,
    })
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    score: f64,
    #[serde(rename = "chunkID")]
    chunk_id: &'a str,
    #[serde(rename = "documentID")]
    document_id: &'a str,
    content: &'a str,
    source: &'a str,
    metadata: Map<String, Value>,
}

#[derive(Serialize)]
struct QueryAnswer<'a> {
    output: Option<String>,
    chunks: Vec<ChunkOut<'a>>,
}

/// `POST /knowledge-base/query`.
pub async fn query(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let agent = resolve_version(&data, &req, &ctx, None)?;
    let q = query_body(&body.0)?;
    let query = flowdm_engine::KbQuery {
        project_id: agent.project.version.project_id.clone(),
        question: q.question.clone(),
        chunk_limit: q.chunk_limit,
    };
    let chunks: Vec<KbChunk> = match &data.effects.kb {
        None => Vec::new(),
        Some(kb) => kb.search(&query).await.unwrap_or_else(|error| {
            // No folder for this project: no chunks, like a project without documents.
            tracing::debug!(%error, "knowledge base");
            Vec::new()
        }),
    };
    let output = if q.synthesis && !chunks.is_empty() {
        synthesis(&data, &q, &chunks).await
    } else {
        None
    };
    Answer::json(&QueryAnswer {
        output,
        chunks: chunks
            .iter()
            .map(|c| ChunkOut {
                score: c.score,
                chunk_id: &c.chunk_id,
                document_id: &c.document_id,
                content: &c.content,
                source: &c.source,
                metadata: Map::new(),
            })
            .collect(),
    })
}

/// The provider's answer written from `chunks` (`engine::knowledge`, as the KB steps do);
/// `None` without a provider, when it fails (logged) or when the chunks do not answer.
async fn synthesis(data: &AppState, q: &KbQueryBody, chunks: &[KbChunk]) -> Option<String> {
    let llm = data.effects.llm.as_ref()?;
    let request =
        flowdm_engine::knowledge::synthesis_request(&q.question, chunks, q.model.as_deref());
    match llm.complete(&request).await {
        Ok(answer) => flowdm_engine::knowledge::synthesised(answer.content),
        Err(error) => {
            tracing::warn!(%error, "knowledge-base synthesis failed: chunks only");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies() {
        let ok = query_body(&json!({"question": "hours?"})).unwrap();
        assert_eq!(ok.chunk_limit, 2);
        assert!(!ok.synthesis);
        let ok = query_body(&json!({"question": "q", "chunkLimit": 10, "synthesis": true, "settings": {}, "filters": null, "tags": []})).unwrap();
        assert_eq!(ok.chunk_limit, 10);
        let ok =
            query_body(&json!({"question": "q", "chunkLimit": 3.0, "synthesis": null})).unwrap();
        assert_eq!(ok.chunk_limit, 3);
        for bad in [
            json!([]),
            json!({}),
            json!({"question": 1}),
            json!({"question": ""}),
            json!({"question": "x".repeat(10_001)}),
            json!({"question": "q", "chunkLimit": 0}),
            json!({"question": "q", "chunkLimit": 11}),
            json!({"question": "q", "chunkLimit": 2.5}),
            json!({"question": "q", "chunkLimit": "2"}),
            json!({"question": "q", "synthesis": "yes"}),
            json!({"question": "q", "settings": []}),
            json!({"question": "q", "filters": "x"}),
        ] {
            assert!(query_body(&bad).is_err(), "{bad}");
        }
        assert!(query_body(&json!({"question": "é".repeat(10_000)})).is_ok());
        // Blank is a question (it finds nothing), not an error.
        assert!(query_body(&json!({"question": " "})).is_ok());
    }
}
