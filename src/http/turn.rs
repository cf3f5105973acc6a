//! The turn service that every interact route shares (stateful, legacy, public, stateless):
//! run the engine off the async workers, and run one turn on a stored session.
//!
//! A turn is CPU work that never waits on I/O. Almost every turn takes microseconds, and
//! handing each one to another thread would cost more than the turn (a third of the short-turn
//! throughput, measured), so a turn first runs on the HTTP worker within a small budget
//! (`limits.inline_turn`, 2 ms by default): [`engine::interact_within`] stops at the first node
//! boundary past it and throws its work away, and the same input runs again on the runtime's
//! blocking pool (`spawn_blocking`), without a budget, up to the engine's own limits (which end
//! it with a `debug` trace). So a long turn holds the worker for the budget plus at most one
//! node, never for the whole turn, and the other requests of that worker keep being served.

use super::conditional::Tagged;
use super::context::RequestCtx;
use super::errors::ApiError;
use super::response::Answer;
use super::session::{write_session_if, WriteConditions};
use super::state::AppState;
use super::validate::TurnBody;
use crate::engine::state::merge_variables;
use crate::engine::{
    self, session, stops, Agent, Clock, Effect, EffectResult, Env, ExternalRanking, OverBudget,
    RandomSource, Request, SeededRandom, State, SystemClock, TurnInput, TurnOutput,
};
use crate::metrics::{Metrics, NluSource};
use crate::store::SessionKey;
use flowdm_actions::perform::{EffectBudget, Performer};
use flowdm_actions::sandbox::QuickJs;
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

thread_local! {
    /// Randomness for the engine (random steps, Slate ids), one generator per thread.
    static RNG: RefCell<SeededRandom> = RefCell::new(SeededRandom::from_entropy());
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A new seed for one turn's random source, from this thread's generator: every run of the
/// turn (over the inline budget, after an effect) draws the same numbers.
pub(crate) fn turn_seed() -> u64 {
    RNG.with(|rng| rng.borrow_mut().next_u64())
}

/// Runs `turn` with an engine environment on the calling thread (the wall clock, the turn's
/// random source, the QuickJS sandbox); a panic becomes `Err(message)`.
pub(crate) fn with_engine<T>(seed: u64, turn: impl FnOnce(&mut Env<'_>) -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut rng = SeededRandom::new(seed);
        turn(&mut Env {
            clock: &SystemClock,
            rng: &mut rng,
            sandbox: &QuickJs,
        })
    }))
    .map_err(|p| panic_message(p.as_ref()))
}

/// Runs one engine turn, effects included: each run happens as [`run_once`] says; a run that
/// stops for an effect gets it performed (`data.effects`, within the turn's effect budget: its
/// count, its time, and for AI effects the tokens the turn's completions used) and
/// the turn runs again from the same input (`again`) with the results so far (the engine's
/// deterministic replay, `docs/effects.md`). A panic inside the engine becomes a 500 (and
/// nothing is stored by the caller).
pub async fn run_engine<Again>(
    data: &AppState,
    ctx: &RequestCtx,
    agent: &Arc<Agent>,
    input: TurnInput,
    again: impl Fn() -> Again,
) -> Result<TurnOutput, ApiError>
where
    Again: Future<Output = Result<TurnInput, ApiError>>,
{
    run_engine_observed(data, ctx, agent, input, again, |_| true).await
}

