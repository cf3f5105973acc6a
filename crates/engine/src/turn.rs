//! One interact call: init → NLU → runtime → post-processing, repeated by auto-delegation
//! (`spec/dm-api.md` §6.1, §6.15).

use super::agent::Agent;
use super::dm::Dialog;
use super::effects::{Effect, EffectResult};
use super::env::Env;
use super::logs::LogLevel;
use super::request::{Config, Request};
use super::runtime::Runtime;
use super::session;
use super::state::State;
use super::stops;
use super::trace::{post_process, Trace};
use flowdm_model::NodeKind;
use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::semantic::ExternalRanking;
use flowdm_nlu::text::words;
use flowdm_nlu::{Source, NONE_INTENT};
use serde_json::{json, Value};
use std::collections::VecDeque;

/// Pipeline passes per call (the first run plus two delegated `goto` requests).
pub const MAX_DELEGATIONS: usize = 3;

/// The input of one interact call.
#[derive(Debug, Clone, Default)]
pub struct TurnInput {
    /// The session state (empty = new session).
    pub state: State,
    pub request: Option<Request>,
    pub config: Config,
    pub user_id: Option<String>,
    /// Maximum level of `log` traces (`?logs=`); off by default.
    pub logs: LogLevel,
    /// An intent ranking of the request's text made before the turn (by the server, from an
    /// embeddings provider), combined with the local classifier's; used only for a `text`
    /// request with exactly its text. `None`: the local classifier alone.
    pub nlu_hint: Option<ExternalRanking>,
    /// The results of the effects earlier runs of this turn stopped for, in order
    /// ([`crate::effects`]); empty on the first run.
    pub effects: Vec<EffectResult>,
    /// The custom actions the server runs for this turn (the server's current registry
    /// snapshot); `None`: the agent's ([`Agent::actions`]).
    pub actions: Option<std::sync::Arc<flowdm_model::ServerActions>>,
    /// The library of sub-flows for this turn (the server's current snapshot); `None`: the
    /// agent's ([`Agent::library`]).
    pub library: Option<std::sync::Arc<flowdm_model::Library>>,
}

/// The result: the new state, the traces, and the request as finally processed — or, when
/// `effect` is set, a turn stopped for an effect: the traces so far, and a state that must not
/// be committed; run the turn again with the effect's result appended to `effects`.
#[derive(Debug, Clone)]
pub struct TurnOutput {
    pub state: State,
    pub trace: Vec<Trace>,
    pub request: Option<Request>,
    pub effect: Option<Effect>,
    /// The custom actions the server ran in this turn (for its metrics; never rendered).
    pub actions: Vec<ActionRun>,
}

/// A custom action the server ran in a turn: its handler (`webhook`, `javascript`, `url`,
/// `subflow`) and result: `path` (its answer named one of the step's paths), `default` (no
/// answer, or one naming no path: the step's default path), `error` (it failed, or a webhook
/// could not be called: the step's `error` path if any, else its default path), `started` (a
/// sub-flow, which runs as the turn's frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionRun {
    pub handler: &'static str,
    pub result: &'static str,
}

/// Runs one interact call.
pub fn interact(agent: &Agent, input: TurnInput, env: &mut Env<'_>) -> TurnOutput {
    match run(agent, input, env, None) {
        Ok(out) => out,
        Err(OverBudget) => unreachable!("a run without a budget never stops early"),
    }
}

/// The run stopped because the caller's budget ran out; nothing of it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

/// Runs one interact call unless the clock passes `budget_deadline_ms` first (checked before
/// every node): then it stops at once with [`OverBudget`] and its work is thrown away, so the
/// caller can run the same input again without a budget elsewhere (the engine is pure: an
/// abandoned run changed nothing). The server runs every turn this way on its HTTP worker with
/// a small budget, and only the turns that exceed it on the blocking pool.
pub fn interact_within(
    agent: &Agent,
    input: TurnInput,
    env: &mut Env<'_>,
    budget_deadline_ms: u64,
) -> Result<TurnOutput, OverBudget> {
    run(agent, input, env, Some(budget_deadline_ms))
}

