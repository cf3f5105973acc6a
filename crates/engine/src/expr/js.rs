//! `MiniJs`: a small, safe JavaScript subset interpreter for ifV2 conditions, setV2 values and
//! code steps (`spec/dm-api.md` §5.6.8, §5.6.10, §5.6.12, §6.13.2) until a real sandbox lands.
//!
//! Rule: never silently wrong. Valid JavaScript outside the subset is
//! [`ScriptError::Unsupported`]; what would throw in JavaScript is [`ScriptError::Thrown`]
//! (`ReferenceError: x is not defined`, `SyntaxError: ...`); runaway programs hit
//! [`ScriptError::Limit`] (1 000 000 evaluation steps, syntactic nesting depth 100, a 64 M-unit
//! work/memory budget, value nesting 200). Evaluation runs on a companion thread with a 16 MiB
//! stack (`js/worker.rs`), so deep (but allowed) nesting never depends on the caller's stack.
//!
//! Subset:
//! * literals: numbers (decimal, hex/octal/binary), `'..'`/`".."` strings with escapes, template
//!   literals with `${expr}`, `true false null undefined NaN Infinity`, arrays, objects
//!   (`{a: 1, "b": 2, [k]: 3, short}`);
//! * variables: every variable is a global; `var`/`let`/`const` (block scoping, TDZ, hoisting);
//!   assignment to an undeclared name creates a global (sloppy mode);
//! * members `.p`, `[k]`, `?.`, `.length`; assignment to object properties and array elements;
//! * operators: `! - + ~ typeof void delete`, `** * / % + -`, `<< >> >>>`, `< > <= >= in`,
//!   `== != === !==`, `& ^ |`, `&& || ??`, `? :`, `,`, `= += -= *= /= %= **= <<= >>= >>>= &= |= ^=
//!   &&= ||= ??=`, `++`/`--`;
//! * statements: expressions, declarations, blocks, `if/else`, `while`, `do/while`, `for(;;)`,
//!   `for (x of array|string)`, `for (k in object|array)`, `break`, `continue`, `return` (function
//!   mode only), `throw`; automatic semicolon insertion as in JavaScript;
//! * built-ins: `Number String Boolean parseInt parseFloat isNaN isFinite`, `Math.abs floor ceil
//!   round trunc sign sqrt pow min max` and constants, `JSON.stringify/parse`, `Number.isInteger/
//!   isSafeInteger/isFinite/isNaN/parseInt/parseFloat` and constants, `Object.keys/values/entries`,
//!   `Array.isArray`, `String.fromCharCode`; string methods `at charAt charCodeAt codePointAt
//!   concat endsWith includes indexOf lastIndexOf padEnd padStart repeat replace replaceAll slice
//!   split startsWith substr substring toLowerCase toUpperCase trim trimStart trimEnd toString`
//!   (string patterns only); array methods `at concat fill includes indexOf join lastIndexOf pop
//!   push reverse shift slice sort() splice toString unshift`; `toFixed`; `hasOwnProperty`.
//!
//! Not supported (→ `Unsupported`): functions and arrow functions (so no `map`/`filter`/...),
//! classes, `new`, `this`, regular expressions, destructuring, spread, `switch`, `try`, labels,
//! getters/setters, `Math.random` and other non-deterministic or environment APIs (`fetch`,
//! `Date`, `console`, ...), locale-dependent methods, named properties on arrays.
//!
//! Results: `undefined`, `NaN` and `±Infinity` are returned as `Value::Null` (the engine treats
//! null as "unset"); objects convert like `JSON.stringify` (undefined properties dropped).
//! Holes in arrays are `undefined`. Strings that would contain lone surrogates are unsupported.
//! Top-level `let`/`const` in a code step shadow the global of the same name (as in a script),
//! so the variable is not changed; `var` and plain assignment change it. With `as_function` every
//! declaration is local. Code-step read-back returns every pre-existing variable; unchanged ones
//! keep their exact JSON (`2.0`, big integers).
//!
//! ifV2/setV2 expressions: the reference inserts them into a template string and `eval`s them,
//! so expressions containing a backtick or `${`, starting with `{` (a block for `eval`) or made of
//! several statements are `Unsupported`. `run_sets` creates missing targets as `0` first, runs
//! the assignments in order (NaN → undefined), then reads every target back.
//!
//! Error messages follow V8's wording where known (`TypeError: Cannot read properties of
//! undefined (reading 'x')`, `TypeError: user.name is not a function`); syntax error texts are
//! approximate. A thrown value reports as `Uncaught <String(value)>`.

