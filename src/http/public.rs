//! The public API used by the web widget (`spec/dm-api.md` §1.5): no API key, only for projects
//! whose `apiPrivacy` is `public`. `POST /public/{projectID}/state/user/{userID}/interact` and
//! `GET /public/{projectID}/publishing`.

use super::auth::{resolve_public, resolve_public_user};
use super::conditional::Tagged;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::JsonBody;
use super::paths::{ProjectPath, PublicUserPath};
use super::response::{json_bytes, Answer};
use super::state::AppState;
use super::turn::session_turn_tagged;
use super::validate::{self, TurnRoute};
use crate::engine::Trace;
use actix_web::{web, HttpRequest};
use serde::Serialize;

#[derive(Serialize)]
struct PublicAnswer<'a> {
    trace: &'a [Trace],
}

/// `POST /public/{projectID}/state/user/{userID}/interact`: body `{action?, config?}` only;
/// answers `{trace}` and the new session's `ETag`. `verbose` and `logs` are ignored.
pub async fn interact(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<PublicUserPath>,
    body: JsonBody,
) -> Result<Tagged, ApiError> {
    let (user_id, agent) = resolve_public_user(&data, &req, &ctx, path.into_inner(), true)?;
    let body = validate::turn_body(&body.0, TurnRoute::Public)?;
    session_turn_tagged(&data, &ctx, &agent, &user_id, body, true, |out| {
        json_bytes(&PublicAnswer { trace: &out.trace })
    })
    .await
}

/// `GET /public/{projectID}/publishing`: the version's `platformData.publishing`, or `{}`.
pub async fn publishing(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
) -> Result<Answer, ApiError> {
    let agent = resolve_public(&data, &req, &ctx, &path.project_id, true)?;
    let publishing = &agent.version.publishing;
    if publishing.is_object() {
        Answer::json(publishing)
    } else {
        Ok(Answer::Json(b"{}".to_vec()))
    }
}
