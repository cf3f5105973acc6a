//! `/api/custom-actions`: the management API of the custom actions the server runs
//! (`docs/custom-actions.md` § Management API). Behind the admin key ([`manage::admin`]); every
//! answer in the management envelope. Records live in the registry store (kind `"actions"`);
//! actions declared in `--actions-dir` are listed and readable but read-only (409 `read_only`),
//! and no stored action may take a file action's id or its name in its scope. Every change
//! rebuilds the live snapshot, so the next turn uses it.

use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::JsonBody;
use super::manage::{self, admin, success, ManageError};
use super::session::write_session;
use super::state::AppState;
use super::turn::{turn_seed, with_engine};
use crate::action_registry::KIND;
use crate::engine::{run_action, ActionInput, ActionOutput, EffectResult, LogLevel};
use crate::store::SessionKey;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use flowdm_actions::perform::{EffectBudget, Performer};
use flowdm_model::ServerAction;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Instant;

type Body = Result<JsonBody, ApiError>;
type Answer = Result<HttpResponse, ManageError>;

const WHAT: &str = "custom action";

/// Fields a PATCH cannot set (the store and the server keep them).
const KEPT: [&str; 4] = ["version", "created_at", "updated_at", "source"];

#[derive(Debug, Deserialize)]
pub struct IdPath {
    id: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    project_id: Option<String>,
}

fn with_source(mut v: Value, source: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("source".into(), Value::String(source.into()));
    }
    v
}

/// A positive whole number (`3` or `3.0`).
fn positive(v: &Value) -> Option<u64> {
    const MAX: u64 = i32::MAX as u64;
    v.as_u64()
        .or_else(|| {
            let f = v.as_f64()?;
            // The range check keeps the cast exact.
            (f.fract() == 0.0 && f > 0.0 && f <= MAX as f64).then_some(f as u64)
        })
        .filter(|n| *n > 0 && *n <= MAX)
}

fn parse(doc: &Value) -> Result<ServerAction, ManageError> {
    ServerAction::parse(doc).map_err(|e| ManageError::invalid(e.field().to_string(), e.to_string()))
}

fn read_only(id: &str) -> ManageError {
    ManageError::new(
        StatusCode::CONFLICT,
        "read_only",
        format!("the custom action {id:?} is declared in --actions-dir: change its file instead"),
    )
}

/// A stored action may not take a file action's id, nor its name in the same scope.
fn against_files(data: &AppState, a: &ServerAction) -> Result<(), ManageError> {
    for f in data.actions.files() {
        if f.id == a.id {
            return Err(ManageError {
                field: Some("id".into()),
                ..ManageError::new(
                    StatusCode::CONFLICT,
                    "duplicate_id",
                    format!("the id {:?} belongs to an action of --actions-dir", a.id),
                )
            });
        }
        if f.name == a.name && f.project_id == a.project_id {
            return Err(ManageError {
                field: Some("name".into()),
                ..ManageError::new(
                    StatusCode::CONFLICT,
                    "duplicate_name",
                    format!(
                        "an action of --actions-dir is named {:?} in this scope (id {:?})",
                        a.name, f.id
                    ),
                )
            });
        }
    }
    Ok(())
}

/// Rebuilds the live snapshot after a change (a failure is logged: the ~1 s poll retries).
async fn changed(data: &AppState) {
    if let Err(error) = data.actions.reload().await {
        tracing::warn!(%error, "custom actions snapshot not rebuilt after a change");
    }
}

/// The stored record of `id`, or `None` (a file action, or nothing).
async fn stored(data: &AppState, id: &str) -> Result<Option<Value>, ManageError> {
    Ok(data.actions.store.get(KIND, id).await?)
}

/// The action of `id`, stored or declared in a file, as JSON with its `source`.
async fn find(data: &AppState, id: &str) -> Result<Value, ManageError> {
    if let Some(f) = data.actions.file_action(id) {
        return Ok(with_source(f.to_json(), "file"));
    }
    match stored(data, id).await? {
        Some(v) => Ok(with_source(v, "api")),
        None => Err(ManageError::not_found(WHAT, id)),
    }
}

