//! Resuming a client-handled stop (`docs/custom-actions.md` § "Resuming a stop"): the resume
//! token of a new stop, a client's resume naming a stop (applied once, every duplicate answered
//! the same bytes through an idempotency record keyed by the stop), and the server-to-server
//! resume `POST /state/{versionID}/user/{userID}/stops/{stopID}/resume`.
//!
//! The stop records themselves live in the session state (`engine::stops`), so they are read
//! and written under the session lock like every turn: two resumes of one stop, in one process
//! or in several sharing Redis, are applied one after the other and the second sees the first.

use super::context::{Fingerprint, RequestCtx};
use super::errors::ApiError;
use super::limits::JsonBody;
use super::response::{json_bytes, Answer};
use super::session::write_session_keyed;
use super::state::AppState;
use super::turn::{run_engine, session_key};
use super::validate;
use crate::engine::stops::{self, Named};
use crate::engine::{Config, State, TurnInput, TurnOutput};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The idempotency record of a client's resume naming `stop_id`: any resume of that stop on
/// the same route (method, path, query, `versionID`; the body does not count) is answered by
/// the first one's response.
pub fn record_key(ctx: &RequestCtx, stop_id: &str) -> (String, Fingerprint) {
    let mut fingerprint = ctx.route();
    fingerprint.mix(b"stop-resume");
    (format!("stop:{stop_id}"), fingerprint)
}

