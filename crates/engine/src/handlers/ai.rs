//! AI steps (`spec/dm-api.md` §5.6.26 and the 2024–2025 exports): `generative` (an answer said to
//! the user), `ai_set` (answers saved in variables), `response-prompt` (a prompt resource's
//! answer said) and `kb-search` (chunks saved in a variable). Each model call is an
//! [`Effect::Llm`] and each knowledge-base search an [`Effect::Kb`] of the sans-IO turn
//! (`docs/effects.md`); the server performs them with the operator's provider and knowledge base
//! (`docs/ai.md`). A failed call is a `debug` trace naming why, and the step goes on as the
//! reference does without an answer: nothing said, nothing set.

use super::Call;
use crate::effects::{ChatMessage, Effect, EffectResult, KbChunk, KbQuery, LlmRequest};
use crate::interpolate::replace;
use crate::runtime::{Runtime, Step};
use flowdm_model::{
    AiParams, AiResponse, AiSet, KbSearch, Node, PromptMode, PromptSet, PromptSetValue,
    ResponsePrompt,
};
use serde_json::{json, Value};

/// What `ai_set` saves when the knowledge base has no answer (the reference's constant).
pub const KB_NOT_FOUND: &str = "[not found]";
/// Chunks a knowledge-base answer is built from (the reference's default `chunkLimit`).
const KB_ANSWER_CHUNKS: usize = 2;

impl Runtime<'_, '_> {
    pub(crate) fn llm_call(&mut self, request: LlmRequest) -> Call<crate::effects::LlmResponse> {
        self.effect_call(EffectResult::into_llm, |_| Effect::Llm(request))
    }

    pub(crate) fn kb_call(&mut self, question: String, chunk_limit: usize) -> Call<Vec<KbChunk>> {
        self.effect_call(EffectResult::into_kb, |rt| {
            Effect::Kb(KbQuery {
                project_id: rt.project.version.project_id.clone(),
                question,
                chunk_limit,
            })
        })
    }

    /// `{var}` replaced, with the AI memory (`vf_memory`) up to date.
    pub(crate) fn ai_text(&mut self, text: &str) -> String {
        self.render_memory();
        replace(text, &self.scope(), false)
    }

