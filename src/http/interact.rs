//! The stateful DM API (`spec/dm-api.md` §1.3): `POST /state/user/{userID}/interact` and the
//! state routes, plus their legacy `/state/{versionID}/user/{userID}/…` forms (same handlers; the
//! path's `versionID` overrides the header).
//!
//! Every read-modify-write of a session holds the session lock, so concurrent turns of one user
//! are applied one after the other and none is lost.

use super::auth::resolve_version;
pub(crate) use super::errors::record_user;
use super::errors::{request_fields, ApiError};
use super::limits::{interact_query, JsonBody};
use super::session::{begin_session, commit_session};
use super::validate::{self, TurnBody, TurnRoute};
use super::AppState;
use crate::engine::expr::MiniJs;
use crate::engine::state::merge_variables;
use crate::engine::Agent;
use crate::engine::{
    self, session, Env, Request, SeededRandom, State, SystemClock, Trace, TurnInput, TurnOutput,
};
use crate::model::Project;
use crate::store::SessionKey;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// `{userID}` and, on legacy routes, `{versionID}`.
#[derive(Debug, Deserialize)]
pub struct UserPath {
    #[serde(rename = "versionID", default)]
    pub version_id: Option<String>,
    #[serde(rename = "userID")]
    pub user_id: String,
}

thread_local! {
    /// Randomness for the engine (random steps, Slate ids), one generator per worker thread.
    static RNG: RefCell<SeededRandom> = RefCell::new(SeededRandom::from_entropy());
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs one engine turn. A panic inside the engine becomes a 500 (nothing is stored).
pub(crate) fn run_engine(project: &Agent, input: TurnInput) -> Result<TurnOutput, ApiError> {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        RNG.with(|rng| {
            let mut rng = rng.borrow_mut();
            let mut env = Env {
                clock: &SystemClock,
                rng: &mut *rng,
                sandbox: &MiniJs,
            };
            engine::interact(project, input, &mut env)
        })
    }));
    result.map_err(|p| {
        let (request_id, project, user) = request_fields();
        tracing::error!(%request_id, %project, %user, panic = %panic_message(p.as_ref()), "the engine panicked; the session is unchanged");
        ApiError::internal("internal error while running the turn")
    })
}

/// A stored state counts as missing when it is `{}`-like (nothing in it).
fn is_empty_state(s: &State) -> bool {
    s.stack.is_empty() && s.storage.is_empty() && s.variables.is_empty()
}

/// One turn on a stored session: lock, load (or reset), merge `state.variables`, run, render
/// the response, store. `render` sees the output before the state is moved into the store; its
/// bytes are the 200 answer (kept for an `Idempotency-Key` retry).
pub(crate) async fn session_turn(
    data: &AppState,
    project: &Arc<Agent>,
    user_id: &str,
    body: TurnBody,
    render: impl FnOnce(&TurnOutput) -> Result<Vec<u8>, ApiError>,
) -> Result<Vec<u8>, ApiError> {
    let key = session_key(project, user_id);
    let mut txn = begin_session(data, &key).await?;
    let mut state = match txn.state.take() {
        Some(s) if !is_empty_state(&s) => s,
        // No session yet: the reference resets first (§1.3 step 1).
        _ => session::generate(project, None, None),
    };
    if let Some(vars) = &body.variables {
        merge_variables(&mut state.variables, vars);
    }
    // On an error below, `txn` is dropped uncommitted: the stored state stays as it was.
    let out = run_engine(
        project,
        TurnInput {
            state,
            request: body.request,
            config: body.config,
            user_id: Some(user_id.to_string()),
            logs: body.logs,
        },
    )?;
    let rendered = render(&out)?;
    commit_session(data, txn, Some(out.state), &rendered).await?;
    Ok(rendered)
}

/// A JSON response from anything serialisable.
pub(crate) fn json_bytes<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(v)
        .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))
}

