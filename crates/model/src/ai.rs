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

/// A path tool of an agent: the model calls it to leave the step by its port, filling the
/// tool's variables from the call's arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct PathTool {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `(variable, description)`.
    pub variables: Vec<(String, String)>,
}

/// A function tool of an agent: the model calls it with the function's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTool {
    pub function_id: String,
    pub name: String,
    pub description: String,
    /// `(input, description, default markup)`.
    pub inputs: Vec<(String, String, String)>,
}

/// The 2025 `agent` step: a model that talks with the user and calls its tools.
#[derive(Debug, Clone)]
pub struct Agent {
    pub name: String,
    /// The model settings; `system` is the agent's instructions.
    pub params: AiParams,
    pub path_tools: Vec<PathTool>,
    pub function_tools: Vec<FunctionTool>,
    /// The knowledge-base tool's description, when the agent has it.
    pub knowledge_base: Option<String>,
    /// Leave by the `conversation-turn` port after each answer instead of waiting.
    pub exit_every_turn: bool,
    /// Global intents may take the conversation elsewhere while the agent waits.
    pub listen_for_other_triggers: bool,
    /// Port key (path tool id, `conversation-turn`) → node.
    pub paths: std::collections::HashMap<String, Option<String>>,
    /// Where the step goes when the agent cannot run (no definition, no answer).
    pub next: Option<String>,
}

impl Agent {
    pub(crate) fn parse(n: &Value, next: Option<String>) -> Agent {
        let def = n.get("agent").unwrap_or(&Value::Null);
        let list = |key: &str| {
            def.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let path_tools = list("pathTools")
            .iter()
            .map(|t| PathTool {
                id: text(t, "id"),
                name: text(t, "name"),
                description: text(t, "description"),
                variables: t
                    .get("variables")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .map(|v| (text(v, "variable"), text(v, "description")))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let function_tools = list("functionTools")
            .iter()
            .map(|t| FunctionTool {
                function_id: text(t, "functionID"),
                name: text(t, "name"),
                description: text(t, "description"),
                inputs: t
                    .get("inputs")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .map(|i| (text(i, "name"), text(i, "description"), text(i, "default")))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let paths = crate::function::paths_by_key(n.get("paths"));
        Agent {
            name: text(def, "name"),
            params: AiParams {
                system: text(def, "instructions"),
                ..AiParams::from_json(def)
            },
            path_tools,
            function_tools,
            knowledge_base: def.get("knowledgeBase").filter(|k| !k.is_null()).map(|k| {
                k.as_str()
                    .unwrap_or("Search the knowledge base.")
                    .to_string()
            }),
            exit_every_turn: n
                .get("exitEveryConversationalTurn")
                .and_then(Value::as_bool)
                == Some(true),
            listen_for_other_triggers: n.get("listenForOtherTriggers").and_then(Value::as_bool)
                == Some(true),
            paths,
            next,
        }
    }
}
