//! Nodes that wait for the user: interaction (choice/buttons/prompt), capture and captureV2
//! (§5.6.4–6).

use super::prompts::NO_MATCHES_COUNTER;
use crate::commands::{event_matches, filled_entities};
use crate::dm::{DM_STORAGE, ELICIT, PRIOR_INTENT};
use crate::request::Request;
use crate::runtime::{Mode, Runtime, Step};
use flowdm_model::{Capture, CaptureV2, Interaction, Node};
use serde_json::{json, Value};

/// A whole-reply capture ignores commands when the NLU was this unsure.
const LOW_CONFIDENCE: f64 = 0.6;

impl Runtime<'_, '_> {
    pub(crate) fn handle_interaction(&mut self, n: &Interaction) -> Step {
        let Interaction {
            interactions,
            buttons,
            chips,
            scope_node,
            no_match,
            no_reply,
        } = n;
        if self.mode == Mode::Running {
            self.choice_trace(buttons, chips);
            self.entering_no_reply_trace(no_reply.as_ref());
            self.clear_counters();
            return Step::Wait;
        }
        if self.is_no_reply_request() {
            return self.no_reply(no_reply.as_ref(), buttons, chips);
        }
        let Some(request) = self.request.clone() else {
            return Step::Wait;
        };
        for (i, interaction) in interactions.iter().enumerate() {
            if !event_matches(&interaction.event, &request, None) {
                continue;
            }
            self.apply_mappings(&interaction.event);
            if let Some(goto) = &interaction.goto_request {
                self.trace("goto", json!({ "request": goto }));
                return Step::Wait;
            }
            self.path_trace(&format!("choice:{}", i + 1));
            return Step::Next(interaction.next_id.clone());
        }
        if !scope_node {
            if let Some(step) = self.try_commands() {
                return step;
            }
        }
        self.no_match(no_match.as_ref(), no_reply.as_ref(), buttons, chips)
    }

    pub(crate) fn handle_capture_v2(&mut self, node: &Node, n: &CaptureV2) -> Step {
        let CaptureV2 {
            intent,
            variable,
            scope_node,
            no_match,
            no_reply,
            next,
        } = n;
        if self.mode == Mode::Running {
            self.entering_no_reply_trace(no_reply.as_ref());
            if let Some((name, entities)) = intent {
                // Delegated at once: the dialog manager emits `entity-filling` without a prompt.
                let request = elicit_request(name, entities, true);
                self.trace("goto", json!({ "request": request }));
            }
            self.clear_counters();
            return Step::Wait;
        }
        if self.is_no_reply_request() {
            return self.no_reply(no_reply.as_ref(), &[], &[]);
        }
        let Some(request) = self.request.clone() else {
            return Step::Wait;
        };
        let low_confidence = variable.is_some()
            && request
                .confidence()
                .map(|c| c <= LOW_CONFIDENCE)
                .unwrap_or(false);
        if !scope_node && !low_confidence {
            if let Some(step) = self.try_commands() {
                return step;
            }
        }
        if request.is_intent() {
            if let Some((name, entities)) = intent {
                if request.intent_name() == Some(name.as_str()) {
                    self.capture_entities(&request, Some(entities));
                    self.path_trace("capture");
                    return Step::Next(next.clone());
                }
            } else if let Some(var) = variable {
                let query = request.query().unwrap_or("").to_string();
                self.assign(node, "capture", vec![(var.clone(), Value::String(query))]);
                self.path_trace("capture");
                return Step::Next(next.clone());
            }
        }
        let Some((name, entities)) = intent else {
            return self.no_match(no_match.as_ref(), no_reply.as_ref(), &[], &[]);
        };
        // Entity-filling no-match (§5.6.6 step 5): the prior dialog intent when it is this
        // node's and has entities, else a fresh elicit request.
        let mut elicit = self
            .state
            .storage
            .get(DM_STORAGE)
            .and_then(|dm| dm.get(PRIOR_INTENT))
            .filter(|prior| {
                prior
                    .pointer("/payload/intent/name")
                    .and_then(Value::as_str)
                    == Some(name.as_str())
                    && prior
                        .pointer("/payload/entities")
                        .and_then(Value::as_array)
                        .is_some_and(|e| !e.is_empty())
            })
            .cloned()
            .unwrap_or_else(|| elicit_request(name, entities, false));
        let counted = self
            .state
            .storage
            .get(NO_MATCHES_COUNTER)
            .is_some_and(Value::is_number);
        if !counted {
            // First miss: the dialog manager speaks the entity prompt.
            self.state
                .storage
                .insert(NO_MATCHES_COUNTER.into(), Value::from(0));
            elicit[ELICIT] = Value::Bool(false);
            self.trace("goto", json!({ "request": elicit }));
            return Step::Wait;
        }
        let step = self.no_match(no_match.as_ref(), no_reply.as_ref(), &[], &[]);
        if step == Step::Wait {
            elicit[ELICIT] = Value::Bool(true);
            self.trace("goto", json!({ "request": elicit }));
        }
        step
    }

