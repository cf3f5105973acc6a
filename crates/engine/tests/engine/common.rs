//! Helpers shared by engine tests: load agents, run turns deterministically, normalise traces.
#![allow(dead_code)]

use flowdm_actions::sandbox::QuickJs;
use flowdm_engine::{
    self as engine, Agent, Config, Env, FixedClock, Request, SeededRandom, State, TurnInput,
    TurnOutput,
};
use flowdm_model::{load_vfr, load_vfr_file, Project};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[path = "../../../../tests/support/traces.rs"]
mod traces;
#[allow(unused_imports)]
pub use traces::{messages, types};

pub const NOW_MS: u64 = 1_723_200_000_000;

/// The repository's root (the workspace), where `diagrams/` and `../shared` are.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads an agent file (path from the repository's root): `.vfr` as it is, `.vf` compiled first.
pub fn load(path: &str) -> Project {
    let full = repo_root().join(path);
    let loaded = if full.extension().and_then(|e| e.to_str()) == Some("vf") {
        let compiled = flowdm_compile::compile_file(&full)
            .unwrap_or_else(|e| panic!("cannot compile {path}: {e}"));
        load_vfr(&compiled.vfr)
    } else {
        load_vfr_file(&full)
    };
    match loaded {
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
    pub project: Agent,
    pub state: State,
    pub config: Config,
    pub user: String,
    rng: SeededRandom,
    pub clock: FixedClock,
    pub last_request: Option<Request>,
    /// Given to the next turn only (`TurnInput::nlu_hint`).
    pub nlu_hint: Option<flowdm_engine::ExternalRanking>,
    /// The effect log of the next turn (`TurnInput::effects`).
    pub effects: Vec<flowdm_engine::EffectResult>,
}

impl Session {
    /// A new user as the stateful API sees it: a stored reset state, then the turns.
    pub fn new(project: impl Into<Agent>) -> Session {
        let project: Agent = project.into();
        let state = engine::session::generate(&project, None, Some("u1"));
        Session {
            project,
            state,
            config: Config::default(),
            user: "u1".into(),
            rng: SeededRandom::new(7),
            clock: FixedClock(NOW_MS),
            last_request: None,
            nlu_hint: None,
            effects: Vec::new(),
        }
    }

    pub fn with_config(mut self, config: Value) -> Session {
        self.config = serde_json::from_value(config).expect("valid config");
        self
    }

    pub fn turn_raw(&mut self, request: Value) -> TurnOutput {
        let request = if request.is_null() {
            None
        } else {
            Some(Request::from_value(request).expect("valid request"))
        };
        let mut env = env(&self.clock, &mut self.rng);
        let out = engine::interact(
            &self.project,
            TurnInput {
                state: self.state.clone(),
                request,
                config: self.config.clone(),
                user_id: Some(self.user.clone()),
                logs: Default::default(),
                nlu_hint: self.nlu_hint.take(),
                effects: std::mem::take(&mut self.effects),
                actions: None,
                library: None,
            },
            &mut env,
        );
        if out.effect.is_some() {
            // Stopped for an effect: nothing of this run is kept.
            return out;
        }
        self.state = out.state.clone();
        self.last_request = out.request.clone();
        // Every state of every test conversation: the stores' size bound holds.
        let size = serde_json::to_vec(&self.state).expect("state").len();
        assert!(
            self.state.json_size_bound() >= size,
            "size bound below {size}"
        );
        out
    }

    /// Runs a turn as the server does: every effect it stops for is answered by `answer` and
    /// the turn runs again from the same input (and the same random draws) with the results so
    /// far. Returns the final traces (normalised) and the effects, in order.
    pub fn turn_with_effects(
        &mut self,
        request: Value,
        mut answer: impl FnMut(&flowdm_engine::Effect) -> flowdm_engine::EffectResult,
    ) -> (Value, Vec<flowdm_engine::Effect>) {
        let rng = self.rng.clone();
        let mut effects = Vec::new();
        let mut results = Vec::new();
        loop {
            self.rng = rng.clone();
            self.effects = results.clone();
            let out = self.turn_raw(request.clone());
            match out.effect {
                Some(effect) => {
                    assert!(effects.len() < 20, "an effect loop: {effects:?}");
                    results.push(answer(&effect));
                    effects.push(effect);
                }
                None => {
                    let traces = normalize(serde_json::to_value(&out.trace).expect("traces"));
                    return (traces, effects);
                }
            }
        }
    }

    /// Runs a turn and returns its traces, normalised (`time` and Slate ids elided). Effects
    /// fail as on a server with no AI provider, no knowledge base and no outbound access.
    pub fn turn(&mut self, request: Value) -> Value {
        self.turn_with_effects(request, unavailable).0
    }

    pub fn var(&self, name: &str) -> Option<&Value> {
        self.state.variables.get(name)
    }
}

/// The result of an effect on a server with nothing configured.
pub fn unavailable(effect: &flowdm_engine::Effect) -> flowdm_engine::EffectResult {
    use flowdm_engine::{Effect, EffectResult};
    match effect {
        Effect::Http(_) => {
            EffectResult::Http(Err("outbound calls are refused in this test".into()))
        }
        Effect::Llm(_) => EffectResult::Llm(Err("no AI provider is configured".into())),
        Effect::Kb(_) => EffectResult::Kb(Err("no knowledge base is configured".into())),
    }
}

/// Replaces `time`, `stopID` and `payload.slate.id` so traces can be compared.
pub fn normalize(mut traces: Value) -> Value {
    if let Some(list) = traces.as_array_mut() {
        for t in list {
            if let Some(o) = t.as_object_mut() {
                o.remove("time");
                // A stop's id is random (tests/engine/stops.rs reads the raw one).
                if let Some(id) = o.get_mut("stopID") {
                    *id = Value::String("STOP".into());
                }
            }
            if let Some(id) = t.pointer_mut("/payload/slate/id") {
                *id = Value::String("ID".into());
            }
        }
    }
    traces
}

/// A one-diagram chat agent from inline nodes: root diagram `D` (start node `start`), base
/// program `V` with `global_commands`, extra diagrams as `{id: {lines, commands?, variables?}}`,
/// function definitions as `functions`.
pub fn agent(lines: Value, extra: Value) -> Project {
    let mut programs = serde_json::Map::new();
    programs.insert(
        "V".into(),
        serde_json::json!({ "id": "V", "startId": "", "lines": {}, "commands": extra.get("globalCommands").cloned().unwrap_or(serde_json::json!([])), "variables": [] }),
    );
    programs.insert(
        "D".into(),
        serde_json::json!({ "id": "D", "name": "Home", "startId": "start", "lines": lines,
            "commands": extra.get("commands").cloned().unwrap_or(serde_json::json!([])),
            "variables": extra.get("localVariables").cloned().unwrap_or(serde_json::json!([])) }),
    );
    if let Some(Value::Object(diagrams)) = extra.get("diagrams") {
        for (id, d) in diagrams {
            let mut p = d.clone();
            p["id"] = Value::String(id.clone());
            if p.get("startId").is_none() {
                p["startId"] = "start".into();
            }
            programs.insert(id.clone(), p);
        }
    }
    let doc = serde_json::json!({
        "project": { "_id": "P", "name": "Test", "type": extra.get("projectType").cloned().unwrap_or("chat".into()), "platform": "webchat", "devVersion": "V", "liveVersion": "V",
            "aiAssistSettings": extra.get("aiAssistSettings").cloned().unwrap_or(serde_json::json!({})) },
        "version": {
            "_id": "V", "projectID": "P", "rootDiagramID": "D",
            "variables": extra.get("variables").cloned().unwrap_or(serde_json::json!(["sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"])),
            "platformData": { "settings": extra.get("settings").cloned().unwrap_or(serde_json::json!({})) },
            "settings": extra.get("versionSettings").cloned().unwrap_or(serde_json::json!({})),
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Test", "locales": ["en-US"] },
                "model": extra.get("model").cloned().unwrap_or(serde_json::json!({ "intents": [], "slots": [] })),
                "context": { "variables": extra.get("context").cloned().unwrap_or(serde_json::json!({})) },
                "surveyorContext": { "functionDefinitions": extra.get("functions").cloned().unwrap_or(serde_json::json!({})) } }
        },
        "programs": programs
    });
    load_json(doc)
}

