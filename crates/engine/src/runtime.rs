//! The runtime: stack and frame loops (`spec/dm-api.md` §6.4–§6.10) over one turn's state.

use super::env::Env;
use super::interpolate::Lookup;
use super::request::{Config, Request};
use super::state::{Frame, NodePtr, State, Vars};
use super::trace::{debug_payload, Trace};
use flowdm_model::{Node, Program, Project};
use serde_json::{json, Value};
use std::sync::Arc;

/// Nodes visited in one frame before the loop gives up (the frame is then popped).
pub const MAX_NODES_PER_FRAME: usize = 401;
/// Frame transitions per turn.
pub const MAX_FRAME_DEPTH: usize = 60;
/// Turn execution time (`ERROR_RESPONSE_MS − 5000`).
pub const TURN_TIMEOUT_MS: u64 = 15_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The first node of a turn that carries a request.
    Request,
    Running,
}

/// What a node handler decided.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Go on with this node (`None` = nothing left in this frame).
    Next(Option<String>),
    /// Stop on this node: the turn ends and the next request resumes here.
    Wait,
    /// No handler claims the node: the frame ends.
    Unhandled,
}

/// Variables as a frame sees them: its locals over the globals.
pub(crate) struct Scope<'s> {
    pub local: &'s Vars,
    pub global: &'s Vars,
}

impl Lookup for Scope<'_> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.local.get(name).or_else(|| self.global.get(name))
    }
}

pub(crate) struct Runtime<'a, 'e> {
    pub project: &'a Project,
    pub config: &'a Config,
    pub env: &'a mut Env<'e>,
    pub state: State,
    /// The runtime request (`launch` is `None` here).
    pub request: Option<Request>,
    pub mode: Mode,
    pub traces: Vec<Trace>,
    /// The turn ended (a node waits, an exit, a limit).
    pub ended: bool,
    /// An exit node ended the conversation (no automatic `end` trace).
    pub exited: bool,
    pub now_ms: u64,
    /// `_memory_` changed and `vf_memory` must be rendered again.
    pub memory_changed: bool,
    /// The top frame's last output, still in its trace `(frame index, trace index)`; copied into
    /// the frame's `storage.output` when the stack changes or the pass ends (one copy per frame
    /// instead of one per output).
    pending_output: Option<(usize, usize)>,
    /// Maximum level of `log` traces (`?logs=`).
    pub log_level: super::logs::LogLevel,
    /// The user of a stateful call (for logs).
    pub user_id: Option<String>,
    stack_version: u64,
    deadline_ms: u64,
    /// [`super::turn::interact_within`]: give up once the clock passes this (checked before
    /// every node); the caller discards the run.
    pub budget_deadline_ms: Option<u64>,
    /// The budget ran out: the run stopped early and its result means nothing.
    pub over_budget: bool,
    want_debug: bool,
    want_block: bool,
    want_flow: bool,
    /// Results of the effects this turn yielded before, in order (the replay log).
    pub effect_results: std::collections::VecDeque<crate::effects::EffectResult>,
    /// The effect this run stopped for: the caller performs it and runs the turn again.
    pub pending_effect: Option<crate::effects::Effect>,
    /// The custom actions the server runs itself.
    pub server_actions: std::sync::Arc<flowdm_model::ServerActions>,
    /// The custom actions this run ran (for the server's metrics).
    pub action_runs: Vec<crate::turn::ActionRun>,
    /// The library of sub-flows (`handlers/subflow.rs`); its programs run by namespaced id.
    pub library: std::sync::Arc<flowdm_model::Library>,
}

impl<'a, 'e> Runtime<'a, 'e> {
    /// Marks the traces made so far as made outside the runtime's execution
    /// ([`Trace::outside_runtime`]).
    pub(crate) fn mark_outside_runtime(&mut self) {
        for t in &mut self.traces {
            t.outside_runtime = true;
        }
    }