/// Writes `action` as version `expected + 1` and rebuilds the snapshot.
async fn put(data: &AppState, action: &ServerAction, expected: u64) -> Result<Value, ManageError> {
    against_files(data, action)?;
    let stored = data
        .actions
        .store
        .put(KIND, action.to_json(), expected)
        .await?;
    changed(data).await;
    Ok(with_source(stored, "api"))
}

/// `GET /api/custom-actions[?project_id=]`: every action (file and stored); with `project_id`,
/// those that apply to it (its own and the shared ones). By `display_order`, then name.
pub async fn list(req: HttpRequest, data: web::Data<AppState>, q: web::Query<ListQuery>) -> Answer {
    admin(&req, &data)?;
    let mut all: Vec<Value> = data
        .actions
        .files()
        .iter()
        .map(|a| with_source(a.to_json(), "file"))
        .collect();
    let files: Vec<&str> = data.actions.files().iter().map(|a| a.id.as_str()).collect();
    for v in data.actions.store.list(KIND).await? {
        if !files.contains(&v.get("id").and_then(Value::as_str).unwrap_or("")) {
            all.push(with_source(v, "api"));
        }
    }
    if let Some(p) = q.project_id.as_deref() {
        all.retain(|v| match v.get("project_id") {
            Some(Value::String(s)) => s == p,
            _ => true,
        });
    }
    let key = |v: &Value| {
        (
            v.get("display_order").and_then(Value::as_i64).unwrap_or(0),
            v.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            v.get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    all.sort_by_key(key);
    Ok(success(StatusCode::OK, Value::Array(all)))
}

/// `GET /api/custom-actions/{id}`.
pub async fn get(req: HttpRequest, data: web::Data<AppState>, path: web::Path<IdPath>) -> Answer {
    admin(&req, &data)?;
    Ok(success(StatusCode::OK, find(&data, &path.id).await?))
}

/// `POST /api/custom-actions`: 201 with the stored action (version 1).
pub async fn create(req: HttpRequest, data: web::Data<AppState>, body: Body) -> Answer {
    admin(&req, &data)?;
    let mut doc = manage::object(body)?;
    for k in KEPT {
        doc.remove(k);
    }
    if doc.get("id").is_none_or(Value::is_null) {
        doc.insert("id".into(), Value::String(manage::new_id("act")));
    }
    let now = manage::now();
    doc.insert("created_at".into(), Value::String(now.clone()));
    doc.insert("updated_at".into(), Value::String(now));
    let action = parse(&Value::Object(doc))?;
    Ok(success(StatusCode::CREATED, put(&data, &action, 0).await?))
}

/// `PATCH /api/custom-actions/{id}`: the given top-level fields replace the stored ones,
/// `config`'s fields are merged (a `null` removes one) unless `action_type` is given (then
/// `config` must be too, whole); validated again; a new version. A
/// `version` in the body is the one the change was made on (409 `conflict` when it is no
/// longer the current one).
pub async fn patch(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let changes = manage::object(body)?;
    if changes.contains_key("action_type") && !changes.contains_key("config") {
        return Err(ManageError::invalid(
            "config",
            "a PATCH that gives action_type gives the config of that kind too",
        ));
    }
    if data.actions.file_action(&path.id).is_some() {
        return Err(read_only(&path.id));
    }
    let current = stored(&data, &path.id)
        .await?
        .ok_or_else(|| ManageError::not_found(WHAT, &path.id))?;
    let current_version = current.get("version").and_then(Value::as_u64).unwrap_or(0);
    let expected = match changes.get("version") {
        None | Some(Value::Null) => current_version,
        Some(v) => positive(v)
            .ok_or_else(|| ManageError::invalid("version", "version must be a positive integer"))?,
    };
    let mut doc = match current {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    // With a kind given, its config is given whole; else config fields merge.
    let merge_config = !changes.contains_key("action_type");
    for (k, v) in changes {
        if KEPT.contains(&k.as_str()) {
            continue;
        }
        if k == "id" && v.as_str() != Some(path.id.as_str()) {
            return Err(ManageError::invalid(
                "id",
                "the id of an action cannot change",
            ));
        }
        match (k.as_str(), v, doc.get_mut("config")) {
            ("config", Value::Object(new), Some(Value::Object(old))) if merge_config => {
                for (ck, cv) in new {
                    if cv.is_null() {
                        old.remove(&ck);
                    } else {
                        old.insert(ck, cv);
                    }
                }
            }
            (_, v, _) => {
                doc.insert(k, v);
            }
        }
    }
    doc.insert("updated_at".into(), Value::String(manage::now()));
    let action = parse(&Value::Object(doc))?;
    Ok(success(
        StatusCode::OK,
        put(&data, &action, expected).await?,
    ))
}

/// `DELETE /api/custom-actions/{id}`: the action and its versions.
pub async fn delete(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> Answer {
    admin(&req, &data)?;
    if data.actions.file_action(&path.id).is_some() {
        return Err(read_only(&path.id));
    }
    if !data.actions.store.delete(KIND, &path.id).await? {
        return Err(ManageError::not_found(WHAT, &path.id));
    }
    changed(&data).await;
    Ok(success(
        StatusCode::OK,
        json!({ "id": path.id, "deleted": true }),
    ))
}

/// `GET /api/custom-actions/{id}/versions`: every version, oldest first (a file action: its
/// one declaration).
pub async fn versions(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> Answer {
    admin(&req, &data)?;
    if let Some(f) = data.actions.file_action(&path.id) {
        return Ok(success(
            StatusCode::OK,
            json!([with_source(f.to_json(), "file")]),
        ));
    }
    let all = data.actions.store.history(KIND, &path.id).await?;
    if all.is_empty() {
        return Err(ManageError::not_found(WHAT, &path.id));
    }
    let all = all.into_iter().map(|v| with_source(v, "api")).collect();
    Ok(success(StatusCode::OK, Value::Array(all)))
}

/// `POST /api/custom-actions/{id}/rollback` `{version}`: a new version equal to that one.
pub async fn rollback(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let version = body
        .get("version")
        .and_then(positive)
        .ok_or_else(|| ManageError::invalid("version", "version must be a positive integer"))?;
    if data.actions.file_action(&path.id).is_some() {
        return Err(read_only(&path.id));
    }
    let current = stored(&data, &path.id)
        .await?
        .ok_or_else(|| ManageError::not_found(WHAT, &path.id))?;
    let mut old = data
        .actions
        .store
        .get_version(KIND, &path.id, version)
        .await?
        .ok_or_else(|| {
            ManageError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("the custom action {:?} has no version {version}", path.id),
            )
        })?;
    if let Some(o) = old.as_object_mut() {
        o.insert(
            "created_at".into(),
            current.get("created_at").cloned().unwrap_or(Value::Null),
        );
        o.insert("updated_at".into(), Value::String(manage::now()));
    }
    let action = parse(&old)?;
    let expected = current.get("version").and_then(Value::as_u64).unwrap_or(0);
    Ok(success(
        StatusCode::OK,
        put(&data, &action, expected).await?,
    ))
}

/// `POST /api/custom-actions/{id}/clone` `{name?, project_id?}`: 201 with a new action (a new
/// id, version 1; default name `<name> (copy)`, default scope the original's).
pub async fn clone(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let source = parse(&find(&data, &path.id).await?)?;
    let mut doc = source.to_json();
    let name = match body.get("name") {
        None | Some(Value::Null) => format!("{} (copy)", source.name),
        Some(Value::String(n)) => n.clone(),
        Some(_) => return Err(ManageError::invalid("name", "name must be a string")),
    };
    let now = manage::now();
    if let Some(o) = doc.as_object_mut() {
        o.insert("id".into(), Value::String(manage::new_id("act")));
        o.insert("name".into(), Value::String(name));
        o.insert("created_at".into(), Value::String(now.clone()));
        o.insert("updated_at".into(), Value::String(now));
        if let Some(p) = body.get("project_id") {
            o.insert("project_id".into(), p.clone());
        }
    }
    let action = parse(&doc)?;
    Ok(success(StatusCode::CREATED, put(&data, &action, 0).await?))
}

/// `{params | payload, variables, user_id, project_id}` of `test`/`execute`.
fn action_input(
    body: &Map<String, Value>,
    action: &ServerAction,
) -> Result<ActionInput, ManageError> {
    let text = |k: &str| match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ManageError::invalid(k, format!("{k} must be a string"))),
    };
    let variables = match body.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(ManageError::invalid(
                "variables",
                "variables must be an object",
            ))
        }
    };
    let payload = body
        .get("payload")
        .or_else(|| body.get("params"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    Ok(ActionInput {
        variables,
        payload,
        user_id: text("user_id")?,
        project_id: text("project_id")?
            .or_else(|| action.project_id.clone())
            .unwrap_or_default(),
        logs: LogLevel::Info,
        effects: Vec::new(),
    })
}

/// Runs `action` on `input` to its end: each effect it stops for performed within the turn's
/// effect budget, as for a turn (`docs/effects.md`); on the blocking pool (a JavaScript action
/// may run for up to its 1 s limit).
async fn run(
    data: &AppState,
    action: &ServerAction,
    input: ActionInput,
) -> Result<(ActionOutput, u64), ApiError> {
    let seed = turn_seed();
    let started = Instant::now();
    let mut log: Vec<EffectResult> = Vec::new();
    loop {
        let input = ActionInput {
            effects: log.clone(),
            ..input.clone()
        };
        let action = action.clone();
        let mut out = tokio::task::spawn_blocking(move || {
            with_engine(seed, |env| run_action(&action, input, env))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(|panic| {
            tracing::error!(%panic, "the engine panicked running a custom action");
            ApiError::internal("internal error while running the action")
        })?;
        let Some(effect) = out.effect.take() else {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            return Ok((out, ms));
        };
        let result = match data.effect_budget.refuses(&effect, &log, started.elapsed()) {
            Some(why) => EffectBudget::refusal(&effect, why),
            None => data.effects.perform(&effect).await,
        };
        log.push(result);
    }
}

/// `{event, variables, traces, logs, errors, duration_ms}`.
fn report(out: &ActionOutput, ms: u64) -> Value {
    let (logs, traces): (Vec<_>, Vec<_>) = out.traces.iter().partition(|t| t.ty == "log");
    let errors: Vec<Value> = out.error.iter().map(|e| Value::String(e.clone())).collect();
    json!({
        "event": out.event,
        "variables": out.variables,
        "traces": traces,
        "logs": logs,
        "errors": errors,
        "duration_ms": ms,
    })
}

async fn action_of(data: &AppState, id: &str) -> Result<ServerAction, ManageError> {
    parse(&find(data, id).await?)
}

/// `POST /api/custom-actions/{id}/test`: runs the action once on the given variables and
/// payload; nothing is stored.
pub async fn test(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let action = action_of(&data, &path.id).await?;
    let input = action_input(&body, &action)?;
    let (out, ms) = run(&data, &action, input).await?;
    Ok(success(StatusCode::OK, report(&out, ms)))
}

/// `POST /api/custom-actions/{id}/execute`: with `user_id` and `project_id`, on that user's
/// session (under its lock; the variables the action sets are stored; 409 without a session);
/// else on the given `variables` (nothing stored).
pub async fn execute(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let action = action_of(&data, &path.id).await?;
    let input = action_input(&body, &action)?;
    let (Some(user), Some(project)) = (
        input.user_id.clone(),
        body.get("project_id").and_then(Value::as_str),
    ) else {
        let (out, ms) = run(&data, &action, input).await?;
        return Ok(success(StatusCode::OK, report(&out, ms)));
    };
    let key = SessionKey::new(project, user);
    let answer = write_session(&data, &ctx, &key, |stored| async {
        let Some(mut state) = stored else {
            return Err(ApiError::object(
                StatusCode::CONFLICT,
                "no session for this user and project: start one first (interact)",
            ));
        };
        let mut vars = std::mem::take(&mut state.variables);
        for (k, v) in &input.variables {
            vars.insert(k.clone(), v.clone());
        }
        let (out, ms) = run(
            &data,
            &action,
            ActionInput {
                variables: vars,
                ..input
            },
        )
        .await?;
        state.variables = out.variables.clone();
        let body = serde_json::to_vec(&json!({ "status": "success", "data": report(&out, ms) }))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok((Some(state), body))
    })
    .await?;
    let bytes = match answer {
        super::response::Answer::Json(b) | super::response::Answer::Replayed(b) => b,
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(bytes))
}
