//! `QuickJs`: the JavaScript sandbox of ifV2 conditions, setV2 values and code steps
//! (`spec/dm-api.md` §5.6.8, §5.6.10, §5.6.12, §6.13.2), QuickJS through `rquickjs`.
//!
//! * Isolation: each call gets a fresh context (its own globals and built-ins) of this thread's
//!   runtime (`engine.rs`); every variable is a global, deep-copied in (`convert.rs`); `global`
//!   is the global object and `Promise` is `null` as in the reference. There is nothing else of
//!   the outside world: no `fetch`, `console`, timers, modules or file system.
//! * Limits: 1 s per call (interrupt handler), 10 MiB of memory, a bounded stack; exceeding one
//!   is [`ScriptError::Limit`] naming it.
//! * Determinism: `Date` and `Math.random` come from the [`ScriptEnv`] (`prelude.rs`).
//! * Results: `undefined`, `NaN` and `±Infinity` are `null`; objects convert like
//!   `JSON.stringify`. Code steps read back only variables that existed before; unchanged ones
//!   keep their exact JSON (`2.0`, big integers). Top-level `let`/`const` in a code step shadow the
//!   global of the same name (script semantics), so the variable does not change.
//! * ifV2/setV2 expressions: the reference inserts them into a template string, so expressions
//!   containing a backtick or `${` are not run ([`ScriptError::Unsupported`]). `run_sets` creates
//!   missing targets as `0`, runs the assignments in order (`NaN` → `undefined`), then reads every
//!   target back.

mod convert;
mod engine;
mod prelude;
#[cfg(test)]
mod tests;

use convert::{same_json, set_globals, to_json};
use engine::{with_context, Failure};
use flowdm_engine::env::CodeOutcome;
use flowdm_engine::expr::ScriptError;
use flowdm_engine::state::Vars;
use flowdm_engine::{Sandbox, ScriptEnv};
use rquickjs::{Ctx, Value as JsValue};
use serde_json::Value;

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

/// Evaluates `source` as a sloppy-mode global script and returns its completion value.
fn eval<'js>(ctx: &Ctx<'js>, source: &str) -> Result<JsValue<'js>, Failure> {
    let mut options = rquickjs::context::EvalOptions::default();
    options.strict = false;
    options.backtrace_barrier = true;
    Ok(ctx.eval_with_options(source, options)?)
}

fn prepare(ctx: &Ctx<'_>, vars: &Vars, env: &ScriptEnv) -> Result<(), Failure> {
    prelude::install(ctx, env)?;
    set_globals(ctx, vars)
}

impl Sandbox for QuickJs {
    fn eval_expression(
        &self,
        expr: &str,
        vars: &Vars,
        env: &ScriptEnv,
    ) -> Result<Value, ScriptError> {
        check_template_safe(expr)?;
        with_context(|ctx| {
            prepare(ctx, vars, env)?;
            let v = eval(ctx, expr)?;
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
        with_context(|ctx| {
            prepare(ctx, vars, env)?;
            let globals = ctx.globals();
            for (name, _) in sets {
                if !vars.contains_key(name) {
                    globals.set(name.as_str(), 0)?;
                }
            }
            for (name, expr) in sets {
                let mut v = eval(ctx, expr)?;
                if v.as_number().is_some_and(f64::is_nan) {
                    v = JsValue::new_undefined(ctx.clone());
                }
                globals.set(name.as_str(), v)?;
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
        with_context(|ctx| {
            prepare(ctx, vars, env)?;
            let returned = if as_function {
                let v = eval(ctx, &format!("(function () {{\n{code}\n}})()"))?;
                if v.is_undefined() {
                    None
                } else {
                    Some(to_json(ctx, v)?)
                }
            } else {
                eval(ctx, code)?;
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
}
