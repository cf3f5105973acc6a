//! The reference's prediction route (`spec/dm-api.md` §1.1, §8.6):
//! `GET /nlu/project/{projectID}/version/{versionID}/inference?query=…` answers what the
//! version's NLU makes of `query` — `{utterance, predictedIntent, predictedSlots, confidence,
//! intents}`, the NLU gateway's shape — without touching a session.

use super::auth::resolve_project_version;
use super::context::RequestCtx;
use super::errors::{now_ms, ApiError};
use super::paths::ProjectVersionPath;
use super::response::Answer;
use super::state::AppState;
use crate::engine::{Agent, ExternalRanking};
use crate::metrics::{Metrics, NluSource};
use crate::nlu::entities::ExtractContext;
use crate::nlu::NONE_INTENT;
use actix_web::{web, HttpRequest};
use serde::Serialize;

/// An entity of the prediction.
#[derive(Debug, Serialize)]
struct Slot<'a> {
    name: &'a str,
    value: &'a str,
}

/// One ranked intent.
#[derive(Debug, Serialize)]
struct Ranked<'a> {
    name: &'a str,
    confidence: f64,
}

/// The prediction, as the NLU gateway answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Inference<'a> {
    utterance: &'a str,
    predicted_intent: &'a str,
    predicted_slots: Vec<Slot<'a>>,
    /// Absent when the prediction has none (an empty query, an intent the diagrams do not use).
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    intents: Vec<Ranked<'a>>,
}

/// The `query` parameter (the first one when repeated); missing → 400 Validation.
fn query_param(req: &HttpRequest) -> Result<String, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::validation("query", e.to_string()))?
        .into_inner();
    pairs
        .into_iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v)
        .ok_or_else(|| {
            ApiError::validation(
                "query",
                "required: the text to understand, as `?query=…` (it may be empty)",
            )
        })
}

/// The answer for `query` (an empty query is `None` without a confidence, as in a turn).
/// `hint`: the embeddings provider's ranking of the query, when there is one.
fn infer(
    agent: &Agent,
    query: &str,
    hint: Option<&ExternalRanking>,
    metrics: &Metrics,
) -> Result<Answer, ApiError> {
    if query.is_empty() {
        metrics.nlu(NluSource::Inference, None, None);
        return Answer::json(&Inference {
            utterance: query,
            predicted_intent: NONE_INTENT,
            predicted_slots: Vec::new(),
            confidence: None,
            intents: Vec::new(),
        });
    }
    let cx = ExtractContext {
        now_ms: Some(now_ms()),
    };
    let p = agent.nlu.predict_with(query, &cx, hint);
    metrics.nlu(NluSource::Inference, Some(&p.intent), p.confidence);
    Answer::json(&Inference {
        utterance: query,
        predicted_intent: &p.intent,
        predicted_slots: p
            .entities
            .iter()
            .map(|e| Slot {
                name: &e.name,
                value: &e.value,
            })
            .collect(),
        confidence: p.confidence,
        intents: p
            .intents
            .iter()
            .map(|(name, confidence)| Ranked {
                name,
                confidence: *confidence,
            })
            .collect(),
    })
}

/// `GET /nlu/project/{projectID}/version/{versionID}/inference?query=…`.
pub async fn inference(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectVersionPath>,
) -> Result<Answer, ApiError> {
    let agent = resolve_project_version(&data, &req, &ctx, &path.project_id, &path.version_id)?;
    let query = query_param(&req)?;
    let hint = match &data.semantic {
        Some(semantic) => semantic.rank_text(&agent, &query).await,
        None => None,
    };
    infer(&agent, &query, hint.as_ref(), &data.metrics)
}