/// A new resume token: 256 bits from the operating system's generator, hex.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, hex (what the state keeps).
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` hashes to `stored`, compared in constant time.
fn token_matches(token: &str, stored: Option<&str>) -> bool {
    let Some(stored) = stored else { return false };
    token_hash(token).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Everything but RFC 3986's unreserved characters.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Gives the turn's new pending stop its server-to-server resume: a token (its hash in the
/// state) and `resume: {url, token}` in the stop's trace.
pub fn add_resume(out: &mut TurnOutput, version_id: &str, user_id: &str) {
    // Only a turn that made a stop has anything to add: no read of the session's stop records
    // (a parse of them) on every other turn.
    if out.trace.iter().all(|t| t.stop_id.is_none()) {
        return;
    }
    let mut st = stops::read(&out.state);
    let Some(pending) = st.pending.as_mut().filter(|p| p.token_hash.is_none()) else {
        return;
    };
    let Some(trace) = out
        .trace
        .iter_mut()
        .rev()
        .find(|t| t.stop_id.as_deref() == Some(pending.id.as_str()))
    else {
        return;
    };
    let token = new_token();
    pending.token_hash = Some(token_hash(&token));
    trace.resume = Some(json!({
        "url": format!("/state/{}/user/{}/stops/{}/resume", segment(version_id), segment(user_id), segment(&pending.id)),
        "token": token,
    }));
    stops::put(&mut out.state, &st);
}

/// What a client's resume naming `stop_id` does to the stored session: `Ok(true)` run the turn
/// (the stop is pending), `Ok(false)` answer what is waiting (it was resumed already), 409 when
/// the session has no such stop.
pub fn client_resume(stored: Option<&State>, stop_id: &str) -> Result<bool, ApiError> {
    match stored.map(|s| stops::check(s, stop_id)) {
        Some(Named::Pending) => Ok(true),
        Some(Named::Resumed(_)) => Ok(false),
        Some(Named::Unknown) | None => Err(ApiError::object(
            StatusCode::CONFLICT,
            format!("stop {stop_id} is not the stop this session waits on and was not resumed; nothing was changed"),
        )),
    }
}

/// The answer to a resume of a stop resumed already: the traces waiting for the client (a
/// server-to-server resume's), taken out of the state.
pub fn deliver(mut state: State, request: Option<crate::engine::Request>) -> TurnOutput {
    let mut st = stops::take(&mut state);
    let trace = std::mem::take(&mut st.traces);
    stops::put(&mut state, &st);
    TurnOutput {
        state,
        trace,
        request,
        effect: None,
        actions: Vec::new(),
    }
}

/// `{versionID}`, `{userID}`, `{stopID}`.
#[derive(Debug, Deserialize)]
pub struct StopPath {
    #[serde(rename = "versionID")]
    pub version_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "stopID")]
    pub stop_id: String,
}

/// The answer of a server-to-server resume (the same for every duplicate).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resumed<'a> {
    status: &'static str,
    #[serde(rename = "stopID")]
    stop_id: &'a str,
    event: Option<&'a str>,
    by: &'a str,
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let v = req.headers().get("authorization")?.to_str().ok()?.trim();
    let token = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(token.trim()).filter(|t| !t.is_empty())
}

/// `POST /state/{versionID}/user/{userID}/stops/{stopID}/resume`, authorised by the stop's token
/// (`Authorization: Bearer <token>`), body `{type, payload?}`: resumes the stop on that event
/// under the session lock; the turn's traces wait in the state for the client's next request.
/// Answers `{status: "resumed", stopID, event, by}`; a duplicate (or a resume of a stop resumed
/// otherwise) answers the same from the stop's record without running anything.
pub async fn resume(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<StopPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let StopPath {
        version_id,
        user_id,
        stop_id,
    } = path.into_inner();
    ctx.record_user(&user_id);
    let token = bearer(&req)
        .ok_or_else(|| {
            ApiError::object(
                StatusCode::UNAUTHORIZED,
                "a stop's resume needs Authorization: Bearer <the stop's resume token>",
            )
        })?
        .to_string();
    let agent = data
        .agents
        .registry()
        .resolve_id(&version_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::object(
                StatusCode::NOT_FOUND,
                format!("version {version_id} is not loaded"),
            )
        })?;
    ctx.record_project(&agent.version.project_id, &agent.version.id);
    let request = resume_request(&body.0, &stop_id)?;
    let key = session_key(&agent, &user_id);
    let (stop_id, user_id, key_ref) = (stop_id.as_str(), user_id.as_str(), &key);
    let forbidden = || ApiError::object(StatusCode::FORBIDDEN, "wrong resume token for this stop");
    let not_found = || {
        ApiError::object(
            StatusCode::NOT_FOUND,
            format!("no stop {stop_id} on this session"),
        )
    };
    let answer = |state: &State| -> Result<Vec<u8>, ApiError> {
        let st = stops::read(state);
        let r = st.find_resumed(stop_id).ok_or_else(not_found)?;
        json_bytes(&Resumed {
            status: "resumed",
            stop_id,
            event: r.event.as_deref(),
            by: &r.by,
        })
    };
    let (data_ref, ctx_ref, agent_ref) = (&data, &ctx, &agent);
    write_session_keyed(&data, None, &key, |stored| async move {
        let stored = stored.ok_or_else(not_found)?;
        let st = stops::read(&stored);
        match stops::check(&stored, stop_id) {
            Named::Unknown => return Err(not_found()),
            Named::Resumed(r) => {
                if !token_matches(&token, r.token_hash.as_deref()) {
                    return Err(forbidden());
                }
                let bytes = answer(&stored)?;
                return Ok((Some(stored), bytes, false));
            }
            Named::Pending => {
                let hash = st.pending.as_ref().and_then(|p| p.token_hash.as_deref());
                if !token_matches(&token, hash) {
                    return Err(forbidden());
                }
            }
        }
        let input = |state: State| TurnInput {
            state,
            request: Some(request.clone()),
            config: Config::default(),
            user_id: Some(user_id.to_string()),
            logs: Default::default(),
            nlu_hint: None,
            effects: Vec::new(),
            actions: None,
            library: None,
        };
        let again = || async {
            Ok(input(
                data_ref.store.get(key_ref).await?.unwrap_or_default(),
            ))
        };
        let mut out = run_engine(data_ref, ctx_ref, agent_ref, input(stored), again).await?;
        add_resume(&mut out, &agent_ref.version.id, user_id);
        // The client sees the continuation on its next request (the engine put what was
        // waiting before first in this turn's traces).
        let mut st = stops::take(&mut out.state);
        st.traces = std::mem::take(&mut out.trace);
        if let Some(r) = st.resumed.iter_mut().rev().find(|r| r.id == stop_id) {
            if r.by == "request" {
                r.by = "server".into();
            }
        }
        stops::put(&mut out.state, &st);
        if stops::check(&out.state, stop_id) == Named::Pending {
            return Err(ApiError::object(
                StatusCode::CONFLICT,
                format!("stop {stop_id} did not resume on this event; nothing was changed"),
            ));
        }
        let bytes = answer(&out.state)?;
        Ok((Some(out.state), bytes, false))
    })
    .await
}

/// The body `{type, payload?}` as the turn's request, naming the stop (`payload.stopID`) so a
/// deadline that resumed it first answers it.
fn resume_request(body: &Value, stop_id: &str) -> Result<crate::engine::Request, ApiError> {
    if let Some(obj) = body.as_object() {
        if let Some(k) = obj.keys().find(|k| *k != "type" && *k != "payload") {
            return Err(ApiError::validation(
                "body",
                format!("must NOT have additional properties ('{k}')"),
            ));
        }
    }
    let mut request = validate::request("body", Some(body))?
        .ok_or_else(|| ApiError::validation("body", "must be object (got null)"))?;
    let mut payload = match request.payload() {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(other) => return Err(validate::must_be("body.payload", "object", other)),
    };
    payload.insert("stopID".into(), Value::String(stop_id.to_string()));
    request.set("payload", Value::Object(payload));
    Ok(request)
}
