//! The v4 session API (`docs/clients.md` § "The v4 session API"): `POST /v4/project/{projectID}
//! [/environment/{environmentID}]/session` starts a session and answers a session key;
//! `POST /v4/interact` runs one turn of that session, authorised by the key alone.
//!
//! A session key names its project, environment and user (hex, readable by the server alone)
//! and carries 256 random bits; the store keeps only the SHA-256 of the whole key, in a record
//! beside the user's session ([`key_record`]), so a leaked store gives no key. Starting a new
//! session for the same user resets the state and replaces the hash: the previous key stops
//! working.

use super::auth::resolve_project_version;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::JsonBody;
use super::response::{json_bytes, Answer};
use super::session::write_session_keyed;
use super::state::AppState;
use super::turn::{session_key, session_turn};
use super::validate::{self, TurnRoute};
use crate::engine::{session, Agent, State};
use crate::store::SessionKey;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::future::ready;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Where the key record keeps the key's hash.
pub const STORAGE_KEY: &str = "flowdm:v4session";
/// Where the replay record keeps the last socket turn's traces.
const REPLAY_STORAGE_KEY: &str = "flowdm:v4replay";
const PREFIX: &str = "vf4";
const INVALID_KEY: &str = "Invalid session key";
/// The body keys of `POST /v4/interact`.
const TURN_KEYS: &[&str] = &["action", "variables", "config", "state"];

/// `{projectID}` and the optional `{environmentID}` of the session routes.
#[derive(Debug, Deserialize)]
pub struct SessionPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
    #[serde(rename = "environmentID", default)]
    pub environment_id: Option<String>,
}

fn unhex(s: &str) -> Option<String> {
    String::from_utf8(hex::decode(s).ok()?).ok()
}

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A session key's parts: project, environment, user.
struct Parsed {
    project_id: String,
    environment: String,
    user_id: String,
}

fn parse_key(key: &str) -> Option<Parsed> {
    let mut parts = key.split('.');
    if parts.next()? != PREFIX {
        return None;
    }
    let project_id = unhex(parts.next()?)?;
    let environment = unhex(parts.next()?)?;
    let user_id = unhex(parts.next()?)?;
    let secret = parts.next()?;
    if secret.len() != 64 || parts.next().is_some() {
        return None;
    }
    Some(Parsed {
        project_id,
        environment,
        user_id,
    })
}

fn new_key(project_id: &str, environment: &str, user_id: &str) -> String {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    format!(
        "{PREFIX}.{}.{}.{}.{}",
        hex::encode(project_id.as_bytes()),
        hex::encode(environment.as_bytes()),
        hex::encode(user_id.as_bytes()),
        hex::encode(secret)
    )
}

fn user_id_of(body: &Value) -> Result<String, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::validation("body", "must be an object"))?;
    match obj.get("userID") {
        Some(Value::String(u)) if !u.is_empty() && u.chars().count() <= 256 => Ok(u.clone()),
        _ => Err(ApiError::validation(
            "userID",
            "must be a string of 1 to 256 characters",
        )),
    }
}

/// `POST /v4/project/{projectID}/session` (the `production` environment: flowdm has no traffic
/// split) and `POST /v4/project/{projectID}/environment/{environmentID}/session`: a new session
/// for `userID` (any previous one of that user in the project ends), answered `{sessionKey}`.
pub async fn start_session(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<SessionPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let path = path.into_inner();
    let environment = path.environment_id.as_deref().unwrap_or("production");
    let agent = resolve_project_version(&data, &req, &ctx, &path.project_id, environment)?;
    let user_id = user_id_of(&body.0)?;
    ctx.record_user(&user_id);
    let key = new_session(&data, &agent, environment, &user_id).await?;
    Ok(Answer::Json(json_bytes(&json!({ "sessionKey": key }))?))
}

