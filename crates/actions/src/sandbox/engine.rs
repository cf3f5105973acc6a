//! The per-thread QuickJS runtime: created once per thread and reused (a fresh `Context` per
//! call keeps scripts apart), with the limits of `spec/dm-api.md` §6.13.2: a 1 s deadline
//! checked by the interrupt handler, a 10 MiB memory limit and a bounded stack. After a limit was
//! hit the runtime is dropped and the next call starts a new one.

use flowdm_engine::expr::ScriptError;
use rquickjs::{Coerced, Context, Ctx, FromJs, Runtime};
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

struct Engine {
    rt: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    interrupted: Rc<Cell<bool>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn new_engine() -> Result<Engine, ScriptError> {
    let rt = Runtime::new().map_err(|e| ScriptError::Thrown(format!("InternalError: {e}")))?;
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
    Ok(Engine {
        rt,
        deadline,
        interrupted,
    })
}

/// Runs `f` in a fresh context of this thread's runtime, under the limits.
pub fn with_context<T>(
    f: impl for<'js> FnOnce(&Ctx<'js>) -> Result<T, Failure>,
) -> Result<T, ScriptError> {
    let engine = match ENGINE.with(|e| e.borrow_mut().take()) {
        Some(engine) => engine,
        None => new_engine()?,
    };
    engine.interrupted.set(false);
    engine.deadline.set(Some(Instant::now() + TIME_LIMIT));
    let result = match Context::full(&engine.rt) {
        Ok(context) => {
            let result = context.with(|ctx| {
                f(&ctx).map_err(|failure| match failure {
                    Failure::Script(e) => e,
                    Failure::Js(e) => describe(&ctx, e),
                })
            });
            // Out of memory, QuickJS may fail to build the error and throw `null`: the
            // runtime's usage (the context still holds the script's values) tells.
            match result {
                Err(_) if engine.interrupted.get() => Err(ScriptError::Limit(format!(
                    "time: the script ran longer than {} s",
                    TIME_LIMIT.as_secs()
                ))),
                Err(_) if near_memory_limit(&engine.rt) => Err(memory_limit()),
                other => other,
            }
        }
        Err(e) => Err(describe_plain(e)),
    };
    engine.deadline.set(None);
    // A runtime that hit a limit may hold half-built state: start over next time.
    if !matches!(result, Err(ScriptError::Limit(_))) {
        ENGINE.with(|e| *e.borrow_mut() = Some(engine));
    }
    result
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
fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> ScriptError {
    if !matches!(e, rquickjs::Error::Exception) {
        return describe_plain(e);
    }
    let thrown = ctx.catch();
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
