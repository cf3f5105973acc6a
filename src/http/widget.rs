//! The routes of the newer web chat (`@voiceflow/sdk-runtime` 1.69.1 and the `widget-next`
//! bundle; docs/clients.md § Widget routes):
//!
//! - `GET /v2/public/{projectID}/settings/widget`: the widget settings ([`super::widget_settings`]);
//! - `POST /v2/public/{projectID}/widget/setup`: `{clientID, environmentID?, versionVariant?}` →
//!   `{settings, versionID, environmentID, versionVariant}`;
//! - `POST /transcripts/end/project/{projectID}/user/{userID}`: marks the session's transcript
//!   ended;
//! - `POST /v2/public/{projectID}/transcripts/download`: the session's transcript as a text file;
//! - `POST /v1alpha1/webchat-log/{projectID}`: the widget's client-side log sink: validated,
//!   logged at debug level without its contents, never stored.
//!
//! Feedback keeps its route (`POST /feedback/{projectID}/user/{userID}`, [`super::transcripts`]).
//! A project that is not loaded answers 404 (VError); one that is not public 401, like the
//! other public routes.

use super::auth::{loaded_public_entry, record};
use super::context::RequestCtx;
use super::errors::{iso8601, now_ms, ApiError};
use super::limits::JsonBody;
use super::paths::{ProjectPath, PublicUserPath};
use super::response::Answer;
use super::state::AppState;
use super::validate::must_be;
use super::widget_settings::widget_settings;
use crate::engine::Agent;
use crate::projects::{Alias, ProjectEntry};
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The largest log entry the sink accepts (bytes of its JSON).
pub const LOG_LIMIT: usize = 16 * 1024;

/// 404 for a project that is not loaded, then the public checks of the other public routes.
fn entry(
    data: &AppState,
    req: &HttpRequest,
    project_id: &str,
) -> Result<Arc<ProjectEntry>, ApiError> {
    loaded_public_entry(data, req, project_id, true)
}

/// A version named by an environment (`production`, `development`, or a loaded version id);
/// none: `versionVariant` `published` → production, else development.
fn version_of(
    entry: &ProjectEntry,
    environment: Option<&str>,
    published: bool,
) -> Result<Arc<Agent>, ApiError> {
    let found = match environment {
        Some(env) => entry.environment(env),
        None if published => entry.alias(Alias::Production),
        None => entry.alias(Alias::Development),
    };
    found
        .cloned()
        .map_err(|e| ApiError::bad_request_verror(e.to_string()))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `GET /v2/public/{projectID}/settings/widget` (version from the `versionID` header).
pub async fn settings(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
) -> Result<Answer, ApiError> {
    let entry = entry(&data, &req, &path.project_id)?;
    let agent = version_of(&entry, header(&req, "versionid"), false)?;
    record(&ctx, &agent);
    Answer::json(&widget_settings(&agent))
}

/// An optional string field of a body; `null` counts as absent when `nullable`.
fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    nullable: bool,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(must_be(key, "string", other)),
    }
}

/// A required, non-empty string field of a body.
fn required_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    match opt_str(obj, key, false)? {
        Some("") => Err(ApiError::validation(
            key,
            "must NOT have fewer than 1 characters",
        )),
        Some(s) => Ok(s),
        None => Err(ApiError::validation(
            key,
            format!("must have required property '{key}'"),
        )),
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::validation("body", "must be object"))
}

/// `POST /v2/public/{projectID}/widget/setup`.
pub async fn setup(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let entry = entry(&data, &req, &path.project_id)?;
    let obj = object(&body.0)?;
    required_str(obj, "clientID")?;
    let environment = opt_str(obj, "environmentID", true)?;
    let variant = match opt_str(obj, "versionVariant", true)? {
        None => None,
        Some(v @ ("draft" | "published")) => Some(v),
        Some(_) => {
            return Err(ApiError::validation(
                "versionVariant",
                "must be equal to one of the allowed values",
            ))
        }
    };
    let agent = version_of(&entry, environment, variant == Some("published"))?;
    record(&ctx, &agent);
    Answer::json(&json!({
        "settings": widget_settings(&agent),
        "versionID": agent.version.id,
        "environmentID": environment,
        "versionVariant": variant,
    }))
}

