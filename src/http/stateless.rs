//! The stateless DM API (`spec/dm-api.md` §1.4): the client sends and receives the whole state.
//! `POST /interact`, `POST /interact/{versionID}`, `GET /interact/state`,
//! `GET /interact/{versionID}/state`.

use super::auth::resolve_version;
use super::errors::ApiError;
use super::interact::{json_bytes, json_ok, run_engine};
use super::limits::{interact_query, JsonBody};
use super::validate::{self, TurnRoute};
use super::AppState;
use crate::engine::{session, Request, State, Trace, TurnInput};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// `{versionID}` of the legacy forms.
#[derive(Debug, Deserialize)]
pub struct VersionPath {
    #[serde(rename = "versionID", default)]
    pub version_id: Option<String>,
}

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
    data: web::Data<AppState>,
    path: web::Path<VersionPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let project = resolve_version(&data, &req, path.version_id.as_deref())?;
    let query = interact_query(&req)?;
    let body = validate::turn_body(&body.0, TurnRoute::Stateless)?;
    let out = run_engine(
        &project,
        TurnInput {
            state: body.state.unwrap_or_default(),
            request: body.request,
            config: body.config,
            user_id: None,
            logs: query.logs,
        },
    )?;
    let bytes = json_bytes(&StatelessAnswer {
        request: out.request.as_ref(),
        state: &out.state,
        trace: &out.trace,
    })?;
    Ok(json_ok(bytes))
}

/// `GET /interact[/{versionID}]/state`: the initial state of the version.
pub async fn initial_state(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, ApiError> {
    let project = resolve_version(&data, &req, path.version_id.as_deref())?;
    Ok(json_ok(json_bytes(&session::generate(
        &project, None, None,
    ))?))
}