/// One interact call with the session's stops (`crate::stops`): the pending traces first; a
/// pending stop past its deadline resumes on its path first (a request naming that very stop is
/// then answered by it and not run); the pending stop is recorded as resumed by the request; the
/// stop the turn makes becomes the pending one.
fn run(
    agent: &Agent,
    input: TurnInput,
    env: &mut Env<'_>,
    budget_deadline_ms: Option<u64>,
) -> Result<TurnOutput, OverBudget> {
    let TurnInput {
        mut state,
        request,
        config,
        user_id,
        logs,
        nlu_hint,
        effects,
        actions,
        library,
    } = input;
    let actions = actions.unwrap_or_else(|| agent.actions.clone());
    let library = library.unwrap_or_else(|| agent.library.clone());
    let mut stops = stops::take(&mut state);
    let mut effects: VecDeque<EffectResult> = effects.into();
    let mut traces = std::mem::take(&mut stops.traces);
    let mut actions_run = Vec::new();
    let now_ms = env.clock.now_ms();
    let mut request = Some(request);
    let named = stops::named(request.as_ref().and_then(Option::as_ref)).map(str::to_string);
    let mut sub = |state: State, request: Option<Request>, env: &mut Env<'_>| {
        run_request(
            agent,
            state,
            request,
            &config,
            user_id.as_deref(),
            logs,
            nlu_hint.as_ref(),
            &mut effects,
            &actions,
            &library,
            env,
            budget_deadline_ms,
        )
    };
    if let Some(stop) = stops.pending.take_if(|p| stops::expired(p, now_ms)) {
        let resumed_by = stops::deadline_request(&stop);
        if named.as_deref() == Some(stop.id.as_str()) {
            // The request resumes the stop its deadline already resumed: answered by that.
            request = None;
        }
        stops.resume(stop, resumed_by.as_ref(), now_ms, "deadline");
        let mut out = sub(state, resumed_by, env)?;
        traces.append(&mut out.trace);
        actions_run.append(&mut out.actions);
        if out.effect.is_some() {
            // Not committed: the turn runs again with the effect's result.
            out.trace = traces;
            out.actions = actions_run;
            return Ok(out);
        }
        state = out.state;
        stops.pending = stops::take_new(&mut state);
    }
    let Some(request) = request else {
        stops::put(&mut state, &stops);
        return Ok(TurnOutput {
            state,
            trace: traces,
            request: None,
            effect: None,
            actions: actions_run,
        });
    };
    let pending = stops.pending.take();
    // The request that resumes the pending stop, recorded with it (no copy without one).
    let event = pending.as_ref().and_then(|_| request.clone());
    let mut out = sub(state, request, env)?;
    traces.append(&mut out.trace);
    out.trace = traces;
    actions_run.append(&mut out.actions);
    out.actions = actions_run;
    let new = stops::take_new(&mut out.state);
    if let Some(stop) = pending {
        if new.is_none() && still_waits(&out.state, &stop) {
            // Not resumed (an `action` request, an entity prompt, a default path to itself).
            stops.pending = Some(stop);
        } else {
            stops.resume(stop, event.as_ref(), now_ms, "request");
        }
    }
    if new.is_some() {
        stops.pending = new;
    }
    stops::put(&mut out.state, &stops);
    Ok(out)
}

/// Whether the session still waits on the node of `stop`.
fn still_waits(state: &State, stop: &stops::PendingStop) -> bool {
    let top = state.stack.last().and_then(|f| f.node_id.id());
    top.is_some() && top == stop.node_id.as_deref()
}

// One argument per part of the turn; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn run_request(
    agent: &Agent,
    mut state: State,
    mut request: Option<Request>,
    config: &Config,
    user_id: Option<&str>,
    logs: LogLevel,
    nlu_hint: Option<&ExternalRanking>,
    effects: &mut VecDeque<EffectResult>,
    actions: &std::sync::Arc<flowdm_model::ServerActions>,
    library: &std::sync::Arc<flowdm_model::Library>,
    env: &mut Env<'_>,
    budget_deadline_ms: Option<u64>,
) -> Result<TurnOutput, OverBudget> {
    let mut traces = Vec::new();
    let mut actions_run = Vec::new();
    for pass in 0..MAX_DELEGATIONS {
        let (next_state, pass_traces, final_request, effect, mut pass_actions) = run_pass(
            agent,
            state,
            request,
            config,
            user_id,
            logs,
            nlu_hint,
            effects,
            actions,
            library,
            env,
            budget_deadline_ms,
        )?;
        state = next_state;
        request = final_request;
        actions_run.append(&mut pass_actions);
        if effect.is_some() {
            traces.extend(pass_traces.into_iter().filter(|t| t.ty != "goto"));
            return Ok(TurnOutput {
                state,
                trace: traces,
                request,
                effect,
                actions: actions_run,
            });
        }
        if config.self_delegate() {
            traces.extend(pass_traces);
            break;
        }
        let mut delegated: Option<Value> = None;
        for t in pass_traces {
            let goto = (t.ty == "goto")
                .then(|| t.payload.as_ref().and_then(|p| p.get("request")).cloned())
                .flatten();
            match goto {
                Some(r) => delegated = Some(r),
                None => traces.push(t),
            }
        }
        let Some(next) = delegated.and_then(|r| Request::from_value(r).ok()) else {
            break;
        };
        request = Some(next);
        if pass + 1 == MAX_DELEGATIONS {
            break;
        }
    }
    Ok(TurnOutput {
        state,
        trace: traces,
        request,
        effect: None,
        actions: actions_run,
    })
}

