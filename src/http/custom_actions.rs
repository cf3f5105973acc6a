//! `/api/custom-actions`: the management API of the custom actions the server runs
//! (`docs/custom-actions.md` § Management API). The routes every kind shares (list, get, create,
//! PATCH, delete, versions, rollback, clone) are [`super::registry_api`]'s, over this
//! [`Managed`] implementation (kind `"actions"`, files of `--actions-dir`); here the routes of
//! actions alone: `test` and `execute`.

use super::context::RequestCtx;
use super::errors::ApiError;
use super::manage::{self, admin, success, ManageError};
use super::registry_api::{find, Answer, Body, IdPath, Managed};
use super::session::write_session;
use super::state::AppState;
use super::turn::{turn_seed, with_engine};
use crate::engine::{run_action, ActionInput, ActionOutput, EffectResult, LogLevel};
use crate::live_registry::{LiveRegistry, ACTIONS};
use crate::store::SessionKey;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use flowdm_actions::perform::{EffectBudget, Performer};
use flowdm_model::ServerAction;
use serde_json::{json, Map, Value};
use std::time::Instant;

impl Managed for ServerAction {
    const KIND: &'static str = ACTIONS;
    const WHAT: &'static str = "custom action";
    const ID_PREFIX: &'static str = "act";
    const FILES: &'static str = "--actions-dir";

    fn parse(doc: &Value) -> Result<ServerAction, ManageError> {
        ServerAction::parse(doc)
            .map_err(|e| ManageError::invalid(e.field().to_string(), e.to_string()))
    }

    fn to_json(&self) -> Value {
        ServerAction::to_json(self)
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    fn files(live: &LiveRegistry) -> Vec<Value> {
        live.files()
            .actions
            .iter()
            .map(ServerAction::to_json)
            .collect()
    }

    /// A PATCH that gives `action_type` gives its `config` whole.
    fn patch_rules(changes: &Map<String, Value>) -> Result<bool, ManageError> {
        if changes.contains_key("action_type") && !changes.contains_key("config") {
            return Err(ManageError::invalid(
                "config",
                "a PATCH that gives action_type gives the config of that kind too",
            ));
        }
        Ok(!changes.contains_key("action_type"))
    }
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
    <ServerAction as Managed>::parse(&find::<ServerAction>(data, id).await?)
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
