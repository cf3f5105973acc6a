//! Logic nodes: if, ifV2, set, setV2, random and code (§5.6.7–12).

use crate::env::ScriptEnv;
use crate::expr::{legacy, ScriptError};
use crate::interpolate::js_string;
use crate::logs::{step_ref, LogLevel};
use crate::runtime::{Runtime, Step};
use flowdm_model::{truthy, Code, If, IfV2, Node, Random, Set, SetV2};
use serde_json::{Map, Value};

fn expression_source(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => js_string(other),
    }
}

fn script_error_message(e: &ScriptError) -> String {
    match e {
        ScriptError::Unsupported(what) => format!("not run: {what}"),
        other => other.to_string(),
    }
}

impl Runtime<'_, '_> {
    /// What the next script sees: the turn's clock, and a seed drawn from the turn's random source.
    pub(crate) fn script_env(&mut self) -> ScriptEnv {
        ScriptEnv {
            now_ms: self.now_ms,
            seed: self.env.rng.next_u64(),
            budget_ms: self
                .budget_deadline_ms
                .map(|deadline| deadline.saturating_sub(self.env.clock.now_ms()).max(1)),
        }
    }

    /// A script's result: one stopped at the budget abandons the run (the caller runs the turn
    /// again elsewhere without a budget), whatever the step then does with the error.
    pub(crate) fn script_result<T>(
        &mut self,
        result: Result<T, ScriptError>,
    ) -> Result<T, ScriptError> {
        if matches!(result, Err(ScriptError::OverBudget)) {
            self.over_budget = true;
            self.end_turn();
        }
        result
    }

    /// Logs `step.<kind>` with the path taken (`condition`, `random`), then gives `step` back.
    fn path_log(&mut self, node: &Node, kind: &str, step: Step) -> Step {
        if self.logs_at(LogLevel::Info) {
            if let Step::Next(next) = &step {
                let path = self.path_ref(next.as_deref());
                self.step_log(node, kind, || vec![("path", path)]);
            }
        }
        step
    }

    pub(crate) fn handle_if(&mut self, node: &Node, n: &If) -> Step {
        let step = self.run_if(n);
        self.path_log(node, "condition", step)
    }

    fn run_if(&mut self, n: &If) -> Step {
        let If {
            expressions,
            next_ids,
            else_id,
        } = n;
        for (i, expr) in expressions.iter().enumerate() {
            let result = legacy::evaluate(expr, &self.scope());
            // `0` counts as true, like the reference evaluator.
            let taken = truthy(&result) || result.as_f64() == Some(0.0);
            self.debug(Some("if"), || {
                format!(
                    "evaluating path {}: `{}` to `{}`",
                    i + 1,
                    expression_source(expr),
                    js_string(&result)
                )
            });
            if taken {
                self.debug(Some("if"), || {
                    format!("condition true - taking path {}", i + 1)
                });
                return Step::Next(next_ids.get(i).cloned().flatten());
            }
        }
        self.debug(Some("if"), || {
            "no conditions matched - taking else path".into()
        });
        Step::Next(else_id.clone())
    }

    pub(crate) fn handle_if_v2(&mut self, node: &Node, n: &IfV2) -> Step {
        if self.config.stops_on("ifV2") {
            return self.handle_custom_action(&n.as_custom);
        }
        let step = self.run_if_v2(n);
        self.path_log(node, "condition", step)
    }

    fn run_if_v2(&mut self, n: &IfV2) -> Step {
        let IfV2 {
            expressions,
            next_ids,
            else_id,
            ..
        } = n;
        let vars = self.combined_vars();
        let script_env = self.script_env();
        for (i, expr) in expressions.iter().enumerate() {
            let result = self.env.sandbox.eval_expression(expr, &vars, &script_env);
            match self.script_result(result) {
                Ok(v) if truthy(&v) => return Step::Next(next_ids.get(i).cloned().flatten()),
                Ok(_) => {}
                Err(e) => {
                    let msg = script_error_message(&e);
                    self.debug(Some("ifV2"), || {
                        format!("Error condition {} - \"{expr}\": {msg}", i + 1)
                    });
                }
            }
        }
        Step::Next(else_id.clone())
    }

    pub(crate) fn handle_code(&mut self, node: &Node, n: &Code) -> Step {
        let Code {
            code,
            success,
            fail,
            paths,
        } = n;
        let vars = self.combined_vars();
        let script_env = self.script_env();
        let result = self
            .env
            .sandbox
            .run_code(code, &vars, !paths.is_empty(), &script_env);
        match self.script_result(result) {
            Ok(outcome) => {
                let updates: Vec<(String, Value)> = outcome
                    .variables
                    .into_iter()
                    .filter(|(k, v)| vars.get(k) != Some(v))
                    .collect();
                let changed = self.assign(node, "custom_code", updates);
                self.debug(Some("code"), || {
                    format!("evaluating code - changes: {}", changed.join(", "))
                });
                if let Some(ret) = outcome.returned {
                    let label = js_string(&ret);
                    if let Some((_, target)) = paths.iter().find(|(l, _)| *l == label) {
                        return Step::Next(target.clone());
                    }
                }
                Step::Next(success.clone())
            }
            Err(e) => {
                let msg = script_error_message(&e);
                let error = Value::String(msg.clone());
                self.log(LogLevel::Error, "step.custom_code", || {
                    let mut m = step_ref(node);
                    m.insert("error".into(), error);
                    m.insert("changedVariables".into(), Value::Null);
                    m
                });
                self.debug(Some("code"), || format!("unable to resolve code: {msg}"));
                Step::Next(fail.clone())
            }
        }
    }

