//! Output nodes: speak, text, visual, CMS message, cardV2 and carousel (§5.6.2–3, 19–21, 27).

use crate::interpolate::{number, object, replace, replace_deep, slate_plain_text, text_to_slate};
use crate::logs::LogLevel;
use crate::runtime::{Mode, Runtime, Step};
use crate::state::set_key;
use crate::trace::strip_ssml;
use crate::trace::{Payload, Slate, TextPayload, Trace};
use flowdm_model::{
    truthy, CardDef, CardV2, Carousel, Message, NoMatch, NoReply, Node, Speak, Text, Visual,
};
use serde_json::{json, Map, Value};

/// Longest assistant entry kept in the AI memory.
const MEMORY_ENTRY_MAX: usize = 10_000;
/// Entries kept in the AI memory.
const MEMORY_TURNS: usize = 10;

impl Runtime<'_, '_> {
    pub(crate) fn handle_speak(&mut self, node: &Node, n: &Speak) -> Step {
        let Speak {
            random_speak,
            speak,
            next,
        } = n;
        let chosen = match random_speak {
            Some(list) if !list.is_empty() => Some(list[self.env.rng.index(list.len())].clone()),
            _ => speak.clone(),
        };
        if let Some(Value::String(msg)) = chosen {
            let text = self.emit_speak(&msg);
            self.step_log(node, "speak", || vec![("text", Value::String(text))]);
        }
        Step::Next(next.clone())
    }

    pub(crate) fn handle_text(&mut self, node: &Node, n: &Text) -> Step {
        let Text { texts, next } = n;
        if !texts.is_empty() {
            let item = &texts[self.env.rng.index(texts.len())];
            let delay = item.get("messageDelayMilliseconds").and_then(Value::as_f64);
            if let Some(content) = item.get("content") {
                let plain = self.emit_text(content, delay);
                if self.logs_at(LogLevel::Info) {
                    let rich = self.traces.last().and_then(Trace::output);
                    self.step_log(node, "text", || {
                        vec![
                            ("plainContent", Value::String(plain)),
                            ("richContent", rich.unwrap_or(Value::Null)),
                        ]
                    });
                }
            }
        }
        Step::Next(next.clone())
    }

    pub(crate) fn handle_visual(&mut self, n: &Visual) -> Step {
        let mut data = n.data.clone();
        let key = if data.get("visualType").and_then(Value::as_str) == Some("apl") {
            "imageURL"
        } else {
            "image"
        };
        if let Some(Value::String(s)) = data.get(key) {
            let replaced = replace(s, &self.scope(), false);
            data[key] = Value::String(replaced);
        }
        self.trace("visual", data);
        Step::Next(n.next.clone())
    }

    /// CMS message: pick a variant of `default:en-us` (§5.6.27).
    pub(crate) fn handle_message(&mut self, n: &Message) -> Step {
        let Message { message_id, next } = n;
        let variants = self
            .project
            .version
            .messages
            .get(message_id)
            .and_then(|m| m.get("variants"))
            .and_then(|v| {
                v.get("default:en-us")
                    .or_else(|| v.as_object().and_then(|o| o.values().next()))
            })
            .and_then(Value::as_array)
            .cloned();
        let Some(variants) = variants else {
            self.debug(Some("message"), || {
                format!("message {message_id} has no default:en-us variants")
            });
            self.end_turn();
            return Step::Next(None);
        };
        let unconditioned: Vec<&Value> = variants
            .iter()
            .filter(|v| v.get("condition").map(Value::is_null).unwrap_or(true))
            .collect();
        if unconditioned.len() < variants.len() {
            self.debug(Some("message"), || {
                "conditioned message variants are not evaluated yet".into()
            });
        }
        if !unconditioned.is_empty() {
            let chosen = unconditioned[self.env.rng.index(unconditioned.len())];
            let data = chosen.get("data").cloned().unwrap_or(Value::Null);
            if let Some(text) = data.get("text") {
                if !slate_plain_text(text).is_empty() {
                    let delay = data.get("delay").and_then(Value::as_f64);
                    self.emit_text(text, delay);
                }
            }
        }
        Step::Next(next.clone())
    }

    /// Emits a `text` trace from Slate content (§4.3).
    pub(crate) fn emit_text(&mut self, content: &Value, delay: Option<f64>) -> String {
        self.emit_text_as(content, delay, false)
    }

    /// An AI step's answer, said as every output is (variables replaced, §4.3) and marked
    /// `ai: true`: a `text` trace in chat projects, a `speak` trace in voice ones.
    pub(crate) fn emit_ai_output(&mut self, answer: &str) -> String {
        if self.project.is_chat() {
            let content = json!([{ "children": [{ "text": answer }] }]);
            self.emit_text_as(&content, None, true)
        } else {
            self.emit_speak_as(answer, true)
        }
    }

