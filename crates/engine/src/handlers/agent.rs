//! The agent step (2025 exports): a model that talks with the user under the agent's
//! instructions and calls its tools — path tools (leave the step by that port, the call's
//! arguments filling the tool's variables), function tools (the function runs in the sandbox, its
//! output variables go back to the model) and the knowledge-base tool (the best chunks go back).
//! Every model call, `fetch` and search is an effect of the sans-IO turn. A turn makes at most
//! [`MAX_ROUNDS`] model calls; an answer without a tool call is said to the user and the step
//! waits for the next message (or leaves by `conversation-turn`).

use super::Call;
use crate::effects::{ChatMessage, LlmRequest, ToolSpec};
use crate::runtime::{Mode, Runtime, Step};
use flowdm_model::{Agent, FunctionRef, FunctionTool, Node, PathTool};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Model calls per turn (each tool round is one).
pub const MAX_ROUNDS: usize = 6;
/// What one tool result may give back to the model.
const TOOL_RESULT_MAX: usize = 10_000;
const KB_TOOL: &str = "search_knowledge_base";
const KB_CHUNKS: usize = 3;

/// A tool the model may call, by the name it is offered under.
enum Tool<'a> {
    Path(&'a PathTool),
    Function(&'a FunctionTool),
    KnowledgeBase,
}

/// A tool name the providers accept (`[a-zA-Z0-9_-]{1,64}`), unique among `taken`.
fn tool_name(prefix: &str, name: &str, taken: &HashMap<String, Tool<'_>>) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let slug = slug.trim_matches('_');
    let mut base = format!("{prefix}_{slug}");
    base.truncate(56);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains_key(&candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}

fn string_params(props: &[(&str, &str)], required: &[&str]) -> Value {
    let properties: Map<String, Value> = props
        .iter()
        .map(|(name, description)| {
            (
                (*name).to_string(),
                json!({ "type": "string", "description": description }),
            )
        })
        .collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The tools offered to the model, and what each name stands for.
fn tools(n: &Agent) -> (Vec<ToolSpec>, HashMap<String, Tool<'_>>) {
    let mut specs = Vec::new();
    let mut by_name: HashMap<String, Tool<'_>> = HashMap::new();
    for t in &n.path_tools {
        let name = tool_name("exit", &t.name, &by_name);
        let props: Vec<(&str, &str)> = t
            .variables
            .iter()
            .map(|(v, d)| (v.as_str(), d.as_str()))
            .collect();
        specs.push(ToolSpec {
            name: name.clone(),
            description: format!("{}: {}", t.name, t.description),
            parameters: string_params(&props, &[]),
        });
        by_name.insert(name, Tool::Path(t));
    }
    for f in &n.function_tools {
        let name = tool_name("fn", &f.name, &by_name);
        let props: Vec<(&str, &str)> = f
            .inputs
            .iter()
            .map(|(i, d, _)| (i.as_str(), d.as_str()))
            .collect();
        specs.push(ToolSpec {
            name: name.clone(),
            description: format!("{}: {}", f.name, f.description),
            parameters: string_params(&props, &[]),
        });
        by_name.insert(name, Tool::Function(f));
    }
    if let Some(description) = &n.knowledge_base {
        specs.push(ToolSpec {
            name: KB_TOOL.into(),
            description: description.clone(),
            parameters: string_params(&[("query", "What to look up")], &["query"]),
        });
        by_name.insert(KB_TOOL.into(), Tool::KnowledgeBase);
    }
    (specs, by_name)
}

/// A call's arguments (the JSON object the model wrote; anything else is no argument).
fn arguments(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truncated(mut s: String) -> String {
    if s.len() > TOOL_RESULT_MAX {
        let mut end = TOOL_RESULT_MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

impl Runtime<'_, '_> {
    pub(crate) fn handle_agent(&mut self, node: &Node, n: &Agent) -> Step {
        if self.mode == Mode::Request && n.listen_for_other_triggers {
            if let Some(step) = self.try_commands() {
                return step;
            }
        }
        let (specs, by_name) = tools(n);
        let mut messages = self.memory_messages();
        for _ in 0..MAX_ROUNDS {
            let request = LlmRequest {
                tools: specs.clone(),
                ..self.llm_request(&n.params, messages.clone())
            };
            let answer = match self.llm_call(request) {
                Call::Pending => return Step::Wait,
                Call::Done(Ok(answer)) => answer,
                Call::Done(Err(why)) => {
                    self.ai_failed(node, &why);
                    return Step::Next(n.next.clone());
                }
            };
            if !answer.content.is_empty() {
                self.emit_ai_output(&answer.content);
            }
            if answer.tool_calls.is_empty() {
                if n.exit_every_turn {
                    return Step::Next(n.paths.get("conversation-turn").cloned().flatten());
                }
                return Step::Wait;
            }
            messages.push(ChatMessage {
                role: "assistant".into(),
                content: answer.content.clone(),
                tool_calls: answer.tool_calls.clone(),
                tool_call_id: None,
            });
            for call in &answer.tool_calls {
                let args = arguments(&call.arguments);
                let result = match by_name.get(&call.name) {
                    Some(Tool::Path(t)) => {
                        let values: Vec<(String, Value)> = t
                            .variables
                            .iter()
                            .filter_map(|(var, _)| Some((var.clone(), args.get(var)?.clone())))
                            .collect();
                        self.assign(node, "agent", values);
                        return Step::Next(n.paths.get(&t.id).cloned().flatten());
                    }
                    Some(Tool::Function(f)) => match self.agent_function(f, &args) {
                        Call::Pending => return Step::Wait,
                        Call::Done(Ok(text)) | Call::Done(Err(text)) => text,
                    },
                    Some(Tool::KnowledgeBase) => {
                        let query = args.get("query").map(as_text).unwrap_or_default();
                        match self.kb_call(query, KB_CHUNKS) {
                            Call::Pending => return Step::Wait,
                            Call::Done(Ok(chunks)) if chunks.is_empty() => "Nothing found.".into(),
                            Call::Done(Ok(chunks)) => chunks
                                .iter()
                                .map(|c| format!("[{}]\n{}", c.source, c.content))
                                .collect::<Vec<_>>()
                                .join("\n\n"),
                            Call::Done(Err(why)) => format!("The search failed: {why}"),
                        }
                    }
                    None => format!("There is no tool named {:?}.", call.name),
                };
                messages.push(ChatMessage {
                    role: "tool".into(),
                    content: truncated(result),
                    tool_calls: Vec::new(),
                    tool_call_id: Some(call.id.clone()),
                });
            }
        }
        let ty = node.type_name.clone();
        self.debug(Some(&ty), || {
            format!("the agent made {MAX_ROUNDS} model calls this turn without answering")
        });
        Step::Wait
    }

    /// Runs a function tool with the model's arguments (a missing one takes the tool's
    /// default): its output variables as JSON text for the model, or why it failed.
    fn agent_function(&mut self, f: &FunctionTool, args: &Map<String, Value>) -> Call<String> {
        let def = match self.function_definition(&FunctionRef::Id(f.function_id.clone())) {
            Ok(def) => def,
            Err(why) => return Call::Done(Err(why)),
        };
        let mut inputs = Map::new();
        for (name, _, default) in &f.inputs {
            let value = match args.get(name) {
                Some(v) => as_text(v),
                None => self.ai_text(default),
            };
            inputs.insert(name.clone(), Value::String(value));
        }
        match self.execute_function(&def, inputs) {
            Call::Pending => Call::Pending,
            Call::Done(Ok(returned)) => {
                let out = returned.get("outputVars").cloned().unwrap_or(Value::Null);
                Call::Done(Ok(truncated(out.to_string())))
            }
            Call::Done(Err(why)) => Call::Done(Err(format!("The function failed: {why}"))),
        }
    }
}