/// Starts a new session of `user_id` on `agent` (the conversation starts over) and gives its
/// key; the key record then holds the new key's hash, so the previous key stops working.
pub(crate) async fn new_session(
    data: &AppState,
    agent: &Arc<Agent>,
    environment: &str,
    user_id: &str,
) -> Result<String, ApiError> {
    let project_id = agent.version.project_id.as_str();
    let key = new_key(project_id, environment, user_id);
    let fresh = session::generate(agent, None, None);
    write_session_keyed(data, None, &session_key(agent, user_id), |_| {
        ready(Ok((Some(fresh), Vec::new(), false)))
    })
    .await?;
    let mut record = State::default();
    record.storage.insert(
        STORAGE_KEY.to_string(),
        json!({ "hash": key_hash(&key), "environment": environment }),
    );
    write_session_keyed(data, None, &key_record(project_id, user_id), |_| {
        ready(Ok((Some(record), Vec::new(), false)))
    })
    .await?;
    Ok(key)
}

/// Ends `user_id`'s session of the project: its key stops working (the state stays, as after
/// any last turn), and the traces kept for a replay go.
pub(crate) async fn end_session(
    data: &AppState,
    project_id: &str,
    user_id: &str,
) -> Result<(), ApiError> {
    // The replay first: a failure leaves the key working (and the end to retry).
    for record in [
        replay_record(project_id, user_id),
        key_record(project_id, user_id),
    ] {
        write_session_keyed(data, None, &record, |_| {
            ready(Ok((None, Vec::new(), false)))
        })
        .await?;
    }
    Ok(())
}

/// Whether `key` is the current session key of `user_id` in the project (its hash compared in
/// constant time with the stored one).
pub(crate) async fn key_is_current(
    data: &AppState,
    project_id: &str,
    user_id: &str,
    key: &str,
) -> Result<bool, ApiError> {
    Ok(current_record(data, project_id, user_id, key)
        .await?
        .is_some())
}

/// The key record of `user_id`'s session (`{hash, environment}`) when `key` is its current
/// key.
pub(crate) async fn current_record(
    data: &AppState,
    project_id: &str,
    user_id: &str,
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(parsed) = parse_key(key) else {
        return Ok(None);
    };
    if parsed.project_id != project_id || parsed.user_id != user_id {
        return Ok(None);
    }
    stored_record(data, project_id, user_id, key).await
}