// One argument per part of the pass; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    agent: &Agent,
    state: State,
    request: Option<Request>,
    config: &Config,
    user_id: Option<&str>,
    logs: LogLevel,
    nlu_hint: Option<&ExternalRanking>,
    effects: &mut VecDeque<EffectResult>,
    actions: &std::sync::Arc<flowdm_model::ServerActions>,
    library: &std::sync::Arc<flowdm_model::Library>,
    env: &mut Env<'_>,
    budget_deadline_ms: Option<u64>,
) -> Result<Pass, OverBudget> {
    let project = &agent.project;
    let now_ms = env.clock.now_ms();
    let state = session::init(project, state, request.as_ref(), user_id, now_ms);
    let understood = request.map(|r| understand(agent, library, &state, r, nlu_hint, now_ms));
    let request = match understood {
        Some((r, Some(ranking))) => {
            match crate::llm_nlu::classify(agent, r, &ranking, effects, now_ms) {
                crate::llm_nlu::Classified::Request(r) => Some(r),
                crate::llm_nlu::Classified::Pending(effect) => {
                    return Ok((state, Vec::new(), None, Some(effect), Vec::new()))
                }
            }
        }
        Some((r, None)) => Some(r),
        None => None,
    };

    let mut rt = Runtime::new(project, config, env, state, None);
    rt.server_actions = actions.clone();
    rt.library = library.clone();
    rt.log_level = logs;
    rt.user_id = user_id.map(str::to_string);
    rt.budget_deadline_ms = budget_deadline_ms;
    if let Some(said) = request.as_ref().and_then(said) {
        rt.remember("user", said);
    }
    // The dialog manager (§8.4) may replace the request, or ask for an entity and skip the
    // runtime for this pass.
    let request = match request {
        Some(r) => match rt.dialog(&agent.nlu, r) {
            Dialog::Continue(r) => Some(r),
            Dialog::Asked(r) => {
                rt.mark_outside_runtime();
                rt.render_memory();
                let traces = post_process(std::mem::take(&mut rt.traces), config);
                let actions = std::mem::take(&mut rt.action_runs);
                return Ok((rt.state, traces, Some(r), None, actions));
            }
        },
        None => None,
    };
    rt.set_request(request.clone().filter(|r| !r.is_launch()));
    session::apply_builtins(&mut rt.state.variables, request.as_ref(), user_id, now_ms);
    if let Some(r) = &request {
        if let Some(name) = r.intent_name() {
            let confidence = rt
                .state
                .variables
                .get("intent_confidence")
                .and_then(Value::as_f64)
                .unwrap_or(100.0);
            let name = name.to_string();
            rt.debug(Some("intent"), || {
                format!("matched intent **{name}** - confidence interval _{confidence:.2}%_")
            });
        }
    }
    // Everything so far (the dialog manager's traces, the intent debug trace) was made
    // outside the runtime's execution.
    rt.mark_outside_runtime();
    rt.effect_results = std::mem::take(effects);
    if request.as_ref().map(|r| r.ty() != "action").unwrap_or(true) {
        rt.update();
    }
    if rt.over_budget {
        return Err(OverBudget);
    }
    *effects = std::mem::take(&mut rt.effect_results);
    let effect = rt.pending_effect.take();
    rt.render_memory();
    let traces = post_process(std::mem::take(&mut rt.traces), config);
    let actions = std::mem::take(&mut rt.action_runs);
    Ok((rt.state, traces, request, effect, actions))
}

/// A pass's new state, traces, final request, the effect it stopped for, and the custom actions
/// it ran.
type Pass = (
    State,
    Vec<Trace>,
    Option<Request>,
    Option<Effect>,
    Vec<ActionRun>,
);

/// What the user said, for the AI memory: an intent's query or a button's label.
fn said(r: &Request) -> Option<&str> {
    r.query()
        .filter(|q| r.is_intent() && !q.is_empty())
        .or_else(|| r.path_label())
}

