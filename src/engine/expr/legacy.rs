//! Legacy shunting-yard evaluator (TO BE WRITTEN).
use crate::engine::state::Vars;
use serde_json::Value;

/// Evaluates a legacy `if`/`set` expression over `vars` (`v['name']`). Errors yield the string
/// `Unable to calculate expression: Error: <message>`.
pub fn evaluate(expr: &Value, vars: &Vars) -> Value {
    let _ = (expr, vars);
    Value::Null
}
