//! The events of the v4 socket (`docs/clients.md` § "The v4 socket"), as
//! `@voiceflow/sdk-runtime` 1.69.1 uses them:
//!
//! * `start` `{userID, projectID, environmentID?, sessionKey?, authorization?, config}` →
//!   `start` `{versionID, newSessionRequired}` (`true` unless `sessionKey` is the user's current
//!   key); a project that does not resolve → `exception` `{status: "error", code, message}`.
//! * `session-key-update` → a new session (the conversation starts over) and
//!   `session-key-update` `{sessionKey}`.
//! * `action` `{action, config?}` → one turn: `trace` `{trace}` events as the engine produces
//!   them (AI text as `completion` traces when `start` asked for `completionEvents`), `state`
//!   `{state}` when `config.stateful`, then `action` `{status: "completed"}`; a turn that cannot
//!   run or fails → `action` `{status: "rejected", error: {code, message}}`. `action` `{type:
//!   "end"}` ends the session: its key stops working, then `action` completed and
//!   `session-ended`. A key replaced meanwhile (another `start` of the user's session) →
//!   rejected, then `session-ended`.
//! * `cancel` → `cancel` `{success}`: the running turn stops before its next effect and
//!   commits nothing (as a streaming client that leaves, `docs/streaming.md`).
//! * `keep-alive` → nothing (engine.io's own ping keeps the transport alive).
//!
//! A disconnect cancels the running turn the same way. The turn itself is the streaming
//! routes' (`crate::http::stream`): the session's lock, effects performed between runs, one
//! commit at the end.

use super::bridge::TurnArbiter;
use super::Activity;
use crate::engine::Agent;
use crate::http::context::{Fingerprint, RequestCtx};
use crate::http::errors::ApiError;
use crate::http::stream::{self, EventSink, Format, StreamTurn};
use crate::http::validate::{self, TurnRoute};
use crate::http::{new_request_id, v4, AppState};
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Value};
use socketioxide::extract::{Data, SocketRef, TryData};
use socketioxide::socket::DisconnectReason;
use socketioxide::SocketIo;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tracing::Instrument;

/// A started session of the connection.
#[derive(Clone)]
struct Started {
    agent: Arc<Agent>,
    environment: String,
    user_id: String,
    /// The session key the client holds, when it is the current one (from `start` or
    /// `session-key-update`).
    key: Option<String>,
    completions: bool,
}

/// What one connection knows.
#[derive(Default)]
struct Conn {
    started: Option<Started>,
    /// The running turn's cancel flag.
    running: Option<Arc<AtomicBool>>,
    /// The channel's turns (for the shutdown).
    activity: Arc<Activity>,
}

type Shared = Arc<Mutex<Conn>>;

fn lock(conn: &Shared) -> std::sync::MutexGuard<'_, Conn> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers the namespace `/` and its events.
pub fn register(io: &SocketIo, data: web::Data<AppState>, activity: Arc<Activity>) {
    io.ns("/", move |s: SocketRef| {
        let conn: Shared = Arc::new(Mutex::new(Conn {
            activity: activity.clone(),
            ..Conn::default()
        }));
        let (d, c) = (data.clone(), conn.clone());
        s.on("start", move |s: SocketRef, TryData(p): TryData<Value>| {
            let (d, c) = (d.clone(), c.clone());
            async move { on_start(s, d, c, p.unwrap_or(Value::Null)) }
        });
        let (d, c) = (data.clone(), conn.clone());
        s.on("session-key-update", move |s: SocketRef| {
            let (d, c) = (d.clone(), c.clone());
            async move { on_key_update(s, d, c) }
        });
        let (d, c) = (data.clone(), conn.clone());
        s.on("action", move |s: SocketRef, TryData(p): TryData<Value>| {
            let (d, c) = (d.clone(), c.clone());
            async move { on_action(s, d, c, p.unwrap_or(Value::Null)) }
        });
        let c = conn.clone();
        s.on("cancel", move |s: SocketRef| {
            let c = c.clone();
            async move {
                let running = lock(&c).running.clone();
                if let Some(flag) = &running {
                    flag.store(true, Ordering::SeqCst);
                }
                let _ = s.emit("cancel", &json!({ "success": running.is_some() }));
            }
        });
        s.on("keep-alive", async |_: SocketRef| {});
        s.on_fallback(async |s: SocketRef, Data(_): Data<Value>| {
            tracing::debug!(socket = %s.id, "socket event ignored");
        });
        let c = conn;
        s.on_disconnect(move |_: SocketRef, reason: DisconnectReason| {
            let c = c.clone();
            async move {
                if let Some(flag) = lock(&c).running.take() {
                    flag.store(true, Ordering::SeqCst);
                }
                tracing::debug!(?reason, "socket closed");
            }
        });
        std::future::ready(())
    });
}