/// The key record of `user_id`'s session when its hash is that of `key` (compared in constant
/// time); the caller parsed `key` and checked that it names this project and user.
async fn stored_record(
    data: &AppState,
    project_id: &str,
    user_id: &str,
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let stored = data.store.get(&key_record(project_id, user_id)).await?;
    let record = stored.and_then(|mut s| s.storage.remove(STORAGE_KEY));
    let hash = record
        .as_ref()
        .and_then(|v| v.get("hash"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let current = bool::from(key_hash(key).as_bytes().ct_eq(hash.as_bytes()));
    Ok(record.filter(|_| current))
}

/// Keeps the traces of a turn made with `key` in the session's replay record (`{hash, at,
/// traces}`, `at` in milliseconds since the epoch), replacing the previous turn's: the socket
/// replays them to a client that reconnects with that key having received less
/// (`crate::socket::protocol`).
pub(crate) async fn remember_turn(
    data: &AppState,
    project_id: &str,
    user_id: &str,
    key: &str,
    at: u64,
    traces: Value,
) -> Result<(), ApiError> {
    let mut record = State::default();
    record.storage.insert(
        REPLAY_STORAGE_KEY.to_string(),
        json!({ "hash": key_hash(key), "at": at, "traces": traces }),
    );
    write_session_keyed(data, None, &replay_record(project_id, user_id), |_| {
        ready(Ok((Some(record), Vec::new(), false)))
    })
    .await?;
    Ok(())
}

/// The replay record ([`remember_turn`]) of `user_id`'s session when its last turn was made
/// with `key` (the caller checked that `key` is current: a new or ended key has none).
pub(crate) async fn last_turn(
    data: &AppState,
    project_id: &str,
    user_id: &str,
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let stored = data.store.get(&replay_record(project_id, user_id)).await?;
    let record = stored.and_then(|mut s| s.storage.remove(REPLAY_STORAGE_KEY));
    let hash = key_hash(key);
    Ok(record.filter(|r| r.get("hash").and_then(Value::as_str) == Some(hash.as_str())))
}

/// Where the traces of a user's last socket turn are kept, apart from the key record (read on
/// every turn), for a replay.
fn replay_record(project_id: &str, user_id: &str) -> SessionKey {
    SessionKey::new(format!("v4replay:{project_id}"), user_id)
}

/// Where a user's current session key (its hash) is kept: a record of its own beside the
/// session, so a `launch` (which starts the state over) or a `PUT /state` keeps the key.
fn key_record(project_id: &str, user_id: &str) -> SessionKey {
    SessionKey::new(format!("v4session:{project_id}"), user_id)
}

/// The session a key names, checked against the stored hash: its user and agent, else 401.
async fn authorise(
    data: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
) -> Result<(String, Arc<Agent>), ApiError> {
    let unauthorised = || ApiError::object(StatusCode::UNAUTHORIZED, INVALID_KEY);
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(unauthorised)?;
    let parsed = parse_key(key).ok_or_else(unauthorised)?;
    let entry = data
        .agents
        .registry()
        .project(&parsed.project_id)
        .cloned()
        .ok_or_else(unauthorised)?;
    let agent = entry
        .environment(&parsed.environment)
        .map_err(|_| unauthorised())?
        .clone();
    let stored = stored_record(data, &parsed.project_id, &parsed.user_id, key).await?;
    if stored.is_none() {
        return Err(unauthorised());
    }
    ctx.record_user(&parsed.user_id);
    super::auth::record(ctx, &agent);
    Ok((parsed.user_id, agent))
}

/// The v4 body `{action, variables?, config?}` as the stateful route's body (`variables`
/// become `state.variables`); a client `state` is not taken (the server keeps the session).
fn turn_body(body: &Value) -> Result<validate::TurnBody, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::validation("body", "must be an object"))?;
    if let Some(k) = obj.keys().find(|k| !TURN_KEYS.contains(&k.as_str())) {
        return Err(ApiError::validation(k.as_str(), "is not allowed"));
    }
    if !obj.get("action").is_some_and(Value::is_object) {
        return Err(ApiError::validation("action", "must be an object"));
    }
    let mut classic = Map::new();
    for k in ["action", "config"] {
        if let Some(v) = obj.get(k) {
            classic.insert(k.to_string(), v.clone());
        }
    }
    if let Some(vars) = obj.get("variables") {
        classic.insert("state".into(), json!({ "variables": vars }));
    }
    validate::turn_body(&Value::Object(classic), TurnRoute::Stateful)
}

/// `POST /v4/interact`: one turn of the key's session (400 for a bad body, then 401 for a
/// missing or wrong key); answers the array of traces.
pub async fn interact(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    // The body first (it says nothing about any session), then the key.
    let body = turn_body(&body.0)?;
    let (user_id, agent) = authorise(&data, &req, &ctx).await?;
    session_turn(&data, &ctx, &agent, &user_id, body, |out| {
        json_bytes(&out.trace)
    })
    .await
}

/// `POST /v4/interact/stream`: the turn of [`interact`] streamed as the `/v2` streaming route
/// streams it (`docs/streaming.md`; `completion_events` and `state` in the query; the key's
/// environment, not the query's). A bad body is 400 and a bad key 401, before any event.
pub async fn interact_stream(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    turn_body(&body.0)?;
    let query = super::stream::v2_query(&req)?;
    let (user_id, agent) = authorise(&data, &req, &ctx).await?;
    // The stream's body has no `state` (ignored here as on `/v4/interact`) and no `null`
    // variables (nothing to merge here as there).
    let mut body = body.0;
    if let Some(obj) = body.as_object_mut() {
        obj.remove("state");
        if obj.get("variables").is_some_and(Value::is_null) {
            obj.remove("variables");
        }
    }
    super::stream::v2_turn(data, ctx, agent, user_id, &body, &query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_reject_garbage() {
        let k = new_key("p1", "production", "user é");
        let p = parse_key(&k).unwrap();
        assert_eq!(
            (
                p.project_id.as_str(),
                p.environment.as_str(),
                p.user_id.as_str()
            ),
            ("p1", "production", "user é")
        );
        assert!(parse_key("vf4.zz.00.00.00").is_none());
        assert!(parse_key(&format!("{k}.x")).is_none());
        assert!(parse_key("VF.DM.abc").is_none());
    }
}