/// [`run_engine`], showing `on_run` the output of every run that stopped for an effect (its
/// traces so far) before the effect is performed; `on_run` answering `false` ends the turn
/// there with [`ApiError::cancelled`] (no effect performed, nothing to commit). The streaming
/// routes send each run's new traces from here (`docs/streaming.md`).
pub async fn run_engine_observed<Again>(
    data: &AppState,
    ctx: &RequestCtx,
    agent: &Arc<Agent>,
    input: TurnInput,
    again: impl Fn() -> Again,
    mut on_run: impl FnMut(&TurnOutput) -> bool,
) -> Result<TurnOutput, ApiError>
where
    Again: Future<Output = Result<TurnInput, ApiError>>,
{
    // The revision the session started on, while it is kept (`crate::agents`); a launch
    // starts the conversation on the current one.
    let fresh = input.request.as_ref().is_some_and(|r| r.is_launch());
    let agent = &data.agents.pinned(agent, &input.state, fresh);
    let seed = turn_seed();
    let inline = data.limits.inline_turn;
    let turn_started = Instant::now();
    let metrics = &data.metrics;
    // What the metrics need of the input once the turn is done.
    let text_request = input.request.as_ref().is_some_and(|r| r.ty() == "text");
    let session = input
        .user_id
        .as_deref()
        .and_then(|user| metrics.session_key(&agent.version.project_id, user));
    // The custom actions and library of this turn: one snapshot for all its runs (no I/O once
    // loaded).
    let live = data.live.for_turn().await;
    let turn = Turn {
        live: &live,
        seed,
        inline,
        metrics,
    };
    let mut log = Vec::new();
    let mut out = run_once(ctx, agent, input, &log, &turn, &again).await?;
    let started = Instant::now();
    while let Some(effect) = out.effect.take() {
        if !on_run(&out) {
            return Err(ApiError::cancelled());
        }
        let performing = Instant::now();
        let (result, refused) = match data.effect_budget.refuses(&effect, &log, started.elapsed()) {
            Some(why) => (EffectBudget::refusal(&effect, why), true),
            None => (data.effects.perform(&effect).await, false),
        };
        record_effect(metrics, &effect, &result, refused, performing.elapsed());
        log.push(result);
        out = run_once(ctx, agent, again().await?, &log, &turn, &again).await?;
    }
    data.agents.record(agent, &mut out.state);
    metrics.turn(ctx.route_kind(), turn_started.elapsed());
    for run in &out.actions {
        metrics.custom_action(run.handler, run.result);
    }
    if let Some(key) = session {
        metrics.session_active(key);
    }
    if text_request {
        // The text as understood: an intent request, or the request of the button whose label
        // it matched (no prediction).
        match out.request.as_ref().filter(|r| r.is_intent()) {
            Some(r) => metrics.nlu(NluSource::Turn, r.intent_name(), r.confidence()),
            None => metrics.nlu_button(),
        }
    }
    Ok(out)
}

/// The metrics of one performed effect: its kind (`api`, `webhook`, `js` for HTTP calls by
/// their step; `llm`; `kb`), its outcome (`ok`; `error`: no answer, or an HTTP answer of 400 or
/// more; `refused`: over the turn's budget) and its time.
fn record_effect(
    metrics: &Metrics,
    effect: &Effect,
    result: &EffectResult,
    refused: bool,
    elapsed: Duration,
) {
    let kind = match effect {
        Effect::Http(r) => r.policy.origin.as_str(),
        Effect::Llm(_) => "llm",
        Effect::Kb(_) => "kb",
    };
    let failed = match result {
        EffectResult::Http(r) => r.as_ref().map_or(true, |r| r.status >= 400),
        EffectResult::Llm(r) => r.is_err(),
        EffectResult::Kb(r) => r.is_err(),
    };
    let outcome = match (refused, failed) {
        (true, _) => "refused",
        (false, true) => "error",
        (false, false) => "ok",
    };
    metrics.effect(kind, outcome, elapsed);
}

/// One run of `input` with the effect log `log`: first on this worker within `inline` (zero:
/// not at all); when it runs over, `again` gives the same input once more (re-read, not kept:
/// copying every turn's input in advance would cost more than the rare retry) and the run goes
/// to the blocking pool.
async fn run_once<Again>(
    ctx: &RequestCtx,
    agent: &Arc<Agent>,
    input: TurnInput,
    log: &[EffectResult],
    turn: &Turn<'_>,
    again: &impl Fn() -> Again,
) -> Result<TurnOutput, ApiError>
where
    Again: Future<Output = Result<TurnInput, ApiError>>,
{
    let Turn {
        live,
        seed,
        inline,
        metrics,
    } = *turn;
    let panicked = |panic: String| {
        tracing::error!(request_id = %ctx.id(), project = %ctx.project(), user = %ctx.user_hash(), %panic, "the engine panicked; the session is unchanged");
        ApiError::internal("internal error while running the turn")
    };
    let input = TurnInput {
        effects: log.to_vec(),
        actions: Some(live.actions.clone()),
        library: Some(live.library.clone()),
        ..input
    };
    let input = if inline.is_zero() {
        input
    } else {
        let budget = u64::try_from(inline.as_millis()).unwrap_or(u64::MAX);
        let deadline = SystemClock.now_ms().saturating_add(budget);
        let inline_run = with_engine(seed, |env| {
            engine::interact_within(agent, input, env, deadline)
        });
        match inline_run.map_err(panicked)? {
            Ok(out) => {
                metrics.engine_run("inline");
                return Ok(out);
            }
            Err(OverBudget) => {
                metrics.engine_run("over_budget");
                tracing::debug!("turn over the inline budget: runs again on the blocking pool");
                TurnInput {
                    effects: log.to_vec(),
                    actions: Some(live.actions.clone()),
                    library: Some(live.library.clone()),
                    ..again().await?
                }
            }
        }
    };
    metrics.engine_run("blocking");
    let agent = agent.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        with_engine(seed, |env| engine::interact(&agent, input, env))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(panicked)
}

