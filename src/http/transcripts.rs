//! Transcripts and feedback (`spec/dm-api.md` §1.7), kept in the session store.
//! `POST /public/{projectID}/transcripts`, `POST /feedback/{projectID}/user/{userID}`.

use super::auth::{resolve_public, resolve_public_user};
use super::context::RequestCtx;
use super::errors::{iso8601, now_ms, ApiError};
use super::limits::JsonBody;
use super::paths::{ProjectPath, PublicUserPath};
use super::response::Answer;
use super::state::AppState;
use super::validate;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

/// Upserts the transcript of `(projectID, sessionID)` and answers the stored document.
pub async fn upsert_transcript(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let agent = resolve_public(&data, &req, &ctx, &path.project_id, true)?;
    let (session_id, fields) = validate::transcript(&body.0)?;
    ctx.record_user(&session_id);
    let now = iso8601(now_ms());
    let doc = data
        .store
        .upsert_transcript(&agent.version.project_id, &session_id, fields, &now)
        .await?;
    Answer::json(&doc)
}

/// Records `{name, …}` feedback and answers `{}`.
pub async fn feedback(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<PublicUserPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let (user_id, agent) = resolve_public_user(&data, &req, &ctx, path.into_inner(), false)?;
    let fields = validate::feedback(&body.0)?;
    let doc = json!({
        "projectID": agent.version.project_id,
        "versionID": agent.version.id,
        "userID": user_id,
        "createdAt": iso8601(now_ms()),
        "feedback": Value::Object(fields),
    });
    data.store
        .add_feedback(&agent.version.project_id, doc)
        .await?;
    Ok(Answer::Json(b"{}".to_vec()))
}
