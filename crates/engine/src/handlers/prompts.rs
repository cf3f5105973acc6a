//! Buttons (`choice` traces), no-match and no-reply handling (§4.3, §6.17).

use super::output::prompt_is_usable;
use super::Call;
use crate::interpolate::{number, object, replace, Lookup};
use crate::runtime::{Runtime, Step};
use flowdm_model::{NoMatch, NoReply};
use serde_json::{json, Value};

pub(crate) const NO_MATCHES_COUNTER: &str = "noMatchesCounter";
pub(crate) const NO_REPLIES_COUNTER: &str = "noRepliesCounter";
/// Chat default when no global no-match prompt is configured.
pub(crate) const DEFAULT_NO_MATCH: &str = "Sorry, I didn\u{2019}t get that. Please try again.";

fn process_actions(payload: &mut Value, vars: &dyn Lookup) {
    let Some(actions) = payload.get_mut("actions").and_then(Value::as_array_mut) else {
        return;
    };
    for action in actions {
        if action.get("type").and_then(Value::as_str) != Some("open_url") {
            continue;
        }
        if let Some(Value::String(url)) = action.get("payload").and_then(|p| p.get("url")) {
            let replaced = replace(url, vars, false);
            action["payload"]["url"] = Value::String(replaced);
        }
    }
}

/// One button of a `choice` trace with its variables filled in.
fn process_button(button: &Value, vars: &dyn Lookup) -> Option<(String, Value)> {
    let name = replace(button.get("name")?.as_str()?, vars, false);
    let mut request = button.get("request").cloned().unwrap_or(Value::Null);
    let ty = request
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(payload) = request.get_mut("payload") {
        if ty == "text" {
            if let Value::String(s) = payload {
                *s = replace(s, vars, false);
            }
        } else if ty == "intent" {
            for key in ["query", "label"] {
                if let Some(Value::String(s)) = payload.get(key) {
                    let replaced = replace(s, vars, false);
                    payload[key] = Value::String(replaced);
                }
            }
            process_actions(payload, vars);
        } else if payload.is_object() {
            if let Some(Value::String(label)) = payload.get("label") {
                let replaced = replace(label, vars, false);
                payload["label"] = Value::String(replaced);
            }
            process_actions(payload, vars);
        }
    }
    Some((
        name.clone(),
        object([("name", Value::String(name)), ("request", request)]),
    ))
}

impl Runtime<'_, '_> {
    /// Emits the `choice` trace for buttons (or legacy chips when there are no buttons).
    pub(crate) fn choice_trace(&mut self, buttons: &[Value], chips: &[Value]) {
        let scope = self.scope();
        let mut seen: Vec<String> = Vec::new();
        let mut out: Vec<Value> = Vec::new();
        if !buttons.is_empty() {
            for b in buttons {
                if let Some((name, button)) = process_button(b, &scope) {
                    if !seen.contains(&name) {
                        seen.push(name);
                        out.push(button);
                    }
                }
            }
        } else {
            for chip in chips {
                let Some(label) = chip.get("label").and_then(Value::as_str) else {
                    continue;
                };
                let label = replace(label, &scope, false);
                if !seen.contains(&label) {
                    out.push(
                        json!({ "name": label, "request": { "type": "text", "payload": label } }),
                    );
                    seen.push(label);
                }
            }
        }
        if !out.is_empty() {
            self.trace("choice", object([("buttons", Value::Array(out))]));
        }
    }

    pub(crate) fn clear_counters(&mut self) {
        self.state.storage.shift_remove(NO_MATCHES_COUNTER);
        self.state.storage.shift_remove(NO_REPLIES_COUNTER);
    }

    fn global_no_reply_prompt(&self) -> Option<Value> {
        self.project
            .version
            .settings
            .global_no_reply
            .clone()
            .filter(prompt_is_usable)
    }

    fn global_no_reply_delay(&self) -> f64 {
        self.project
            .version
            .settings
            .global_no_reply_delay
            .unwrap_or_else(|| self.project.default_no_reply_delay())
    }

    /// The `no-reply` trace of a node that starts waiting (§6.17).
    pub(crate) fn entering_no_reply_trace(&mut self, no_reply: Option<&NoReply>) {
        let timeout = match no_reply.and_then(|n| n.timeout) {
            Some(t) => Some(t),
            None if self.global_no_reply_prompt().is_some() => Some(self.global_no_reply_delay()),
            None => None,
        };
        if let Some(t) = timeout {
            self.trace("no-reply", json!({ "timeout": number(t) }));
        }
    }

    fn pick(&mut self, prompts: &[Value], counter: usize, randomize: bool) -> Value {
        if randomize {
            prompts[self.env.rng.index(prompts.len())].clone()
        } else {
            prompts[counter].clone()
        }
    }

