//! Transcripts and feedback (`spec/dm-api.md` §1.7), kept in the session store.
//! `POST /public/{projectID}/transcripts`, `POST /feedback/{projectID}/user/{userID}`.

use super::auth::resolve_public;
use super::errors::{iso8601, now_ms, ApiError};
use super::interact::{json_bytes, json_ok, record_user};
use super::limits::JsonBody;
use super::public::{public_user_project, ProjectPath, PublicUserPath};
use super::validate;
use super::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// Upserts the transcript of `(projectID, sessionID)` and answers the stored document.
pub async fn upsert_transcript(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let project = resolve_public(&data, &req, &path.project_id, true)?;
    let (session_id, fields) = validate::transcript(&body.0)?;
    record_user(&session_id);
    let now = iso8601(now_ms());
    let doc = data
        .store
        .upsert_transcript(&project.version.project_id, &session_id, fields, &now)
        .await?;
    Ok(json_ok(json_bytes(&doc)?))
}

/// Records `{name, …}` feedback and answers `{}`.
pub async fn feedback(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<PublicUserPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (user_id, project) = public_user_project(&data, &req, path, false)?;
    let fields = validate::feedback(&body.0)?;
    let doc = json!({
        "projectID": project.version.project_id,
        "versionID": project.version.id,
        "userID": user_id,
        "createdAt": iso8601(now_ms()),
        "feedback": Value::Object(fields),
    });
    data.store
        .add_feedback(&project.version.project_id, doc)
        .await?;
    Ok(json_ok(b"{}".to_vec()))
}
