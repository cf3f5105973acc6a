//! The streaming interact routes (Server-Sent Events, `docs/streaming.md`):
//!
//! * `POST /v2beta1/interact/{projectID}/{tag}/stream` (`spec/dm-api.md` §1.6);
//! * `POST /v2/project/{projectID}/user/{userID}/interact/stream` (API key) and
//!   `POST /v2/public/project/{projectID}/user/{userID}/interact/stream` (public projects), with
//!   Voiceflow's query options `environment`, `completion_events` and `state`.
//!
//! Everything about the request is checked before the response starts (errors are ordinary
//! JSON answers); then a task runs the turn on the session, under its lock, and sends each run's
//! new traces before the run's effect is performed (the sans-IO turn replays the same prefix,
//! `docs/effects.md`). A client that leaves before an effect drops the turn whole: nothing is
//! committed. A turn that reached its end commits.

use super::auth::resolve_public;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::limits::JsonBody;
use super::session::write_session_keyed;
use super::sse::{self, Frames};
use super::state::AppState;
use super::turn::{is_empty_state, nlu_hint, run_engine_observed};
use super::validate;
use crate::engine::state::{deep_merge, merge_variables, Vars};
use crate::engine::{session, Agent, Config, Request, State, Trace, TurnInput, TurnOutput};
use crate::projects::Alias;
use crate::store::SessionKey;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// How the events are written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    /// `/v2beta1`: `{"type":"trace","trace":…}` for every trace, then `state`, then `end`.
    Beta,
    /// `/v2`: the trace itself with an `id:`; AI text as `completion` traces when asked; the
    /// state only when asked; then `end`.
    V2 { completions: bool, state: bool },
    /// The v4 socket (`src/socket/`): `trace` events `{trace}` (AI text as `completion` traces
    /// when asked), `state` `{state}` when asked, then `action` `{status: "completed"}`; a
    /// failed turn ends with `action` `{status: "rejected", error}`.
    Socket { completions: bool, state: bool },
}

/// Where a streamed turn's events go: the SSE body ([`Frames`]) or a socket.
pub(crate) trait EventSink {
    /// Sends one event; `false` when the client is gone.
    fn event(&mut self, name: &str, id: Option<u64>, data: &Value) -> bool;
    /// The client is gone (or the turn was cancelled): the turn stops before its next effect.
    fn is_closed(&self) -> bool;
}

impl EventSink for Frames {
    fn event(&mut self, name: &str, id: Option<u64>, data: &Value) -> bool {
        self.send(sse::event(name, id, data))
    }

    fn is_closed(&self) -> bool {
        Frames::is_closed(self)
    }
}

/// What the body merges into the session before the turn.
enum Merge {
    /// The whole state, deep-merged (`/v2beta1`).
    State(Option<Value>),
    /// `variables`, deep-merged (`/v2`).
    Variables(Option<Vars>),
}

/// A validated streaming turn.
pub(crate) struct StreamTurn {
    agent: Arc<Agent>,
    key: SessionKey,
    user_id: String,
    request: Option<Request>,
    config: Config,
    merge: Merge,
    format: Format,
}

impl StreamTurn {
    /// A turn of `user_id`'s session of `agent` with `request`, the session as stored (no
    /// merge), its events written as `format` says.
    pub(crate) fn of_session(
        agent: Arc<Agent>,
        user_id: String,
        request: Option<Request>,
        config: Config,
        format: Format,
    ) -> StreamTurn {
        StreamTurn {
            key: SessionKey::new(agent.version.project_id.as_str(), &user_id),
            agent,
            user_id,
            request,
            config,
            merge: Merge::Variables(None),
            format,
        }
    }
}

/// `{projectID}` and `{tag}`.
#[derive(Debug, Deserialize)]
pub struct BetaPath {
    #[serde(rename = "projectID")]
    project_id: String,
    tag: String,
}