/// Runs `work` on the connection's worker (see [`super::bridge`]); `false` (and an
/// `exception`) when that worker is gone.
fn on_worker<F, Fut>(s: &SocketRef, work: F) -> bool
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let arbiter = s.req_parts().extensions.get::<TurnArbiter>().cloned();
    let spawned = arbiter.is_some_and(|a| {
        a.0.spawn_fn(move || {
            actix_web::rt::spawn(work());
        })
    });
    if !spawned {
        exception(s, 503, "the server is closing");
    }
    spawned
}

fn exception(s: &SocketRef, code: u16, message: &str) {
    let _ = s.emit(
        "exception",
        &json!({"status": "error", "code": code, "message": message}),
    );
}

fn rejected(s: &SocketRef, code: u16, message: &str) {
    let _ = s.emit("action", &stream::rejection(code, message));
}

fn error_parts(e: &ApiError) -> (u16, String) {
    (
        actix_web::ResponseError::status_code(e).as_u16(),
        e.message(),
    )
}

fn text<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The agent `start` names, if the client may use it: with an API key of the project, or a
/// public project (from an allowed origin), or any project when the server has no keys.
fn resolve(data: &AppState, s: &SocketRef, p: &Value) -> Result<(Arc<Agent>, String), ApiError> {
    let bad = |field: &str, why: &str| ApiError::validation(field, why);
    let project_id = text(p, "projectID").ok_or_else(|| bad("projectID", "must be a string"))?;
    let environment = text(p, "environmentID").unwrap_or("production").to_string();
    let entry = crate::http::auth::loaded_project(data, project_id)?;
    let keyed = text(p, "authorization").and_then(|a| data.keys.lookup(a)) == Some(project_id);
    let origin = s
        .req_parts()
        .headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let public = entry.is_public() && data.origin_allowed(origin);
    if !(keyed || public || data.keys.is_empty()) {
        return Err(ApiError::verror(
            StatusCode::UNAUTHORIZED,
            "no access to project",
        ));
    }
    let agent = entry
        .environment(&environment)
        .map_err(|_| {
            ApiError::verror(
                StatusCode::NOT_FOUND,
                format!("Environment {environment} of project {project_id} is not loaded"),
            )
        })?
        .clone();
    Ok((agent, environment))
}

fn on_start(s: SocketRef, data: web::Data<AppState>, conn: Shared, p: Value) {
    let (agent, environment) = match resolve(&data, &s, &p) {
        Ok(found) => found,
        Err(e) => {
            let (code, message) = error_parts(&e);
            return exception(&s, code, &message);
        }
    };
    let Some(user_id) = text(&p, "userID").filter(|u| u.chars().count() <= 256) else {
        return exception(&s, 400, "userID must be a string of 1 to 256 characters");
    };
    let user_id = user_id.to_string();
    let key = text(&p, "sessionKey").map(str::to_string);
    let received = p.get("lastReceivedAt").and_then(Value::as_u64);
    let completions = p.pointer("/config/completionEvents") == Some(&Value::Bool(true));
    let socket = s.clone();
    on_worker(&s, move || async move {
        let project_id = agent.version.project_id.to_string();
        // A key that is current, and only then the traces of its last turn the client missed.
        let checked = async {
            let Some(k) = &key else {
                return Ok::<_, ApiError>(None);
            };
            if !v4::key_is_current(&data, &project_id, &user_id, k).await? {
                return Ok(None);
            }
            let Some(received) = received else {
                return Ok(Some(Vec::new()));
            };
            let last = v4::last_turn(&data, &project_id, &user_id, k).await?;
            Ok(Some(last.map(|r| missed(&r, received)).unwrap_or_default()))
        };
        let (key, replay) = match checked.await {
            Ok(Some(replay)) => (key, replay),
            Ok(None) => (None, Vec::new()),
            Err(e) => {
                let (code, message) = error_parts(&e);
                return exception(&socket, code, &message);
            }
        };
        let version_id = agent.version.id.to_string();
        let fresh = key.is_none();
        lock(&conn).started = Some(Started {
            agent,
            environment,
            user_id,
            key,
            completions,
        });
        let _ = socket.emit(
            "start",
            &json!({"versionID": version_id, "newSessionRequired": fresh}),
        );
        if !replay.is_empty() {
            let _ = socket.emit("replay", &json!({ "traces": replay }));
        }
    });
}