    pub fn new(
        project: &'a Project,
        config: &'a Config,
        env: &'a mut Env<'e>,
        state: State,
        request: Option<Request>,
    ) -> Self {
        let now_ms = env.clock.now_ms();
        let mode = if request.is_some() {
            Mode::Request
        } else {
            Mode::Running
        };
        Runtime {
            project,
            config,
            env,
            state,
            request,
            mode,
            traces: Vec::with_capacity(8),
            ended: false,
            exited: false,
            now_ms,
            memory_changed: false,
            pending_output: None,
            log_level: super::logs::LogLevel::Off,
            user_id: None,
            stack_version: 0,
            deadline_ms: now_ms + TURN_TIMEOUT_MS,
            budget_deadline_ms: None,
            over_budget: false,
            // Traces filtered out anyway are not built at all.
            want_debug: !config.excludes("debug"),
            want_block: !config.excludes("block"),
            want_flow: !config.excludes("flow"),
            effect_results: std::collections::VecDeque::new(),
            pending_effect: None,
            server_actions: std::sync::Arc::default(),
            action_runs: Vec::new(),
            library: std::sync::Arc::default(),
        }
    }

    /// Sets the turn's request (after the dialog manager): `Request` mode when there is one.
    pub fn set_request(&mut self, request: Option<Request>) {
        self.mode = if request.is_some() {
            Mode::Request
        } else {
            Mode::Running
        };
        self.request = request;
    }

    /// A program of the agent, else of the library (`lib:<name>@<version>:<diagramID>`).
    pub fn program(&self, id: &str) -> Option<&Arc<Program>> {
        self.project
            .program(id)
            .or_else(|| self.library.program(id))
    }

    // ---- traces -------------------------------------------------------------------------

    pub fn trace(&mut self, ty: &str, payload: Value) {
        self.traces.push(Trace::new(ty, payload, self.now_ms));
    }

    pub fn push_trace(&mut self, mut t: Trace) {
        t.time = self.now_ms;
        self.traces.push(t);
    }

    pub fn debug(&mut self, node_type: Option<&str>, message: impl FnOnce() -> String) {
        if self.want_debug {
            let payload = debug_payload(node_type, &message());
            self.trace("debug", payload);
        }
    }

    pub fn path_trace(&mut self, path: &str) {
        self.trace("path", json!({ "path": path }));
    }

    // ---- variables ----------------------------------------------------------------------