    fn emit_text_as(&mut self, content: &Value, delay: Option<f64>, ai: bool) -> String {
        let content = replace_deep(content, &self.scope(), true);
        let message = slate_plain_text(&content);
        let delay = delay
            .or(self.project.version.settings.message_delay_ms)
            .unwrap_or(1000.0);
        let delay = number(delay);
        let id = self.env.rng.short_id();
        let payload = TextPayload {
            slate: Slate {
                id,
                content,
                message_delay_milliseconds: delay.clone(),
            },
            message: message.clone(),
            delay,
            ai,
        };
        self.traces.push(Trace {
            ty: "text".into(),
            payload: Some(Payload::Text(Box::new(payload))),
            time: self.now_ms,
            paths: None,
            default_path: None,
            stop_id: None,
            resume: None,
            outside_runtime: false,
        });
        self.remember_output(&message);
        message
    }

    /// Emits a `speak` trace (variables substituted twice, §4.3).
    pub(crate) fn emit_speak(&mut self, msg: &str) -> String {
        self.emit_speak_as(msg, false)
    }

    fn emit_speak_as(&mut self, msg: &str, ai: bool) -> String {
        let once = replace(msg, &self.scope(), true);
        let message = replace(&once, &self.scope(), true);
        let payload = if ai {
            json!({ "message": message, "type": "message", "ai": true })
        } else {
            json!({ "message": message, "type": "message" })
        };
        self.trace("speak", payload);
        self.remember_output(&message);
        message
    }

    /// Side effects of an output: `last_response`, the frame's last output, the AI memory.
    /// The output is the trace just emitted.
    fn remember_output(&mut self, message: &str) {
        set_key(
            &mut self.state.variables,
            "last_response",
            Value::String(message.to_string()),
        );
        self.set_output();
        self.remember("assistant", &strip_ssml(message));
    }

    /// Appends to the AI memory (`_memory_`, §6.11); `vf_memory` is rendered from it once at the
    /// end of the pass ([`Runtime::render_memory`]).
    pub(crate) fn remember(&mut self, role: &str, content: &str) {
        let vars = &mut self.state.variables;
        let mut memory = match vars.get_mut("_memory_").map(Value::take) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let merged = role == "assistant"
            && memory
                .last()
                .and_then(|m| m.get("role"))
                .and_then(Value::as_str)
                == Some("assistant");
        if merged {
            if let Some(Value::Object(last)) = memory.last_mut() {
                if let Some(Value::String(prev)) = last.get_mut("content") {
                    prev.push('\n');
                    prev.push_str(content);
                    keep_last_chars(prev, MEMORY_ENTRY_MAX);
                }
            }
        } else {
            let mut content = content.to_string();
            keep_last_chars(&mut content, MEMORY_ENTRY_MAX);
            memory.push(object([
                ("role", Value::String(role.to_string())),
                ("content", Value::String(content)),
            ]));
        }
        if memory.len() > MEMORY_TURNS {
            memory.drain(..memory.len() - MEMORY_TURNS);
        }
        set_key(vars, "_memory_", Value::Array(memory));
        self.memory_changed = true;
    }

    /// Renders `vf_memory` (`"<role>: <content>"` lines) when the memory changed.
    pub(crate) fn render_memory(&mut self) {
        if !std::mem::take(&mut self.memory_changed) {
            return;
        }
        let mut rendered = String::new();
        if let Some(Value::Array(memory)) = self.state.variables.get("_memory_") {
            for (i, m) in memory.iter().enumerate() {
                if i > 0 {
                    rendered.push('\n');
                }
                rendered.push_str(m.get("role").and_then(Value::as_str).unwrap_or(""));
                rendered.push_str(": ");
                rendered.push_str(m.get("content").and_then(Value::as_str).unwrap_or(""));
            }
        }
        set_key(
            &mut self.state.variables,
            "vf_memory",
            Value::String(rendered),
        );
    }

    /// Re-emits a frame's last output (after a push command returns, §6.10).
    pub(crate) fn repeat_output(&mut self, output: &Value) {
        match output {
            Value::String(s) => {
                self.emit_speak(s);
            }
            Value::Array(_) => {
                self.emit_text(output, None);
            }
            _ => {}
        }
    }

    /// Emits a prompt (no-match, no-reply, global prompts): a string, a Slate value, or
    /// `{content, voice}`. Chat projects get `text`, voice projects `speak`.
    pub(crate) fn emit_prompt(&mut self, prompt: &Value) {
        let (content, voice) = match prompt {
            Value::Object(o) if o.contains_key("content") => (
                o.get("content").cloned().unwrap_or(Value::Null),
                o.get("voice").and_then(Value::as_str),
            ),
            other => (other.clone(), None),
        };
        if self.project.is_chat() {
            match &content {
                Value::String(s) => {
                    self.emit_text(&text_to_slate(s), None);
                }
                Value::Array(_) => {
                    self.emit_text(&content, None);
                }
                _ => {}
            }
        } else {
            let text = match &content {
                Value::String(s) => s.clone(),
                other => slate_plain_text(other),
            };
            let voice = voice
                .map(str::to_string)
                .or_else(|| self.project.version.settings.default_voice.clone());
            let message = match voice {
                Some(v) => format!("<voice name=\"{v}\">{text}</voice>"),
                None => text,
            };
            self.emit_speak(&message);
        }
    }

