//! `QuickJs`: the JavaScript sandbox of ifV2 conditions, setV2 values, code steps and function
//! steps (`spec/dm-api.md` §5.6.8, §5.6.10, §5.6.12, §5.6.24, §6.13.2), QuickJS through
//! `rquickjs`.
//!
//! * Isolation: each thread keeps one runtime and context (`engine.rs`; creating a context costs
//!   ~100 µs); its built-ins are frozen and its global object is reset after every call
//!   (`prelude.rs`), so nothing a script does reaches the next one. Every variable is a global,
//!   deep-copied in (`convert.rs`); sources run as an indirect `eval` (top-level `let`/`const`
//!   stay local); `global` is the global object and `Promise` is `null` as in the reference.
//!   There is nothing else of the outside world in these: no `fetch`, `console`, timers, modules
//!   or file system.
//! * Limits: 1 s per call (interrupt handler), 10 MiB of memory, a bounded stack; exceeding one
//!   is [`ScriptError::Limit`] naming it.
//! * Determinism: `Date` and `Math.random` come from the [`ScriptEnv`] (`prelude.rs`).
//! * Results: `undefined`, `NaN` and `±Infinity` are `null`; objects convert like
//!   `JSON.stringify`. Code steps read back only variables that existed before; unchanged ones
//!   keep their exact JSON (`2.0`, big integers). Top-level `let`/`const` in a code step shadow the
//!   global of the same name (script semantics), so the variable does not change.
//! * Function steps (`function.rs`): the code is a real ES module (no loader: `import` fails), run
//!   in a fresh context of the thread's runtime (QuickJS keeps a context's modules until it is
//!   freed), with the same limits for the whole call and the same deterministic `Date` and
//!   `Math.random`, a real `Promise`, a silent `console`, `Headers`, `Response` and `fetch`
//!   (`web.rs`; no timers). Its default export is called with `args` and the job queue driven
//!   until nothing is left; `fetch` is answered by the caller's callback between drains. A
//!   request the callback cannot answer yet stays pending and the run ends with
//!   [`FunctionRun::Fetching`]: the engine performs it and replays the run with the answer.
//!   A run may make at most 64 requests (each costs the turn a replay).
//! * ifV2/setV2 expressions: the reference inserts them into a template string, so expressions
//!   containing a backtick or `${` are not run ([`ScriptError::Unsupported`]). `run_sets` creates
//!   missing targets as `0`, runs the assignments in order (`NaN` → `undefined`), then reads every
//!   target back.

mod convert;
mod engine;
mod function;
pub mod lint;
mod literal;
mod prelude;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_function;
mod web;

use convert::{define, set_globals, to_json};
use engine::{describe, with_context, Failure};
use flowdm_engine::env::CodeOutcome;
use flowdm_engine::expr::ScriptError;
use flowdm_engine::state::Vars;
use flowdm_engine::{Fetch, FunctionRun, Sandbox, ScriptEnv};
use rquickjs::{Ctx, Function, Value as JsValue};
use serde_json::Value;

pub use convert::same_json;
pub use engine::{MEMORY_LIMIT, TIME_LIMIT};

/// The QuickJS sandbox. Stateless: the runtimes live in thread-locals.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickJs;

/// The reference inserts ifV2/setV2 expressions into a JavaScript template string, which breaks
/// on backticks and `${`: such expressions are not run.
fn check_template_safe(expr: &str) -> Result<(), ScriptError> {
    if expr.contains('`') || expr.contains("${") {
        return Err(ScriptError::Unsupported(
            "backticks or ${ in an expression (the reference inserts it into a template string)"
                .into(),
        ));
    }
    Ok(())
}

/// Evaluates `source` as sloppy-mode global code (an indirect `eval`) and returns its completion
/// value.
fn eval<'js>(ctx: &Ctx<'js>, eval: &Function<'js>, source: &str) -> Result<JsValue<'js>, Failure> {
    eval.call((source,))
        .map_err(|e| Failure::Script(describe(ctx, e, source.contains("throw"))))
}

impl Sandbox for QuickJs {
    fn eval_expression(
        &self,
        expr: &str,
        vars: &Vars,
        env: &ScriptEnv,
    ) -> Result<Value, ScriptError> {
        check_template_safe(expr)?;
        if let Some(value) = literal::literal(expr) {
            return Ok(value);
        }
        with_context(env, |ctx, run| {
            set_globals(ctx, vars)?;
            let v = eval(ctx, run, expr)?;
            to_json(ctx, v)
        })
    }

    fn run_sets(
        &self,
        sets: &[(String, String)],
        vars: &Vars,
        env: &ScriptEnv,
    ) -> Result<Vec<(String, Value)>, ScriptError> {
        for (_, expr) in sets {
            check_template_safe(expr)?;
        }
        // Only literals: no need to enter the sandbox (each target is defined, not assigned,
        // so a literal's value is what is read back).
        let literals: Option<Vec<(String, Value)>> = sets
            .iter()
            .map(|(name, expr)| Some((name.clone(), literal::literal(expr)?)))
            .collect();
        if let Some(values) = literals {
            return Ok(values);
        }
        with_context(env, |ctx, run| {
            set_globals(ctx, vars)?;
            let globals = ctx.globals();
            for (name, _) in sets {
                if !vars.contains_key(name) {
                    define(&globals, name, JsValue::new_int(ctx.clone(), 0))?;
                }
            }
            for (name, expr) in sets {
                let mut v = eval(ctx, run, expr)?;
                if v.as_number().is_some_and(f64::is_nan) {
                    v = JsValue::new_undefined(ctx.clone());
                }
                define(&globals, name, v)?;
            }
            let mut out = Vec::with_capacity(sets.len());
            for (name, _) in sets {
                let v: JsValue = globals.get(name.as_str())?;
                out.push((name.clone(), to_json(ctx, v)?));
            }
            Ok(out)
        })
    }

    fn run_code(
        &self,
        code: &str,
        vars: &Vars,
        as_function: bool,
        env: &ScriptEnv,
    ) -> Result<CodeOutcome, ScriptError> {
        with_context(env, |ctx, run| {
            set_globals(ctx, vars)?;
            let returned = if as_function {
                let v = eval(ctx, run, &format!("(function () {{\n{code}\n}})()"))?;
                if v.is_undefined() {
                    None
                } else {
                    Some(to_json(ctx, v)?)
                }
            } else {
                eval(ctx, run, code)?;
                None
            };
            let globals = ctx.globals();
            let mut variables = Vars::new();
            for (name, before) in vars {
                let after = to_json(ctx, globals.get(name.as_str())?)?;
                // Unchanged values are returned as they came, so the caller sees no spurious
                // changes.
                let value = if same_json(before, &after) {
                    before.clone()
                } else {
                    after
                };
                variables.insert(name.clone(), value);
            }
            Ok(CodeOutcome {
                variables,
                returned,
            })
        })
    }

    fn run_function(
        &self,
        code: &str,
        args: &Value,
        env: &ScriptEnv,
        fetch: &mut Fetch<'_>,
    ) -> Result<FunctionRun, ScriptError> {
        function::run(code, args, env, fetch)
    }
}