mod ast;
mod builtins;
mod interp;
mod lexer;
mod parser;
mod worker;

use super::ScriptError;
use crate::env::{CodeOutcome, Sandbox, ScriptEnv};
use crate::expr::jsvalue::JsValue;
use crate::state::Vars;
use interp::Interp;
use serde_json::Value;
use worker::on_big_stack;

type R<T> = Result<T, ScriptError>;

fn thrown(kind: &str, msg: &str) -> ScriptError {
    ScriptError::Thrown(format!("{kind}: {msg}"))
}

fn syntax(msg: &str) -> ScriptError {
    thrown("SyntaxError", msg)
}

fn unsupported(what: &str) -> ScriptError {
    ScriptError::Unsupported(what.to_string())
}

fn limit(what: &str) -> ScriptError {
    ScriptError::Limit(what.to_string())
}

/// The reference inserts ifV2/setV2 expressions into a JavaScript template string, which breaks
/// on backticks and `${`: such expressions are not evaluated here.
fn check_template_safe(expr: &str) -> R<()> {
    if expr.contains('`') || expr.contains("${") {
        return Err(unsupported(
            "backticks or ${ in an expression (inserted into a template string by the reference)",
        ));
    }
    Ok(())
}

fn eval_expression(expr: &str, vars: &Vars) -> R<Value> {
    check_template_safe(expr)?;
    let e = parser::parse_expression(expr)?;
    let mut it = Interp::new(vars)?;
    let v = it.eval(&e)?;
    it.heap.to_json(&v)
}

fn run_sets(sets: &[(String, String)], vars: &Vars) -> R<Vec<(String, Value)>> {
    let mut parsed = Vec::with_capacity(sets.len());
    for (name, expr) in sets {
        check_template_safe(expr)?;
        parsed.push((name.as_str(), parser::parse_expression(expr)?));
    }
    let mut it = Interp::new(vars)?;
    for (name, _) in &parsed {
        it.globals
            .entry((*name).into())
            .or_insert(JsValue::Num(0.0));
    }
    for (name, e) in &parsed {
        let v = match it.eval(e)? {
            JsValue::Num(x) if x.is_nan() => JsValue::Undefined,
            v => v,
        };
        it.globals.insert((*name).into(), v);
    }
    let mut out = Vec::with_capacity(parsed.len());
    for (name, _) in &parsed {
        let v = it.globals.get(*name).cloned().unwrap_or(JsValue::Undefined);
        out.push((name.to_string(), it.heap.to_json(&v)?));
    }
    Ok(out)
}

fn run_code(code: &str, vars: &Vars, as_function: bool) -> R<CodeOutcome> {
    let body = parser::parse_program(code, as_function)?;
    let mut it = Interp::new(vars)?;
    let returned = it.run_program(&body, as_function)?;
    let mut variables = Vars::new();
    for (name, before) in vars {
        let v = it
            .globals
            .get(name.as_str())
            .cloned()
            .unwrap_or(JsValue::Undefined);
        let after = it.heap.to_json(&v)?;
        // Unchanged values are returned as they came (`2.0` stays `2.0`, big integers keep
        // their digits) so that the caller does not see spurious changes.
        let value = if same_json(before, &after) {
            before.clone()
        } else {
            after
        };
        variables.insert(name.clone(), value);
    }
    let returned = match returned {
        None | Some(JsValue::Undefined) => None,
        Some(v) => Some(it.heap.to_json(&v)?),
    };
    Ok(CodeOutcome {
        variables,
        returned,
    })
}

/// The same JSON up to number representation and key order.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The built-in evaluator: a small, safe subset of JavaScript.
#[derive(Debug, Default, Clone, Copy)]
pub struct MiniJs;

impl Sandbox for MiniJs {
    fn eval_expression(
        &self,
        expr: &str,
        vars: &Vars,
        _env: &ScriptEnv,
    ) -> Result<Value, ScriptError> {
        on_big_stack(|| eval_expression(expr, vars))
    }

    fn run_sets(
        &self,
        sets: &[(String, String)],
        vars: &Vars,
        _env: &ScriptEnv,
    ) -> Result<Vec<(String, Value)>, ScriptError> {
        on_big_stack(|| run_sets(sets, vars))
    }

    fn run_code(
        &self,
        code: &str,
        vars: &Vars,
        as_function: bool,
        _env: &ScriptEnv,
    ) -> Result<CodeOutcome, ScriptError> {
        on_big_stack(|| run_code(code, vars, as_function))
    }
}