    /// The reprompt counter stored under `key` and the prompts that would say something.
    fn reprompt_state(&self, key: &str, prompts: Option<&[Value]>) -> (usize, Vec<Value>) {
        let counter = self.storage_num(key).unwrap_or(0.0).max(0.0) as usize;
        let usable = prompts
            .unwrap_or(&[])
            .iter()
            .filter(|p| prompt_is_usable(p))
            .cloned()
            .collect();
        (counter, usable)
    }

    /// No-match handling at a waiting node (§6.17).
    pub(crate) fn no_match(
        &mut self,
        no_match: Option<&NoMatch>,
        no_reply: Option<&NoReply>,
        buttons: &[Value],
        chips: &[Value],
    ) -> Step {
        let (counter, prompts) =
            self.reprompt_state(NO_MATCHES_COUNTER, no_match.map(|n| n.prompts.as_slice()));
        let mut output: Option<Value> = None;
        if counter < prompts.len() {
            let randomize = no_match.map(|n| n.randomize).unwrap_or(false);
            let p = self.pick(&prompts, counter, randomize);
            if p.as_str() != Some("") {
                output = Some(p);
            }
        }
        let mut ai = false;
        if output.is_none() {
            if let Some(target) = no_match.and_then(|n| n.node_id.clone()) {
                return self.exit_no_match(Some(target));
            }
            if self.project.info.ai_playground {
                match self.ai_no_match() {
                    Call::Pending => return Step::Wait,
                    Call::Done(Ok(Some(answer))) => {
                        output = Some(Value::String(answer));
                        ai = true;
                    }
                    Call::Done(_) => {}
                }
            }
        }
        if output.is_none() {
            match &self.project.version.settings.global_no_match {
                None => output = Some(self.default_no_match_prompt()),
                Some(p) => {
                    let content = p.get("content").unwrap_or(p);
                    if content.is_null() {
                        output = Some(self.default_no_match_prompt());
                    } else if prompt_is_usable(p) {
                        output = Some(p.clone());
                    } else {
                        return self.exit_no_match(None);
                    }
                }
            }
        }
        self.path_trace("reprompt");
        match output {
            Some(Value::String(answer)) if ai => {
                self.emit_ai_output(&answer);
            }
            Some(p) => self.emit_prompt(&p),
            None => {}
        }
        self.state
            .storage
            .insert(NO_MATCHES_COUNTER.into(), Value::from(counter as u64 + 1));
        self.choice_trace(buttons, chips);
        self.entering_no_reply_trace(no_reply);
        Step::Wait
    }

    fn default_no_match_prompt(&self) -> Value {
        Value::String(DEFAULT_NO_MATCH.into())
    }

    fn exit_no_match(&mut self, target: Option<String>) -> Step {
        self.state.storage.shift_remove(NO_MATCHES_COUNTER);
        self.path_trace("choice:else");
        Step::Next(target)
    }

    /// No-reply handling at a waiting node (§6.17).
    pub(crate) fn no_reply(
        &mut self,
        no_reply: Option<&NoReply>,
        buttons: &[Value],
        chips: &[Value],
    ) -> Step {
        let (counter, prompts) =
            self.reprompt_state(NO_REPLIES_COUNTER, no_reply.map(|n| n.prompts.as_slice()));
        let delay = if prompts.len().checked_sub(1) == Some(counter) {
            Some(self.global_no_reply_delay())
        } else {
            no_reply.and_then(|n| n.timeout)
        };
        let prompt = if counter < prompts.len() {
            Some(self.pick(
                &prompts,
                counter,
                no_reply.map(|n| n.randomize).unwrap_or(false),
            ))
        } else if counter == prompts.len() {
            self.global_no_reply_prompt()
        } else {
            None
        };
        let Some(prompt) = prompt else {
            self.state.storage.shift_remove(NO_REPLIES_COUNTER);
            self.path_trace("choice:noReply");
            return Step::Next(no_reply.and_then(|n| n.node_id.clone()));
        };
        self.state
            .storage
            .insert(NO_REPLIES_COUNTER.into(), Value::from(counter as u64 + 1));
        self.path_trace("reprompt");
        self.emit_prompt(&prompt);
        self.choice_trace(buttons, chips);
        match delay {
            Some(t) => self.trace("no-reply", json!({ "timeout": number(t) })),
            None => self.entering_no_reply_trace(no_reply),
        }
        Step::Wait
    }

    pub(crate) fn is_no_reply_request(&self) -> bool {
        self.request
            .as_ref()
            .map(|r| r.ty() == "no-reply")
            .unwrap_or(false)
    }
}