    pub fn scope(&self) -> Scope<'_> {
        static EMPTY: std::sync::OnceLock<Vars> = std::sync::OnceLock::new();
        let local = match self.state.stack.last() {
            Some(f) => &f.variables,
            None => EMPTY.get_or_init(Vars::new),
        };
        Scope {
            local,
            global: &self.state.variables,
        }
    }

    pub fn var(&self, name: &str) -> Option<&Value> {
        self.state
            .stack
            .last()
            .and_then(|f| f.variables.get(name))
            .or_else(|| self.state.variables.get(name))
    }

    /// Writes a variable the way the combined store is saved back (§6.8): to the frame if it
    /// has it locally, else to the globals if they have it, else to the frame.
    pub fn set_var(&mut self, name: &str, value: Value) {
        let global_has = self.state.variables.contains_key(name);
        match self.state.stack.last_mut() {
            Some(f) if f.variables.contains_key(name) || !global_has => {
                f.variables.insert(name.to_string(), value);
            }
            _ => {
                self.state.variables.insert(name.to_string(), value);
            }
        }
    }

    /// Removes a variable (JavaScript `undefined`), wherever the frame sees it.
    pub fn unset_var(&mut self, name: &str) {
        if let Some(f) = self.state.stack.last_mut() {
            if f.variables.shift_remove(name).is_some() {
                return;
            }
        }
        self.state.variables.shift_remove(name);
    }

    /// The combined variables of the top frame, as one map (for the script sandbox).
    pub fn combined_vars(&self) -> Vars {
        let mut all = self.state.variables.clone();
        if let Some(f) = self.state.stack.last() {
            for (k, v) in &f.variables {
                all.insert(k.clone(), v.clone());
            }
        }
        all
    }

    // ---- storage ------------------------------------------------------------------------

    pub fn storage_num(&self, key: &str) -> Option<f64> {
        self.state.storage.get(key).and_then(Value::as_f64)
    }

    pub fn top_frame_mut(&mut self) -> Option<&mut Frame> {
        self.state.stack.last_mut()
    }

    // ---- stack --------------------------------------------------------------------------

    /// Marks the trace just emitted as the top frame's last output (for repeats, §6.10).
    pub fn set_output(&mut self) {
        let (Some(frame), Some(trace)) = (
            self.state.stack.len().checked_sub(1),
            self.traces.len().checked_sub(1),
        ) else {
            return;
        };
        if matches!(self.pending_output, Some((f, _)) if f != frame) {
            self.flush_output();
        }
        self.pending_output = Some((frame, trace));
    }

    /// Copies the pending last output into its frame's storage.
    pub fn flush_output(&mut self) {
        let Some((frame, trace)) = self.pending_output.take() else {
            return;
        };
        let output = self.traces.get(trace).and_then(Trace::output);
        if let (Some(output), Some(frame)) = (output, self.state.stack.get_mut(frame)) {
            super::state::set_key(&mut frame.storage, "output", output);
        }
    }

    fn stack_changed(&mut self) {
        self.stack_version += 1;
        if !self.want_flow {
            return;
        }
        let Some(top) = self.state.stack.last() else {
            return;
        };
        if top.is_base() || top.diagram_id == self.project.version.id {
            return;
        }
        let mut payload = json!({ "diagramID": top.diagram_id });
        if top.hydrated {
            if let Some(name) = self.program(&top.diagram_id).and_then(|p| p.name.clone()) {
                payload["name"] = name.into();
            }
        }
        self.trace("flow", payload);
    }

    pub fn push_frame(&mut self, frame: Frame) {
        self.flush_output();
        self.state.stack.push(frame);
        self.stack_changed();
    }

    pub fn pop_frame(&mut self) -> Option<Frame> {
        self.flush_output();
        let f = self.state.stack.pop();
        self.stack_changed();
        f
    }

    /// Keeps frames `[0, len)`.
    pub fn pop_to(&mut self, len: usize) {
        self.flush_output();
        self.state.stack.truncate(len);
        self.stack_changed();
    }

    pub fn flush_stack(&mut self) {
        self.flush_output();
        self.state.stack.clear();
        self.stack_changed();
    }

    pub fn end_turn(&mut self) {
        self.ended = true;
    }

    /// The next result of the effect log, for the step that yielded it on an earlier run.
    pub(crate) fn take_effect_result(&mut self) -> Option<crate::effects::EffectResult> {
        self.effect_results.pop_front()
    }

    /// Stops the run for `effect` (the step waits; the caller runs the turn again with its
    /// result).
    pub(crate) fn suspend(&mut self, effect: crate::effects::Effect) {
        self.pending_effect = Some(effect);
        self.end_turn();
    }

    // ---- the loops ----------------------------------------------------------------------

    /// Runtime.update (§6.4): base-frame injection, then the frame loop, then the `end` hook.
    pub fn update(&mut self) {
        let version_id = &self.project.version.id;
        let needs_base = self
            .state
            .stack
            .first()
            .map(|f| &f.diagram_id != version_id)
            .unwrap_or(true);
        if needs_base {
            if let Some(base) = self.project.base_program() {
                let mut frame = Frame::new(version_id.clone());
                frame.node_id = NodePtr::Null;
                frame.commands = base.commands_raw.clone();
                frame.storage.insert("isBase".into(), Value::Bool(true));
                self.state.stack.insert(0, frame);
                self.stack_changed();
            }
        }
        self.cycle_stack();
        self.flush_output();
        if self.state.stack.is_empty() && !self.exited {
            self.traces.push(Trace {
                ty: "end".into(),
                payload: None,
                time: self.now_ms,
                paths: None,
                default_path: None,
                stop_id: None,
                resume: None,
                outside_runtime: false,
            });
        }
    }

    fn hydrate(&mut self, program: &Program) {
        let Some(frame) = self.state.stack.last_mut() else {
            return;
        };
        if frame.hydrated {
            return;
        }
        frame.hydrated = true;
        frame.commands = program.commands_raw.clone();
        for name in &program.variables {
            frame
                .variables
                .entry(name.clone())
                .or_insert(Value::from(0));
        }
        if frame.node_id.is_unset() {
            frame.node_id = NodePtr::from_opt(program.start_id.as_deref());
        }
    }

    fn cycle_stack(&mut self) {
        let mut depth = 0;
        loop {
            if self.state.stack.is_empty() || depth > MAX_FRAME_DEPTH {
                self.end_turn();
                return;
            }
            let Some(top) = self.state.stack.last() else {
                return;
            };
            if top.diagram_id == self.project.version.id {
                // All flows finished: the conversation is over.
                self.flush_stack();
                self.end_turn();
                return;
            }
            let Some(program) = self.program(&top.diagram_id).cloned() else {
                let missing = top_diagram(&self.state);
                self.debug(None, || format!("no program for diagram {missing}"));
                self.end_turn();
                return;
            };
            self.hydrate(&program);
            let before = self.stack_version;
            self.cycle_handler(&program);
            if self.ended {
                return;
            }
            if self.stack_version == before {
                if let Some(finished) = self.pop_frame() {
                    self.frame_did_finish(finished);
                }
            }
            depth += 1;
        }
    }

    /// A frame finished: re-prompt after a push command (§6.10) and copy flow outputs (§5.6.14).
    fn frame_did_finish(&mut self, finished: Frame) {
        self.subflow_finished(&finished);
        if let Some(top) = self.state.stack.last_mut() {
            if top.storage.shift_remove("calledCommand").is_some() {
                if let Some(output) = top.storage.get("output").cloned() {
                    self.repeat_output(&output);
                }
            }
        }
        let Some(Value::Array(pairs)) = finished.storage.get("outputMap") else {
            return;
        };
        let child = Scope {
            local: &finished.variables,
            global: &self.state.variables,
        };
        let values: Vec<(String, Value)> = pairs
            .iter()
            .filter_map(|p| {
                let child_var = p.get(0)?.as_str()?;
                let parent_var = p.get(1)?.as_str()?;
                Some((parent_var.to_string(), child.lookup(child_var)?.clone()))
            })
            .collect();
        if let Some(parent) = self.state.stack.last_mut() {
            for (k, v) in values {
                parent.variables.insert(k, v);
            }
        }
    }

    fn cycle_handler(&mut self, program: &Arc<Program>) {
        let frame_index = self.state.stack.len() - 1;
        let mut node: Option<&Node> = self.state.stack[frame_index]
            .node_id
            .id()
            .and_then(|id| program.node(id));
        let mut pending: Option<String> = None;
        for visited in 0..MAX_NODES_PER_FRAME {
            // The clock is read before every node under a caller's budget, else every 8 nodes
            // (plenty for the 15 s turn timeout).
            let timeout_due = visited % 8 == 0;
            if timeout_due || self.budget_deadline_ms.is_some() {
                let now = self.env.clock.now_ms();
                if self.budget_deadline_ms.is_some_and(|budget| now > budget) {
                    self.over_budget = true;
                    self.end_turn();
                    return;
                }
                if timeout_due && now > self.deadline_ms {
                    self.debug(None, || {
                        "ERROR: turn timeout - check for infinite loops".into()
                    });
                    self.end_turn();
                    return;
                }
            }
            if let Some(id) = pending.take() {
                node = program.node(&id);
                if let Some(frame) = self.state.stack.get_mut(frame_index) {
                    frame.node_id = NodePtr::At(id);
                }
            }
            let Some(current) = node else { return };
            let before = self.stack_version;
            let step = self.handle(current);
            self.mode = Mode::Running;
            match step {
                Step::Wait => {
                    self.end_turn();
                    return;
                }
                Step::Next(Some(ref id)) if *id == current.id => {
                    self.end_turn();
                    return;
                }
                Step::Next(next) => {
                    if next.is_none() || self.ended || self.stack_version != before {
                        return;
                    }
                    pending = next;
                }
                Step::Unhandled => return,
            }
        }
        // Too many nodes in one frame: the loop gives up and the frame is popped (§6.14).
        self.debug(None, || {
            format!("node limit of {MAX_NODES_PER_FRAME} reached in one flow - check for infinite loops")
        });
    }

    /// `{stepID, componentName}` of a node of the current frame's program, or `null`.
    pub fn path_ref(&self, next: Option<&str>) -> Value {
        let node = next.and_then(|id| {
            let frame = self.state.stack.last()?;
            self.program(&frame.diagram_id)?.node(id)
        });
        match node {
            Some(n) => Value::Object(super::logs::step_ref(n)),
            None => Value::Null,
        }
    }

    /// The `block` trace emitted before every handled node.
    pub fn block_trace(&mut self, node: &Node) {
        if self.want_block && node.type_name != "goTo" {
            self.trace("block", json!({ "blockID": node.id }));
        }
    }
}

fn top_diagram(state: &State) -> String {
    state
        .stack
        .last()
        .map(|f| f.diagram_id.clone())
        .unwrap_or_default()
}
