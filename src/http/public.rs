//! The public API used by the web widget (`spec/dm-api.md` §1.5): no API key, only for projects
//! whose `apiPrivacy` is `public`. `POST /public/{projectID}/state/user/{userID}/interact` and
//! `GET /public/{projectID}/publishing`.

use super::auth::resolve_public;
use super::errors::ApiError;
use super::interact::{json_bytes, json_ok, record_user, session_turn};
use super::limits::JsonBody;
use super::validate::{self, TurnRoute};
use super::AppState;
use crate::engine::Agent;
use crate::engine::Trace;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct PublicUserPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
}

#[derive(Debug, Deserialize)]
pub struct ProjectPath {
    #[serde(rename = "projectID")]
    pub project_id: String,
}

/// A public user route's user and project: the user is recorded for the request's logs first
/// (so a project that does not resolve is logged with it), then the project is resolved.
pub(crate) fn public_user_project(
    data: &AppState,
    req: &HttpRequest,
    path: web::Path<PublicUserPath>,
    check_origin: bool,
) -> Result<(String, Arc<Agent>), ApiError> {
    let path = path.into_inner();
    record_user(&path.user_id);
    let project = resolve_public(data, req, &path.project_id, check_origin)?;
    Ok((path.user_id, project))
}

#[derive(Serialize)]
struct PublicAnswer<'a> {
    trace: &'a [Trace],
}

/// `POST /public/{projectID}/state/user/{userID}/interact`: body `{action?, config?}` only;
/// answers `{trace}`. `verbose` and `logs` are ignored.
pub async fn interact(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<PublicUserPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (user_id, project) = public_user_project(&data, &req, path, true)?;
    let body = validate::turn_body(&body.0, TurnRoute::Public)?;
    let bytes = session_turn(&data, &project, &user_id, body, |out| {
        json_bytes(&PublicAnswer { trace: &out.trace })
    })
    .await?;
    Ok(json_ok(bytes))
}

/// `GET /public/{projectID}/publishing`: the version's `platformData.publishing`, or `{}`.
pub async fn publishing(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<ProjectPath>,
) -> Result<HttpResponse, ApiError> {
    let project = resolve_public(&data, &req, &path.project_id, true)?;
    let publishing = &project.version.publishing;
    let bytes = if publishing.is_object() {
        json_bytes(publishing)?
    } else {
        b"{}".to_vec()
    };
    Ok(json_ok(bytes))
}
