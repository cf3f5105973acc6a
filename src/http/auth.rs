//! The resolution of a request to one loaded project version (`spec/dm-api.md` §1.2:
//! rateLimit.verify, resolveVersionAlias, attachProjectID, unifyVersionID,
//! resolvePublicProjectID), with the API keys of [`super::keys`].

use super::context::RequestCtx;
use super::errors::ApiError;
use super::paths::{PublicUserPath, UserPath};
use super::state::AppState;
use crate::engine::Agent;
use crate::model::Project;
use crate::projects::{Alias, ProjectEntry};
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use std::sync::Arc;

pub use super::keys::{Keys, KeysError};

fn record_project(ctx: &RequestCtx, project: &Project) {
    ctx.record_project(&project.version.project_id, &project.version.id);
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

const MISSING_VERSION: &str = "Missing versionID in request";
const ALIAS_NEEDS_KEY: &str = "Cannot resolve version alias";
const INVALID_KEY: &str = "Invalid API key";
const KEY_PROJECT_UNKNOWN: &str =
    "Cannot resolve project version, please verify that your API key is correct.";

/// Resolves the version of an API-key route (state, interact, stateless). `path_version` is the
/// `{versionID}` of legacy routes; it overrides the `versionID` header.
pub fn resolve_version(
    state: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    path_version: Option<&str>,
) -> Result<Arc<Agent>, ApiError> {
    let registry = state.agents.registry();
    let keys = &state.keys;
    let auth = header(req, "authorization");
    let keys_on = !keys.is_empty();
    // rateLimit.verify: with keys configured a request needs an Authorization header.
    if keys_on && auth.is_none() {
        return Err(ApiError::object(
            StatusCode::UNAUTHORIZED,
            "Auth Key Required",
        ));
    }
    let key_project = auth.and_then(|a| keys.lookup(a));
    // Only the bare `VF.DM.` form counts as a DM key for aliases (reference quirk).
    let is_dm = auth.map(|a| a.starts_with("VF.DM.")).unwrap_or(false);
    let version = path_version
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| header(req, "versionid"));

    let alias = match version {
        None if is_dm => Some(Alias::Development),
        None => return Err(ApiError::bad_request_verror(MISSING_VERSION)),
        Some(v) => Alias::parse(v),
    };
    let project = match (alias, version) {
        (Some(alias), _) => {
            let entry: &ProjectEntry = if !is_dm {
                // Without a key an alias names no project — unless the open server has only one.
                match registry.single_project() {
                    Some(e) if !keys_on => e,
                    _ => return Err(ApiError::bad_request_verror(ALIAS_NEEDS_KEY)),
                }
            } else {
                let found = if keys_on {
                    key_project.and_then(|p| registry.project(p)).map(|e| &**e)
                } else {
                    registry.single_project()
                };
                found.ok_or_else(|| ApiError::bad_request_verror(KEY_PROJECT_UNKNOWN))?
            };
            entry
                .alias(alias)
                .map_err(|e| ApiError::bad_request_verror(e.to_string()))?
                .clone()
        }
        (None, Some(id)) => {
            // Check the key before saying whether a version exists.
            if keys_on && key_project.is_none() {
                return Err(ApiError::object(StatusCode::UNAUTHORIZED, INVALID_KEY));
            }
            registry.resolve_id(id).cloned().ok_or_else(|| {
                ApiError::bad_request_verror(format!(
                    "Could not resolve project with version ID {id}"
                ))
            })?
        }
        (None, None) => return Err(ApiError::bad_request_verror(MISSING_VERSION)),
    };
    if keys_on {
        match key_project {
            None => return Err(ApiError::object(StatusCode::UNAUTHORIZED, INVALID_KEY)),
            Some(p) if p != project.version.project_id => {
                return Err(ApiError::object(
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "API key is not valid for project {}",
                        project.version.project_id
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    record_project(ctx, &project);
    Ok(project)
}

/// Resolves a public route's project (`resolvePublicProjectID`): the project must be loaded and
/// have `apiPrivacy: "public"`. The version comes from the `versionID` header: `production` →
/// `liveVersion`, `development` or absent → `devVersion`, else that version of the project.
pub fn resolve_public(
    state: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    project_id: &str,
    check_origin: bool,
) -> Result<Arc<Agent>, ApiError> {
    let entry = public_entry(state, req, project_id, check_origin)?;
    let project = match header(req, "versionid") {
        None | Some("development") => entry.alias(Alias::Development),
        Some("production") => entry.alias(Alias::Production),
        Some(v) => entry
            .version(v)
            .ok_or_else(|| crate::projects::AliasError::VersionNotLoaded(v.to_string())),
    }
    .map_err(|e| ApiError::bad_request_verror(e.to_string()))?
    .clone();
    record_project(ctx, &project);
    Ok(project)
}

/// The public-origin check (403) and the project of a public route (loaded and `apiPrivacy:
/// "public"`, else 401), without choosing a version.
pub fn public_entry(
    state: &AppState,
    req: &HttpRequest,
    project_id: &str,
    check_origin: bool,
) -> Result<Arc<ProjectEntry>, ApiError> {
    public_lookup(state, req, project_id, check_origin, false)
}

/// [`public_entry`] after a 404 VError `Project <id> not found` for a project that is not
/// loaded (the widget and chat routes).
pub fn loaded_public_entry(
    state: &AppState,
    req: &HttpRequest,
    project_id: &str,
    check_origin: bool,
) -> Result<Arc<ProjectEntry>, ApiError> {
    public_lookup(state, req, project_id, check_origin, true)
}

/// The project looked up once: 404 first when `missing_is_404` and it is not loaded, then the
/// origin (403), then 401 unless it is loaded and public.
fn public_lookup(
    state: &AppState,
    req: &HttpRequest,
    project_id: &str,
    check_origin: bool,
    missing_is_404: bool,
) -> Result<Arc<ProjectEntry>, ApiError> {
    let entry = state.agents.registry().project(project_id).cloned();
    if missing_is_404 && entry.is_none() {
        return Err(ApiError::verror(
            StatusCode::NOT_FOUND,
            format!("Project {project_id} not found"),
        ));
    }
    if check_origin && !state.origin_allowed(header(req, "origin").unwrap_or("")) {
        return Err(ApiError::Text {
            status: StatusCode::FORBIDDEN,
            message: "Forbidden: Invalid Origin".into(),
        });
    }
    entry
        .filter(|e| e.is_public())
        .ok_or_else(|| ApiError::verror(StatusCode::UNAUTHORIZED, "no access to project"))
}

/// Records a resolved version for the request's logs.
pub fn record(ctx: &RequestCtx, project: &Project) {
    record_project(ctx, project);
}

/// A state route's user and agent: the user is recorded for the request's logs first (so a
/// version that does not resolve is logged with it), then the version is resolved.
pub fn resolve_user(
    state: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    path: UserPath,
) -> Result<(String, Arc<Agent>), ApiError> {
    ctx.record_user(&path.user_id);
    let agent = resolve_version(state, req, ctx, path.version_id.as_deref())?;
    Ok((path.user_id, agent))
}

/// A public user route's user and agent, recorded and resolved like [`resolve_user`].
pub fn resolve_public_user(
    state: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    path: PublicUserPath,
    check_origin: bool,
) -> Result<(String, Arc<Agent>), ApiError> {
    ctx.record_user(&path.user_id);
    let agent = resolve_public(state, req, ctx, &path.project_id, check_origin)?;
    Ok((path.user_id, agent))
}

/// A loaded project: 404 `Project <id> is not loaded` otherwise.
pub fn loaded_project(state: &AppState, project_id: &str) -> Result<Arc<ProjectEntry>, ApiError> {
    state
        .agents
        .registry()
        .project(project_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::verror(
                StatusCode::NOT_FOUND,
                format!("Project {project_id} is not loaded"),
            )
        })
}

/// The agent `environment` (an alias or a version id) names in `entry`: 404 `<noun>
/// <environment> of project <id> is not loaded` for a name with no loaded version, else 404 with
/// the alias error.
pub fn agent_of(
    entry: &ProjectEntry,
    project_id: &str,
    environment: &str,
    noun: &str,
) -> Result<Arc<Agent>, ApiError> {
    entry
        .environment(environment)
        .cloned()
        .map_err(|e| match e {
            crate::projects::AliasError::VersionNotLoaded(_) => ApiError::verror(
                StatusCode::NOT_FOUND,
                format!("{noun} {environment} of project {project_id} is not loaded"),
            ),
            e => ApiError::verror(StatusCode::NOT_FOUND, e.to_string()),
        })
}

/// Resolves the version of a project route whose path names both (`/nlu/project/{projectID}/
/// version/{versionID}/…`): with keys configured the request needs a key of that project (401
/// before anything about the project is said); the project must be loaded and `versionID` must
/// be one of its loaded versions or an alias of it (`development` / `production`), else 404.
pub fn resolve_project_version(
    state: &AppState,
    req: &HttpRequest,
    ctx: &RequestCtx,
    project_id: &str,
    version_id: &str,
) -> Result<Arc<Agent>, ApiError> {
    let keys = &state.keys;
    if !keys.is_empty() {
        let auth = header(req, "authorization")
            .ok_or_else(|| ApiError::object(StatusCode::UNAUTHORIZED, "Auth Key Required"))?;
        match keys.lookup(auth) {
            None => return Err(ApiError::object(StatusCode::UNAUTHORIZED, INVALID_KEY)),
            Some(p) if p != project_id => {
                return Err(ApiError::object(
                    StatusCode::UNAUTHORIZED,
                    format!("API key is not valid for project {project_id}"),
                ))
            }
            Some(_) => {}
        }
    }
    let entry = loaded_project(state, project_id)?;
    let agent = agent_of(&entry, project_id, version_id, "Version")?;
    record_project(ctx, &agent);
    Ok(agent)
}