    /// Applies assignments (`null` = JavaScript `undefined`: the variable is removed), logs
    /// `step.<kind>` with the changed variables, and returns the names that changed.
    pub(crate) fn assign(
        &mut self,
        node: &Node,
        kind: &str,
        values: Vec<(String, Value)>,
    ) -> Vec<String> {
        let logging = self.logs_at(LogLevel::Info);
        let mut before = Map::new();
        let mut changed = Vec::new();
        for (var, value) in &values {
            let old = self.var(var).cloned();
            if old.as_ref() != Some(value) {
                changed.push(var.clone());
            }
            if logging {
                before.insert(var.clone(), old.unwrap_or(Value::Null));
            }
            if value.is_null() {
                self.unset_var(var);
            } else {
                self.set_var(var, value.clone());
            }
        }
        if logging {
            let diff = Runtime::changed_variables(&before, &values);
            self.step_log(node, kind, || {
                let mut fields = vec![("changedVariables", diff)];
                if kind == "custom_code" {
                    fields.insert(0, ("error", Value::Null));
                }
                fields
            });
        }
        changed
    }

    pub(crate) fn handle_set(&mut self, node: &Node, n: &Set) -> Step {
        let Set { sets, next } = n;
        let mut results = Vec::with_capacity(sets.len());
        for set in sets {
            let Some(var) = &set.variable else {
                // The reference throws here: the turn ends on this node.
                self.debug(Some("set"), || {
                    "An internal error occurred: set without a variable".into()
                });
                self.end_turn();
                return Step::Next(None);
            };
            results.push((
                var.clone(),
                legacy::evaluate(&set.expression, &self.scope()),
            ));
        }
        self.assign(node, "set", results);
        self.debug(Some("set"), || "setting variables".into());
        Step::Next(next.clone())
    }

    pub(crate) fn handle_set_v2(&mut self, node: &Node, n: &SetV2) -> Step {
        let SetV2 { sets, next } = n;
        let mut assignments = Vec::with_capacity(sets.len());
        for set in sets {
            let Some(var) = &set.variable else { continue };
            if self.var(var).is_none() {
                // Undeclared variables are created as globals first.
                self.state.variables.insert(var.clone(), Value::from(0));
            }
            assignments.push((var.clone(), expression_source(&set.expression)));
        }
        let vars = self.combined_vars();
        let script_env = self.script_env();
        let result = self.env.sandbox.run_sets(&assignments, &vars, &script_env);
        match self.script_result(result) {
            Ok(values) => {
                self.assign(node, "set", values);
            }
            Err(e) => {
                let msg = script_error_message(&e);
                self.debug(Some("setV2"), || format!("unable to set variables: {msg}"));
            }
        }
        Step::Next(next.clone())
    }

    pub(crate) fn handle_random(&mut self, node: &Node, n: &Random) -> Step {
        let step = self.run_random(node, n.no_repeat, &n.next_ids);
        self.path_log(node, "random", step)
    }

    fn run_random(&mut self, node: &Node, no_repeat: bool, next_ids: &[Option<String>]) -> Step {
        match next_ids.len() {
            0 => {
                self.debug(Some("random"), || {
                    "no random paths connected - exiting".into()
                });
                return Step::Next(None);
            }
            1 => return Step::Next(next_ids[0].clone()),
            _ => {}
        }
        let chosen = if no_repeat {
            // History of used next ids per node, as the reference keeps it (`storage.randoms`).
            let key = |i: usize| {
                next_ids[i]
                    .clone()
                    .map(Value::String)
                    .unwrap_or(Value::Null)
            };
            let mut history: Vec<Value> = self
                .state
                .storage
                .get("randoms")
                .and_then(|r| r.get(&node.id))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut free: Vec<usize> = (0..next_ids.len())
                .filter(|&i| !history.contains(&key(i)))
                .collect();
            if free.is_empty() {
                free = (0..next_ids.len()).collect();
                history.clear();
            }
            let choice = free[self.env.rng.index(free.len())];
            history.push(key(choice));
            let randoms = self
                .state
                .storage
                .entry("randoms")
                .or_insert_with(|| Value::Object(Default::default()));
            if !randoms.is_object() {
                *randoms = Value::Object(Default::default());
            }
            randoms[node.id.as_str()] = Value::Array(history);
            choice
        } else {
            self.env.rng.index(next_ids.len())
        };
        self.debug(Some("random"), || "going down random path".into());
        Step::Next(next_ids[chosen].clone())
    }
}
