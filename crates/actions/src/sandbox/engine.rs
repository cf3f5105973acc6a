//! The per-thread QuickJS runtime and context: created once per thread and reused (a context
//! costs ~100 µs to create; `prelude.rs` freezes its built-ins and resets its global object after
//! every call, which keeps scripts apart), with the limits of `spec/dm-api.md` §6.13.2: a 1 s deadline
//! checked by the interrupt handler, a 10 MiB memory limit and a bounded stack. After a limit was
//! hit the runtime is dropped and the next call starts a new one. Function steps run their module
//! in a fresh context of the same runtime ([`with_fresh_context`]), under the same limits.

use super::prelude;
use flowdm_engine::expr::ScriptError;
use flowdm_engine::ScriptEnv;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rquickjs::{Coerced, Context, Ctx, FromJs, Function, Persistent, Runtime};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// CPU time a script may use.
pub const TIME_LIMIT: Duration = Duration::from_secs(1);
/// Memory of the whole runtime (the context's built-ins take about 0.3 MiB of it).
pub const MEMORY_LIMIT: usize = 10 * 1024 * 1024;
/// Native stack for JavaScript recursion; the caller's thread must have this much left.
const STACK_LIMIT: usize = 256 * 1024;

/// Why a run failed, before it becomes a [`ScriptError`].
pub enum Failure {
    /// A JavaScript or runtime error (the pending exception is fetched inside the context).
    Js(rquickjs::Error),
    Script(ScriptError),
}

impl From<rquickjs::Error> for Failure {
    fn from(e: rquickjs::Error) -> Self {
        Failure::Js(e)
    }
}

impl From<ScriptError> for Failure {
    fn from(e: ScriptError) -> Self {
        Failure::Script(e)
    }
}

/// Fields drop in order: the saved functions before the context before the runtime.
struct Engine {
    /// The indirect `eval` (a pristine reference, unreachable for scripts).
    eval: Persistent<Function<'static>>,
    /// The global object's `reset` (`prelude.rs`).
    reset: Persistent<Function<'static>>,
    context: Context,
    rt: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    interrupted: Rc<Cell<bool>>,
    now_ms: Rc<Cell<f64>>,
    rng: Rc<RefCell<SmallRng>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn internal(e: rquickjs::Error) -> ScriptError {
    ScriptError::Thrown(format!("InternalError: {e}"))
}

fn new_engine() -> Result<Engine, ScriptError> {
    let rt = Runtime::new().map_err(internal)?;
    rt.set_memory_limit(MEMORY_LIMIT);
    rt.set_max_stack_size(STACK_LIMIT);
    let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let interrupted = Rc::new(Cell::new(false));
    let (d, i) = (deadline.clone(), interrupted.clone());
    rt.set_interrupt_handler(Some(Box::new(move || {
        let stop = d.get().is_some_and(|d| Instant::now() >= d);
        if stop {
            i.set(true);
        }
        stop
    })));
    let context = Context::full(&rt).map_err(internal)?;
    let now_ms = Rc::new(Cell::new(0.0));
    let rng = Rc::new(RefCell::new(SmallRng::seed_from_u64(0)));
    let (eval, reset) = context
        .with(|ctx| {
            let (instant, random) = clock_functions(&ctx, &now_ms, &rng)?;
            let eval: Function = ctx.globals().get("eval")?;
            let reset = prelude::setup(&ctx, instant, random)?;
            Ok((Persistent::save(&ctx, eval), Persistent::save(&ctx, reset)))
        })
        .map_err(|e| context.with(|ctx| describe(&ctx, e, true)))?;
    Ok(Engine {
        eval,
        reset,
        context,
        rt,
        deadline,
        interrupted,
        now_ms,
        rng,
    })
}

/// What a run's body hands back to [`run`].
struct Finished<T> {
    result: Result<T, ScriptError>,
    /// Whether the runtime may serve the next call (its context was reset cleanly).
    reusable: bool,
    /// A throwaway context, dropped only after the result was classified: its values still
    /// count for the memory check.
    scratch: Option<Context>,
}

/// The part every call shares: takes this thread's engine (or creates one), sets the turn's
/// clock and seed, arms the deadline, runs `body`, turns a hit limit into [`ScriptError::Limit`]
/// and gives the engine back to the thread unless a limit was hit or `body` left it unusable.
fn run<T>(env: &ScriptEnv, body: impl FnOnce(&Engine) -> Finished<T>) -> Result<T, ScriptError> {
    let engine = match ENGINE.with(|e| e.borrow_mut().take()) {
        Some(engine) => engine,
        None => new_engine()?,
    };
    engine.now_ms.set(env.now_ms as f64);
    *engine.rng.borrow_mut() = SmallRng::seed_from_u64(env.seed);
    engine.interrupted.set(false);
    // The caller's budget (an inline run on an HTTP worker) may be shorter than the limit.
    let budget = env.budget_ms.map(Duration::from_millis);
    let allowed = budget.map_or(TIME_LIMIT, |b| b.min(TIME_LIMIT));
    engine.deadline.set(Some(Instant::now() + allowed));
    let Finished {
        result,
        reusable,
        scratch,
    } = body(&engine);
    // Out of memory, QuickJS may fail to build the error and throw `null`: the runtime's usage
    // (the script's values are still alive) tells.
    let result = match result {
        _ if engine.interrupted.get() && allowed < TIME_LIMIT => Err(ScriptError::OverBudget),
        _ if engine.interrupted.get() => Err(ScriptError::Limit(format!(
            "time: the script ran longer than {} s",
            TIME_LIMIT.as_secs()
        ))),
        Err(_) if near_memory_limit(&engine.rt) => Err(memory_limit()),
        other => other,
    };
    drop(scratch);
    engine.deadline.set(None);
    // A runtime that hit a limit may hold half-built state, and a global object the reset could
    // not restore must not reach the next call: start over next time.
    if reusable && !matches!(result, Err(ScriptError::Limit(_) | ScriptError::OverBudget)) {
        ENGINE.with(|e| *e.borrow_mut() = Some(engine));
    }
    result
}

/// Runs every queued job (the deadline stops an endless chain), so none is left for the next
/// call. Must run outside `Context::with` (it locks the runtime).
fn drain_jobs(rt: &Runtime) {
    while rt.is_job_pending() {
        let _failed_job_is_ignored = rt.execute_pending_job();
    }
}

/// Runs `f` in this thread's context with the turn's clock and seed, under the limits; `f` gets
/// the indirect `eval` to run sources with (their `let`/`const` stay local, their `var`s and
/// new globals are deleted afterwards).
pub fn with_context<T>(
    env: &ScriptEnv,
    f: impl for<'js> FnOnce(&Ctx<'js>, &Function<'js>) -> Result<T, Failure>,
) -> Result<T, ScriptError> {
    run(env, |engine| {
        let result = engine.context.with(|ctx| {
            let eval = engine.eval.clone().restore(&ctx).map_err(internal)?;
            f(&ctx, &eval).map_err(|failure| failure.describe(&ctx))
        });
        // Jobs a script queued (async functions) run now; then the globals are reset.
        drain_jobs(&engine.rt);
        let clean = engine.context.with(|ctx| {
            let reset = engine.reset.clone().restore(&ctx)?;
            reset.call::<_, bool>(())
        });
        Finished {
            result,
            reusable: matches!(clean, Ok(true)),
            scratch: None,
        }
    })
}

/// Runs `f` in a new context of this thread's runtime, under the same limits, clock and seed as
/// [`with_context`]; the context is dropped afterwards. For ES modules (function steps): QuickJS
/// keeps every module a context loaded until the context is freed, so they cannot share the
/// reused one. The context has `Date` and `Math.random` made deterministic and nothing else of
/// the prelude (no hardening is needed for a context nobody else will see). `f` drives the job
/// queue itself (`Ctx::execute_pending_job`); jobs left over are run before the context goes.
pub fn with_fresh_context<T>(
    env: &ScriptEnv,
    f: impl for<'js> FnOnce(&Ctx<'js>) -> Result<T, Failure>,
) -> Result<T, ScriptError> {
    run(env, |engine| {
        let context = match Context::full(&engine.rt) {
            Ok(context) => context,
            Err(e) => {
                return Finished {
                    result: Err(describe_plain(e)),
                    reusable: true,
                    scratch: None,
                }
            }
        };
        let result = context.with(|ctx| {
            let run = || {
                let (instant, draw) = clock_functions(&ctx, &engine.now_ms, &engine.rng)?;
                prelude::deterministic(&ctx, instant, draw)?;
                f(&ctx)
            };
            run().map_err(|failure| failure.describe(&ctx))
        });
        drain_jobs(&engine.rt);
        Finished {
            result,
            reusable: true,
            scratch: Some(context),
        }
    })
}