    fn card_payload(&self, card: &CardDef, with_id: bool) -> Option<Value> {
        let scope = self.scope();
        let title = replace(&card.title, &scope, false);
        let image_url = replace(&card.image_url, &scope, false);
        let description = match &card.description {
            Value::String(s) => {
                let t = replace(s, &scope, false);
                let slate = Value::Array(vec![object([("text", Value::String(t.clone()))])]);
                object([("text", Value::String(t)), ("slate", slate)])
            }
            Value::Null => object([
                ("text", Value::String(String::new())),
                ("slate", Value::Array(vec![])),
            ]),
            slate => {
                let injected = replace_deep(slate, &scope, true);
                let text = slate_plain_text(&injected);
                object([("slate", injected), ("text", Value::String(text))])
            }
        };
        let buttons: Vec<Value> = card
            .buttons
            .iter()
            .map(|b| replace_deep(b, &scope, false))
            .collect();
        let desc_text = description
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("");
        if title.is_empty() && image_url.is_empty() && desc_text.is_empty() && buttons.is_empty() {
            return None;
        }
        let mut out = Map::new();
        if with_id {
            if let Some(id) = &card.id {
                out.insert("id".into(), id.clone());
            }
        }
        out.insert("title".into(), title.into());
        out.insert("imageUrl".into(), image_url.into());
        out.insert("description".into(), description);
        out.insert("buttons".into(), Value::Array(buttons));
        Some(Value::Object(out))
    }

    /// cardV2 (§5.6.20).
    pub(crate) fn handle_card_v2(&mut self, n: &CardV2) -> Step {
        let card = &n.card;
        self.run_card(
            n.blocking,
            n.no_match.as_ref(),
            n.no_reply.as_ref(),
            &n.next,
            &card.buttons,
            |rt| {
                if let Some(payload) = rt.card_payload(card, false) {
                    rt.trace("cardV2", payload);
                }
            },
        )
    }

    /// carousel (§5.6.21).
    pub(crate) fn handle_carousel(&mut self, n: &Carousel) -> Step {
        self.run_card(
            n.blocking,
            n.no_match.as_ref(),
            n.no_reply.as_ref(),
            &n.next,
            &[],
            |rt| {
                let cards: Vec<Value> = n
                    .cards
                    .iter()
                    .filter_map(|c| rt.card_payload(c, true))
                    .collect();
                if !cards.is_empty() {
                    rt.trace(
                        "carousel",
                        object([("layout", n.layout.clone()), ("cards", Value::Array(cards))]),
                    );
                }
            },
        )
    }

    /// What cardV2 and carousel share: the buttons are offered again on a reprompt, `emit`
    /// emits the card trace on entry.
    fn run_card(
        &mut self,
        blocking: bool,
        no_match: Option<&NoMatch>,
        no_reply: Option<&NoReply>,
        next: &Option<String>,
        buttons: &[Value],
        emit: impl FnOnce(&mut Self),
    ) -> Step {
        if self.mode == Mode::Request {
            if let Some(step) = self.try_commands() {
                return step;
            }
            if !blocking {
                return Step::Next(None);
            }
            if self
                .request
                .as_ref()
                .map(|r| r.ty() == "no-reply")
                .unwrap_or(false)
            {
                return self.no_reply(no_reply, buttons, &[]);
            }
            return self.no_match(no_match, no_reply, buttons, &[]);
        }
        emit(self);
        if !blocking {
            return Step::Next(next.clone());
        }
        self.entering_no_reply_trace(no_reply);
        self.clear_counters();
        Step::Wait
    }
}

/// Cuts `s` to its last `max` characters, in place (the newest words of a memory entry matter).
fn keep_last_chars(s: &mut String, max: usize) {
    if s.len() <= max {
        return; // fewer bytes than the limit: fewer characters too
    }
    if let Some((cut, _)) = s.char_indices().rev().nth(max - 1) {
        s.drain(..cut);
    }
}

/// Whether a prompt would say something (§6.17 step 1).
pub(crate) fn prompt_is_usable(p: &Value) -> bool {
    match p {
        Value::Null => false,
        Value::String(s) => s != "<audio src=\"\"/>",
        Value::Array(_) => !slate_plain_text(p).is_empty(),
        Value::Object(o) if o.contains_key("content") => {
            o.get("content").map(truthy).unwrap_or(false)
        }
        other => truthy(other),
    }
}