/// The traces of the session's last turn (its replay record, [`v4::last_turn`]) made after
/// `received` (the client's `lastReceivedAt`, milliseconds): what a client that lost its
/// connection during or after the turn did not get.
fn missed(record: &Value, received: u64) -> Vec<Value> {
    record
        .get("traces")
        .and_then(Value::as_array)
        .map(|traces| {
            traces
                .iter()
                .filter(|t| t.get("time").and_then(Value::as_u64).unwrap_or(0) > received)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn on_key_update(s: SocketRef, data: web::Data<AppState>, conn: Shared) {
    let Some(started) = lock(&conn).started.clone() else {
        return exception(&s, 400, "start the session first");
    };
    let socket = s.clone();
    on_worker(&s, move || async move {
        let made = v4::new_session(
            &data,
            &started.agent,
            &started.environment,
            &started.user_id,
        )
        .await;
        match made {
            Ok(key) => {
                if let Some(st) = lock(&conn).started.as_mut() {
                    st.key = Some(key.clone());
                }
                let _ = socket.emit("session-key-update", &json!({ "sessionKey": key }));
            }
            Err(e) => {
                let (code, message) = error_parts(&e);
                exception(&socket, code, &message);
            }
        }
    });
}

/// Writes a turn's events to the socket.
struct SocketSink {
    socket: SocketRef,
    cancelled: Arc<AtomicBool>,
}

impl EventSink for SocketSink {
    fn event(&mut self, name: &str, _id: Option<u64>, data: &Value) -> bool {
        self.socket.emit(name, data).is_ok()
    }

    fn is_closed(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst) || !self.socket.connected()
    }
}

fn on_action(s: SocketRef, data: web::Data<AppState>, conn: Shared, p: Value) {
    let flag = Arc::new(AtomicBool::new(false));
    let started = {
        let mut c = lock(&conn);
        if c.activity.closing.load(Ordering::SeqCst) {
            drop(c);
            return rejected(&s, 503, "the server is closing: reconnect");
        }
        if c.running.is_some() {
            drop(c);
            return rejected(&s, 409, "a turn of this connection is running");
        }
        let Some(started) = c.started.clone().filter(|st| st.key.is_some()) else {
            drop(c);
            return rejected(&s, 401, "Invalid session key");
        };
        c.running = Some(flag.clone());
        c.activity.running.fetch_add(1, Ordering::SeqCst);
        started
    };
    let finish = {
        let conn = conn.clone();
        move || {
            let mut c = lock(&conn);
            c.running = None;
            c.activity.running.fetch_sub(1, Ordering::SeqCst);
        }
    };
    let action = p.get("action").cloned().unwrap_or(Value::Null);
    let stateful = p.pointer("/config/stateful") == Some(&Value::Bool(true));
    let ends = action.get("type").and_then(Value::as_str) == Some("end");
    let body = if ends {
        None
    } else {
        match validate::turn_body(&json!({ "action": action }), TurnRoute::Stateful) {
            Ok(body) => Some(body),
            Err(e) => {
                finish();
                let (code, message) = error_parts(&e);
                return rejected(&s, code, &message);
            }
        }
    };
    let socket = s.clone();
    let finish_if_not_run = finish.clone();
    let spawned = on_worker(&s, move || async move {
        let ctx = RequestCtx::new(new_request_id(), None, Fingerprint::default());
        let project_id = started.agent.version.project_id.to_string();
        ctx.set_route_kind("socket");
        let span = tracing::info_span!(
            "socket turn",
            id = %ctx.id(),
            project = tracing::field::Empty,
            version = tracing::field::Empty,
            user = tracing::field::Empty,
        );
        async {
            ctx.record_project(&project_id, &started.agent.version.id);
            ctx.record_user(&started.user_id);
            let key = started.key.as_deref().unwrap_or("");
            let current = v4::key_is_current(&data, &project_id, &started.user_id, key).await;
            if !current.unwrap_or(false) {
                lock(&conn).started = None;
                rejected(&socket, 401, "the session has ended");
                let _ = socket.emit("session-ended", &json!({}));
                return;
            }
            let Some(body) = body else {
                match v4::end_session(&data, &project_id, &started.user_id).await {
                    Ok(()) => {
                        lock(&conn).started = None;
                        let _ = socket.emit("action", &json!({"status": "completed"}));
                        let _ = socket.emit("session-ended", &json!({}));
                    }
                    Err(e) => {
                        let (code, message) = error_parts(&e);
                        rejected(&socket, code, &message);
                    }
                }
                return;
            };
            let format = Format::Socket {
                completions: started.completions,
                state: stateful,
            };
            let turn = StreamTurn::of_session(
                started.agent.clone(),
                started.user_id.clone(),
                body.request,
                body.config,
                format,
            );
            let sink = SocketSink {
                socket: socket.clone(),
                cancelled: flag,
            };
            if let Some(out) = stream::stream_turn(&data, &ctx, &turn, sink).await {
                let traces = serde_json::to_value(&out.trace).unwrap_or(Value::Null);
                let at = crate::http::errors::now_ms();
                let kept = v4::remember_turn(&data, &project_id, &started.user_id, key, at, traces);
                if let Err(error) = kept.await {
                    tracing::warn!(%error, "the turn's traces were not kept for a replay");
                }
            }
        }
        .instrument(span)
        .await;
        finish();
    });
    if !spawned {
        finish_if_not_run();
    }
}
