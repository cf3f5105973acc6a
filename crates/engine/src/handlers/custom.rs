//! Custom actions (`_v1` nodes), channel actions and `ifV2` under `stopTypes` (§7).

use crate::commands::event_matches;
use crate::interpolate::{replace, replace_deep};
use crate::runtime::{Mode, Runtime, Step};
use crate::stops::{PendingStop, NEW_STOP_KEY};
use crate::trace::{Payload, Trace};
use flowdm_model::CustomAction;
use serde_json::Value;

impl Runtime<'_, '_> {
    pub(crate) fn handle_custom_action(&mut self, action: &CustomAction) -> Step {
        // Back from a library sub-flow this step started (`handlers/subflow.rs`).
        if let Some(step) = self.subflow_returned(action) {
            return step;
        }
        if self.mode == Mode::Request {
            return self.resume_custom_action(action);
        }
        // The client's stop wins; else an action the server runs; else the reference's
        // behaviour (`design.md` § Custom actions).
        let client_stops = self.config.stop_all() || self.config.stops_on(&action.stop_type);
        let trace = self.custom_trace(action);
        if !client_stops && !self.server_actions.is_empty() {
            // The trace's type is the action's name, in both node forms.
            let project_id = &self.project.version.project_id;
            if let Some(server) = self.server_actions.find(project_id, &trace.ty).cloned() {
                return self.run_server_action(action, &server, trace);
            }
        }
        let stop = client_stops || action.stop;
        if stop {
            let mut trace = trace;
            self.make_stop(action, &mut trace);
            self.push_trace(trace);
            return Step::Wait;
        }
        self.push_trace(trace);
        Step::Next(action.default_next().map(str::to_string))
    }

    /// A channel action: a custom action announced in a `debug` trace.
    pub(crate) fn handle_channel_action(&mut self, action: &CustomAction) -> Step {
        let name = action
            .payload
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        self.debug(Some("channel_action"), || format!("__{name}__ - entered"));
        self.handle_custom_action(action)
    }

    /// The trace a custom action emits: `{type, payload, paths, defaultPath}` (§7.2).
    pub(crate) fn custom_trace(&mut self, action: &CustomAction) -> Trace {
        let scope = self.scope();
        let (ty, payload) = if action.trace_form {
            let name = action
                .payload
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let body = match action.payload.get("body") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let body = replace(&body, &scope, false);
            let payload = if action.body_json {
                match serde_json::from_str::<Value>(&body) {
                    Ok(v) => Ok(v),
                    Err(e) => Err((body, e.to_string())),
                }
            } else {
                Ok(Value::String(body))
            };
            (replace(name, &scope, false), payload)
        } else {
            (
                replace(&action.trace_type, &scope, false),
                Ok(replace_deep(&action.payload, &scope, false)),
            )
        };
        let payload = match payload {
            Ok(v) => v,
            Err((raw, err)) => {
                self.debug(Some("trace"), || format!("error parsing as JSON: {err}"));
                Value::String(raw)
            }
        };
        Trace {
            ty,
            payload: Some(Payload::Json(payload)),
            time: self.now_ms,
            paths: Some(action.paths.iter().map(|p| p.public.clone()).collect()),
            default_path: action.default_path.clone(),
            stop_id: None,
            resume: None,
            outside_runtime: false,
        }
    }

    /// A stop for the client: an id (64 bits of the turn's random source) in the trace, and the
    /// pending stop for the turn to record (`crate::stops`), with its deadline when
    /// `config.stopDeadline` asks for one.
    fn make_stop(&mut self, action: &CustomAction, trace: &mut Trace) {
        let id = format!("{:016x}", self.env.rng.next_u64());
        let deadline = self.config.stop_deadline.as_ref();
        let deadline_event = deadline.map(|d| {
            action
                .paths
                .iter()
                .map(|p| &p.public)
                .find(|p| {
                    p.get("label").and_then(Value::as_str) == Some(d.path.as_str())
                        || p.pointer("/event/type").and_then(Value::as_str) == Some(d.path.as_str())
                })
                .and_then(|p| p.get("event").cloned())
                .unwrap_or_else(|| serde_json::json!({ "type": d.path }))
        });
        let stop = PendingStop {
            id: id.clone(),
            action: trace.ty.clone(),
            node_id: self
                .state
                .stack
                .last()
                .and_then(|f| f.node_id.id())
                .map(str::to_string),
            at: self.now_ms,
            deadline: deadline.map(|d| self.now_ms.saturating_add(d.seconds.saturating_mul(1000))),
            deadline_event,
            token_hash: None,
        };
        if let Ok(v) = serde_json::to_value(&stop) {
            self.state.storage.insert(NEW_STOP_KEY.to_string(), v);
        }
        trace.stop_id = Some(id);
    }

    /// The request that arrives while stopped at the action (§7.3).
    fn resume_custom_action(&mut self, action: &CustomAction) -> Step {
        if let Some(request) = self.request.clone() {
            for path in &action.paths {
                if event_matches(&path.event, &request, None) {
                    self.apply_mappings(&path.event);
                    return Step::Next(path.next_id.clone());
                }
            }
        }
        if let Some(step) = self.try_commands() {
            return step;
        }
        Step::Next(action.default_next().map(str::to_string))
    }
}
