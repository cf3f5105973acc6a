//! AI and knowledge-base steps (`spec/dm-api.md` §5.6.26, and the 2024–2025 exports):
//! `generative` (AI response), `ai_set`, `response-prompt` and `kb-search` lines.

use serde_json::Value;

/// The model parameters of an AI step, as the export gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiParams {
    /// The export's model name (`gpt-4o`, `claude-3-haiku`, …); the provider maps it.
    pub model: Option<String>,
    pub system: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

impl AiParams {
    /// `{model, system, temperature, maxTokens}` of a step or a prompt's settings.
    pub fn from_json(n: &Value) -> AiParams {
        AiParams {
            model: n.get("model").and_then(Value::as_str).map(str::to_string),
            system: n
                .get("system")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            temperature: n.get("temperature").and_then(Value::as_f64),
            max_tokens: n
                .get("maxTokens")
                .and_then(Value::as_f64)
                .filter(|t| *t >= 1.0)
                .map(|t| t.min(f64::from(u32::MAX)) as u32),
        }
    }
}

/// What the model is given: the prompt alone, the conversation memory, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PromptMode {
    #[default]
    Prompt,
    Memory,
    MemoryPrompt,
}

impl PromptMode {
    fn parse(v: Option<&Value>) -> PromptMode {
        match v.and_then(Value::as_str) {
            Some("memory") => PromptMode::Memory,
            Some("memory_prompt") => PromptMode::MemoryPrompt,
            _ => PromptMode::Prompt,
        }
    }
}

fn knowledge_base(n: &Value) -> bool {
    n.get("source").and_then(Value::as_str) == Some("knowledge_base")
}

fn text(n: &Value, key: &str) -> String {
    n.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `generative`: an answer from the model (or from the knowledge base) said to the user.
#[derive(Debug, Clone)]
pub struct AiResponse {
    pub prompt: String,
    pub mode: PromptMode,
    pub params: AiParams,
    /// `source: knowledge_base`: the answer comes from the project's documents.
    pub knowledge_base: bool,
    pub next: Option<String>,
    /// Taken when the knowledge base has no answer (`notFoundPath`).
    pub else_id: Option<String>,
}

impl AiResponse {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> AiResponse {
        AiResponse {
            prompt: text(n, "prompt"),
            mode: PromptMode::parse(n.get("mode")),
            params: AiParams::from_json(n),
            knowledge_base: knowledge_base(n),
            next,
            else_id: crate::opt_str(n, "elseId"),
        }
    }
}

/// One variable an `ai_set` step fills.
#[derive(Debug, Clone, PartialEq)]
pub struct AiSetItem {
    pub prompt: String,
    pub variable: String,
    pub mode: PromptMode,
}

/// `ai_set`: variables set from the model's (or the knowledge base's) answers.
#[derive(Debug, Clone)]
pub struct AiSet {
    pub sets: Vec<AiSetItem>,
    pub params: AiParams,
    pub knowledge_base: bool,
    pub next: Option<String>,
}

impl AiSet {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> AiSet {
        let sets = n
            .get("sets")
            .and_then(Value::as_array)
            .map(|sets| {
                sets.iter()
                    .filter_map(|s| {
                        let prompt = text(s, "prompt");
                        let variable = text(s, "variable");
                        (!prompt.is_empty() && !variable.is_empty()).then(|| AiSetItem {
                            prompt,
                            variable,
                            mode: PromptMode::parse(s.get("mode")),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        AiSet {
            sets,
            params: AiParams::from_json(n),
            knowledge_base: knowledge_base(n),
            next,
        }
    }
}

/// `response-prompt` (2025): a prompt resource — model settings, system prompt and messages —
/// whose answer is said to the user.
#[derive(Debug, Clone)]
pub struct ResponsePrompt {
    /// `(role, content)` in order; content may hold `{var}` (e.g. `{vf_memory}`).
    pub messages: Vec<(String, String)>,
    pub params: AiParams,
    pub next: Option<String>,
}

impl ResponsePrompt {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> ResponsePrompt {
        ResponsePrompt::from_resource(n.get("prompt").unwrap_or(&Value::Null), next)
    }

    /// A prompt resource `{settings, system, messages}` (`programResources.prompts`).
    fn from_resource(prompt: &Value, next: Option<String>) -> ResponsePrompt {
        let mut params = AiParams::from_json(prompt.get("settings").unwrap_or(&Value::Null));
        params.system = text(prompt, "system");
        let messages = prompt
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .map(|m| (text(m, "role"), text(m, "content")))
                    .filter(|(_, content)| !content.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        ResponsePrompt {
            messages,
            params,
            next,
        }
    }
}

/// `kb-search`: the knowledge base's best chunks for a question, saved in a variable.
#[derive(Debug, Clone)]
pub struct KbSearch {
    pub question: String,
    pub max_chunks: usize,
    pub variable: Option<String>,
    pub next: Option<String>,
}

impl KbSearch {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> KbSearch {
        KbSearch {
            question: text(n, "question"),
            max_chunks: n
                .get("maxChunks")
                .and_then(Value::as_u64)
                .map_or(3, |m| m.clamp(1, 10) as usize),
            variable: crate::opt_str(n, "variable"),
            next,
        }
    }
}

/// A `set-v3` step with prompt items (2025): in order, each variable gets a JavaScript value or
/// a prompt resource's answer.
#[derive(Debug, Clone)]
pub struct PromptSet {
    pub items: Vec<(String, PromptSetValue)>,
    pub next: Option<String>,
}

/// What one `set-v3` item sets its variable to.
#[derive(Debug, Clone)]
pub enum PromptSetValue {
    Expression(String),
    Prompt(ResponsePrompt),
}

impl PromptSet {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> PromptSet {
        let items = n
            .get("items")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        let variable = item.get("variable")?.as_str()?.to_string();
                        let value = match (item.get("prompt"), item.get("expression")) {
                            (Some(p), _) => {
                                PromptSetValue::Prompt(ResponsePrompt::from_resource(p, None))
                            }
                            (None, Some(e)) => PromptSetValue::Expression(e.as_str()?.to_string()),
                            (None, None) => return None,
                        };
                        Some((variable, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        PromptSet { items, next }
    }
}