/// Text → request (§8.2): strict NLC, then a button of the waiting node named like the text,
/// then the classifier (combined with `hint` when it ranks this text) above the threshold,
/// open-slot NLC, or `None`. With the classifier's ranking when the classifier decided (an
/// LLM classification may then choose again, `llm_nlu`).
fn understand(
    agent: &Agent,
    library: &flowdm_model::Library,
    state: &State,
    request: Request,
    hint: Option<&ExternalRanking>,
    now_ms: u64,
) -> (Request, Option<Vec<(String, f64)>>) {
    if request.ty() != "text" {
        return (request, None);
    }
    let Some(text) = request
        .payload()
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return (request, None);
    };
    if text.is_empty() {
        // `None` without a confidence (§8.2 step 1).
        return (Request::intent(NONE_INTENT, "", vec![], None), None);
    }
    let cx = ExtractContext {
        now_ms: Some(now_ms),
    };
    let mut prediction = agent.nlu.predict_with(&text, &cx, hint);
    if prediction.source != Source::Nlc {
        if let Some(button) = waiting_button(agent, library, state, &text) {
            match button.get("payload").and_then(Value::as_str) {
                // A button that sends text: what it sends is understood instead.
                Some(sent) if button.get("type").and_then(Value::as_str) == Some("text") => {
                    prediction = agent.nlu.predict(sent, &cx);
                }
                _ => {
                    if let Ok(r) = Request::from_value(button) {
                        return (r, None);
                    }
                }
            }
        }
    }
    let entities = prediction
        .entities
        .iter()
        .map(|e| json!({ "name": e.name, "value": e.value }))
        .collect();
    let ranking = (prediction.source != Source::Nlc).then_some(prediction.intents);
    (
        Request::intent(&prediction.intent, &text, entities, prediction.confidence),
        ranking,
    )
}

/// The request of a button (of the node the session waits on) whose name equals `text`.
fn waiting_button(
    agent: &Agent,
    library: &flowdm_model::Library,
    state: &State,
    text: &str,
) -> Option<Value> {
    let frame = state.stack.last()?;
    let node = agent
        .project
        .program(&frame.diagram_id)
        .or_else(|| library.program(&frame.diagram_id))?
        .node(frame.node_id.id()?)?;
    // Words only: case, spacing and punctuation ("Vanilla." for "Vanilla") do not matter.
    let wanted = words(text);
    if wanted.is_empty() {
        return None;
    }
    let find = |buttons: &[Value]| {
        buttons
            .iter()
            .find(|b| b.get("name").and_then(Value::as_str).map(words).as_ref() == Some(&wanted))
            .and_then(|b| b.get("request").cloned())
    };
    // Exhaustive: a new kind with buttons must be listed here.
    match &node.kind {
        NodeKind::Interaction(n) => find(&n.buttons),
        NodeKind::Capture(n) => find(&n.buttons),
        NodeKind::CardV2(n) => find(&n.card.buttons),
        NodeKind::Carousel(n) => n.cards.iter().find_map(|c| find(&c.buttons)),
        NodeKind::Speak(_)
        | NodeKind::GoTo(_)
        | NodeKind::CaptureV2(_)
        | NodeKind::Reset
        | NodeKind::Stream(_)
        | NodeKind::Code(_)
        | NodeKind::Exit
        | NodeKind::Flow(_)
        | NodeKind::Function(_)
        | NodeKind::Unsupported(_)
        | NodeKind::Message(_)
        | NodeKind::If(_)
        | NodeKind::IfV2(_)
        | NodeKind::Api(_)
        | NodeKind::Random(_)
        | NodeKind::AiSet(_)
        | NodeKind::Set(_)
        | NodeKind::SetV2(_)
        | NodeKind::Start(_)
        | NodeKind::Visual(_)
        | NodeKind::Text(_)
        | NodeKind::AiResponse(_)
        | NodeKind::ResponsePrompt(_)
        | NodeKind::KbSearch(_)
        | NodeKind::PromptSet(_)
        | NodeKind::Agent(_)
        | NodeKind::GoToNode(_)
        | NodeKind::ChannelAction(_)
        | NodeKind::Next(_)
        | NodeKind::CustomAction(_)
        | NodeKind::Unhandled => None,
    }
    .map(|mut r| {
        if r.get("payload").is_none()
            && r.get("type")
                .and_then(Value::as_str)
                .map(|t| t.starts_with("path-"))
                .unwrap_or(false)
        {
            r["payload"] = json!({ "label": text });
        }
        r
    })
}