/// `{projectID}` and `{userID}`.
#[derive(Debug, Deserialize)]
pub struct V2Path {
    #[serde(rename = "projectID")]
    project_id: String,
    #[serde(rename = "userID")]
    user_id: String,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// With API keys configured, the request needs a key of `project_id` (401 otherwise).
fn check_key(data: &AppState, req: &HttpRequest, project_id: &str) -> Result<(), ApiError> {
    if data.keys.is_empty() {
        return Ok(());
    }
    let auth = header(req, "authorization")
        .ok_or_else(|| ApiError::object(StatusCode::UNAUTHORIZED, "Auth Key Required"))?;
    match data.keys.lookup(auth) {
        Some(p) if p == project_id => Ok(()),
        _ => Err(ApiError::object(
            StatusCode::UNAUTHORIZED,
            format!("API key is not valid for project {project_id}"),
        )),
    }
}

fn is_version_id(tag: &str) -> bool {
    tag.len() == 24 && tag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `/v2beta1` tag: an alias (not resolvable → 400 `Cannot resolve project version`) or a
/// 24-hex version id of the project (else 400 `Invalid project version tag`).
fn resolve_tag(data: &AppState, project_id: &str, tag: &str) -> Result<Arc<Agent>, ApiError> {
    let unresolved = || ApiError::bad_request_verror("Cannot resolve project version");
    let entry = data
        .agents
        .registry()
        .project(project_id)
        .cloned()
        .ok_or_else(unresolved)?;
    match Alias::parse(tag) {
        Some(alias) => entry.alias(alias).cloned().map_err(|_| unresolved()),
        None if is_version_id(tag) => entry
            .version(tag)
            .cloned()
            .ok_or_else(|| ApiError::bad_request_verror("Invalid project version tag")),
        None => Err(ApiError::bad_request_verror("Invalid project version tag")),
    }
}

/// A `/v2` route's `environment`: an alias (default `development`) or a version of the project.
fn resolve_environment(
    data: &AppState,
    project_id: &str,
    environment: Option<&str>,
) -> Result<Arc<Agent>, ApiError> {
    let entry = super::auth::loaded_project(data, project_id)?;
    let environment = environment.unwrap_or("development");
    super::auth::agent_of(&entry, project_id, environment, "Environment")
}

fn object<'a>(field: &str, v: &'a Value) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| validate::must_be(field, "object", v))
}

/// `action`: an object when present (`null` is not a request here).
fn action(obj: &Map<String, Value>) -> Result<Option<Request>, ApiError> {
    if let Some(v @ Value::Null) = obj.get("action") {
        return Err(validate::must_be("action", "object", v));
    }
    validate::request("action", obj.get("action"))
}

fn only_keys(field: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::validation(
            field,
            format!("must NOT have additional properties ('{k}')"),
        )),
        None => Ok(()),
    }
}

fn required_string(field: &str, obj: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(validate::must_be(
            &format!("{field}.{key}"),
            "string",
            other,
        )),
        None => Err(ApiError::validation(
            field,
            format!("must have required property '{key}'"),
        )),
    }
}

/// The `/v2beta1` body: `{action, session:{sessionID, userID}, state?, config?}`, strictly.
/// Returns the request, the runtime user (`userID` + `sessionID`) and the state to merge.
fn beta_body(body: &Value) -> Result<(Option<Request>, String, Option<Value>), ApiError> {
    let obj = object("body", body)?;
    only_keys("body", obj, &["action", "session", "state", "config"])?;
    let session = obj
        .get("session")
        .ok_or_else(|| ApiError::validation("body", "must have required property 'session'"))?;
    let session = object("session", session)?;
    only_keys("session", session, &["sessionID", "userID"])?;
    let session_id = required_string("session", session, "sessionID")?;
    let user_id = required_string("session", session, "userID")?;
    let request = action(obj)?;
    let state = match obj.get("state") {
        None => None,
        Some(v) => Some(Value::Object(object("state", v)?.clone())),
    };
    if let Some(config) = obj.get("config") {
        object("config", config)?;
    }
    Ok((request, format!("{user_id}{session_id}"), state))
}

/// The `/v2` body: `{action?, variables?, config?}`.
fn v2_body(body: &Value) -> Result<(Option<Request>, Option<Vars>, Config), ApiError> {
    let obj = object("body", body)?;
    only_keys("body", obj, &["action", "variables", "config"])?;
    let request = action(obj)?;
    let variables = match obj.get("variables") {
        None => None,
        Some(v) => Some(validate::variables_patch(v)?),
    };
    let config = validate::config(obj.get("config"), false)?;
    Ok((request, variables, config))
}