pub(crate) fn json_ok(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(bytes)
}

/// `?verbose` answer.
#[derive(Serialize)]
struct Verbose<'a> {
    state: &'a State,
    trace: &'a [Trace],
    request: Option<&'a Request>,
}

/// A state route's user and project: the user is recorded for the request's logs first (so a
/// version that does not resolve is logged with it), then the version is resolved.
fn user_project(
    data: &AppState,
    req: &HttpRequest,
    path: web::Path<UserPath>,
) -> Result<(String, Arc<Agent>), ApiError> {
    let path = path.into_inner();
    record_user(&path.user_id);
    let project = resolve_version(data, req, path.version_id.as_deref())?;
    Ok((path.user_id, project))
}

/// The key of the user's session in the project of [`user_project`].
fn user_session(
    data: &AppState,
    req: &HttpRequest,
    path: web::Path<UserPath>,
) -> Result<SessionKey, ApiError> {
    let (user_id, project) = user_project(data, req, path)?;
    Ok(session_key(&project, &user_id))
}

fn session_key(project: &Project, user_id: &str) -> SessionKey {
    SessionKey::new(project.version.project_id.as_str(), user_id)
}

/// `POST /state/user/{userID}/interact`, `POST /state/{versionID}/user/{userID}/interact`.
pub async fn interact(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (user_id, project) = user_project(&data, &req, path)?;
    let query = interact_query(&req)?;
    let mut body = validate::turn_body(&body.0, TurnRoute::Stateful)?;
    body.logs = query.logs;
    let bytes = session_turn(&data, &project, &user_id, body, |out| {
        if query.verbose {
            json_bytes(&Verbose {
                state: &out.state,
                trace: &out.trace,
                request: out.request.as_ref(),
            })
        } else {
            json_bytes(&out.trace)
        }
    })
    .await?;
    Ok(json_ok(bytes))
}

/// `GET /state/user/{userID}`: the stored state or `{}`.
pub async fn get_state(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let key = user_session(&data, &req, path)?;
    let bytes = match data.store.get(&key).await? {
        Some(state) => json_bytes(&state)?,
        None => b"{}".to_vec(),
    };
    Ok(json_ok(bytes))
}

/// `PUT /state/user/{userID}`: replaces the state; answers the body as sent.
pub async fn put_state(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = user_session(&data, &req, path)?;
    let state = validate::put_state(&body.0)?;
    let bytes = json_bytes(&body.0)?;
    let txn = begin_session(&data, &key).await?;
    commit_session(&data, txn, Some(state), &bytes).await?;
    Ok(json_ok(bytes))
}

/// `DELETE /state/user/{userID}`: 200 with an empty body.
pub async fn delete_state(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let key = user_session(&data, &req, path)?;
    let txn = begin_session(&data, &key).await?;
    commit_session(&data, txn, None, b"").await?;
    Ok(HttpResponse::Ok().finish())
}

/// `POST /state/user/{userID}` (reset): a fresh initial state, stored and returned.
pub async fn reset_state(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, project) = user_project(&data, &req, path)?;
    let state = session::generate(&project, None, None);
    let bytes = json_bytes(&state)?;
    let key = session_key(&project, &user_id);
    let txn = begin_session(&data, &key).await?;
    commit_session(&data, txn, Some(state), &bytes).await?;
    Ok(json_ok(bytes))
}

/// `PATCH /state/user/{userID}/variables`: shallow merge into the stored variables.
pub async fn patch_variables(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = user_session(&data, &req, path)?;
    let patch = validate::variables_patch(&body.0)?;
    let mut txn = begin_session(&data, &key).await?;
    let mut state = txn.state.take().unwrap_or_default();
    for (k, v) in patch {
        state.variables.insert(k, v);
    }
    let bytes = json_bytes(&state)?;
    commit_session(&data, txn, Some(state), &bytes).await?;
    Ok(json_ok(bytes))
}