/// `POST /transcripts/end/project/{projectID}/user/{userID}`: sets `endedAt` on the
/// transcript of `(projectID, userID)` (created if the widget never posted one); answers `{}`.
pub async fn end_transcript(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<PublicUserPath>,
) -> Result<Answer, ApiError> {
    let path = path.into_inner();
    ctx.record_user(&path.user_id);
    let entry = entry(&data, &req, &path.project_id)?;
    let now = iso8601(now_ms());
    let mut fields = Map::new();
    fields.insert("endedAt".into(), now.clone().into());
    data.store
        .upsert_transcript(entry.id(), &path.user_id, fields, &now)
        .await?;
    Ok(Answer::Json(b"{}".to_vec()))
}

/// One line of the downloaded file per stored transcript field the widget shows.
fn transcript_text(
    project_name: &str,
    user_id: &str,
    doc: Option<&Value>,
    memory: Option<&Value>,
) -> String {
    let mut out = format!("Transcript\nAgent: {project_name}\nSession: {user_id}\n");
    if let Some(doc) = doc {
        for (label, key) in [
            ("Started", "createdAt"),
            ("Updated", "updatedAt"),
            ("Ended", "endedAt"),
            ("Device", "device"),
            ("Browser", "browser"),
            ("OS", "os"),
        ] {
            if let Some(v) = doc.get(key).and_then(Value::as_str) {
                out.push_str(&format!("{label}: {v}\n"));
            }
        }
    }
    // The messages the session remembers (its AI memory `_memory_`: the last turns, each
    // message cut to its last characters); flowdm keeps no other log of them.
    let messages = memory.and_then(Value::as_array).filter(|m| !m.is_empty());
    match messages {
        Some(messages) => {
            out.push_str("\nMessages (the latest the session remembers):\n");
            for m in messages {
                let who = match m.get("role").and_then(Value::as_str) {
                    Some("user") => "User",
                    _ => "Agent",
                };
                let text = m.get("content").and_then(Value::as_str).unwrap_or("");
                out.push_str(&format!("{who}: {text}\n"));
            }
        }
        None => out.push_str("\n(No messages: the session has none to remember.)\n"),
    }
    out
}

/// `POST /v2/public/{projectID}/transcripts/download`: body `{userID, sessionKey?}`; a
/// `text/plain` attachment.
pub async fn download_transcript(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let entry = entry(&data, &req, &path.project_id)?;
    let obj = object(&body.0)?;
    let user_id = required_str(obj, "userID")?;
    opt_str(obj, "sessionKey", false)?;
    ctx.record_user(user_id);
    let docs = data.store.transcripts(entry.id()).await?;
    let doc = docs
        .iter()
        .find(|d| d.get("sessionID").and_then(Value::as_str) == Some(user_id));
    let session = data
        .store
        .get(&crate::store::SessionKey::new(entry.id(), user_id))
        .await?;
    let memory = session.as_ref().and_then(|s| s.variables.get("_memory_"));
    let text = transcript_text(&entry.info.name, user_id, doc, memory);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "transcript-{}.txt",
                entry.id()
            ))],
        })
        .body(text))
}

/// A short, log-safe rendering of a label field (`source`, `version`): ASCII letters, digits
/// and `.-_/` only, at most 40 characters.
fn label(obj: &Map<String, Value>, key: &str) -> String {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-_/".contains(*c))
        .take(40)
        .collect()
}

/// `POST /v1alpha1/webchat-log/{projectID}`: body `{source?, message?, version?,
/// additionalProperties?}` (at most [`LOG_LIMIT`] bytes); answers `{}` and stores nothing.
pub async fn webchat_log(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let entry = entry(&data, &req, &path.project_id)?;
    let obj = object(&body.0)?;
    for key in ["source", "message", "version"] {
        opt_str(obj, key, false)?;
    }
    if let Some(v) = obj.get("additionalProperties").filter(|v| !v.is_object()) {
        return Err(must_be("additionalProperties", "object", v));
    }
    let size = serde_json::to_vec(&body.0).map(|b| b.len()).unwrap_or(0);
    if size > LOG_LIMIT {
        return Err(ApiError::too_large());
    }
    // Never the message, the error or anything from `additionalProperties` (user agent, host
    // name, stack traces): only labels and sizes.
    tracing::debug!(
        project = %entry.id(),
        source = %label(obj, "source"),
        version = %label(obj, "version"),
        bytes = size,
        "webchat log entry (not stored)"
    );
    Ok(Answer::Json(b"{}".to_vec()))
}