/// The `/v2` query: `environment`, `completion_events`, `state` (booleans: `true` / `1`).
pub(super) struct V2Query {
    environment: Option<String>,
    completions: bool,
    state: bool,
}

pub(super) fn v2_query(req: &HttpRequest) -> Result<V2Query, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::validation("query", e.to_string()))?
        .into_inner();
    let mut q = V2Query {
        environment: None,
        completions: false,
        state: false,
    };
    let flag = |name: &str, v: &str| match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::validation(
            name,
            "must be equal to one of the allowed values (true, false, 1, 0)",
        )),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "environment" => q.environment = Some(v),
            "completion_events" => q.completions = flag("completion_events", &v)?,
            "state" => q.state = flag("state", &v)?,
            _ => {}
        }
    }
    Ok(q)
}

/// `POST /v2beta1/interact/{projectID}/{tag}/stream`.
pub async fn beta(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<BetaPath>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let BetaPath { project_id, tag } = path.into_inner();
    check_key(&data, &req, &project_id)?;
    let agent = resolve_tag(&data, &project_id, &tag)?;
    let (request, user_id, state) = beta_body(&body.0)?;
    ctx.record_user(&user_id);
    // No config: default filtering is not applied either, every trace is streamed.
    let config = Config {
        exclude_types: Some(Vec::new()),
        ..Config::default()
    };
    let turn = StreamTurn {
        key: SessionKey::new(agent.version.project_id.as_str(), &user_id),
        agent,
        user_id,
        request,
        config,
        merge: Merge::State(state),
        format: Format::Beta,
    };
    Ok(start(data, ctx, turn))
}

/// `POST /v2/project/{projectID}/user/{userID}/interact/stream` (API key).
pub async fn v2(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<V2Path>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let V2Path {
        project_id,
        user_id,
    } = path.into_inner();
    ctx.record_user(&user_id);
    check_key(&data, &req, &project_id)?;
    let query = v2_query(&req)?;
    let agent = resolve_environment(&data, &project_id, query.environment.as_deref())?;
    v2_turn(data, ctx, agent, user_id, &body.0, &query)
}

/// `POST /v2/public/project/{projectID}/user/{userID}/interact/stream` (public projects).
pub async fn v2_public(
    req: HttpRequest,
    ctx: RequestCtx,
    data: web::Data<AppState>,
    path: web::Path<V2Path>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let V2Path {
        project_id,
        user_id,
    } = path.into_inner();
    ctx.record_user(&user_id);
    let query = v2_query(&req)?;
    let agent = match &query.environment {
        None => resolve_public(&data, &req, &ctx, &project_id, true)?,
        Some(env) => {
            resolve_public(&data, &req, &ctx, &project_id, true)?;
            resolve_environment(&data, &project_id, Some(env))?
        }
    };
    v2_turn(data, ctx, agent, user_id, &body.0, &query)
}

pub(super) fn v2_turn(
    data: web::Data<AppState>,
    ctx: RequestCtx,
    agent: Arc<Agent>,
    user_id: String,
    body: &Value,
    query: &V2Query,
) -> Result<HttpResponse, ApiError> {
    let (request, variables, config) = v2_body(body)?;
    let turn = StreamTurn {
        key: SessionKey::new(agent.version.project_id.as_str(), &user_id),
        agent,
        user_id,
        request,
        config,
        merge: Merge::Variables(variables),
        format: Format::V2 {
            completions: query.completions,
            state: query.state,
        },
    };
    Ok(start(data, ctx, turn))
}