    /// The conversation so far (`_memory_`) as chat messages.
    pub(crate) fn memory_messages(&self) -> Vec<ChatMessage> {
        self.state
            .variables
            .get("_memory_")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(|e| {
                        Some(ChatMessage {
                            role: e.get("role")?.as_str()?.to_string(),
                            content: e.get("content")?.as_str()?.to_string(),
                            ..ChatMessage::default()
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The messages of a prompt in `mode`; `None` when there is nothing to ask (the reference's
    /// empty answer).
    fn prompt_messages(&mut self, prompt: &str, mode: PromptMode) -> Option<Vec<ChatMessage>> {
        let prompt = self.ai_text(prompt);
        let user = |content: String| ChatMessage {
            role: "user".into(),
            content,
            ..ChatMessage::default()
        };
        match mode {
            PromptMode::Memory => Some(self.memory_messages()),
            PromptMode::MemoryPrompt => {
                let mut messages = self.memory_messages();
                if !prompt.is_empty() {
                    messages.push(user(prompt));
                }
                Some(messages)
            }
            PromptMode::Prompt if prompt.is_empty() => None,
            PromptMode::Prompt => Some(vec![user(prompt)]),
        }
    }

    pub(crate) fn llm_request(
        &mut self,
        params: &AiParams,
        messages: Vec<ChatMessage>,
    ) -> LlmRequest {
        let system = self.ai_text(&params.system);
        LlmRequest {
            model: Some(
                params
                    .model
                    .clone()
                    .unwrap_or_else(|| crate::effects::DEFAULT_AI_MODEL.into()),
            ),
            system: (!system.is_empty()).then_some(system),
            messages,
            temperature: params.temperature,
            max_tokens: params.max_tokens,
            tools: Vec::new(),
        }
    }

    pub(crate) fn ai_failed(&mut self, node: &Node, why: &str) {
        let ty = node.type_name.clone();
        self.ai_failed_as(&ty, why);
    }

    fn ai_failed_as(&mut self, ty: &str, why: &str) {
        self.debug(Some(ty), || format!("AI step without an answer: {why}"));
    }

    /// The no-match fallback of `aiAssistSettings.aiPlayground` projects (after the node's
    /// no-match prompts): a knowledge-base answer to what the user said, else a `generative`
    /// global no-match's answer from the conversation. `None`: neither answered.
    pub(crate) fn ai_no_match(&mut self) -> Call<Option<String>> {
        let question = self
            .request
            .as_ref()
            .and_then(|r| r.query().or_else(|| r.payload().and_then(Value::as_str)))
            .unwrap_or_default()
            .to_string();
        if !question.trim().is_empty() {
            match self.kb_answer_as("no-match", question, None) {
                Call::Pending => return Call::Pending,
                Call::Done(Ok(Some(answer))) => return Call::Done(Ok(Some(answer))),
                Call::Done(Ok(None)) => {}
                Call::Done(Err(why)) => self.ai_failed_as("no-match", &why),
            }
        }
        let Some(params) = self.project.version.settings.generative_no_match.clone() else {
            return Call::Done(Ok(None));
        };
        // The reference sends the memory, then the system prompt as the latest message.
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_millis(self.now_ms);
        let system = self.ai_text(&params.system);
        let mut messages = self.memory_messages();
        messages.push(ChatMessage {
            role: "system".into(),
            content: format!(
                "{system}\n\nCurrent time: {}",
                humantime::format_rfc3339_seconds(now)
            )
            .trim()
            .to_string(),
            ..ChatMessage::default()
        });
        let request = LlmRequest {
            system: None,
            ..self.llm_request(&params, messages)
        };
        match self.llm_call(request) {
            Call::Pending => Call::Pending,
            Call::Done(Ok(answer)) if !answer.content.is_empty() => {
                Call::Done(Ok(Some(answer.content)))
            }
            Call::Done(Ok(_)) => Call::Done(Ok(None)),
            Call::Done(Err(why)) => {
                self.ai_failed_as("no-match", &why);
                Call::Done(Ok(None))
            }
        }
    }

    pub(crate) fn handle_ai_response(&mut self, node: &Node, n: &AiResponse) -> Step {
        if n.knowledge_base {
            let question = self.ai_text(&n.prompt);
            return match self.kb_answer(node, question, n.params.model.as_deref()) {
                Call::Pending => Step::Wait,
                Call::Done(Ok(Some(answer))) => {
                    self.emit_ai_output(&answer);
                    Step::Next(n.next.clone())
                }
                Call::Done(Ok(None)) if n.else_id.is_some() => Step::Next(n.else_id.clone()),
                Call::Done(Ok(None)) => {
                    self.emit_ai_output("Unable to find relevant answer.");
                    Step::Next(n.next.clone())
                }
                Call::Done(Err(why)) => {
                    self.ai_failed(node, &why);
                    Step::Next(n.else_id.clone().or_else(|| n.next.clone()))
                }
            };
        }
        let Some(messages) = self.prompt_messages(&n.prompt, n.mode) else {
            return Step::Next(n.next.clone());
        };
        let request = self.llm_request(&n.params, messages);
        self.say_answer(node, request, &n.next)
    }

    pub(crate) fn handle_response_prompt(&mut self, node: &Node, n: &ResponsePrompt) -> Step {
        let Some(request) = self.prompt_request(n) else {
            return Step::Next(n.next.clone());
        };
        self.say_answer(node, request, &n.next)
    }

    /// A set-v3 step with prompts: its items in order, a JavaScript value or a prompt's answer
    /// each (a failed one leaves its variable as it was).
    pub(crate) fn handle_prompt_set(&mut self, node: &Node, n: &PromptSet) -> Step {
        for (variable, value) in &n.items {
            let value = match value {
                PromptSetValue::Expression(e) => {
                    let sets = [(variable.clone(), e.clone())];
                    let vars = self.combined_vars();
                    let env = self.script_env();
                    let result = self.env.sandbox.run_sets(&sets, &vars, &env);
                    match self.script_result(result) {
                        Ok(mut values) => match values.pop() {
                            Some((_, v)) => v,
                            None => continue,
                        },
                        Err(e) => {
                            self.debug(Some("set-v3"), || format!("unable to set {variable}: {e}"));
                            continue;
                        }
                    }
                }
                PromptSetValue::Prompt(prompt) => {
                    let Some(request) = self.prompt_request(prompt) else {
                        continue;
                    };
                    match self.llm_call(request) {
                        Call::Pending => return Step::Wait,
                        Call::Done(Ok(answer)) => Value::String(answer.content),
                        Call::Done(Err(why)) => {
                            self.ai_failed(node, &why);
                            continue;
                        }
                    }
                }
            };
            self.assign(node, "set-v3", vec![(variable.clone(), value)]);
        }
        Step::Next(n.next.clone())
    }

    /// A prompt resource's request (`None`: no message to send).
    fn prompt_request(&mut self, n: &ResponsePrompt) -> Option<LlmRequest> {
        let messages: Vec<ChatMessage> = n
            .messages
            .iter()
            .map(|(role, content)| ChatMessage {
                role: if role == "assistant" {
                    role.clone()
                } else {
                    "user".into()
                },
                content: self.ai_text(content),
                ..ChatMessage::default()
            })
            .filter(|m| !m.content.trim().is_empty())
            .collect();
        if messages.is_empty() {
            return None;
        }
        Some(self.llm_request(&n.params, messages))
    }

    /// Asks the model and says its answer; `last_response` is the whole answer.
    fn say_answer(&mut self, node: &Node, request: LlmRequest, next: &Option<String>) -> Step {
        match self.llm_call(request) {
            Call::Pending => Step::Wait,
            Call::Done(Ok(answer)) => {
                if !answer.content.is_empty() {
                    self.emit_ai_output(&answer.content);
                    self.set_var("last_response", Value::String(answer.content));
                }
                Step::Next(next.clone())
            }
            Call::Done(Err(why)) => {
                self.ai_failed(node, &why);
                Step::Next(next.clone())
            }
        }
    }

    pub(crate) fn handle_ai_set(&mut self, node: &Node, n: &AiSet) -> Step {
        for item in &n.sets {
            let value = if n.knowledge_base {
                let question = self.ai_text(&item.prompt);
                match self.kb_answer(node, question, n.params.model.as_deref()) {
                    Call::Pending => return Step::Wait,
                    Call::Done(Ok(answer)) => answer.unwrap_or_else(|| KB_NOT_FOUND.into()),
                    Call::Done(Err(why)) => {
                        self.ai_failed(node, &why);
                        continue;
                    }
                }
            } else {
                let Some(messages) = self.prompt_messages(&item.prompt, item.mode) else {
                    continue;
                };
                let request = self.llm_request(&n.params, messages);
                match self.llm_call(request) {
                    Call::Pending => return Step::Wait,
                    Call::Done(Ok(answer)) => answer.content,
                    Call::Done(Err(why)) => {
                        self.ai_failed(node, &why);
                        continue;
                    }
                }
            };
            self.assign(
                node,
                "ai_set",
                vec![(item.variable.clone(), Value::String(value))],
            );
        }
        Step::Next(n.next.clone())
    }

    pub(crate) fn handle_kb_search(&mut self, node: &Node, n: &KbSearch) -> Step {
        let question = self.ai_text(&n.question);
        match self.kb_call(question, n.max_chunks) {
            Call::Pending => return Step::Wait,
            Call::Done(Ok(chunks)) => {
                if let Some(var) = &n.variable {
                    let list: Vec<Value> = chunks
                        .iter()
                        .map(|c| json!({ "content": c.content, "source": c.source, "score": c.score }))
                        .collect();
                    let text = Value::String(Value::Array(list).to_string());
                    self.assign(node, "kb_search", vec![(var.clone(), text)]);
                }
            }
            Call::Done(Err(why)) => self.ai_failed(node, &why),
        }
        Step::Next(n.next.clone())
    }

    /// A knowledge-base answer to `question`: the best chunks, then the model's synthesis of
    /// them. `Ok(None)`: not found. Without a provider (the synthesis fails) the best chunk
    /// is the answer. Emits the reference's `knowledgeBase` trace.
    fn kb_answer(
        &mut self,
        node: &Node,
        question: String,
        model: Option<&str>,
    ) -> Call<Option<String>> {
        let ty = node.type_name.clone();
        self.kb_answer_as(&ty, question, model)
    }

    fn kb_answer_as(
        &mut self,
        ty: &str,
        question: String,
        model: Option<&str>,
    ) -> Call<Option<String>> {
        let chunks = match self.kb_call(question.clone(), KB_ANSWER_CHUNKS) {
            Call::Pending => return Call::Pending,
            Call::Done(Err(why)) => return Call::Done(Err(why)),
            Call::Done(Ok(chunks)) => chunks,
        };
        let Some(best) = chunks.first() else {
            return Call::Done(Ok(None));
        };
        let request = crate::knowledge::synthesis_request(&question, &chunks, model);
        let output = match self.llm_call(request) {
            Call::Pending => return Call::Pending,
            Call::Done(Ok(answer)) => crate::knowledge::synthesised(answer.content),
            Call::Done(Err(why)) => {
                self.ai_failed_as(ty, &format!("{why}; answering with the best chunk"));
                Some(best.content.clone())
            }
        };
        let traced: Vec<Value> = chunks
            .iter()
            .map(|c| json!({ "score": c.score, "documentID": c.document_id, "documentData": { "name": c.source } }))
            .collect();
        self.trace(
            "knowledgeBase",
            json!({ "chunks": traced, "query": { "output": output } }),
        );
        Call::Done(Ok(output))
    }
}
