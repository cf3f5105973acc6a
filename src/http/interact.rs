//! The stateful DM API (`spec/dm-api.md` §1.3): `POST /state/user/{userID}/interact` and the
//! state routes, plus their legacy `/state/{versionID}/user/{userID}/…` forms (same handlers; the
//! path's `versionID` overrides the header).
//!
//! Every read-modify-write of a session holds the session lock, so concurrent turns of one user
//! are applied one after the other and none is lost.

use super::auth::resolve_user;
use super::conditional::{etag_of_bytes, Preconditions, Tagged};
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::{interact_query, JsonBody};
use super::paths::UserPath;
use super::response::{json_bytes, Answer};
use super::session::write_session_conditional;
use super::state::AppState;
use super::turn::{session_key, session_turn_tagged};
use super::validate::{self, TurnRoute};
use crate::engine::{session, Request, State, Trace};
use crate::store::SessionKey;
use actix_web::{web, HttpRequest};
use serde::Serialize;
use std::future::ready;

/// `?verbose` answer.
#[derive(Serialize)]
struct Verbose<'a> {
    state: &'a State,
    trace: &'a [Trace],
    request: Option<&'a Request>,
}

/// The key of the user's session in the resolved project.
fn user_session(
    data: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    path: web::Path<UserPath>,
) -> Result<SessionKey, ApiError> {
    let (user_id, agent) = resolve_user(data, req, ctx, path.into_inner())?;
    Ok(session_key(&agent, &user_id))
}

/// `POST /state/user/{userID}/interact`, `POST /state/{versionID}/user/{userID}/interact`;
/// answers the new session's `ETag`.
pub async fn interact(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<Tagged, ApiError> {
    let (user_id, agent) = resolve_user(&data, &req, &ctx, path.into_inner())?;
    let query = interact_query(&req)?;
    let mut body = validate::turn_body(&body.0, TurnRoute::Stateful)?;
    body.logs = query.logs;
    session_turn_tagged(&data, &ctx, &agent, &user_id, body, true, |out| {
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
    .await
}

/// `GET /state/user/{userID}`: the stored state (with its `ETag`) or `{}` (no tag).
pub async fn get_state(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<Tagged, ApiError> {
    let key = user_session(&data, &req, &ctx, path)?;
    match data.store.get(&key).await? {
        Some(state) => {
            let bytes = json_bytes(&state)?;
            Ok(Tagged {
                etag: Some(etag_of_bytes(&bytes)),
                answer: Answer::Json(bytes),
            })
        }
        None => Ok(Tagged::untagged(Answer::Json(b"{}".to_vec()))),
    }
}

/// `PUT /state/user/{userID}`: replaces the state; answers the body as sent. `If-Match`,
/// `If-None-Match: *` (create only) apply (`super::conditional`).
pub async fn put_state(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<Tagged, ApiError> {
    let key = user_session(&data, &req, &ctx, path)?;
    let state = validate::put_state(&body.0)?;
    let pre = Preconditions::read(&req)?;
    let bytes = json_bytes(&body.0)?;
    write_session_conditional(&data, &ctx, &key, &pre, |_| ready(Ok((Some(state), bytes)))).await
}

/// `DELETE /state/user/{userID}`: 200 with an empty body; `If-Match` applies.
pub async fn delete_state(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<Tagged, ApiError> {
    let key = user_session(&data, &req, &ctx, path)?;
    let pre = Preconditions::read(&req)?;
    write_session_conditional(&data, &ctx, &key, &pre, |_| ready(Ok((None, Vec::new())))).await
}

/// `POST /state/user/{userID}` (reset): a fresh initial state, stored and returned; `If-Match`
/// applies.
pub async fn reset_state(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
) -> Result<Tagged, ApiError> {
    let (user_id, agent) = resolve_user(&data, &req, &ctx, path.into_inner())?;
    let pre = Preconditions::read(&req)?;
    let state = session::generate(&agent, None, None);
    let bytes = json_bytes(&state)?;
    let key = session_key(&agent, &user_id);
    write_session_conditional(&data, &ctx, &key, &pre, |_| ready(Ok((Some(state), bytes)))).await
}

/// `PATCH /state/user/{userID}/variables`: shallow merge into the stored variables; `If-Match`
/// applies.
pub async fn patch_variables(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<UserPath>,
    body: JsonBody,
) -> Result<Tagged, ApiError> {
    let key = user_session(&data, &req, &ctx, path)?;
    let patch = validate::variables_patch(&body.0)?;
    let pre = Preconditions::read(&req)?;
    write_session_conditional(&data, &ctx, &key, &pre, |stored| {
        let mut state = stored.unwrap_or_default();
        for (k, v) in patch {
            state.variables.insert(k, v);
        }
        ready(json_bytes(&state).map(|bytes| (Some(state), bytes)))
    })
    .await
}