/// What every run of one turn shares.
#[derive(Clone, Copy)]
struct Turn<'a> {
    live: &'a Arc<crate::live_registry::Snapshot>,
    seed: u64,
    inline: Duration,
    metrics: &'a Metrics,
}

/// The embeddings provider's ranking of a `text` request (`None` without a provider, for other
/// requests, or when the provider fails: the local classifier alone). Asked before the session
/// is locked, so a slow provider never holds a user's lock.
pub async fn nlu_hint(
    data: &AppState,
    agent: &Agent,
    request: Option<&Request>,
) -> Option<ExternalRanking> {
    data.semantic.as_ref()?.hint(agent, request).await
}

/// A stored state counts as missing when it is `{}`-like (nothing in it).
pub(crate) fn is_empty_state(s: &State) -> bool {
    s.stack.is_empty() && s.storage.is_empty() && s.variables.is_empty()
}

/// The key of a user's session: all versions of a project share it.
pub fn session_key(agent: &Agent, user_id: &str) -> SessionKey {
    SessionKey::new(agent.version.project_id.as_str(), user_id)
}

/// One turn on a stored session: lock, load (or reset), merge `state.variables`, run, render
/// the response, store. `render` sees the output before the state is moved into the store; its
/// bytes are the 200 answer (kept for an `Idempotency-Key` retry).
pub async fn session_turn(
    data: &AppState,
    ctx: &RequestCtx,
    agent: &Arc<Agent>,
    user_id: &str,
    body: TurnBody,
    render: impl FnOnce(&TurnOutput) -> Result<Vec<u8>, ApiError>,
) -> Result<Answer, ApiError> {
    session_turn_tagged(data, ctx, agent, user_id, body, false, render)
        .await
        .map(|t| t.answer)
}

/// [`session_turn`], answering the new session's `ETag` when `tag` (`super::conditional`;
/// none on an idempotent replay).
pub async fn session_turn_tagged(
    data: &AppState,
    ctx: &RequestCtx,
    agent: &Arc<Agent>,
    user_id: &str,
    body: TurnBody,
    tag: bool,
    render: impl FnOnce(&TurnOutput) -> Result<Vec<u8>, ApiError>,
) -> Result<Tagged, ApiError> {
    let key = session_key(agent, user_id);
    // A resume naming a stop is recorded under the stop (applied once, every duplicate answered
    // the same), not under the request's Idempotency-Key (`super::stops`).
    let named = stops::named(body.request.as_ref()).map(str::to_string);
    let idem = match &named {
        Some(id) => Some(super::stops::record_key(ctx, id)),
        None => ctx.idempotency()?,
    };
    let hint = nlu_hint(data, agent, body.request.as_ref()).await;
    // The session as this turn sees it: the stored state (or a new one: the reference resets
    // first, §1.3 step 1) with the body's `state.variables` merged in.
    let session = |stored: Option<State>| {
        let mut state = match stored {
            Some(s) if !is_empty_state(&s) => s,
            _ => session::generate(agent, None, None),
        };
        if let Some(vars) = &body.variables {
            merge_variables(&mut state.variables, vars);
        }
        TurnInput {
            state,
            request: body.request.clone(),
            config: body.config.clone(),
            user_id: Some(user_id.to_string()),
            logs: body.logs,
            nlu_hint: hint.clone(),
            effects: Vec::new(),
            actions: None,
            library: None,
        }
    };
    // A retry re-reads the state: this turn holds the session's lock, so it is the same one.
    let again = || async { Ok(session(data.store.get(&key).await?)) };
    let conditions = WriteConditions { pre: None, tag };
    write_session_if(data, idem, &key, conditions, |stored| async {
        if let Some(id) = &named {
            if !super::stops::client_resume(stored.as_ref(), id)? {
                let out = super::stops::deliver(stored.unwrap_or_default(), body.request.clone());
                let rendered = render(&out)?;
                return Ok((Some(out.state), rendered, true));
            }
        }
        let input = session(stored);
        let mut out = run_engine(data, ctx, agent, input, again).await?;
        super::stops::add_resume(&mut out, &agent.version.id, user_id);
        let rendered = render(&out)?;
        // A request that did not resume the stop it names (an `action` request, an entity
        // prompt) is not its answer: no record, so the real resume still runs.
        let record = named
            .as_deref()
            .is_none_or(|id| stops::check(&out.state, id) != stops::Named::Pending);
        Ok((Some(out.state), rendered, record))
    })
    .await
}
