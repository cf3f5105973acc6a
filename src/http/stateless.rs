//! The stateless DM API (`spec/dm-api.md` §1.4): the client sends and receives the whole state.
//! `POST /interact`, `POST /interact/{versionID}`, `GET /interact/state`,
//! `GET /interact/{versionID}/state`.

use super::auth::resolve_version;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::{interact_query, JsonBody};
use super::paths::VersionPath;
use super::response::Answer;
use super::state::AppState;
use super::turn::{nlu_hint, run_engine};
use super::validate::{self, TurnRoute};
use crate::engine::{session, Request, State, Trace, TurnInput};
use actix_web::{web, HttpRequest};
use serde::Serialize;

#[derive(Serialize)]
struct StatelessAnswer<'a> {
    request: Option<&'a Request>,
    state: &'a State,
    trace: &'a [Trace],
}

/// `POST /interact[/{versionID}]`: `{state?, action?|request?, config?}` → `{request, state, trace}`.
/// An absent state or an empty stack starts a new session (keeping the given variables).
pub async fn interact(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<VersionPath>,
    body: JsonBody,
) -> Result<Answer, ApiError> {
    let agent = resolve_version(&data, &req, &ctx, path.version_id.as_deref())?;
    let query = interact_query(&req)?;
    // The client's state, request and config; read again from the body for a retry on the
    // blocking pool (see `turn::run_engine`).
    let input = || -> Result<TurnInput, ApiError> {
        let turn = validate::turn_body(&body.0, TurnRoute::Stateless)?;
        Ok(TurnInput {
            state: turn.state.unwrap_or_default(),
            request: turn.request,
            config: turn.config,
            user_id: None,
            logs: query.logs,
            nlu_hint: None,
            effects: Vec::new(),
            actions: None,
            library: None,
        })
    };
    let first = input()?;
    let hint = nlu_hint(&data, &agent, first.request.as_ref()).await;
    let with_hint = |input: TurnInput| TurnInput {
        nlu_hint: hint.clone(),
        ..input
    };
    let again = || async { input().map(with_hint) };
    let out = run_engine(&data, &ctx, &agent, with_hint(first), again).await?;
    Answer::json(&StatelessAnswer {
        request: out.request.as_ref(),
        state: &out.state,
        trace: &out.trace,
    })
}

/// `GET /interact[/{versionID}]/state`: the initial state of the version.
pub async fn initial_state(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<VersionPath>,
) -> Result<Answer, ApiError> {
    let agent = resolve_version(&data, &req, &ctx, path.version_id.as_deref())?;
    Answer::json(&session::generate(&agent, None, None))
}
