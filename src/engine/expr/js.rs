//! Minimal JavaScript evaluator (TO BE WRITTEN).
use super::ScriptError;
use crate::engine::env::{CodeOutcome, Sandbox};
use crate::engine::state::Vars;
use serde_json::Value;

/// The built-in evaluator: a small, safe subset of JavaScript.
#[derive(Debug, Default, Clone, Copy)]
pub struct MiniJs;

impl Sandbox for MiniJs {
    fn eval_expression(&self, expr: &str, _vars: &Vars) -> Result<Value, ScriptError> {
        Err(ScriptError::Unsupported(expr.to_string()))
    }
    fn run_sets(&self, _sets: &[(String, String)], _vars: &Vars) -> Result<Vec<(String, Value)>, ScriptError> {
        Err(ScriptError::Unsupported("sets".into()))
    }
    fn run_code(&self, code: &str, _vars: &Vars, _as_function: bool) -> Result<CodeOutcome, ScriptError> {
        Err(ScriptError::Unsupported(code.to_string()))
    }
}
