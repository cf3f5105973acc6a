//! Helpers shared by engine tests: load agents, run turns deterministically, normalise traces.
#![allow(dead_code)]

use flowdm::engine::expr::MiniJs;
use flowdm::engine::{self, Config, Env, FixedClock, Request, SeededRandom, State, TurnInput, TurnOutput};
use flowdm::model::{load_vfr, load_vfr_file, Project};
use serde_json::Value;
use std::path::Path;

pub const NOW_MS: u64 = 1_723_200_000_000;

pub fn load(path: &str) -> Project {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    match load_vfr_file(&full) {
        Ok((p, _)) => p,
        Err(e) => panic!("cannot load {path}: {e}"),
    }
}

pub fn load_json(doc: Value) -> Project {
    match load_vfr(&doc) {
        Ok((p, _)) => p,
        Err(e) => panic!("cannot load document: {e}"),
    }
}

/// A conversation with one agent, deterministic clock and randomness.
pub struct Session {
    pub project: Project,
    pub state: State,
    pub config: Config,
    pub user: String,
    rng: SeededRandom,
    pub clock: FixedClock,
    pub last_request: Option<Request>,
}

impl Session {
    /// A new user as the stateful API sees it: a stored reset state, then the turns.
    pub fn new(project: Project) -> Session {
        let state = engine::session::generate(&project, None, Some("u1"));
        Session {
            project,
            state,
            config: Config::default(),
            user: "u1".into(),
            rng: SeededRandom::new(7),
            clock: FixedClock(NOW_MS),
            last_request: None,
        }
    }

    pub fn with_config(mut self, config: Value) -> Session {
        self.config = serde_json::from_value(config).expect("valid config");
        self
    }

    pub fn turn_raw(&mut self, request: Value) -> TurnOutput {
        let request = if request.is_null() { None } else { Some(Request::from_value(request).expect("valid request")) };
        let mut env = Env { clock: &self.clock, rng: &mut self.rng, sandbox: &MiniJs };
        let out = engine::interact(
            &self.project,
            TurnInput {
                state: self.state.clone(),
                request,
                config: self.config.clone(),
                user_id: Some(self.user.clone()),
            },
            &mut env,
        );
        self.state = out.state.clone();
        self.last_request = out.request.clone();
        out
    }

    /// Runs a turn and returns its traces, normalised (`time` and Slate ids elided).
    pub fn turn(&mut self, request: Value) -> Value {
        let out = self.turn_raw(request);
        normalize(serde_json::to_value(&out.trace).expect("traces serialise"))
    }

    pub fn var(&self, name: &str) -> Option<&Value> {
        self.state.variables.get(name)
    }
}

/// Replaces `time` and `payload.slate.id` so traces can be compared.
pub fn normalize(mut traces: Value) -> Value {
    if let Some(list) = traces.as_array_mut() {
        for t in list {
            if let Some(o) = t.as_object_mut() {
                o.remove("time");
            }
            if let Some(id) = t.pointer_mut("/payload/slate/id") {
                *id = Value::String("ID".into());
            }
        }
    }
    traces
}

/// The `type`s of a trace list.
pub fn types(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.get("type")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The messages of the text/speak traces.
pub fn messages(traces: &Value) -> Vec<String> {
    traces
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| matches!(t.get("type").and_then(Value::as_str), Some("text" | "speak")))
                .filter_map(|t| t.pointer("/payload/message")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