/// A text node.
pub fn text_node(message: &str, next: Option<&str>) -> Value {
    serde_json::json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": message } ] } ] } ], "nextId": next })
}

/// A clock that moves `step` milliseconds each time it is read.
pub struct TickingClock {
    now: std::sync::atomic::AtomicU64,
    step: u64,
}

impl TickingClock {
    pub fn new(step: u64) -> TickingClock {
        TickingClock {
            now: std::sync::atomic::AtomicU64::new(0),
            step,
        }
    }
}

impl flowdm_engine::Clock for TickingClock {
    fn now_ms(&self) -> u64 {
        self.now
            .fetch_add(self.step, std::sync::atomic::Ordering::Relaxed)
    }
}

/// An engine environment with this clock and random source, and the QuickJS sandbox.
pub fn env<'a>(clock: &'a dyn flowdm_engine::Clock, rng: &'a mut SeededRandom) -> Env<'a> {
    Env {
        clock,
        rng,
        sandbox: &QuickJs,
    }
}

/// A provider's answer saying `content` (AI step tests).
pub fn reply(content: &str) -> flowdm_engine::EffectResult {
    flowdm_engine::EffectResult::Llm(Ok(flowdm_engine::LlmResponse {
        content: content.into(),
        ..flowdm_engine::LlmResponse::default()
    }))
}

/// The chat request of an effect (panics on another kind).
pub fn llm(effect: &flowdm_engine::Effect) -> &flowdm_engine::LlmRequest {
    match effect {
        flowdm_engine::Effect::Llm(r) => r,
        other => panic!("not an LLM call: {other:?}"),
    }
}

/// A knowledge-base chunk of document `source`.
pub fn chunk(content: &str, source: &str) -> flowdm_engine::KbChunk {
    flowdm_engine::KbChunk {
        score: 3.5,
        chunk_id: format!("{source}:0"),
        document_id: source.into(),
        content: content.into(),
        source: source.into(),
    }
}

/// A chat request's messages as `(role, content)`.
pub fn roles(request: &flowdm_engine::LlmRequest) -> Vec<(&str, &str)> {
    request
        .messages
        .iter()
        .map(|m| (m.role.as_str(), m.content.as_str()))
        .collect()
}
