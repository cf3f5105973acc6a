//! The function step (`spec/dm-api.md` §5.6.24): the function's code runs in the sandbox with
//! its inputs (`{var}` replaced); each `fetch` it makes is an effect of the turn (the function
//! is run again from the start with the answers so far, `docs/effects.md`); what it returns —
//! output variables, traces, a path or an order to listen — is checked before any of it is
//! applied. Any failure is a `debug` trace and the end of the flow, as in the reference.

mod command;

use super::Call;
use crate::effects::{Effect, EffectResult, HttpRequest};
use crate::env::FunctionRun;
use crate::expr::ScriptError;
use crate::interpolate::replace;
use crate::runtime::{Mode, Runtime, Step};
use crate::trace::Trace;
use command::{Command, Next};
use flowdm_model::{Function, FunctionDefinition, FunctionRef, Node};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Where a listening function keeps its transfers until the next request.
pub const TRANSFERS: &str = "__vf_internal_function_conditional_transfers__";

impl Runtime<'_, '_> {
    pub(crate) fn handle_function(&mut self, node: &Node, n: &Function) -> Step {
        let result = if self.mode == Mode::Request {
            self.resume_function(n)
        } else {
            self.run_function(node, n)
        };
        result.unwrap_or_else(|message| {
            self.debug(None, || {
                format!("[ERROR]: Encountered an error in a Function step. {message}")
            });
            Step::Next(None)
        })
    }

    pub(crate) fn function_definition(
        &self,
        r: &FunctionRef,
    ) -> Result<Arc<FunctionDefinition>, String> {
        match r {
            FunctionRef::Id(id) => self
                .project
                .version
                .functions
                .get(id)
                .cloned()
                .ok_or_else(|| format!("unable to resolve function definition {id:?}, the definition was not found")),
            FunctionRef::Inline(d) => Ok(d.clone()),
            FunctionRef::Invalid => Err("the step has no function definition".into()),
        }
    }

    fn run_function(&mut self, node: &Node, n: &Function) -> Result<Step, String> {
        let def = self.function_definition(&n.definition)?;
        let scope = self.scope();
        let inputs: Map<String, Value> = n
            .input_vars
            .iter()
            .map(|(name, markup)| (name.clone(), Value::String(replace(markup, &scope, false))))
            .collect();
        if let Some((name, _)) = def
            .input_vars
            .iter()
            .find(|(name, _)| !inputs.contains_key(name))
        {
            return Err(format!(
                "Function is missing input value for required variable '{name}'"
            ));
        }
        let returned = match self.execute_function(&def, inputs) {
            Call::Pending => return Ok(Step::Wait),
            Call::Done(result) => result?,
        };
        let command = command::parse(returned, &mut || self.env.rng.short_id())?;
        if let Some(Next::Path(path)) = &command.next {
            if !def.path_codes.contains(path) {
                return Err(format!(
                    "Function step returned an invalid path '{path}' which is not one of the expected paths '{}'",
                    json!(def.path_codes)
                ));
            }
        }
        Ok(self.apply_command(node, n, &def, command))
    }

    /// Runs `def`'s code with `inputs` (`args.inputVars`): what `main` returned, or the turn
    /// stops for the first `fetch` the effect log cannot answer yet.
    pub(crate) fn execute_function(
        &mut self,
        def: &FunctionDefinition,
        inputs: Map<String, Value>,
    ) -> Call<Value> {
        self.execute_function_with(def, json!({ "inputVars": inputs }))
    }

    /// [`Runtime::execute_function`] with `args` as given (server actions pass
    /// `{params, variables}`).
    pub(crate) fn execute_function_with(
        &mut self,
        def: &FunctionDefinition,
        args: Value,
    ) -> Call<Value> {
        let env = self.script_env();
        // The function's `fetch`es take their answers from the turn's effect log, in order.
        let mut log = std::mem::take(&mut self.effect_results);
        let mut fetch = |_: &HttpRequest| log.pop_front().map(EffectResult::into_http);
        let run = self
            .env
            .sandbox
            .run_function(&def.code, &args, &env, &mut fetch);
        self.effect_results = log;
        match self.script_result(run) {
            Ok(FunctionRun::Returned(v)) => Call::Done(Ok(v)),
            Ok(FunctionRun::Fetching(request)) => {
                self.suspend(Effect::Http(request));
                Call::Pending
            }
            Err(ScriptError::Thrown(e)) => Call::Done(Err(format!(
                "Function step produced an uncaught exception: {e}"
            ))),
            Err(e) => Call::Done(Err(e.to_string())),
        }
    }

    fn apply_command(
        &mut self,
        node: &Node,
        n: &Function,
        def: &FunctionDefinition,
        command: Command,
    ) -> Step {
        if let Some(out) = command.output_vars {
            // Declared outputs only; one the function left out becomes `undefined`.
            let values: Vec<(String, Value)> = def
                .output_vars
                .iter()
                .filter_map(|name| {
                    let (_, var) = n.output_vars.iter().find(|(o, _)| o == name)?;
                    Some((var.clone(), out.get(name).cloned().unwrap_or(Value::Null)))
                })
                .collect();
            self.assign(node, "function", values);
        }
        for t in command.traces {
            self.push_trace(to_trace(t));
        }
        if def.path_codes.is_empty() {
            return Step::Next(n.next.clone());
        }
        match command.next {
            Some(Next::Path(path)) => Step::Next(n.paths.get(&path).cloned().flatten()),
            Some(Next::Listen(transfers)) => {
                self.state.storage.insert(TRANSFERS.into(), transfers);
                Step::Wait
            }
            None => Step::Next(None),
        }
    }

    /// The request after `next: {listen: true}`: the first `to` whose `on` matches
    /// `{event: request}`, else `defaultTo`.
    fn resume_function(&mut self, n: &Function) -> Result<Step, String> {
        let transfers = self
            .state
            .storage
            .get(TRANSFERS)
            .filter(|t| command::valid_transfers(t))
            .cloned()
            .ok_or("function step execution received user input, but function step has no input handlers")?;
        self.state.storage.insert(TRANSFERS.into(), Value::Null);
        let event = json!({ "event": self.request.as_ref().map(|r| r.as_value()) });
        let mut chosen = transfers.get("defaultTo");
        for t in transfers["to"].as_array().into_iter().flatten() {
            let on = t["on"].as_object().ok_or("a transfer without a query")?;
            if crate::query::matches(on, &event)? {
                chosen = t.get("dest");
                break;
            }
        }
        let path = chosen.and_then(command::transfer_path).unwrap_or_default();
        Ok(Step::Next(n.paths.get(path).cloned().flatten()))
    }
}

/// A checked trace object as a [`Trace`] (its `type`, `payload`, `paths` and `defaultPath`).
fn to_trace(t: Value) -> Trace {
    let ty = t["type"].as_str().unwrap_or_default().to_string();
    let mut trace = Trace::new(ty, Value::Null, 0);
    trace.payload = t.get("payload").cloned().map(crate::trace::Payload::Json);
    trace.paths = t.get("paths").and_then(Value::as_array).cloned();
    trace.default_path = t.get("defaultPath").cloned();
    trace
}