/// Starts the turn task and answers the stream.
fn start(data: web::Data<AppState>, ctx: RequestCtx, turn: StreamTurn) -> HttpResponse {
    let (frames, body) = sse::channel(data.limits.keep_alive);
    actix_web::rt::spawn(async move { stream_turn(&data, &ctx, &turn, frames).await });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// Runs `turn` and writes its events to `sink`, the last one saying how it ended (nothing
/// when the client is gone). Gives the turn's output when it committed.
pub(crate) async fn stream_turn<S: EventSink>(
    data: &AppState,
    ctx: &RequestCtx,
    turn: &StreamTurn,
    sink: S,
) -> Option<TurnOutput> {
    let mut out = Emitter {
        sink,
        sent: 0,
        next_id: 1,
        format: turn.format,
        turn_id: ctx.id().to_string(),
        handled: 0,
    };
    match run(data, ctx, turn, &mut out).await {
        Ok(output) => {
            out.finish(&output);
            Some(output)
        }
        Err(e) if out.sink.is_closed() => {
            tracing::debug!(error = %e, "stream client gone; the turn was dropped");
            out.cancelled();
            None
        }
        Err(e) => {
            tracing::debug!(error = %e, "streamed turn failed");
            out.error(&e);
            None
        }
    }
}

/// The session as the turn sees it: stored (or new) with the body merged in.
fn prepare(turn: &StreamTurn, stored: Option<State>) -> Result<State, ApiError> {
    let mut state = match stored {
        Some(s) if !is_empty_state(&s) => s,
        _ => session::generate(&turn.agent, None, None),
    };
    match &turn.merge {
        Merge::Variables(Some(vars)) => merge_variables(&mut state.variables, vars),
        Merge::State(Some(patch)) => {
            let mut whole = serde_json::to_value(&state)
                .map_err(|e| ApiError::internal(format!("state: {e}")))?;
            deep_merge(&mut whole, patch);
            state = serde_json::from_value(whole).map_err(|e| {
                ApiError::validation("state", format!("does not make a valid state: {e}"))
            })?;
        }
        _ => {}
    }
    Ok(state)
}

/// Runs the turn under the session lock; sends the traces of each run that stopped for an
/// effect; commits when it ends. Gives the final output (its traces not sent yet).
async fn run<S: EventSink>(
    data: &AppState,
    ctx: &RequestCtx,
    turn: &StreamTurn,
    emitter: &mut Emitter<S>,
) -> Result<TurnOutput, ApiError> {
    let hint = nlu_hint(data, &turn.agent, turn.request.as_ref()).await;
    let input = |stored: Option<State>| -> Result<TurnInput, ApiError> {
        Ok(TurnInput {
            state: prepare(turn, stored)?,
            request: turn.request.clone(),
            config: turn.config.clone(),
            user_id: Some(turn.user_id.clone()),
            logs: Default::default(),
            nlu_hint: hint.clone(),
            effects: Vec::new(),
            actions: None,
            library: None,
        })
    };
    let again = || async { input(data.store.get(&turn.key).await?) };
    let mut done = None;
    let done_ref = &mut done;
    write_session_keyed(data, None, &turn.key, |stored| async move {
        let first = input(stored)?;
        let mut out = run_engine_observed(data, ctx, &turn.agent, first, again, |run| {
            emitter.traces(&run.trace)
        })
        .await?;
        // A client gone by the end (as far as the server can tell) gets nothing committed.
        if emitter.sink.is_closed() {
            return Err(ApiError::cancelled());
        }
        super::stops::add_resume(&mut out, &turn.agent.version.id, &turn.user_id);
        let state = out.state.clone();
        *done_ref = Some(out);
        Ok((Some(state), Vec::new(), false))
    })
    .await?;
    done.ok_or_else(|| ApiError::internal("the streamed turn gave no output"))
}

/// Writes the events of one streamed turn.
struct Emitter<S> {
    sink: S,
    /// Traces of the turn already sent (every run repeats the ones before).
    sent: usize,
    next_id: u64,
    format: Format,
    /// The socket's `turnID` (the turn's request id) and the traces sent so far (each trace's
    /// `handleID` is `{turnID}.{n}`).
    turn_id: String,
    handled: u64,
}

impl<S: EventSink> Emitter<S> {
    fn send(&mut self, name: &str, data: &Value) -> bool {
        let id = match self.format {
            Format::Beta | Format::Socket { .. } => None,
            Format::V2 { .. } => {
                self.next_id += 1;
                Some(self.next_id - 1)
            }
        };
        self.sink.event(name, id, data)
    }

    /// A trace event of the format (`{trace}` on the socket).
    fn send_trace(&mut self, trace: Value) {
        match self.format {
            Format::Beta => self.send("trace", &json!({"type": "trace", "trace": trace})),
            Format::V2 { .. } => self.send("trace", &trace),
            Format::Socket { .. } => {
                let mut trace = trace;
                if let Some(obj) = trace.as_object_mut() {
                    self.handled += 1;
                    obj.insert("turnID".into(), json!(self.turn_id));
                    let handle = format!("{}.{}", self.turn_id, self.handled);
                    obj.insert("handleID".into(), json!(handle));
                }
                self.send("trace", &json!({ "trace": trace }))
            }
        };
    }

    /// Sends the traces after the ones sent; `false` when the client is gone.
    fn traces(&mut self, traces: &[Trace]) -> bool {
        // A cancelled turn sends nothing more.
        if self.sink.is_closed() {
            return false;
        }
        for trace in traces.iter().skip(self.sent) {
            // §1.6: the beta stream has the runtime's traces only.
            if trace.outside_runtime && matches!(self.format, Format::Beta) {
                continue;
            }
            let value = serde_json::to_value(trace).unwrap_or(Value::Null);
            let completions = match self.format {
                Format::Beta => false,
                Format::V2 { completions, .. } | Format::Socket { completions, .. } => completions,
            };
            if completions && is_ai_text(&value) {
                self.completion(&value);
            } else {
                self.send_trace(value);
            }
        }
        self.sent = self.sent.max(traces.len());
        !self.sink.is_closed()
    }

    /// An AI text as `completion` traces: start, its whole text as one content, end.
    fn completion(&mut self, trace: &Value) {
        let time = trace.get("time").cloned().unwrap_or(Value::Null);
        let content = trace
            .pointer("/payload/message")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        let ty = trace.get("type").cloned().unwrap_or(Value::Null);
        for payload in [
            json!({"state": "start", "type": ty}),
            json!({"state": "content", "content": content}),
            json!({"state": "end"}),
        ] {
            self.send_trace(json!({"type": "completion", "payload": payload, "time": time}));
        }
    }

    /// The rest of the traces, the state (always on `/v2beta1`, when asked on `/v2`), `end`.
    fn finish(&mut self, out: &TurnOutput) {
        self.traces(&out.trace);
        let state = || serde_json::to_value(&out.state).unwrap_or(Value::Null);
        match self.format {
            Format::Beta | Format::V2 { state: true, .. } => {
                self.send("state", &json!({"type": "state", "state": state()}));
                self.send("end", &json!({"type": "end"}));
            }
            Format::V2 { .. } => {
                self.send("end", &json!({"type": "end"}));
            }
            Format::Socket { state: true, .. } => {
                self.send("state", &json!({ "state": state() }));
                self.send("action", &json!({"status": "completed"}));
            }
            Format::Socket { .. } => {
                self.send("action", &json!({"status": "completed"}));
            }
        }
    }

    /// A turn dropped because the client left or cancelled it: a socket still connected is
    /// told (`action` `{status: "rejected"}`); an SSE client is gone.
    fn cancelled(&mut self) {
        if let Format::Socket { .. } = self.format {
            self.send("action", &rejection(499, "cancelled"));
        }
    }

    /// A turn that failed after the stream started: an `error` event (the error's status and
    /// message), then the stream ends. Nothing was committed.
    fn error(&mut self, e: &ApiError) {
        let status = actix_web::ResponseError::status_code(e).as_u16();
        if let Format::Socket { .. } = self.format {
            self.send("action", &rejection(status, &e.message()));
            return;
        }
        self.send(
            "error",
            &json!({"type": "error", "code": status, "message": e.message()}),
        );
    }
}

/// The socket's `action` event of a turn that did not run or did not finish: `{status:
/// "rejected", error: {code, message}}`.
pub(crate) fn rejection(code: u16, message: &str) -> Value {
    json!({"status": "rejected", "error": {"code": code, "message": message}})
}

/// A `text` or `speak` trace an AI step said (`payload.ai`).
fn is_ai_text(trace: &Value) -> bool {
    matches!(
        trace.get("type").and_then(Value::as_str),
        Some("text" | "speak")
    ) && trace.pointer("/payload/ai") == Some(&Value::Bool(true))
}