    /// Copies same-named entities into variables (all, or only the listed names).
    fn capture_entities(&mut self, request: &Request, only: Option<&Vec<String>>) {
        for (name, value) in filled_entities(request) {
            if only.is_none_or(|o| o.iter().any(|n| n == name)) {
                self.set_var(name, value);
            }
        }
    }

    /// Capture v1 (§5.6.6).
    pub(crate) fn handle_capture(&mut self, n: &Capture) -> Step {
        let Capture {
            variable,
            slots,
            intent,
            buttons,
            chips,
            no_reply,
            next,
        } = n;
        if self.mode == Mode::Running {
            self.choice_trace(buttons, chips);
            self.entering_no_reply_trace(no_reply.as_ref());
            if let Some(intent) = intent {
                self.trace(
                    "goto",
                    json!({ "request": { "type": "intent", "payload": { "intent": { "name": intent }, "query": "", "entities": [] } } }),
                );
            }
            self.state
                .storage
                .shift_remove(crate::handlers::prompts::NO_REPLIES_COUNTER);
            return Step::Wait;
        }
        if self.is_no_reply_request() {
            return self.no_reply(no_reply.as_ref(), buttons, chips);
        }
        if let Some(step) = self.try_commands() {
            return step;
        }
        let Some(request) = self.request.clone() else {
            return Step::Wait;
        };
        if request.is_intent() {
            match variable {
                None if !slots.is_empty() => self.capture_entities(&request, Some(slots)),
                Some(var) => {
                    let query = request.query().unwrap_or("");
                    if !query.is_empty() {
                        let value = words_to_number(query)
                            .map(Value::from)
                            .unwrap_or_else(|| query.into());
                        self.set_var(var, value);
                    }
                }
                None => {}
            }
            self.path_trace("capture");
        }
        Step::Next(next.clone())
    }
}

/// The request that makes the dialog manager elicit an entity capture's entities.
fn elicit_request(intent: &str, entities: &[String], elicit: bool) -> Value {
    json!({
        "type": "intent",
        "payload": { "intent": { "name": intent }, "query": "", "entities": [] },
        "requiredEntities": entities,
        "ELICIT": elicit,
    })
}

/// "twenty five" → 25, "12" → 12; `None` when the text is not a number.
pub(crate) fn words_to_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(f) = t.parse::<f64>() {
        return Some(f);
    }
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let mut total = 0.0;
    let mut current = 0.0;
    let mut any = false;
    for word in t
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-')
    {
        if word.is_empty() || word == "and" {
            continue;
        }
        if let Some(i) = SMALL.iter().position(|w| *w == word) {
            current += i as f64;
        } else if let Some(i) = TENS.iter().position(|w| *w == word) {
            current += (i as f64 + 2.0) * 10.0;
        } else if word == "hundred" {
            current = current.max(1.0) * 100.0;
        } else if word == "thousand" || word == "million" {
            let scale = if word == "thousand" { 1e3 } else { 1e6 };
            total += current.max(1.0) * scale;
            current = 0.0;
        } else {
            return None;
        }
        any = true;
    }
    any.then_some(total + current)
}

#[cfg(test)]
mod tests {
    use super::words_to_number;

    #[test]
    fn converts_number_words() {
        assert_eq!(words_to_number("twenty five"), Some(25.0));
        assert_eq!(words_to_number("12"), Some(12.0));
        assert_eq!(words_to_number("one hundred and three"), Some(103.0));
        assert_eq!(words_to_number("two thousand"), Some(2000.0));
        assert_eq!(words_to_number("hello"), None);
    }
}