impl Failure {
    fn describe(self, ctx: &Ctx<'_>) -> ScriptError {
        match self {
            Failure::Script(e) => e,
            Failure::Js(e) => describe(ctx, e, false),
        }
    }
}

/// `instant()` and `draw()` of `ctx`: the turn's clock and the next random number, read from
/// the engine's cells that [`run`] sets before every call.
fn clock_functions<'js>(
    ctx: &Ctx<'js>,
    now_ms: &Rc<Cell<f64>>,
    rng: &Rc<RefCell<SmallRng>>,
) -> rquickjs::Result<(Function<'js>, Function<'js>)> {
    let (clock, rng) = (now_ms.clone(), rng.clone());
    let instant = Function::new(ctx.clone(), move || clock.get())?;
    let draw = Function::new(ctx.clone(), move || rng.borrow_mut().gen::<f64>())?;
    Ok((instant, draw))
}

fn near_memory_limit(rt: &Runtime) -> bool {
    const MARGIN: i64 = 512 * 1024;
    rt.memory_usage().malloc_size + MARGIN >= MEMORY_LIMIT as i64
}

fn memory_limit() -> ScriptError {
    ScriptError::Limit(format!(
        "memory: the script used more than {} MB",
        MEMORY_LIMIT / (1024 * 1024)
    ))
}

fn describe_plain(e: rquickjs::Error) -> ScriptError {
    match e {
        rquickjs::Error::Allocation => memory_limit(),
        other => ScriptError::Thrown(format!("InternalError: {other}")),
    }
}

/// The message of an error: `TypeError: ...` for Error objects, `Uncaught <value>` otherwise.
/// `may_throw_null`: the code that failed contains `throw`.
pub fn describe(ctx: &Ctx<'_>, e: rquickjs::Error, may_throw_null: bool) -> ScriptError {
    if !matches!(e, rquickjs::Error::Exception) {
        return describe_plain(e);
    }
    let thrown = ctx.catch();
    // Out of memory, QuickJS may fail to build its error and leave `null` as the exception;
    // only a `throw` statement can throw `null` otherwise.
    if thrown.is_null() && !may_throw_null {
        return memory_limit();
    }
    let is_error = thrown.is_error();
    let text = <Coerced<String> as FromJs>::from_js(ctx, thrown)
        .map(|c| c.0)
        .unwrap_or_else(|_| "exception".into());
    if is_error && text.contains("out of memory") {
        memory_limit()
    } else if is_error {
        ScriptError::Thrown(text)
    } else {
        ScriptError::Thrown(format!("Uncaught {text}"))
    }
}
